"""Scale benchmark of the synthetic telco generator.

Runs ``generate_telco`` at a given size into a temporary DuckDB file and prints wall time, CPU time (this
process and its worker processes), peak resident memory (``getrusage`` ru_maxrss of this process plus the
largest child), rows per table, rows per second and the file size.

    .venv/bin/python benchmarks/generator_scale.py --customers 1000000 --end-date 2026-11-21
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic_telco.generate import generate_telco


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 11, 21))
    parser.add_argument("--workers", type=int, default=None, help="generator processes (default: automatic)")
    parser.add_argument("--dir", default=None, help="directory for the temporary warehouse (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated warehouse file")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the figures as JSON here")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="telco-bench-", dir=args.dir))
    path = tmp / "warehouse.duckdb"
    wall0, cpu0 = time.perf_counter(), _cpu_seconds()
    report = generate_telco(path, customers=args.customers, seed=args.seed, end_date=args.end_date,
                            workers=args.workers, progress=True)
    wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
    own_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = path.stat().st_size

    total = report.total_rows
    print(f"customers          {args.customers:,}  (history {report.params['history_start']} .. "
          f"{report.params['end_date']}, workers {report.params['workers']})")
    print(f"wall time          {wall:,.1f} s")
    print(f"cpu time           {cpu:,.1f} s (this process + workers)")
    print(f"peak RSS           {(own_kib + child_kib) / 2**20:,.2f} GiB "
          f"(this process {own_kib / 2**20:,.2f} GiB + largest worker {child_kib / 2**20:,.2f} GiB)")
    print(f"rows               {total:,}")
    print(f"rows per second    {total / wall:,.0f}")
    print(f"warehouse file     {size / 2**30:,.2f} GiB")
    print()
    width = max(len(n) for n in report.rows)
    for name, count in report.rows.items():
        print(f"  {name:<{width}}  {count:>13,}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "customers": args.customers, "end_date": args.end_date.isoformat(), "wall_seconds": wall,
            "cpu_seconds": cpu, "peak_rss_bytes": (own_kib + child_kib) * 1024, "parent_rss_bytes": own_kib * 1024,
            "worker_rss_bytes": child_kib * 1024, "rows": report.rows, "total_rows": total,
            "rows_per_second": total / wall, "file_bytes": size, "workers": report.params["workers"],
        }, indent=2))
    if args.keep:
        print(f"\nkept {path}")
    else:
        path.unlink()
        Path(str(path) + ".wal").unlink(missing_ok=True)
        tmp.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())

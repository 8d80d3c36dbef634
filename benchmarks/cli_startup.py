"""Start-up time of the read-only ``trust`` commands against baselines measured in the same invocation.

Each command runs as a real process (the ``trust`` entry point of this environment), ``--repeat`` times, in
turns so that a burst of load on a shared machine hits every command alike. Printed per command: the median and
the fastest wall time, the median minus the ``import duckdb, polars`` baseline (what the command costs beyond
the two libraries it cannot avoid), and whether it meets the goal of issue 16 (under 2 s). The load average
before and after says how busy the machine was. Reads only: point it at any warehouse.

    .venv/bin/python benchmarks/cli_startup.py [--warehouse data/warehouse.duckdb] [--repeat 5] [--code-location]

``--code-location`` adds ``import trust_assets.definitions`` (what every command imported before it was split).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 2.0
BIN = Path(sys.executable).parent


def _sample(warehouse: Path) -> tuple[str, str, str]:
    """A customer scored on the latest and the first scored day of mobile, and those days."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        first, last = con.execute(
            "select min(snapshot_date), max(snapshot_date) from analytics.customer_trust_signal where cohort = 'mobile'"
        ).fetchone() or (None, None)
        if last is None:
            raise SystemExit(f"{warehouse} holds no mobile scores: run `trust demo` first")
        row = con.execute(
            "select customer_id from analytics.customer_trust_signal where cohort = 'mobile' "
            "and snapshot_date in (?, ?) group by customer_id having count(*) = 2 order by customer_id limit 1",
            [first, last],
        ).fetchone()
    if row is None:
        raise SystemExit("no mobile customer is scored on both the first and the last scored day")
    return str(row[0]), first.isoformat(), last.isoformat()


def commands(warehouse: Path, code_location: bool) -> dict[str, list[str]]:
    customer, first, last = _sample(warehouse)
    python, trust = str(BIN / "python"), str(BIN / "trust")
    out = {
        "python -c pass": [python, "-c", "pass"],
        "import duckdb, polars": [python, "-c", "import duckdb, polars"],
        "trust --help": [trust, "--help"],
        "trust summary": [trust, "summary"],
        "trust explain": [trust, "explain", "--customer", customer, "--cohort", "mobile", "--date", last],
        "trust attribute": [trust, "attribute", "--customer", customer, "--cohort", "mobile",
                            "--from", first, "--to", last],
        "trust models list": [trust, "models", "list"],
        "trust models audit": [trust, "models", "audit"],
    }
    if code_location:
        out["import trust_assets.definitions"] = [python, "-c", "import trust_assets.definitions"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path,
                        default=Path(os.environ.get("TRUST_DUCKDB_PATH", ROOT / "data" / "warehouse.duckdb")))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--code-location", action="store_true", help="also time importing the code location")
    args = parser.parse_args()
    warehouse = args.warehouse.resolve()
    if not warehouse.is_file():  # not an error: `bash scripts/dev.sh bench` runs every benchmark
        print(f"skipped: {warehouse} does not exist (run `bash scripts/dev.sh demo` first, or pass --warehouse)")
        return
    env = {**os.environ, "TRUST_DUCKDB_PATH": str(warehouse)}
    runs = commands(warehouse, args.code_location)
    times: dict[str, list[float]] = {name: [] for name in runs}
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        for name, argv in runs.items():
            started = time.perf_counter()
            done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
            times[name].append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stderr}")
    load_after = os.getloadavg()

    baseline = statistics.median(times["import duckdb, polars"])
    print(f"warehouse {warehouse} ({warehouse.stat().st_size / 2**20:.0f} MiB), {args.repeat} runs each, "
          f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'command':<34}{'median s':>10}{'fastest s':>11}{'- baseline':>12}  goal < {GOAL_SECONDS:.0f} s")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        goal = "met" if median < GOAL_SECONDS else "NOT met"
        goal = goal if name.startswith("trust ") and name != "trust --help" else ""
        print(f"{name:<34}{median:>10.2f}{min(seconds):>11.2f}{median - baseline:>+12.2f}  {goal}")


if __name__ == "__main__":
    main()

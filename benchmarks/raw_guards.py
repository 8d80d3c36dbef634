"""False positives and cost of the raw guards on a warehouse's whole history, against the gate without them.

The guards (asset_checks/raw_guards.py) judge every day of a window against that day's own trailing history, so
one evaluation over the history judges each day exactly as that day's gate would. Printed, in one invocation on
one warehouse:

- the history: every day from the first with a full trailing window (``--first``, default the history start plus
  ``trailing_weeks + 1`` weeks) to ``--last`` (default the latest business day in the raw bills): blocked days per
  guard (a normal history should have none), and the evaluation's wall and CPU time;
- master data against every published ``customer_360_definition`` day, if any;
- one day (``--day``, default ``--last``) as the daily run judges it: each guard alone, and the whole raw-contract
  gate (table contracts, cohorts, freshness and guards) with and without the guards, each ``--repeat`` times in
  turns (median): the gate without the guards is the baseline the guards' cost is measured against. The gate
  runs as on a normal day, with the record of validated loads of the day before (asset_checks/raw_loads.py), and
  once more as on its first run, with no record (every load in its look-back re-checked).

Reads only, except that a warehouse without a record of validated loads first gets the one the gate of the day
before would have written (``--day`` minus one, evaluated and recorded). Writes
``artifacts/benchmarks/raw_guards_<warehouse folder>.json``.

    .venv/bin/python -m benchmarks.raw_guards                      # the demo's warehouse
    .venv/bin/python -m benchmarks.raw_guards --warehouse /tmp/trust-bench/telco_1000000/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="DuckDB warehouse file (default: $TRUST_DUCKDB_PATH or data/warehouse.duckdb, the demo's)")
    parser.add_argument("--first", type=date.fromisoformat, default=None)
    parser.add_argument("--last", type=date.fromisoformat, default=None)
    parser.add_argument("--day", type=date.fromisoformat, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.warehouse is None:
        from trust_assets.config import duckdb_path

        args.warehouse = duckdb_path()
    if not args.warehouse.is_file():
        print(f"{args.warehouse} does not exist: run `bash scripts/dev.sh demo` or pass --warehouse", file=sys.stderr)
        return 2
    os.environ["TRUST_DUCKDB_PATH"] = str(args.warehouse.resolve())

    import polars as pl

    from asset_checks import raw_contract, raw_guards, raw_loads
    from resources.warehouse import DuckDBWarehouse
    from trust_assets.config import SETTINGS

    warehouse = DuckDBWarehouse(path=str(args.warehouse.resolve()))
    last = args.last or warehouse.read("select max(bill_date) as d from {raw}.bills")["d"][0]
    first = args.first or SETTINGS.history_start + timedelta(weeks=SETTINGS.raw_guards.trailing_weeks + 1)
    day = args.day or last
    load_before = os.getloadavg()[0]

    found, wall, cpu = _timed(lambda: raw_contract.guard_violations(warehouse, first, last))
    blocked = {name: [v.headline() for v in found_] for name, found_ in found.items() if found_}
    history = {"first": str(first), "last": str(last), "days": (last - first).days + 1, "wall_s": round(wall, 1),
               "cpu_s": round(cpu, 1), "blocked": blocked}
    print(f"history {first} .. {last}: {history['days']} days judged in {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"  blocked: {blocked or 'none'}")

    published: list[date] = []
    if warehouse.table_exists("customer_360_definition"):
        published = warehouse.read(
            "select distinct snapshot_date as d from {analytics}.customer_360_definition order by 1"
        )["d"].to_list()
    master = {str(d): [v.headline() for v in raw_guards.master_volume_violations(warehouse, d)] for d in published}
    master_blocked = {d: v for d, v in master.items() if v}
    print(f"master data against {len(published)} published customer 360 days: blocked {master_blocked or 'none'}")

    if raw_loads.read_state(warehouse).filter(pl.col("validated_for") < day).is_empty():
        before = day - timedelta(days=1)
        report = raw_contract.evaluate_raw_contract(warehouse, before, before)
        if report.failed:
            print(f"the gate of {before} fails: no record of validated loads written", file=sys.stderr)
            return 1
        raw_loads.record_validated(warehouse, report.loads, before)
        print(f"recorded the loads the gate of {before} validated (analytics.{raw_loads.STATE_TABLE})")

    recent = day - timedelta(days=SETTINGS.raw_guards.recent_load_days)
    windows = raw_contract.guard_windows(day, day)
    judged = raw_contract.recent_windows(recent, day)
    partitions = raw_contract.partition_columns()
    parts: dict[str, Callable[[], Any]] = {
        "volume (event tables)": lambda: raw_guards.event_volume(warehouse, day, day, partitions=partitions),
        "volume (master data)": lambda: raw_guards.master_volume_violations(warehouse, day),
        "referential": lambda: raw_guards.referential_violations(warehouse, windows, recent, judged=judged),
        "distribution": lambda: raw_guards.distribution_violations(warehouse, day, day, partitions=partitions),
        "re-sent events": lambda: raw_guards.near_duplicate_violations(warehouse, judged, recent),
        "guards together": lambda: raw_contract.guard_violations(warehouse, day, day),
        "gate with the guards": lambda: raw_contract.evaluate_raw_contract(warehouse, day, day),
    }
    original = raw_contract.guard_violations

    def gate_without_guards() -> Any:
        raw_contract.guard_violations = lambda *_: {}  # the baseline: the same gate, guards left out
        try:
            return raw_contract.evaluate_raw_contract(warehouse, day, day)
        finally:
            raw_contract.guard_violations = original

    parts["gate without the guards"] = gate_without_guards
    read_state = raw_loads.read_state

    def gate_first_run() -> Any:
        raw_loads.read_state = lambda _: raw_loads.empty_state()  # no record: every load of the look-back is new
        try:
            return raw_contract.evaluate_raw_contract(warehouse, day, day)
        finally:
            raw_loads.read_state = read_state

    parts["gate, first run (no record)"] = gate_first_run
    rows = raw_contract.evaluate_raw_contract(warehouse, day, day)
    print(f"one day ({day}): {sum(rows.rows_in_window.values()):,} raw rows in the gate's windows, "
          f"{sum(rows.rows_validated.values()):,} of them validated with Pandera")
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in parts}
    for _ in range(args.repeat):  # in turns, so a burst of load hits every measurement alike
        for name, work in parts.items():
            _, wall, cpu = _timed(work)
            samples[name].append((wall, cpu))
    one_day = {name: {"wall_s": round(statistics.median(w for w, _ in s), 2),
                      "cpu_s": round(statistics.median(c for _, c in s), 2)} for name, s in samples.items()}
    load_after = os.getloadavg()[0]
    print(f"\none day ({day}), median of {args.repeat} (load average {load_before:.1f} before, {load_after:.1f} after)")
    print(f"  {'':28} {'wall s':>8} {'CPU s':>8}")
    for name, figures in one_day.items():
        print(f"  {name:28} {figures['wall_s']:8.2f} {figures['cpu_s']:8.2f}")
    with_, without = one_day["gate with the guards"]["wall_s"], one_day["gate without the guards"]["wall_s"]
    print(f"  the guards add {with_ - without:.2f} s wall to the gate ({with_ / without:.2f}x)")

    out = ROOT / "artifacts" / "benchmarks" / f"raw_guards_{args.warehouse.resolve().parent.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"warehouse": str(args.warehouse), "history": history, "master": master,
                               "day": str(day), "one_day": one_day,
                               "load_average": [load_before, load_after]}, indent=2))
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 1 if blocked or master_blocked else 0


if __name__ == "__main__":
    sys.exit(main())

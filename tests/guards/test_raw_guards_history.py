"""The raw guards on the test warehouse: no normal day of its history is blocked, and the published-volume
guard refuses a collapsed cohort before the write.

The guards judge every day (week, load) of a window against that period's own trailing history, so one
evaluation over the whole history judges each day exactly as that day's gate would: the false-positive rate
over about 500 days costs a few aggregate queries, not 500 gate runs.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from time import perf_counter

import dagster as dg
import polars as pl
import pytest

from asset_checks.raw_contract import guard_violations
from asset_checks.raw_guards import master_volume_violations
from asset_checks.trust_signal_guard import validate_trust_signal
from resources.warehouse import DuckDBWarehouse
from trust_assets.config import SETTINGS


def test_no_normal_day_of_the_history_is_blocked(pipeline_warehouse) -> None:
    warehouse = DuckDBWarehouse(path=str(pipeline_warehouse.duckdb_path))
    # From the first day whose trailing windows (28 days, 8 weeks) lie inside the generated history.
    first = SETTINGS.history_start + timedelta(weeks=SETTINGS.raw_guards.trailing_weeks + 1)
    last = pipeline_warehouse.end_date
    started = perf_counter()
    found = guard_violations(warehouse, first, last)
    # The cost is measured by the benchmarks (docs/performance.md); printed here for the record only.
    print(f"\n{(last - first).days + 1} days judged in {perf_counter() - started:.1f} s")
    blocked = {name: [v.headline() for v in vs] for name, vs in found.items() if vs}
    assert blocked == {}, f"{(last - first).days + 1} normal days from {first}: {blocked}"

    # Master data against every published customer 360 day of the scoring range.
    days = warehouse.read(
        "select distinct snapshot_date from {analytics}.customer_360_definition where snapshot_date >= $first "
        "order by 1",
        {"first": pipeline_warehouse.scoring_dates[0]},
    )["snapshot_date"].to_list()
    assert len(days) >= len(pipeline_warehouse.scoring_dates)
    assert {d: master_volume_violations(warehouse, d) for d in days} == {d: [] for d in days}


def test_the_latest_day_judged_alone_passes_as_in_the_history(pipeline_warehouse) -> None:
    # A one-day window (the daily run's) reads only that day's trailing history: the same verdict as above.
    warehouse = DuckDBWarehouse(path=str(pipeline_warehouse.duckdb_path))
    day = pipeline_warehouse.end_date
    found = guard_violations(warehouse, day, day)
    assert set(found) and not any(found.values()), found


def test_a_collapsed_cohort_is_refused_before_the_write(private_copy: Path) -> None:
    warehouse = DuckDBWarehouse(path=str(private_copy))
    day = warehouse.read("select max(snapshot_date) as d from {analytics}.customer_trust_signal")["d"][0]
    published = warehouse.read("select * from {analytics}.customer_trust_signal where snapshot_date = $day",
                               {"day": day})
    # The published day passes the guard against the day before it.
    validate_trust_signal(published, warehouse=warehouse, start=day, end=day)
    kept = published.filter((pl.col("cohort") != "mobile") | (pl.col("customer_id").hash(7) % 10 == 0))
    with pytest.raises(dg.Failure) as refused:
        validate_trust_signal(kept, warehouse=warehouse, start=day, end=day)
    text = refused.value.description or ""
    assert "NOT written" in text
    assert "customer_trust_signal.cohort: rule `rows per cohort at most 25% below the previous published day`" in text
    assert f"mobile has {kept.filter(pl.col('cohort') == 'mobile').height} rows on {day}" in text

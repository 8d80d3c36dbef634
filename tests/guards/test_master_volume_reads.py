"""The master-volume guard's baseline: the last published customer_360_definition day before the window.

- On a normal day that is the day before the window, asked for by a constant bound: rendered for BigQuery, the
  guard's statements read exactly one partition of customer_360_definition, and no max() search of the history.
- After a gap in publishing (the day before deleted from a copy), the guard searches the history and still
  compares with the last day published before the window.
- Either way the baseline and the violation (rule, detail, example row) are those of the single max() search
  the guard used before.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from asset_checks import raw_guards
from asset_checks.raw_guards import master_drop_violations, master_volume_violations
from resources import bigquery_billing
from resources.sql_dialect import bigquery_sql
from resources.warehouse import DuckDBWarehouse
from tests.bigquery.recording import RECORDED, RecordingDuckDBWarehouse

DAY = date(2026, 2, 28)
BEFORE = DAY - timedelta(days=1)
ANALYTICS = "analytics_dataset"
TABLE = "customer_360_definition"
# The baseline as one statement: the last published day found by a max() over the whole history.
SEARCH = """
select snapshot_date, count(*) as customers,
  sum(case when has_mobile then 1 else 0 end) as mobile_subscriptions,
  sum(case when has_tv then 1 else 0 end) + sum(case when has_broadband then 1 else 0 end) as fixed_subscriptions
from {analytics}.customer_360_definition
where snapshot_date = (select max(snapshot_date) from {analytics}.customer_360_definition where snapshot_date < $start)
group by snapshot_date
"""
# The master_data_cut scenario of test_bad_input.py: customers cut to about a tenth.
MASTER_CUT = "delete from raw.customers where hash(customer_id) % 10 <> 0"


def guard_reads() -> list[str]:
    """The recorded statements of the guard that read customer_360_definition, as BigQuery runs them (BigQuery
    prunes on a query parameter as on a constant, so the parameters are bound as literals)."""
    return [
        bigquery_billing.bind_parameters(bigquery_sql(s.sql, "project", ANALYTICS, "raw_dataset"), dict(s.values))
        for s in RECORDED
        if s.origin.startswith("asset_checks/raw_guards.py") and f"{{analytics}}.{TABLE}" in s.sql
    ]


def partition_bounds(sql: str) -> list[tuple[date | None, date | None, bool]]:
    return bigquery_billing.partition_bounds(sql, TABLE, "snapshot_date", ANALYTICS)


def run_guard(path: Path) -> tuple[list, list[str]]:
    RECORDED.clear()
    found = master_volume_violations(RecordingDuckDBWarehouse(path=str(path)), DAY)
    reads = guard_reads()
    RECORDED.clear()
    return found, reads


def as_before(path: Path) -> list:
    """The violations as the guard found them with the single search statement."""
    warehouse = DuckDBWarehouse(path=str(path))
    baseline = warehouse.read(SEARCH, {"start": DAY}).row(0, named=True)
    delivered = warehouse.read(raw_guards._RAW_LIVE, {"day": DAY}).row(0, named=True)
    return master_drop_violations(delivered, baseline, DAY, baseline["snapshot_date"])


def same(found: list, expected: list) -> bool:
    return [(v.headline(), v.examples.to_dicts()) for v in found] == [
        (v.headline(), v.examples.to_dicts()) for v in expected
    ]


def customers_published(path: Path, day: date) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*) from analytics.{TABLE} where snapshot_date = ?", [day]).fetchone()[0]


def test_a_normal_day_reads_one_partition_by_constant_bounds(pipeline_warehouse) -> None:
    found, reads = run_guard(pipeline_warehouse.duckdb_path)
    assert found == []
    # One statement, the day before the window as a constant: one partition, no search of the history.
    (sql,) = reads
    assert partition_bounds(sql) == [(BEFORE, BEFORE, False)], sql
    assert "MAX(" not in sql.upper()
    # As BigQuery bills it: that one day's partition (no NULL partition), of the four columns the counts name.
    warehouse = DuckDBWarehouse(path=str(pipeline_warehouse.duckdb_path))
    catalogue = bigquery_billing.Catalogue(
        {(ANALYTICS, TABLE): warehouse.column_types(TABLE)},
        {(ANALYTICS, TABLE): bigquery_billing.Partitioning("snapshot_date")},
    )
    (query,) = bigquery_billing.query_reads(sql, catalogue)
    (read,) = query.reads
    assert read.days == (bigquery_billing.Days(BEFORE, BEFORE),)
    assert read.columns == {"snapshot_date", "has_mobile", "has_tv", "has_broadband"}
    # The same row as the search of the whole history.
    assert warehouse.read(raw_guards._PUBLISHED_DAY_BEFORE, {"day": BEFORE}).equals(
        warehouse.read(SEARCH, {"start": DAY})
    )


@pytest.mark.parametrize("gap", [0, 1, 2])
def test_the_baseline_is_the_last_day_published_before_the_window(private_copy: Path, gap: int) -> None:
    missing = [BEFORE - timedelta(days=i) for i in range(gap)]
    last = BEFORE - timedelta(days=gap)
    with duckdb.connect(str(private_copy)) as con:
        for day in missing:
            con.execute(f"delete from analytics.{TABLE} where snapshot_date = ?", [day])
        con.execute(MASTER_CUT)
    assert customers_published(private_copy, last) > 0

    found, reads = run_guard(private_copy)

    # The day before is asked first, by a constant; only after a gap is the history searched.
    assert partition_bounds(reads[0]) == [(BEFORE, BEFORE, False)]
    if gap:
        assert len(reads) == 2 and "MAX(snapshot_date)" in reads[1], reads
    else:
        assert len(reads) == 1, reads
    # The cut is caught against the last published day, in the words and example row of before.
    assert [v.table for v in found] == ["raw.customers"]
    (violation,) = found
    expected = customers_published(private_copy, last)
    delivered = violation.examples["delivered"][0]
    assert violation.rule == "customers holding a live product at most 10% below the last published day"
    assert violation.detail == (
        f"expected about {expected} customers holding a live product (customer_360_definition on {last}), "
        f"delivered {delivered} on {DAY}"
    )
    assert violation.examples.to_dicts() == [
        {"table": "raw.customers", "day": DAY, "delivered": delivered, "published_day": last,
         "expected": expected, "share": round(delivered / expected, 4)}
    ]
    assert same(found, as_before(private_copy))


def test_nothing_published_before_the_window_gives_no_baseline(private_copy: Path) -> None:
    with duckdb.connect(str(private_copy)) as con:
        con.execute(f"delete from analytics.{TABLE} where snapshot_date < ?", [DAY])
        con.execute(MASTER_CUT)
    found, reads = run_guard(private_copy)
    assert found == [] and len(reads) == 2

"""The daily checks' figures computed by a warehouse query each: what the checks read before they shared one read
per step (asset_checks/window_reads.py). They are the reference the shared path is held to
(tests/guards/test_shared_check_reads.py), and are held themselves to the in-Python rules over whole frames
(tests/guards/test_warehouse_aggregates.py). Also the damage both of those tests write into a copy of the session
warehouse: two mobile holders and a customer without Mobile.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from asset_checks import rules
from asset_checks.reads import MissingTable
from resources.warehouse import WarehouseResource
from trust_assets.tables import CUSTOMER_360, TRUST_SIGNAL

# A value is missing when NULL or not finite; NaN and +-inf fall outside every finite range on DuckDB and BigQuery.
_FINITE = "between -1.7976931348623157e308 and 1.7976931348623157e308"


def read_missing_shares(
    warehouse: WarehouseResource, table: str, start: date, end: date, features: list[str]
) -> pl.DataFrame:
    """Per day of [start, end]: ``snapshot_date, rows`` and each feature's share of missing values."""
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    present = set(warehouse.columns(table))
    shares = ", ".join(
        f"avg(case when {f} {_FINITE} then 0.0 else 1.0 end) as {f}" for f in features if f in present
    )
    return warehouse.read(
        f"select snapshot_date, count(*) as rows{', ' + shares if shares else ''} from {{analytics}}.{table} "
        "where snapshot_date between $start and $end group by snapshot_date",
        {"start": start, "end": end},
    )


def read_coverage_problems(
    warehouse: WarehouseResource, table: str, start: date, end: date, cohorts: list[str]
) -> pl.DataFrame:
    """Keys of [start, end] where ``table`` (with a ``cohort`` column, or one cohort's table) and the holders in
    customer_360_definition disagree: ``snapshot_date, cohort, customer_id, rows, expected``, broken keys only
    (a holder without exactly one row, or a row of a non-holder). Empty when the coverage is complete."""
    for name in (table, CUSTOMER_360):
        if not warehouse.table_exists(name):
            raise MissingTable(name)
    cohort_column = "cohort" if "cohort" in warehouse.columns(table) else f"'{cohorts[0]}'"
    wanted = " union all ".join(
        f"select snapshot_date, '{c}' as cohort, customer_id from {{analytics}}.{CUSTOMER_360} "
        f"where snapshot_date between $start and $end and {rules.HOLDING_COLUMNS[c]}"
        for c in cohorts
    )
    chosen = ", ".join(f"'{c}'" for c in cohorts)
    return warehouse.read(
        f"""
        with got as (
            select snapshot_date, {cohort_column} as cohort, customer_id, count(*) as rows
            from {{analytics}}.{table}
            where snapshot_date between $start and $end and {cohort_column} in ({chosen})
            group by 1, 2, 3
        ),
        want as (select distinct snapshot_date, cohort, customer_id, true as expected from ({wanted}) as holders)
        select coalesce(w.snapshot_date, g.snapshot_date) as snapshot_date, coalesce(w.cohort, g.cohort) as cohort,
            coalesce(w.customer_id, g.customer_id) as customer_id, coalesce(g.rows, 0) as rows,
            coalesce(w.expected, false) as expected
        from want as w
        full outer join got as g
            on g.snapshot_date = w.snapshot_date and g.cohort = w.cohort and g.customer_id = w.customer_id
        where w.customer_id is null or g.customer_id is null or g.rows <> 1
        """,
        {"start": start, "end": end},
    ).with_columns(pl.col("snapshot_date").cast(pl.Date), pl.col("customer_id").cast(pl.String))


def read_daily_counts(warehouse: WarehouseResource, table: str, start: date, end: date) -> pl.DataFrame:
    """``day, rows`` of [start - 1, end] in one query."""
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    return warehouse.read(
        f"select snapshot_date as day, count(*) as rows from {{analytics}}.{table} "
        "where snapshot_date between $start and $end group by snapshot_date",
        {"start": start - timedelta(days=1), "end": end},
    )


def versions_used(warehouse: WarehouseResource, start: date, end: date) -> pl.DataFrame:
    """Rows per cohort, model version and ruler version published in [start, end]."""
    return warehouse.read(
        f"select cohort, model_version, ruler_version, count(*) as rows from {{analytics}}.{TRUST_SIGNAL} "
        "where snapshot_date between $start and $end group by cohort, model_version, ruler_version "
        "order by cohort, model_version",
        {"start": start, "end": end},
    )


def mobile_holders_and_outsider(con: duckdb.DuckDBPyConnection, day: date) -> tuple[str, str, str]:
    """Two customers with Mobile rows on ``day`` (the first two by id) and one without Mobile: whom the damage
    removes, doubles and adds."""
    first, second = (r[0] for r in con.execute(
        "select customer_id from analytics.mobile_features where snapshot_date = ? order by customer_id limit 2",
        [day]).fetchall())
    outsider = con.execute(
        "select customer_id from analytics.customer_360_definition where snapshot_date = ? and not has_mobile "
        "order by customer_id limit 1", [day]).fetchone()
    assert outsider is not None
    return first, second, outsider[0]

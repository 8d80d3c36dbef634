"""Reads of the published ``customer_trust_signal``: its rows over a window, the days and versions it holds, one
customer's row, and the per-cohort summary ``trust summary`` prints.

Every read filters on ``snapshot_date`` in the warehouse: the table is day-partitioned, a read touches only the
days it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from trust_assets.tables import TRUST_SIGNAL

if TYPE_CHECKING:
    import polars as pl

    from resources.read_only import WarehouseReader


def signal_rows(
    warehouse: WarehouseReader,
    start: date,
    end: date,
    columns: Sequence[str] = ("*",),
    cohort: str | None = None,
    order_by: str | None = None,
) -> pl.DataFrame:
    """The published rows of [start, end] (of one cohort, or of all), as stored."""
    where = " and cohort = $c" if cohort else ""
    params: dict[str, object] = {"start": start, "end": end, **({"c": cohort} if cohort else {})}
    order = f" order by {order_by}" if order_by else ""
    return warehouse.read(
        f"select {', '.join(columns)} from {{analytics}}.{TRUST_SIGNAL} "
        f"where snapshot_date between $start and $end{where}{order}",
        params,
    )


def published_row(warehouse: WarehouseReader, customer_id: str, cohort: str, day: date) -> dict[str, Any] | None:
    """The customer's published row of that date, if any."""
    rows = warehouse.read(
        f"select * from {{analytics}}.{TRUST_SIGNAL} where snapshot_date = $d and cohort = $c and customer_id = $id",
        {"d": day, "c": cohort, "id": customer_id},
    )
    return rows.row(0, named=True) if rows.height else None


def scored_dates(warehouse: WarehouseReader, cohort: str | None = None) -> list[date]:
    """The snapshot dates with published scores (of one cohort, or of any), ascending; empty before the first."""
    if not warehouse.table_exists(TRUST_SIGNAL):
        return []
    where, params = ("where cohort = $c", {"c": cohort}) if cohort else ("", {})
    frame = warehouse.read(
        f"select distinct snapshot_date from {{analytics}}.{TRUST_SIGNAL} {where} order by snapshot_date", params
    )
    import polars as pl  # here, not at the top: `trust --help` and the argument checks do not need Polars

    return [d for d in frame["snapshot_date"].cast(pl.Date).to_list() if d is not None]


def latest_published_day(warehouse: WarehouseReader, cohort: str | None = None) -> date | None:
    """The latest published snapshot date (of one cohort, or of any); None before the first."""
    if not warehouse.table_exists(TRUST_SIGNAL):
        return None
    where, params = (" where cohort = $c", {"c": cohort}) if cohort else ("", {})
    return warehouse.read(f"select max(snapshot_date) as d from {{analytics}}.{TRUST_SIGNAL}{where}", params)["d"][0]


def days_scored_by(warehouse: WarehouseReader, cohort: str, model_version: str) -> list[date]:
    """The days on which a version's rows of its cohort are published, ascending."""
    import polars as pl

    found = warehouse.read(
        f"select distinct snapshot_date from {{analytics}}.{TRUST_SIGNAL} where cohort = $c and model_version = $v",
        {"c": cohort, "v": model_version},
    )
    return sorted(found["snapshot_date"].cast(pl.Date).to_list())


def versions_in_window(warehouse: WarehouseReader, start: date, end: date, other_than: str) -> pl.DataFrame:
    """The (cohort, model_version) pairs published in [start, end] for the cohorts other than ``other_than``."""
    return warehouse.read(
        f"select distinct cohort, model_version from {{analytics}}.{TRUST_SIGNAL} "
        "where snapshot_date between $start and $end and cohort <> $c",
        {"start": start, "end": end, "c": other_than},
    )


def previous_day_counts(warehouse: WarehouseReader, start: date) -> pl.DataFrame:
    """Rows per cohort of the last published day before ``start`` (``day``, ``cohort``, ``rows``).

    The day before ``start`` is asked first: on the daily schedule it is that last day, and a constant bound lets
    BigQuery prune to its one partition. Only after a gap in publishing is the earlier history searched, by a
    statement that reads the snapshot_date of every earlier partition.
    """
    day_before = warehouse.read(
        f"select snapshot_date as day, cohort, count(*) as rows from {{analytics}}.{TRUST_SIGNAL} "
        "where snapshot_date = $d group by snapshot_date, cohort",
        {"d": start - timedelta(days=1)},
    )
    if day_before.height:
        return day_before
    return warehouse.read(
        f"select snapshot_date as day, cohort, count(*) as rows from {{analytics}}.{TRUST_SIGNAL} "
        f"where snapshot_date = (select max(snapshot_date) from {{analytics}}.{TRUST_SIGNAL} "
        "where snapshot_date < $start) "
        "group by snapshot_date, cohort",
        {"start": start},
    )


def cohort_summary(warehouse: WarehouseReader, start: date, end: date) -> pl.DataFrame:
    """Per cohort over [start, end]: rows, days, the mean score, p10, p50, p90, the mean of missing features and
    the model version."""
    return warehouse.read(
        f"""
        select cohort,
               count(*) as rows,
               count(distinct snapshot_date) as days,
               round(avg(trust_score), 3) as mean_score,
               round(quantile_cont(trust_score, 0.1), 3) as p10,
               round(quantile_cont(trust_score, 0.5), 3) as p50,
               round(quantile_cont(trust_score, 0.9), 3) as p90,
               round(avg(missing_features), 2) as mean_missing,
               min(model_version) as model_version
        from {{analytics}}.{TRUST_SIGNAL}
        where snapshot_date between $start and $end
        group by cohort
        order by cohort
        """,
        {"start": start, "end": end},
    )

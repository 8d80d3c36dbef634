"""The per-day quantiles the distribution guard judged with, kept so a day's history is not read again.

The distribution guard (asset_checks/raw_guards.py) compares each judged day's (week's) median and p95 of every
raw measure with the medians of those of its trailing days (weeks). The trailing figures do not change unless
their partition is written: when the gate passes, it records the per-period figures it used in
``analytics.raw_validated_quantiles`` (:data:`QUANTILE_TABLE`, a few rows per table and day), and the next run
takes from the record the periods whose partition the warehouse proves untouched since the gate validated it
(``TableLoads.proved``: BigQuery's partition metadata, asset_checks/raw_loads.py). Only the others are
computed, from the partitions written since. DuckDB keeps no partition metadata, so there every period is
computed each day, exactly as before the record; the record is written all the same (one code path).

The figures are recorded after the load checksums' scan of the same run, so a partition written after they were
read was written after that scan too and is not proved untouched the next day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl

from asset_checks.raw_loads import read_record_table

QUANTILE_TABLE = "raw_validated_quantiles"
QUANTILE_COLUMNS: dict[str, pl.DataType] = {
    "table_name": pl.String(),
    "period": pl.Date(),  # the day (a week's week_ending) of the partition column
    "measure": pl.String(),
    "values": pl.Int64(),  # non-null values of the measure in the period
    "p50": pl.Float64(),
    "p95": pl.Float64(),
    "validated_for": pl.Date(),  # the last day of the gate window that recorded the figures
}


def empty_record() -> pl.DataFrame:
    return pl.DataFrame(schema=QUANTILE_COLUMNS)


def read_record(warehouse: Any) -> pl.DataFrame:
    """The whole record; empty when nothing was recorded yet."""
    return read_record_table(warehouse, QUANTILE_TABLE, QUANTILE_COLUMNS)


def to_long(table: str, stats: pl.DataFrame, measures: Sequence[str], validated_for: date) -> pl.DataFrame:
    """The guard's per-period frame (``period``, ``<m>_n``, ``<m>_p50``, ``<m>_p95``) as record rows."""
    return pl.concat(
        [
            stats.select(
                pl.lit(table).alias("table_name"),
                "period",
                pl.lit(m).alias("measure"),
                pl.col(f"{m}_n").alias("values"),
                pl.col(f"{m}_p50").alias("p50"),
                pl.col(f"{m}_p95").alias("p95"),
                pl.lit(validated_for).alias("validated_for"),
            ).cast(QUANTILE_COLUMNS)  # type: ignore[arg-type]
            for m in measures
        ]
        or [empty_record()]
    )


def recorded_stats(record: pl.DataFrame, table: str, measures: Sequence[str], periods: Sequence[date]) -> pl.DataFrame:
    """The recorded figures of ``table`` for those of ``periods`` recorded for every measure, in the guard's wide
    form (``period``, ``<m>_n``, ``<m>_p50``, ``<m>_p95``)."""
    mine = record.filter((pl.col("table_name") == table) & pl.col("period").is_in(list(periods)))
    wide: pl.DataFrame | None = None
    for m in measures:
        one = mine.filter(pl.col("measure") == m).select(
            "period",
            pl.col("values").alias(f"{m}_n"),
            pl.col("p50").alias(f"{m}_p50"),
            pl.col("p95").alias(f"{m}_p95"),
        )
        wide = one if wide is None else wide.join(one, on="period", how="inner")
    if wide is None:
        return pl.DataFrame({"period": []}, schema={"period": pl.Date()})
    return wide.sort("period")


def record_quantiles(warehouse: Any, stats: Mapping[str, pl.DataFrame], validated_for: date) -> None:
    """Record the figures the guard used (after the gate passed): each table's record is replaced by this run's
    periods, the trailing history the next days need. One small table, rewritten whole."""
    if not stats:
        return
    kept = read_record(warehouse).filter(~pl.col("table_name").is_in(list(stats)))
    fresh = [frame.with_columns(pl.lit(validated_for).alias("validated_for")).cast(QUANTILE_COLUMNS)  # type: ignore[arg-type]
             for frame in stats.values()]
    record = pl.concat([kept, *fresh]).sort("table_name", "period", "measure")
    warehouse.replace_table(QUANTILE_TABLE, record)

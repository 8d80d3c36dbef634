"""The partition window's reads of one check step, each made once and shared by every check of the step.

BigQuery bills each query for the columns it names over the partitions it reads, so checks that read the same
table's window in queries of their own pay for it once per check. The checks of a daily table run as one
``multi_asset_check`` step (asset_checks/product_checks.py): :class:`WindowReads` reads each table's window at
most once (the schema check's frame; customer_360_definition's holders for every coverage check; the day before
the window for the day-over-day counts) and every check, and every day a failing window is re-checked for
(asset_checks/daily_checks.py), judges its slice of those rows. The functions here give each check exactly the
result its own read of [start, end] gave: tests/guards/test_shared_check_reads.py holds them to those reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import pandera.polars as pa
import polars as pl

from asset_checks import rules
from asset_checks.reads import MissingTable, read_schema_columns, read_window
from asset_checks.schemas import TYPE_ONLY_COLUMNS
from asset_checks.violations import Violation
from resources.warehouse import WarehouseResource
from trust_assets.tables import CUSTOMER_360


def between(frame: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """The rows of [start, end]: what a read of that window alone returns."""
    return frame.filter(pl.col("snapshot_date").cast(pl.Date).is_between(start, end))


class WindowReads:
    """The reads of one step's partition window [start, end], each made on first use and kept for the step."""

    def __init__(self, warehouse: WarehouseResource, start: date, end: date) -> None:
        self.warehouse = warehouse
        self.start = start
        self.end = end
        self._frames: dict[tuple[str, ...], pl.DataFrame | None] = {}

    def slice(self, frame: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
        """The frame's rows of [start, end]; the whole window's frame itself, not a copy, on the usual path."""
        return frame if (start, end) == (self.start, self.end) else between(frame, start, end)

    def _once(self, key: tuple[str, ...], read: Callable[[], pl.DataFrame | None]) -> pl.DataFrame | None:
        if key not in self._frames:
            self._frames[key] = read()
        return self._frames[key]

    def forget(self, table: str) -> None:
        """Drop the table's frames once its checks are done: a step holds one large table at a time."""
        self._frames = {k: v for k, v in self._frames.items() if k[1] != table}

    def whole(self, table: str) -> pl.DataFrame:
        """Every column of the window's rows."""
        frame = self._once(("whole", table), lambda: read_window(self.warehouse, table, self.start, self.end))
        assert frame is not None
        return frame

    def narrow(self, table: str, model: type[pa.DataFrameModel]) -> pl.DataFrame | None:
        """The window's rows with the columns the schema's rules read (reads.read_schema_columns); None when only
        the whole rows can answer."""
        return self._once(("narrow", table), lambda: read_schema_columns(
            self.warehouse, table, self.start, self.end, model.to_schema(), TYPE_ONLY_COLUMNS.get(table, ())
        ))

    def rows(self, table: str, model: type[pa.DataFrameModel]) -> pl.DataFrame:
        """The frame the schema check reads first: every row of the window, with at least the schema's columns."""
        narrow = self.narrow(table, model)
        return self.whole(table) if narrow is None else narrow

    def holders(self, cohorts: Sequence[str]) -> pl.DataFrame:
        """(snapshot_date, cohort, customer_id) of customer_360_definition's holders of ``cohorts``, from one read
        of their flags: a step asks with every cohort its coverage checks need, so it reads them once."""
        flags = ", ".join(rules.HOLDING_COLUMNS[c] for c in cohorts)
        found = self._once(("holders", CUSTOMER_360, *cohorts), lambda: rules.holders(read_window(
            self.warehouse, CUSTOMER_360, self.start, self.end, f"snapshot_date, customer_id, {flags}"
        ), list(cohorts)))
        assert found is not None
        return found

    def day_before(self, table: str) -> pl.DataFrame:
        """``day, rows`` of the day before the window (no row when it has none); the window's own counts come
        from :meth:`rows`."""
        def read() -> pl.DataFrame:
            if not self.warehouse.table_exists(table):
                raise MissingTable(table)
            before = self.start - timedelta(days=1)
            return self.warehouse.read(
                f"select snapshot_date as day, count(*) as rows from {{analytics}}.{table} "
                "where snapshot_date = $day group by snapshot_date",
                {"day": before},
            )

        frame = self._once(("before", table), read)
        assert frame is not None
        return frame


# --- each check's evaluation of [start, end] within the window -----------------------------------------------------
def schema_violations(
    reads: WindowReads, table: str, model: type[pa.DataFrameModel], start: date, end: date
) -> list[Violation]:
    """The schema check of [start, end] (product_checks.schema_check_violations): judged on the columns the
    rules read; a failure is reported from the whole rows, read once for the window."""
    narrow = reads.narrow(table, model)
    if narrow is not None and not rules.schema_violations(reads.slice(narrow, start, end), model, table):
        return []
    return rules.schema_violations(reads.slice(reads.whole(table), start, end), model, table)


def daily_counts(reads: WindowReads, table: str, model: type[pa.DataFrameModel], start: date, end: date
                 ) -> pl.DataFrame:
    """``day, rows`` of [start - 1, end]: a day without rows has no row."""
    window = rules.daily_counts(reads.slice(reads.rows(table, model), start, end).select("snapshot_date"))
    window = window.select(pl.col("day").cast(pl.Date), pl.col("rows").cast(pl.Int64))
    if start > reads.start:  # the day before is in the window
        before = rules.daily_counts(between(reads.rows(table, model), start - timedelta(days=1),
                                            start - timedelta(days=1)).select("snapshot_date"))
    else:
        before = reads.day_before(table)
    before = before.select(pl.col("day").cast(pl.Date), pl.col("rows").cast(pl.Int64))
    return pl.concat([before, window])


def missing_share_violations(
    reads: WindowReads, table: str, model: type[pa.DataFrameModel], features: Sequence[str], limit: float,
    start: date, end: date,
) -> list[Violation]:
    """Per day and feature of [start, end], the share of missing values (NULL or not finite), from the rows the
    schema check read; a feature the table lacks is skipped."""
    frame = reads.slice(reads.rows(table, model), start, end)
    present = [f for f in features if f in frame.columns]
    shares = frame.group_by("snapshot_date").agg(
        pl.len().cast(pl.Int64).alias("rows"),
        *[(pl.col(f).is_null() | ~pl.col(f).is_finite().fill_null(False)).cast(pl.Float64).mean().alias(f)
          for f in present],
    )
    return rules.share_violations(shares, list(features), limit, table)


def coverage_problems(rows: pl.DataFrame, holders: pl.DataFrame, cohorts: Sequence[str]) -> pl.DataFrame:
    """The keys where ``rows`` (with a ``cohort`` column, or one cohort's rows) and ``holders`` disagree, as
    ``snapshot_date, cohort, customer_id, rows, expected``, broken keys only."""
    keys = ["snapshot_date", "cohort", "customer_id"]
    cohort = pl.col("cohort") if "cohort" in rows.columns else pl.lit(cohorts[0])
    got = (
        rows.select(pl.col("snapshot_date").cast(pl.Date), cohort.cast(pl.String).alias("cohort"),
                    pl.col("customer_id").cast(pl.String))
        .filter(pl.col("cohort").is_in(list(cohorts)))
        .group_by(keys).agg(pl.len().cast(pl.Int64).alias("rows"))
    )
    want = holders.filter(pl.col("cohort").is_in(list(cohorts))).select(keys).unique().with_columns(
        pl.lit(True).alias("expected")
    )
    joined = want.join(got, on=keys, how="full", coalesce=True)
    return joined.select(
        *keys, pl.col("rows").fill_null(0).cast(pl.Int64), pl.col("expected").fill_null(False)
    ).filter(~pl.col("expected") | (pl.col("rows") != 1))


def coverage_violations(
    reads: WindowReads, table: str, model: type[pa.DataFrameModel], cohorts: Sequence[str], what: str,
    start: date, end: date, holder_cohorts: Sequence[str] | None = None,
) -> list[Violation]:
    """One row per holder of ``cohorts`` in customer_360_definition on each day of [start, end], and no other
    rows; ``holder_cohorts``: every cohort the step's coverage checks ask for, read in one query."""
    rows = reads.slice(reads.rows(table, model), start, end)
    holders = reads.slice(reads.holders(holder_cohorts or cohorts), start, end)
    return rules.key_count_violations(coverage_problems(rows, holders, cohorts), table, what)


def versions_used(reads: WindowReads, table: str, model: type[pa.DataFrameModel], start: date, end: date
                  ) -> pl.DataFrame:
    """Rows per cohort, model version and ruler version of [start, end]."""
    return (
        reads.slice(reads.rows(table, model), start, end)
        .group_by("cohort", "model_version", "ruler_version")
        .agg(pl.len().cast(pl.Int64).alias("rows"))
        .sort("cohort", "model_version", "ruler_version")
    )


__all__ = [
    "WindowReads",
    "between",
    "coverage_problems",
    "coverage_violations",
    "daily_counts",
    "missing_share_violations",
    "schema_violations",
    "versions_used",
]

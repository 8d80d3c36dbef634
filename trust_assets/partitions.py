"""The daily partitioning of the graph and how a partition window reaches dbt (fixed vars, and the window in the
environment of each dbt command).

One partition is one snapshot date (UTC). A run may cover several partitions at once (single-run backfills):
the dbt daily models then build every date of the window in one statement.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Protocol

import dagster as dg

from trust_assets import config

DAILY_PARTITIONS = dg.DailyPartitionsDefinition(
    start_date=config.SETTINGS.partitions_start.isoformat(),
    timezone=config.SETTINGS.timezone,
    # end_offset=0: the newest partition is yesterday, the last complete day of source data.
    end_offset=0,
)


def fixed_dbt_vars() -> dict[str, str]:
    """The dbt vars that do not depend on the partition: the reference date and outcome window of the models."""
    model = config.SETTINGS.model
    return {
        "reference_date": model.reference_date.isoformat(),
        "outcome_start": model.outcome_start.isoformat(),
        "outcome_end": model.outcome_end.isoformat(),
        "nrc_baseline_months": str(model.nrc_baseline_months),
    }


def fixed_vars_arguments() -> list[str]:
    """``--vars`` with :func:`fixed_dbt_vars`: what every dbt invocation passes (the manifest is parsed with it)."""
    return ["--vars", json.dumps(fixed_dbt_vars())]


# The environment variables that carry the window to dbt (macro window_bound in dbt_project/macros/date_spine.sql).
DBT_WINDOW_ENV = {"start_date": "TRUST_WINDOW_START_DATE", "end_date": "TRUST_WINDOW_END_DATE"}


def dbt_window_env(start: date, end_inclusive: date) -> dict[str, str]:
    """The environment that tells dbt to build the snapshot dates ``start`` .. ``end_inclusive`` (both included).

    The window is not a ``--vars`` entry: dbt re-parses the whole project whenever its vars change, so each run
    passes the same :func:`fixed_dbt_vars` (those the manifest was parsed with) and the window here, which dbt
    reads only when it compiles the SQL it executes. Partial parsing then holds from one run to the next.
    """
    if end_inclusive < start:
        raise ValueError(f"window end {end_inclusive} is before its start {start}")
    return {DBT_WINDOW_ENV["start_date"]: start.isoformat(), DBT_WINDOW_ENV["end_date"]: end_inclusive.isoformat()}


def window_days(start: date, end: date) -> list[date]:
    """Every day of the inclusive range [start, end]."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def missing_days(present: set[date], start: date, end: date) -> list[date]:
    """The days of the inclusive range [start, end] not in ``present``."""
    return [d for d in window_days(start, end) if d not in present]


def window_dates(start: date, end_exclusive: date) -> tuple[date, date]:
    """A half-open window [start, end_exclusive) of whole days as inclusive first and last dates."""
    last = end_exclusive - timedelta(days=1)
    if last < start:
        raise ValueError(f"empty partition window {start} .. {end_exclusive}")
    return start, last


class _TimeWindow(Protocol):
    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


class _PartitionedContext(Protocol):
    @property
    def partition_time_window(self) -> _TimeWindow: ...


def partition_window_dates(context: _PartitionedContext) -> tuple[date, date]:
    """The first and last snapshot date (inclusive) of the partitions a run or step covers.

    Accepts anything with ``partition_time_window`` (an asset or op execution context); a single partition
    gives the same date twice, a single-run backfill the first and last day of its range.
    """
    window = context.partition_time_window
    return window_dates(window.start.date(), window.end.date())

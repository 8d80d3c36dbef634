"""Partition windows as inclusive date ranges, for assets and checks run for one day or a backfill range."""

from __future__ import annotations

from datetime import date
from typing import Any

from trust_assets.partitions import partition_window_dates


def window_of(context: Any) -> tuple[date, date]:
    """The run's partition window [start, end] (inclusive days); a single-run backfill gives its whole range."""
    return partition_window_dates(context)


def label(start: date, end: date) -> str:
    return start.isoformat() if start == end else f"{start.isoformat()} .. {end.isoformat()}"

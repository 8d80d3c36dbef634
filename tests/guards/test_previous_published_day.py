"""The pre-write guard's baseline: the rows per cohort of the last published day before the window.

On the daily schedule that day is the day before the window, read with a constant bound (one partition on
BigQuery); only after a gap is the earlier history searched. Either way the answer is the last published day's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from asset_checks.trust_signal_guard import previous_published_counts
from resources.warehouse import DuckDBWarehouse
from tests.guards import frames
from trust_assets.tables import TRUST_SIGNAL

READS: list[str] = []
START = date(2026, 3, 10)


class ReadRecordingWarehouse(DuckDBWarehouse):
    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        READS.append(sql)
        return super().read(sql, params)


def _warehouse(tmp_path: Path, *days: date) -> ReadRecordingWarehouse:
    warehouse = ReadRecordingWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    for day in days:
        signal = frames.trust_signal(day)
        # A smaller day before the last one, so the two days' counts differ.
        warehouse.replace_partitions(TRUST_SIGNAL, signal if day == max(days) else signal.head(2), day, day)
    READS.clear()
    return warehouse


def _counts(frame: pl.DataFrame) -> list[tuple[date, str, int]]:
    return sorted(frame.select("day", "cohort", "rows").iter_rows())


@pytest.mark.parametrize("gap", [0, 6])
def test_the_baseline_is_the_last_published_day(tmp_path: Path, gap: int) -> None:
    last = START - timedelta(days=1 + gap)
    warehouse = _warehouse(tmp_path, last - timedelta(days=3), last)
    found = previous_published_counts(warehouse, START)
    assert _counts(found) == [(last, "broadband", 2), (last, "mobile", 2), (last, "tv", 2)]
    if gap == 0:
        # The scheduled day: one statement, bounded by a constant, no search of the history.
        (sql,) = READS
        assert "max(" not in sql and "snapshot_date = $d" in sql
    else:
        assert len(READS) == 2 and "max(snapshot_date)" in READS[1]


def test_nothing_published_before_gives_no_baseline(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path, START + timedelta(days=1))
    assert previous_published_counts(warehouse, START).height == 0

"""The frozen ruler through real Dagster: issue once, re-run as a no-op, refuse a changed ruler."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from resources.warehouse import DuckDBWarehouse
from tests.scoring.frames import feature_frame
from trust_assets.assets import reference
from trust_assets.assets.reference import hierarchical_reference_stats
from trust_assets.config import COHORTS, SETTINGS

DAYS = list(SETTINGS.ruler.snapshot_dates)


def _warehouse(tmp_path: Path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    for i, cohort in enumerate(COHORTS):
        warehouse.replace_table(f"{cohort.value}_features", feature_frame(cohort, DAYS, 120, seed=i))
    return warehouse


def _materialize(warehouse: DuckDBWarehouse) -> dg.ExecuteInProcessResult:
    return dg.materialize([hierarchical_reference_stats], resources={"warehouse": warehouse}, raise_on_error=False)


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _table(warehouse: DuckDBWarehouse, table: str) -> pl.DataFrame:
    return warehouse.read(f"select * from {{analytics}}.{table} order by all")


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    [failure] = result.get_step_failure_events()
    return failure.step_failure_data.error.message  # type: ignore[union-attr]


def test_second_run_is_a_no_op_and_changed_data_is_refused(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    first = _materialize(warehouse)
    assert first.success
    meta = _metadata(first)
    assert meta["ruler_status"] == "issued"
    ruler = _table(warehouse, "hierarchical_reference_stats")
    issues = _table(warehouse, "ruler_issues")
    assert ruler.height == meta["dagster/row_count"] > 0
    assert set(ruler["ruler_version"]) == {SETTINGS.ruler.version}
    assert issues.height == 1 and issues["fingerprint"][0] == meta["fingerprint"]
    assert issues["snapshot_dates"][0] == ",".join(d.isoformat() for d in DAYS)

    second = _materialize(warehouse)
    assert second.success
    meta2 = _metadata(second)
    assert meta2["ruler_status"] == "unchanged" and meta2["fingerprint"] == meta["fingerprint"]
    assert _table(warehouse, "hierarchical_reference_stats").equals(ruler)
    assert _table(warehouse, "ruler_issues").equals(issues)

    # The reference-period features change under the same ruler version: refused, nothing written.
    edited = warehouse.read("select * from {analytics}.tv_features").with_columns(pl.col("arpu_3m") * 1.01)
    warehouse.replace_table("tv_features", edited)
    third = _materialize(warehouse)
    assert not third.success
    message = _failure_message(third)
    assert f"ruler {SETTINGS.ruler.version} is frozen" in message
    assert "tv/" in message and "arpu_3m" in message
    assert "bump RulerSettings.version" in message
    assert _table(warehouse, "hierarchical_reference_stats").equals(ruler)
    assert _table(warehouse, "ruler_issues").equals(issues)


def test_a_new_version_is_appended_beside_the_frozen_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = _warehouse(tmp_path)
    assert _materialize(warehouse).success
    v1 = _table(warehouse, "hierarchical_reference_stats")
    edited = warehouse.read("select * from {analytics}.mobile_features").with_columns(pl.col("arpu_3m") + 1.0)
    warehouse.replace_table("mobile_features", edited)
    bumped = dataclasses.replace(SETTINGS, ruler=dataclasses.replace(SETTINGS.ruler, version="ruler-v2"))
    monkeypatch.setattr(reference, "SETTINGS", bumped)
    result = _materialize(warehouse)
    assert result.success and _metadata(result)["ruler_status"] == "issued"
    both = _table(warehouse, "hierarchical_reference_stats")
    assert set(both["ruler_version"]) == {SETTINGS.ruler.version, "ruler-v2"}
    assert both.filter(pl.col("ruler_version") == SETTINGS.ruler.version).equals(v1)
    assert _table(warehouse, "ruler_issues")["ruler_version"].to_list() == [SETTINGS.ruler.version, "ruler-v2"]


def test_missing_reference_snapshot_is_refused(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    short = warehouse.read("select * from {analytics}.broadband_features where snapshot_date <> $d", {"d": DAYS[2]})
    warehouse.replace_table("broadband_features", short)
    result = _materialize(warehouse)
    assert not result.success
    assert f"broadband_features has no rows for the reference snapshot date(s) {DAYS[2]}" in _failure_message(result)
    assert not warehouse.table_exists("hierarchical_reference_stats")

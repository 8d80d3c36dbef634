"""Models and the daily trust signal through real Dagster, on a small hand-made warehouse."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from resources.warehouse import DuckDBWarehouse
from tests.scoring.frames import feature_frame, outcome_labels
from trust_assets.assets import models
from trust_assets.assets.trust_index import (
    cohort_models,
    customer_trust_signal,
    hierarchical_reference_stats,
)
from trust_assets.config import COHORTS, SETTINGS, feature_names
from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA
from trust_assets.services import publishing
from trust_assets.services.publishing import plan_chunks

SCORING_DAYS = [date(2025, 9, 1) + timedelta(days=i) for i in range(3)]
DAYS = [*SETTINGS.ruler.snapshot_dates, *SCORING_DAYS]
RANGE_TAGS = {
    "dagster/asset_partition_range_start": SCORING_DAYS[0].isoformat(),
    "dagster/asset_partition_range_end": SCORING_DAYS[-1].isoformat(),
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouse:
    path = Path(tmp_path_factory.mktemp("signal")) / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path=str(path))
    labels, people = [], []
    for i, cohort in enumerate(COHORTS):
        frame = feature_frame(cohort, DAYS, 600, seed=10 + i)
        warehouse.replace_table(f"{cohort.value}_features", frame)
        labels.append(outcome_labels(frame.filter(pl.col("snapshot_date") == SETTINGS.model.reference_date),
                                     cohort.value, seed=i))
        people.append(frame.select("snapshot_date", "customer_id").with_columns(
            *[pl.lit(c == cohort).alias(f"has_{c.value}") for c in COHORTS]))
    warehouse.replace_table("outcome_labels", pl.concat(labels))
    warehouse.replace_table(
        "customer_360_definition",
        pl.concat(people).with_columns(
            pl.lit("north").alias("region"),
            ("44" + pl.col("customer_id")).alias("msisdn"),
            ("ICOMS-" + pl.col("customer_id")).alias("icoms_account_uid"),
        ),
    )
    result = dg.materialize([hierarchical_reference_stats, cohort_models], resources={"warehouse": warehouse})
    assert result.success
    return warehouse


def _signal(warehouse: DuckDBWarehouse) -> pl.DataFrame:
    return warehouse.read("select * from {analytics}.customer_trust_signal order by snapshot_date, cohort, customer_id")


def _score_range(warehouse: DuckDBWarehouse) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [customer_trust_signal], resources={"warehouse": warehouse}, tags=RANGE_TAGS, raise_on_error=False
    )


def test_first_models_are_production_and_retraining_is_idempotent(warehouse: DuckDBWarehouse) -> None:
    registry = warehouse.read("select * from {analytics}.model_registry order by cohort")
    weights = warehouse.read("select * from {analytics}.trust_model_weights order by all")
    assert registry["status"].to_list() == ["production"] * 3
    assert sorted(registry["cohort"]) == sorted(c.value for c in COHORTS)
    assert weights.height == sum(len(feature_names(c)) for c in COHORTS)
    assert set(weights["model_version"]) == set(registry["model_version"])
    again = dg.materialize([cohort_models], resources={"warehouse": warehouse})
    assert again.success
    assert warehouse.read("select * from {analytics}.model_registry order by cohort").equals(registry)
    assert warehouse.read("select * from {analytics}.trust_model_weights order by all").equals(weights)


def test_signal_is_published_idempotently_with_one_schema(
    warehouse: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _score_range(warehouse)
    assert result.success
    signal = _signal(warehouse)
    assert signal.schema == pl.Schema(TRUST_SIGNAL_SCHEMA)
    assert sorted(signal["snapshot_date"].unique()) == SCORING_DAYS
    assert signal.height == 3 * 600 * len(SCORING_DAYS)
    production = warehouse.read("select cohort, model_version from {analytics}.model_registry"
                                " where status = 'production'")
    assert signal.join(production, on=["cohort", "model_version"], how="anti").height == 0
    events = result.get_asset_materialization_events()  # one per partition of the range, each its own day's
    assert sorted(e.partition for e in events) == [d.isoformat() for d in SCORING_DAYS]
    for event in events:
        meta = {k: v.value for k, v in event.materialization.metadata.items()}
        day = signal.filter(pl.col("snapshot_date") == date.fromisoformat(str(event.partition)))
        tv = day.filter(pl.col("cohort") == "tv")["trust_score"]
        assert meta["dagster/row_count"] == day.height == 3 * 600
        assert meta["mobile_rows"] == day.filter(pl.col("cohort") == "mobile").height
        assert -1 < meta["tv_trust_p10"] < meta["tv_trust_p50"] < meta["tv_trust_p90"] < 1  # type: ignore[operator]
        assert meta["tv_trust_p50"] == pytest.approx(tv.quantile(0.5, "linear"), abs=1e-12)
    # Re-materialising the same window gives the identical table, here written a day at a time.
    monkeypatch.setattr(publishing, "MAX_ROWS_PER_WRITE", 2000)
    assert _score_range(warehouse).success
    assert _signal(warehouse).equals(signal)


def test_write_chunks_cover_the_window_within_the_row_budget() -> None:
    days = {date(2025, 9, 1) + timedelta(days=i): n for i, n in enumerate([5, 5, 5, 12, 1, 1])}
    assert plan_chunks(days, 10) == [
        (date(2025, 9, 1), date(2025, 9, 2)),
        (date(2025, 9, 3), date(2025, 9, 3)),
        (date(2025, 9, 4), date(2025, 9, 4)),
        (date(2025, 9, 5), date(2025, 9, 6)),
    ]
    assert plan_chunks(days, 100) == [(date(2025, 9, 1), date(2025, 9, 6))]
    assert plan_chunks({}, 10) == []


def test_a_day_without_features_is_refused(warehouse: DuckDBWarehouse) -> None:
    before = _signal(warehouse) if warehouse.table_exists("customer_trust_signal") else None
    tv = warehouse.read("select * from {analytics}.tv_features")
    warehouse.replace_table("tv_features", tv.filter(pl.col("snapshot_date") != SCORING_DAYS[1]))
    try:
        result = _score_range(warehouse)
    finally:
        warehouse.replace_table("tv_features", tv)
    assert not result.success
    [failure] = result.get_step_failure_events()
    message = failure.step_failure_data.error.message  # type: ignore[union-attr]
    assert f"No tv feature rows for {SCORING_DAYS[1]}" in message
    if before is None:
        assert not warehouse.table_exists("customer_trust_signal")
    else:
        assert _signal(warehouse).equals(before)


def test_a_retrained_version_waits_in_development(warehouse: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    before = warehouse.read("select model_version, cohort, status from {analytics}.model_registry")
    changed = dataclasses.replace(SETTINGS, model=dataclasses.replace(SETTINGS.model, ridge_alpha=5.0))
    monkeypatch.setattr(models, "SETTINGS", changed)
    assert dg.materialize([cohort_models], resources={"warehouse": warehouse}).success
    after = warehouse.read("select model_version, cohort, status from {analytics}.model_registry")
    new = after.join(before, on="model_version", how="anti")
    assert new.height == 3 and set(new["status"]) == {"development"}
    assert after.filter(pl.col("status") == "production").sort("cohort").equals(
        before.filter(pl.col("status") == "production").sort("cohort")
    )

"""Registry and weights rows, and the status rules built on them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from trust_assets.scoring.registry import (
    REGISTRY_SCHEMA,
    WEIGHTS_SCHEMA,
    ModelLoadError,
    ModelStatus,
    coefficients_markdown,
    initial_status,
    is_registered,
    production_model_row,
    registry_row,
    scoring_model,
    weights_rows,
)
from trust_assets.scoring.training import CohortTrainingResult, composite_weights


def _result(cohort: str = "tv", version: str = "tv-20250731-0123abcd") -> CohortTrainingResult:
    return CohortTrainingResult(
        cohort=cohort, model_version=version, ruler_version="ruler-v1", features=("a", "b"),
        coefficients=composite_weights(["a", "b"], [0.5, -0.2], [0.1, 0.3], [0.2, 0.0]),
        unusable_features=(), raw_ref_mean=0.1, raw_ref_stddev=0.9,
        metrics={"churn_auc": 0.8, "recontract_auc": 0.7, "nrc_r2": float("nan"), "n_train": 10, "n_holdout": 5},
        hyperparameters={"C": 1.0}, data_fingerprint="d" * 64, code_version="c" * 64, n_train=10, n_holdout=5,
        training_reference_date=date(2025, 7, 31), outcome_start=date(2025, 8, 1), outcome_end=date(2026, 1, 31),
        intercepts={"churn": -1.0},
    )  # fmt: skip


def test_weights_rows_schema() -> None:
    rows = weights_rows(_result())
    assert rows.schema == pl.Schema(WEIGHTS_SCHEMA)
    assert rows["weight"].to_list() == pytest.approx([0.1 + 0.2 - 0.5, 0.3 + 0.0 + 0.2])
    assert "| a |" in coefficients_markdown(rows)


def test_registry_row_schema_and_json() -> None:
    row = registry_row(_result(), ModelStatus.PRODUCTION, datetime(2026, 1, 1, tzinfo=UTC), "tester")
    assert row.schema == pl.Schema(REGISTRY_SCHEMA)
    record = row.row(0, named=True)
    assert record["status"] == "production" and record["churn_auc"] == 0.8
    assert record["nrc_r2"] is None  # NaN is not a number JSON or a dashboard can show
    metrics = json.loads(record["metrics"])
    assert metrics["churn_auc"] == 0.8 and metrics["nrc_r2"] is None and metrics["intercepts"] == {"churn": -1.0}
    assert json.loads(record["hyperparameters"]) == {"C": 1.0}


def _registry(*rows: tuple[str, str, str]) -> pl.DataFrame:
    frames = [
        registry_row(_result(c, v), ModelStatus(s), datetime(2026, 1, 1, tzinfo=UTC), "t") for v, c, s in rows
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=REGISTRY_SCHEMA)


def test_first_version_is_promoted_later_ones_wait() -> None:
    assert initial_status(None, "tv") is ModelStatus.PRODUCTION
    assert initial_status(_registry(), "tv") is ModelStatus.PRODUCTION
    registry = _registry(("tv-1", "tv", "production"), ("mobile-1", "mobile", "development"))
    assert initial_status(registry, "tv") is ModelStatus.DEVELOPMENT
    assert initial_status(registry, "mobile") is ModelStatus.PRODUCTION
    assert is_registered(registry, "tv-1") and not is_registered(registry, "tv-2") and not is_registered(None, "x")


def test_exactly_one_production_model_is_required() -> None:
    with pytest.raises(ModelLoadError, match="found 0"):
        production_model_row(_registry(("tv-1", "tv", "development")), "tv")
    with pytest.raises(ModelLoadError, match="found 2"):
        production_model_row(_registry(("tv-1", "tv", "production"), ("tv-2", "tv", "production")), "tv")
    row = production_model_row(_registry(("tv-1", "tv", "archived"), ("tv-2", "tv", "production")), "tv")
    assert row["model_version"] == "tv-2"
    weights = weights_rows(_result("tv", "tv-2"))
    model = scoring_model(row, weights)
    assert model.weights == dict(zip(weights["feature"], weights["weight"], strict=True))
    assert (model.raw_ref_mean, model.raw_ref_stddev, model.ruler_version) == (0.1, 0.9, "ruler-v1")
    with pytest.raises(ModelLoadError, match="no rows"):
        scoring_model(row, weights_rows(_result("tv", "tv-3")))

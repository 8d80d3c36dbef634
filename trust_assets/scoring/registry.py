"""Rows of ``trust_model_weights`` and ``model_registry``, and the small rules about model status.

Every trained version is registered once, with its provenance (training window, data fingerprint, code
version, hyperparameters) and held-out metrics. Status rules live in small functions here so that approval,
promotion and rollback can build on them without touching training or scoring.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import polars as pl

from trust_assets.tables import MODEL_WEIGHTS

if TYPE_CHECKING:
    from trust_assets.scoring.arithmetic import ScoringModel
    from trust_assets.scoring.training import CohortTrainingResult


class ModelStatus(StrEnum):
    """Life cycle of a model version (docs/architecture.md §4)."""

    DEVELOPMENT = "development"
    # A challenger scoring beside the champion into the shadow table, never published (the spec's staging stage).
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


WEIGHTS_SCHEMA: dict[str, pl.DataType] = {
    "model_version": pl.String(),
    "cohort": pl.String(),
    "feature": pl.String(),
    "w_churn": pl.Float64(),
    "w_recontract": pl.Float64(),
    "w_nrc": pl.Float64(),
    "weight": pl.Float64(),
}

WEIGHTS_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "model_version": "Model version the weights belong to.",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "feature": "Behaviour feature (z-scored against the ruler).",
    "w_churn": "Churn logistic-regression coefficient per reference standard deviation.",
    "w_recontract": "Recontract logistic-regression coefficient per reference standard deviation.",
    "w_nrc": "Net-revenue-change ridge coefficient (standardised target) per reference standard deviation.",
    "weight": "Composite weight in the trust score: w_recontract + w_nrc - w_churn (0 if unusable).",
}

REGISTRY_SCHEMA: dict[str, pl.DataType] = {
    "model_version": pl.String(),
    "cohort": pl.String(),
    "status": pl.String(),
    "ruler_version": pl.String(),
    "raw_ref_mean": pl.Float64(),
    "raw_ref_stddev": pl.Float64(),
    "trained_at": pl.Datetime("us", "UTC"),
    "training_reference_date": pl.Date(),
    "outcome_start": pl.Date(),
    "outcome_end": pl.Date(),
    "data_fingerprint": pl.String(),
    "code_version": pl.String(),
    "hyperparameters": pl.String(),
    "metrics": pl.String(),
    "churn_auc": pl.Float64(),
    "recontract_auc": pl.Float64(),
    "nrc_r2": pl.Float64(),
    "n_train": pl.Int64(),
    "n_holdout": pl.Int64(),
    "created_by": pl.String(),
}

REGISTRY_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "model_version": "<cohort>-<reference date>-<hash of data, code, hyperparameters and ruler version>.",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "status": "development, staging (shadow), production or archived; exactly one production version per cohort.",
    "ruler_version": "Ruler version the model's inputs were z-scored against (and scoring must use).",
    "raw_ref_mean": "Mean raw score over the reference-date population (centre of the trust scale).",
    "raw_ref_stddev": "Sample std of the raw score over the reference-date population (unit of the scale).",
    "trained_at": "When the version was trained (UTC).",
    "training_reference_date": "Snapshot date of the training features.",
    "outcome_start": "First day of the outcome window the labels describe.",
    "outcome_end": "Last day of the outcome window the labels describe.",
    "data_fingerprint": "sha256 of the sorted training frame (features and labels).",
    "code_version": "sha256 of the scoring code and the dbt models' SQL.",
    "hyperparameters": "Training settings as JSON.",
    "metrics": "Held-out metrics as JSON (AUC, log loss, Brier, calibration, R^2, RMSE, counts).",
    "churn_auc": "Held-out ROC AUC of the churn model.",
    "recontract_auc": "Held-out ROC AUC of the recontract model.",
    "nrc_r2": "Held-out R^2 of the net revenue change model.",
    "n_train": "Customers in the training set.",
    "n_holdout": "Customers held out for evaluation.",
    "created_by": "Who or what registered the version (user or run).",
}


class ModelLoadError(LookupError):
    """A model version cannot be loaded for scoring: no or several production versions of a cohort, a version
    that is not registered or is another cohort's, no weights, or no rows of the ruler it was trained with."""


def _json_safe(value: Any) -> Any:
    # JSON has no NaN or infinity: an undefined metric is stored as null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(_json_safe(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def weights_rows(result: CohortTrainingResult) -> pl.DataFrame:
    """The ``trust_model_weights`` rows of one trained version (one per feature)."""
    return result.coefficients.with_columns(
        pl.lit(result.model_version).alias("model_version"),
        pl.lit(result.cohort).alias("cohort"),
    ).select([pl.col(c).cast(t) for c, t in WEIGHTS_SCHEMA.items()])


def registry_row(
    result: CohortTrainingResult, status: ModelStatus, trained_at: datetime, created_by: str
) -> pl.DataFrame:
    """The ``model_registry`` row of one trained version."""
    metrics = {**result.metrics, "intercepts": result.intercepts}

    def _metric(name: str) -> float | None:
        value = result.metrics.get(name)
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else None

    row = {
        "model_version": result.model_version,
        "cohort": result.cohort,
        "status": ModelStatus(status).value,
        "ruler_version": result.ruler_version,
        "raw_ref_mean": result.raw_ref_mean,
        "raw_ref_stddev": result.raw_ref_stddev,
        "trained_at": trained_at,
        "training_reference_date": result.training_reference_date,
        "outcome_start": result.outcome_start,
        "outcome_end": result.outcome_end,
        "data_fingerprint": result.data_fingerprint,
        "code_version": result.code_version,
        "hyperparameters": to_json(result.hyperparameters),
        "metrics": to_json(metrics),
        "churn_auc": _metric("churn_auc"),
        "recontract_auc": _metric("recontract_auc"),
        "nrc_r2": _metric("nrc_r2"),
        "n_train": result.n_train,
        "n_holdout": result.n_holdout,
        "created_by": created_by,
    }
    return pl.DataFrame([row], schema=REGISTRY_SCHEMA)


# --- status rules --------------------------------------------------------------------------------------------
def production_rows(registry: pl.DataFrame | None, cohort: str) -> pl.DataFrame:
    if registry is None or registry.height == 0:
        return pl.DataFrame(schema=REGISTRY_SCHEMA)
    return registry.filter(
        (pl.col("cohort") == str(cohort)) & (pl.col("status") == ModelStatus.PRODUCTION.value)
    )


def initial_status(registry: pl.DataFrame | None, cohort: str) -> ModelStatus:
    """A new version's status: production while the cohort has no production version (the bootstrap
    promotion of the very first model), development otherwise (promotion is a separate, approved act)."""
    return ModelStatus.DEVELOPMENT if production_rows(registry, cohort).height else ModelStatus.PRODUCTION


def is_registered(registry: pl.DataFrame | None, model_version: str) -> bool:
    return registry is not None and registry.height > 0 and model_version in set(registry["model_version"].to_list())


def production_model_row(registry: pl.DataFrame | None, cohort: str) -> dict[str, Any]:
    """The cohort's production registry row; exactly one must exist."""
    rows = production_rows(registry, cohort)
    if rows.height != 1:
        found = rows["model_version"].to_list() if rows.height else []
        raise ModelLoadError(
            f"expected exactly one production model for cohort {cohort!r}, found {len(found)}: {found}"
        )
    return rows.row(0, named=True)


def scoring_model(registry_row_: dict[str, Any], weights: pl.DataFrame) -> ScoringModel:
    """What scoring needs from a registered version: its weights and raw-score reference statistics."""
    # Imported here: the arithmetic pulls in NumPy, which reading the registry (`trust models list`) does not need.
    from trust_assets.scoring.arithmetic import ScoringModel

    version = registry_row_["model_version"]
    own = weights.filter(pl.col("model_version") == version)
    if own.height == 0:
        raise ModelLoadError(f"{MODEL_WEIGHTS} has no rows for model version {version}")
    if own.select(pl.col("feature").is_duplicated().any()).item():
        raise ModelLoadError(f"{MODEL_WEIGHTS} has duplicate features for model version {version}")
    return ScoringModel(
        model_version=version,
        ruler_version=registry_row_["ruler_version"],
        weights=dict(zip(own["feature"].to_list(), own["weight"].to_list(), strict=True)),
        raw_ref_mean=float(registry_row_["raw_ref_mean"]),
        raw_ref_stddev=float(registry_row_["raw_ref_stddev"]),
    )


def coefficients_markdown(weights: pl.DataFrame) -> str:
    """A Markdown table of one version's coefficients, largest |weight| first."""
    ordered = weights.sort(pl.col("weight").abs(), descending=True, maintain_order=True)
    lines = ["| feature | w_churn | w_recontract | w_nrc | weight |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += [
        f"| {f} | {c:+.4f} | {r:+.4f} | {n:+.4f} | {w:+.4f} |"
        for f, c, r, n, w in ordered.select("feature", "w_churn", "w_recontract", "w_nrc", "weight").iter_rows()
    ]
    return "\n".join(lines)

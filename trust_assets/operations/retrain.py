"""Retraining: train challengers for chosen cohorts, compare each with its champion on the same held-out
customers, and register them as ``development`` (production only for a cohort that has none yet)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import r2_score, roc_auc_score

from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS, Cohort, ModelSettings, feature_names
from trust_assets.operations.registry_store import register_versions
from trust_assets.scoring.labels import labelled_training_frame
from trust_assets.scoring.registry import (
    ModelStatus,
    initial_status,
    is_registered,
    production_rows,
    registry_row,
    weights_rows,
)
from trust_assets.scoring.standardise import standardise, z_column
from trust_assets.scoring.training import CohortTrainingResult, code_version, holdout_flags, train_cohort
from trust_assets.services.features import read_feature_rows
from trust_assets.store.models import read_registry, ruler_rows, weight_versions, weights_of
from trust_assets.tables import MODEL_WEIGHTS, OUTCOME_LABELS, RULER

COMPARED_METRICS: tuple[str, ...] = ("churn_auc", "recontract_auc", "nrc_r2")


class RetrainError(RuntimeError):
    """Retraining cannot run with the inputs found."""


@dataclass(frozen=True)
class RetrainOutcome:
    result: CohortTrainingResult
    registration: str
    champion: str | None
    # metric -> {"champion": x, "challenger": y, "delta": y - x}, both on the challenger's held-out customers.
    comparison: dict[str, dict[str, float | None]]


def training_settings(
    reference_date: date | None = None, logistic_c: float | None = None, ridge_alpha: float | None = None
) -> ModelSettings:
    """The configured model settings, moved to another reference date (outcomes: the 6 months after it)
    and/or with other regularisation strengths."""
    base = SETTINGS.model
    changes: dict[str, Any] = {}
    if reference_date is not None and reference_date != base.reference_date:
        # The configured outcome window's length in months, moved to start the day after the new reference date.
        after_end = base.outcome_end + timedelta(days=1)
        months = (after_end.year - base.outcome_start.year) * 12 + after_end.month - base.outcome_start.month
        start = reference_date + timedelta(days=1)
        end = pl.Series([start]).dt.offset_by(f"{months}mo")[0] - timedelta(days=1)
        changes |= {"reference_date": reference_date, "outcome_start": start, "outcome_end": end}
    if logistic_c is not None:
        changes["logistic_c"] = float(logistic_c)
    if ridge_alpha is not None:
        changes["ridge_alpha"] = float(ridge_alpha)
    return dataclasses.replace(base, **changes)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def champion_holdout_metrics(
    champion_weights: pl.DataFrame,
    champion_metrics: dict[str, Any],
    features_at_reference: pl.DataFrame,
    labels: pl.DataFrame,
    ruler: pl.DataFrame,
    cohort: str,
    settings: ModelSettings,
) -> dict[str, float | None]:
    """The champion's churn/recontract AUC and NRC R^2 on the challenger's held-out customers, from the
    champion's stored coefficients and intercepts (the same serving-time inputs scoring uses)."""
    features = feature_names(cohort)
    population = features_at_reference.filter(pl.col("snapshot_date") == settings.reference_date)
    standardised = standardise(population, ruler, cohort, features)
    labelled = labelled_training_frame(standardised.frame, labels, cohort, settings.reference_date).frame
    held = labelled.filter(holdout_flags(labelled["customer_id"], settings.split_salt, settings.holdout_fraction))
    if held.height == 0:
        return {m: None for m in COMPARED_METRICS}
    coef = {r["feature"]: r for r in champion_weights.iter_rows(named=True)}
    x = held.select([pl.col(z_column(f)).fill_null(0.0) for f in features]).to_numpy().astype(np.float64)
    intercepts = champion_metrics.get("intercepts", {})

    def _linear(kind: str) -> np.ndarray:
        w = np.array([float(coef[f][kind]) if f in coef else 0.0 for f in features])
        return x @ w + float(intercepts.get(kind.removeprefix("w_"), 0.0))

    out: dict[str, float | None] = {}
    targets = (("churn_auc", "w_churn", "is_churn"), ("recontract_auc", "w_recontract", "is_recontract"))
    for name, kind, label in targets:
        y = held[label].cast(pl.Int8).to_numpy()
        out[name] = float(roc_auc_score(y, _sigmoid(_linear(kind)))) if len(np.unique(y)) == 2 else None
    mean, std = champion_metrics.get("nrc_target_mean"), champion_metrics.get("nrc_target_std")
    y_nrc = held["revenue_change"].to_numpy().astype(np.float64)
    if mean is not None and std and len(y_nrc) > 1:
        out["nrc_r2"] = float(r2_score(y_nrc, _linear("w_nrc") * float(std) + float(mean)))
    else:
        out["nrc_r2"] = None
    return out


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def retrain(
    warehouse: WarehouseResource,
    cohorts: Sequence[str],
    actor: str,
    reason: str,
    settings: ModelSettings | None = None,
) -> list[RetrainOutcome]:
    """Train, evaluate against the champion and register one challenger per cohort."""
    settings = settings or SETTINGS.model
    unknown = [c for c in cohorts if c not in {x.value for x in Cohort}]
    if unknown or not cohorts:
        raise RetrainError(f"unknown or no cohorts {list(cohorts)}: choose from {[c.value for c in Cohort]}")
    ruler_version = SETTINGS.ruler.version
    for table in (RULER, OUTCOME_LABELS):
        if not warehouse.table_exists(table):
            raise RetrainError(f"{table} does not exist: build the ruler and the outcome labels first")
    ruler = ruler_rows(warehouse, ruler_version)
    if ruler.height == 0:
        raise RetrainError(f"ruler {ruler_version} has not been issued")
    labels = warehouse.read(
        f"select cohort, customer_id, reference_date, is_churn, is_recontract, revenue_change "
        f"from {{analytics}}.{OUTCOME_LABELS} where reference_date = $d",
        {"d": settings.reference_date},
    )
    if labels.height == 0:
        raise RetrainError(
            f"{OUTCOME_LABELS} holds no outcomes for the reference date {settings.reference_date}: build the labels "
            "for that date (dbt var reference_date) before retraining on it"
        )
    code_ver = code_version()
    registry = read_registry(warehouse)
    stored_weights = weight_versions(warehouse)
    trained_at = datetime.now(UTC)
    pending: list[tuple[CohortTrainingResult, str | None, dict[str, dict[str, float | None]]]] = []
    for cohort in cohorts:
        features = read_feature_rows(warehouse, cohort, "snapshot_date = $d", {"d": settings.reference_date})
        try:
            result = train_cohort(features, labels, ruler, cohort, feature_names(cohort), settings, code_ver)
        except ValueError as exc:
            raise RetrainError(f"training the {cohort} models failed: {exc}") from exc
        champion_rows = production_rows(registry, cohort)
        champion = champion_rows["model_version"][0] if champion_rows.height else None
        comparison: dict[str, dict[str, float | None]] = {}
        if champion is not None:
            row = champion_rows.row(0, named=True)
            weights = weights_of(warehouse, champion)
            same_ruler = row["ruler_version"] == ruler_version
            champ_ruler = ruler if same_ruler else ruler_rows(warehouse, row["ruler_version"])
            champ = champion_holdout_metrics(
                weights, json.loads(row["metrics"] or "{}"), features, labels, champ_ruler, cohort, settings
            )
            for metric in COMPARED_METRICS:
                new, old = _finite(result.metrics.get(metric)), champ.get(metric)
                comparison[metric] = {
                    "champion": old,
                    "challenger": new,
                    "delta": None if new is None or old is None else new - old,
                }
        pending.append((result, champion, comparison))

    # Weights land before the registry rows that make versions visible.
    new_weights = [weights_rows(r) for r, _, _ in pending if not is_registered(stored_weights, r.model_version)]
    if new_weights:
        warehouse.append(MODEL_WEIGHTS, pl.concat(new_weights))
    rows = [
        registry_row(r, ModelStatus(initial_status(registry, r.cohort)), trained_at, actor) for r, _, _ in pending
    ]
    extra = {r.model_version: {"champion": c, "champion_comparison": cmp} for r, c, cmp in pending}
    registration = register_versions(warehouse, pl.concat(rows), actor, reason, extra_after=extra)
    return [RetrainOutcome(r, registration[r.model_version], c, cmp) for r, c, cmp in pending]


def comparison_markdown(outcomes: Sequence[RetrainOutcome]) -> str:
    lines = [
        "| cohort | version | metric | champion | challenger | delta |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]

    def _f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    for o in outcomes:
        for metric, values in o.comparison.items() or {"(no champion)": {}}.items():
            lines.append(
                f"| {o.result.cohort} | {o.result.model_version} | {metric} | {_f(values.get('champion'))} | "
                f"{_f(values.get('challenger'))} | {_f(values.get('delta'))} |"
            )
    return "\n".join(lines)

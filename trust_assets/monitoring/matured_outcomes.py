"""Matured-outcome performance of the cohort models and the business KPI view (rates by trust-score decile).

A scoring date D has *matured* when its outcome window, the ``window_months`` months after it
(``D + 1 .. D + window_months months - 1 day``, as for training), lies wholly before the last day of data.
Its outcomes are computed by the dbt model ``outcome_labels`` itself, compiled with D as its reference date
(:func:`outcome_sql`): one definition of churn, recontract and revenue change for training and monitoring,
built from the raw contract and billing events (never from any hidden truth).

The models are re-applied to the population scored on D, with D's features z-scored against the model's
ruler (the functions daily scoring uses): churn and recontract probabilities are ``sigmoid(b + sum_f w_f z_f)``
with the stored coefficients and intercepts; the NRC prediction is ``(b + sum_f w_nrc_f z_f) * std + mean``
with the training target's mean and std recorded in the registry. The metrics are the training metrics
(:mod:`trust_assets.scoring.training`), so realised and held-out figures compare like with like.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from trust_assets.scoring.standardise import standardise, z_column
from trust_assets.scoring.training import classification_metrics, regression_metrics
from trust_assets.tables import MODEL_REGISTRY, MODEL_WEIGHTS

MODELS: tuple[str, ...] = ("churn", "recontract", "nrc")
LABEL_OF: dict[str, str] = {"churn": "is_churn", "recontract": "is_recontract", "nrc": "revenue_change"}

PERFORMANCE_SCHEMA: dict[str, pl.DataType] = {
    "scoring_date": pl.Date(),
    "cohort": pl.String(),
    "model": pl.String(),
    "model_version": pl.String(),
    "outcome_start": pl.Date(),
    "outcome_end": pl.Date(),
    "n": pl.Int64(),
    "outcome_mean": pl.Float64(),
    "mean_predicted": pl.Float64(),
    "roc_auc": pl.Float64(),
    "log_loss": pl.Float64(),
    "brier": pl.Float64(),
    "ece": pl.Float64(),
    "calibration_slope": pl.Float64(),
    "calibration_intercept": pl.Float64(),
    "r2": pl.Float64(),
    "rmse": pl.Float64(),
    "trust_score_auc": pl.Float64(),
    "heldout_roc_auc": pl.Float64(),
    "heldout_log_loss": pl.Float64(),
    "heldout_ece": pl.Float64(),
    "heldout_calibration_slope": pl.Float64(),
    "heldout_r2": pl.Float64(),
    "roc_auc_change": pl.Float64(),
    "r2_change": pl.Float64(),
}

PERFORMANCE_DESCRIPTIONS: dict[str, str] = {
    "scoring_date": "Snapshot date whose population was scored (the partition).",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "model": "churn, recontract (logistic regressions) or nrc (net revenue change, ridge regression).",
    "model_version": "Model version that published that date's scores.",
    "outcome_start": "First day of the outcome window (the day after the scoring date).",
    "outcome_end": "Last day of the outcome window.",
    "n": "Scored customers with an outcome.",
    "outcome_mean": "Realised churn rate, recontract rate, or mean revenue change.",
    "mean_predicted": "Mean predicted probability (churn, recontract) or mean predicted revenue change (nrc).",
    "roc_auc": "Realised ROC AUC of the predicted probability (churn, recontract).",
    "log_loss": "Realised log loss (churn, recontract).",
    "brier": "Realised Brier score (churn, recontract).",
    "ece": "Expected calibration error over 10 equal-width probability bins (churn, recontract).",
    "calibration_slope": "Slope of a logistic fit of the outcome on logit(p); 1 is well calibrated.",
    "calibration_intercept": "Intercept of that fit; 0 is well calibrated.",
    "r2": "Realised R^2 of the revenue change prediction (nrc).",
    "rmse": "Realised RMSE of the revenue change prediction, in currency per month (nrc).",
    "trust_score_auc": "ROC AUC of the trust score itself: low trust ranking churners (churn), high trust "
    "ranking recontracters (recontract).",
    "heldout_roc_auc": f"Held-out ROC AUC recorded at training ({MODEL_REGISTRY}.metrics).",
    "heldout_log_loss": "Held-out log loss recorded at training.",
    "heldout_ece": "Held-out expected calibration error recorded at training.",
    "heldout_calibration_slope": "Held-out calibration slope recorded at training.",
    "heldout_r2": "Held-out R^2 recorded at training (nrc).",
    "roc_auc_change": "roc_auc - heldout_roc_auc: negative when the model ranks worse than at training.",
    "r2_change": "r2 - heldout_r2 (nrc).",
}

DECILE_SCHEMA: dict[str, pl.DataType] = {
    "scoring_date": pl.Date(),
    "cohort": pl.String(),
    "trust_decile": pl.Int64(),
    "customers": pl.Int64(),
    "trust_min": pl.Float64(),
    "trust_max": pl.Float64(),
    "churn_rate": pl.Float64(),
    "recontract_rate": pl.Float64(),
    "mean_revenue_change": pl.Float64(),
}

DECILE_DESCRIPTIONS: dict[str, str] = {
    "scoring_date": "Snapshot date whose population was scored (the partition).",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "trust_decile": "Trust-score decile within the cohort on that date: 1 = lowest trust, 10 = highest.",
    "customers": "Scored customers in the decile.",
    "trust_min": "Lowest trust score in the decile.",
    "trust_max": "Highest trust score in the decile.",
    "churn_rate": "Share of the decile that churned in the outcome window.",
    "recontract_rate": "Share of the decile that recontracted in the outcome window.",
    "mean_revenue_change": "Mean net revenue change (currency per month) over the outcome window.",
}


# --- the outcome window -------------------------------------------------------------------------------------------
def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic clamped to the month end (as the dbt macro add_months)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (nxt - timedelta(days=1)).day))


def outcome_window(scoring_date: date, months: int) -> tuple[date, date]:
    """(first, last) day of the outcome window of a scoring date: the ``months`` months after it.

    For the training reference date 2025-07-31 and 6 months: 2025-08-01 .. 2026-01-31.
    """
    start = scoring_date + timedelta(days=1)
    return start, add_months(start, months) - timedelta(days=1)


def is_matured(scoring_date: date, months: int, last_day_of_data: date) -> bool:
    """Whether the outcome window of ``scoring_date`` closed on or before the last day of data."""
    return outcome_window(scoring_date, months)[1] <= last_day_of_data


def outcome_dbt_vars(scoring_date: date, months: int) -> dict[str, str]:
    """The vars that make the dbt model ``outcome_labels`` describe a scoring date's outcome window."""
    start, end = outcome_window(scoring_date, months)
    return {
        "reference_date": scoring_date.isoformat(),
        "outcome_start": start.isoformat(),
        "outcome_end": end.isoformat(),
    }


# --- model re-application ----------------------------------------------------------------------------------------
def registry_metrics(registry_row: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics JSON of a registry row (held-out metrics, intercepts, NRC target mean and std)."""
    raw = registry_row.get("metrics")
    return json.loads(raw) if raw else {}


def predict(
    features: pl.DataFrame,
    ruler: pl.DataFrame,
    weights: pl.DataFrame,
    metrics: Mapping[str, Any],
    cohort: str,
    feature_list: Sequence[str],
) -> pl.DataFrame:
    """The wide feature frame with ``p_churn``, ``p_recontract`` and ``nrc_pred`` columns added.

    ``weights``: one version's ``trust_model_weights`` rows; ``metrics``: its registry metrics (intercepts,
    ``nrc_target_mean``, ``nrc_target_std``).
    """
    intercepts = metrics.get("intercepts") or {}
    missing = [k for k in MODELS if k not in intercepts]
    if missing or "nrc_target_mean" not in metrics or "nrc_target_std" not in metrics:
        raise ValueError(f"{cohort}: the registry metrics lack intercepts {missing} or the NRC target scale")
    by_feature = {r["feature"]: r for r in weights.iter_rows(named=True)}
    absent = [f for f in feature_list if f not in by_feature]
    if absent:
        raise ValueError(f"{cohort}: {MODEL_WEIGHTS} lacks features {absent}")
    z = standardise(features, ruler, cohort, feature_list).frame
    x = z.select([z_column(f) for f in feature_list]).to_numpy().astype(np.float64)

    def _linear(column: str, name: str) -> np.ndarray:
        coef = np.array([float(by_feature[f][column]) for f in feature_list])
        return x @ coef + float(intercepts[name])

    churn, recontract, nrc = _linear("w_churn", "churn"), _linear("w_recontract", "recontract"), _linear("w_nrc", "nrc")
    return features.with_columns(
        pl.Series("p_churn", 1.0 / (1.0 + np.exp(-churn))),
        pl.Series("p_recontract", 1.0 / (1.0 + np.exp(-recontract))),
        pl.Series("nrc_pred", nrc * float(metrics["nrc_target_std"]) + float(metrics["nrc_target_mean"])),
    )


# --- metrics ---------------------------------------------------------------------------------------------------
def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _auc(y: np.ndarray, score: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else None


def performance_rows(
    scored: pl.DataFrame,
    scoring_date: date,
    cohort: str,
    model_version: str,
    heldout: Mapping[str, Any],
    window: tuple[date, date],
) -> pl.DataFrame:
    """``matured_outcome_performance`` rows of one cohort and model version.

    ``scored``: one row per customer with ``trust_score, p_churn, p_recontract, nrc_pred, is_churn,
    is_recontract, revenue_change`` (rows with a NULL outcome are dropped). ``heldout``: registry metrics.
    """
    frame = scored.drop_nulls(["is_churn", "is_recontract", "revenue_change"])
    trust = frame["trust_score"].to_numpy().astype(np.float64)
    rows: list[dict[str, Any]] = []
    for model in MODELS:
        y = frame[LABEL_OF[model]].cast(pl.Float64).to_numpy()
        row: dict[str, Any] = {k: None for k in PERFORMANCE_SCHEMA}
        row.update(scoring_date=scoring_date, cohort=cohort, model=model, model_version=model_version,
                   outcome_start=window[0], outcome_end=window[1], n=frame.height)  # fmt: skip
        if frame.height == 0:
            rows.append(row)
            continue
        row["outcome_mean"] = float(y.mean())
        if model == "nrc":
            pred = frame["nrc_pred"].to_numpy().astype(np.float64)
            m = regression_metrics(y, pred, float(heldout.get("nrc_target_std") or 1.0))
            row.update(mean_predicted=float(pred.mean()), r2=_finite(m["r2"]), rmse=_finite(m["rmse"]),
                       heldout_r2=_finite(heldout.get("nrc_r2")))  # fmt: skip
            if row["r2"] is not None and row["heldout_r2"] is not None:
                row["r2_change"] = row["r2"] - row["heldout_r2"]
        else:
            p = frame[f"p_{model}"].to_numpy().astype(np.float64)
            labels = y.astype(np.int64)
            m = classification_metrics(labels, p)
            row.update(
                mean_predicted=_finite(m["mean_predicted"]), roc_auc=_finite(m["auc"]),
                log_loss=_finite(m["log_loss"]), brier=_finite(m["brier"]), ece=_finite(m["ece"]),
                calibration_slope=_finite(m["calibration_slope"]),
                calibration_intercept=_finite(m["calibration_intercept"]),
                # Low trust should rank churners first, high trust recontracters.
                trust_score_auc=_auc(labels, -trust if model == "churn" else trust),
                heldout_roc_auc=_finite(heldout.get(f"{model}_auc")),
                heldout_log_loss=_finite(heldout.get(f"{model}_log_loss")),
                heldout_ece=_finite(heldout.get(f"{model}_ece")),
                heldout_calibration_slope=_finite(heldout.get(f"{model}_calibration_slope")),
            )  # fmt: skip
            if row["roc_auc"] is not None and row["heldout_roc_auc"] is not None:
                row["roc_auc_change"] = row["roc_auc"] - row["heldout_roc_auc"]
        rows.append(row)
    return pl.DataFrame(rows, schema=PERFORMANCE_SCHEMA)


def with_deciles(frame: pl.DataFrame, deciles: int) -> pl.DataFrame:
    """``trust_decile`` per cohort: 1 = lowest trust; ties broken by customer_id so buckets are deterministic."""
    ordered = frame.sort("cohort", "trust_score", "customer_id")
    rank = pl.int_range(pl.len()).over("cohort")
    return ordered.with_columns(((rank * deciles) // pl.len().over("cohort") + 1).cast(pl.Int64).alias("trust_decile"))


def decile_rows(scored: pl.DataFrame, scoring_date: date, deciles: int) -> pl.DataFrame:
    """``trust_decile_outcomes`` rows: customers, churn and recontract rates, mean revenue change per decile.

    ``scored``: ``cohort, customer_id, trust_score, is_churn, is_recontract, revenue_change``.
    """
    frame = scored.drop_nulls(["trust_score", "is_churn", "is_recontract", "revenue_change"])
    if frame.height == 0:
        return pl.DataFrame(schema=DECILE_SCHEMA)
    out = (
        with_deciles(frame, deciles)
        .group_by("cohort", "trust_decile")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("trust_score").min().alias("trust_min"),
            pl.col("trust_score").max().alias("trust_max"),
            pl.col("is_churn").cast(pl.Float64).mean().alias("churn_rate"),
            pl.col("is_recontract").cast(pl.Float64).mean().alias("recontract_rate"),
            pl.col("revenue_change").cast(pl.Float64).mean().alias("mean_revenue_change"),
        )
        .with_columns(pl.lit(scoring_date).alias("scoring_date"))
        .sort("cohort", "trust_decile")
    )
    return out.select([pl.col(c).cast(t) for c, t in DECILE_SCHEMA.items()])

"""Training of one cohort's three models, evaluated on held-out customers.

data -> preprocessing -> training -> evaluation, all deterministic:
- the split is a salted sha256 of the customer id, so a customer is on the same side on every run and machine;
- inputs are the reference-date features z-scored by :func:`standardise.standardise` against the ruler,
  the very function daily scoring uses (training/serving parity);
- is_churn and is_recontract: L2 logistic regression; revenue_change (NRC): ridge regression on the target
  standardised with the training mean and std, so the three coefficient sets share one scale;
- composite weight per feature: w = w_recontract + w_nrc - w_churn (0 for unusable features).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import sklearn
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import brier_score_loss, log_loss, r2_score, roc_auc_score

from trust_assets.config import PROJECT_ROOT, ModelSettings
from trust_assets.scoring.arithmetic import raw_score_expr
from trust_assets.scoring.labels import LABEL_COLUMNS, labelled_training_frame
from trust_assets.scoring.standardise import standardise, unusable_features, z_column

CALIBRATION_BINS = 10
# Probabilities are clipped before the logit of the calibration fit so that 0 and 1 stay finite.
_EPS = 1e-12


# --- deterministic split -----------------------------------------------------------------------------------
def holdout_share(customer_id: str, salt: str) -> float:
    """A customer's position in [0, 1): the first 64 bits of sha256(salt + ":" + customer_id)."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def holdout_flags(customer_ids: pl.Series, salt: str, fraction: float) -> pl.Series:
    """True for customers in the held-out set (share < fraction); stable across runs and machines."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"holdout fraction must lie in (0, 1), got {fraction}")
    ids = customer_ids.cast(pl.String)
    unique = ids.unique(maintain_order=True)
    # hashlib is per value: one call per distinct customer id (Polars' own hash is not stable across versions).
    flags = [holdout_share(c, salt) < fraction for c in unique.to_list()]
    return ids.replace_strict(unique, pl.Series(flags, dtype=pl.Boolean), return_dtype=pl.Boolean).rename(
        "is_holdout"
    )


# --- provenance ----------------------------------------------------------------------------------------------
def hyperparameters(settings: ModelSettings) -> dict[str, Any]:
    """Everything about training that is not data or code, as plain JSON-able values."""
    return {
        "reference_date": settings.reference_date.isoformat(),
        "outcome_start": settings.outcome_start.isoformat(),
        "outcome_end": settings.outcome_end.isoformat(),
        "holdout_fraction": settings.holdout_fraction,
        "split_salt": settings.split_salt,
        "churn_model": {"estimator": "LogisticRegression", "solver": "lbfgs", "l1_ratio": 0.0,
                        "C": settings.logistic_c, "max_iter": settings.max_iter},
        "recontract_model": {"estimator": "LogisticRegression", "solver": "lbfgs", "l1_ratio": 0.0,
                             "C": settings.logistic_c, "max_iter": settings.max_iter},
        "nrc_model": {"estimator": "Ridge", "alpha": settings.ridge_alpha, "target": "standardised (train mean/std)"},
        "inputs": "features z-scored against the ruler (segment row, else cohort row)",
        "scikit_learn": sklearn.__version__,
    }


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal content always gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def data_fingerprint(frame: pl.DataFrame) -> str:
    """sha256 of a frame's CSV text after sorting its rows and columns."""
    ordered = frame.select(sorted(frame.columns))
    ordered = ordered.sort(ordered.columns, nulls_last=False)
    return hashlib.sha256(ordered.write_csv().encode("utf-8")).hexdigest()


def code_version(root: Path = PROJECT_ROOT) -> str:
    """sha256 over the scoring code and the dbt models' SQL: the code that decides features and weights."""
    files = sorted((root / "trust_assets" / "scoring").glob("*.py"))
    models_dir = root / "dbt_project" / "models"
    if models_dir.is_dir():
        files += sorted(models_dir.rglob("*.sql"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def model_version_id(
    cohort: str, reference_date: date, data_fp: str, code_ver: str, hyperparameters_json: str, ruler_version: str
) -> str:
    """``<cohort>-<yyyymmdd>-<8 hex>``: equal inputs always give the same version, any change a new one."""
    digest = hashlib.sha256((data_fp + code_ver + hyperparameters_json + ruler_version).encode("utf-8"))
    return f"{cohort}-{reference_date:%Y%m%d}-{digest.hexdigest()[:8]}"


# --- held-out metrics ----------------------------------------------------------------------------------------
def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Sum over equal-width probability bins of (bin share) x |observed rate - mean predicted probability|."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(idx, minlength=bins)
    observed = np.bincount(idx, weights=y, minlength=bins)
    predicted = np.bincount(idx, weights=p, minlength=bins)
    filled = counts > 0
    gaps = np.abs(observed[filled] - predicted[filled])  # n_b * |mean(y_b) - mean(p_b)|
    return float(gaps.sum() / len(p))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float | None, float | None]:
    """Unpenalised logistic fit of the outcome on logit(p): slope 1 and intercept 0 mean well calibrated."""
    if len(np.unique(y)) < 2:
        return None, None
    clipped = np.clip(p, _EPS, 1 - _EPS)
    logit = np.log(clipped / (1 - clipped)).reshape(-1, 1)
    fit = LogisticRegression(C=np.inf, max_iter=1000).fit(logit, y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    both = len(np.unique(y)) == 2
    slope, intercept = calibration_slope_intercept(y, p)
    return {
        "auc": float(roc_auc_score(y, p)) if both else None,
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "positive_rate": float(y.mean()),
        "mean_predicted": float(p.mean()),
    }


def regression_metrics(y: np.ndarray, predicted: np.ndarray, scale: float) -> dict[str, float | None]:
    """R^2 and RMSE (in the target's units and in target standard deviations)."""
    rmse = float(np.sqrt(np.mean((y - predicted) ** 2)))
    return {
        "r2": float(r2_score(y, predicted)) if len(y) > 1 else None,
        "rmse": rmse,
        "rmse_std": rmse / scale,
    }


# --- training --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CohortTrainingResult:
    cohort: str
    model_version: str
    ruler_version: str
    features: tuple[str, ...]
    # One row per feature: feature, w_churn, w_recontract, w_nrc, weight (configuration order).
    coefficients: pl.DataFrame
    unusable_features: tuple[str, ...]
    raw_ref_mean: float
    raw_ref_stddev: float
    metrics: dict[str, Any]
    hyperparameters: dict[str, Any]
    data_fingerprint: str
    code_version: str
    n_train: int
    n_holdout: int
    training_reference_date: date
    outcome_start: date
    outcome_end: date
    intercepts: dict[str, float] = field(default_factory=dict)

    @property
    def weights(self) -> dict[str, float]:
        return dict(zip(self.coefficients["feature"].to_list(), self.coefficients["weight"].to_list(), strict=True))


def composite_weights(
    features: Sequence[str],
    w_churn: Sequence[float],
    w_recontract: Sequence[float],
    w_nrc: Sequence[float],
    unusable: Sequence[str] = (),
) -> pl.DataFrame:
    """w = w_recontract + w_nrc - w_churn per feature; every coefficient of an unusable feature is 0."""
    frame = pl.DataFrame(
        {
            "feature": list(features),
            "w_churn": [float(v) for v in w_churn],
            "w_recontract": [float(v) for v in w_recontract],
            "w_nrc": [float(v) for v in w_nrc],
        },
        schema={"feature": pl.String, "w_churn": pl.Float64, "w_recontract": pl.Float64, "w_nrc": pl.Float64},
    )
    usable = ~pl.col("feature").is_in(list(unusable))
    frame = frame.with_columns(
        [pl.when(usable).then(pl.col(c)).otherwise(0.0).alias(c) for c in ("w_churn", "w_recontract", "w_nrc")]
    )
    return frame.with_columns((pl.col("w_recontract") + pl.col("w_nrc") - pl.col("w_churn")).alias("weight"))


def _fit_classifier(
    x: np.ndarray, y: np.ndarray, settings: ModelSettings, name: str, cohort: str
) -> LogisticRegression:
    if len(np.unique(y)) < 2:
        raise ValueError(f"{cohort}: the training set has a single {name} class; the model cannot be fitted")
    return LogisticRegression(C=settings.logistic_c, max_iter=settings.max_iter).fit(x, y)


def train_cohort(
    features_at_reference: pl.DataFrame,
    labels: pl.DataFrame,
    ruler: pl.DataFrame,
    cohort: str,
    features: Sequence[str],
    settings: ModelSettings,
    code_ver: str,
) -> CohortTrainingResult:
    """Train and evaluate one cohort's models.

    ``features_at_reference``: the cohort's feature rows (``snapshot_date, customer_id, segment, <features>``);
    only the reference date is used. ``labels``: outcome_labels rows. ``ruler``: one ruler version's rows.
    """
    features = tuple(features)
    versions = ruler.filter(pl.col("cohort") == str(cohort))["ruler_version"].unique().to_list()
    if len(versions) != 1:
        raise ValueError(f"{cohort}: expected the rows of exactly one ruler version, got {versions}")
    ruler_version = str(versions[0])
    population = features_at_reference.filter(pl.col("snapshot_date") == settings.reference_date).sort("customer_id")
    if population.height == 0:
        raise ValueError(f"{cohort}: no feature rows on the reference date {settings.reference_date}")

    # The same standardisation daily scoring uses, applied to the whole reference-date population.
    standardised = standardise(population, ruler, cohort, features)
    unusable = tuple(unusable_features(ruler, cohort, features))
    usable = [f for f in features if f not in unusable]

    labelled = labelled_training_frame(standardised.frame, labels, cohort, settings.reference_date)
    frame = labelled.frame.with_columns(
        holdout_flags(labelled.frame["customer_id"], settings.split_salt, settings.holdout_fraction)
    )
    train, held = frame.filter(~pl.col("is_holdout")), frame.filter(pl.col("is_holdout"))
    if train.height < 2 or held.height < 1:
        raise ValueError(f"{cohort}: too few labelled customers to train and evaluate ({frame.height})")

    def _x(part: pl.DataFrame) -> np.ndarray:
        if not usable:
            return np.zeros((part.height, 0))
        return part.select([z_column(f) for f in usable]).to_numpy().astype(np.float64)

    x_train, x_held = _x(train), _x(held)
    if x_train.shape[1] == 0:
        raise ValueError(f"{cohort}: every feature is unusable under the ruler; nothing to train on")
    y_churn = train["is_churn"].cast(pl.Int8).to_numpy()
    y_recontract = train["is_recontract"].cast(pl.Int8).to_numpy()
    nrc = train["revenue_change"].to_numpy().astype(np.float64)
    nrc_mean, nrc_std = float(nrc.mean()), float(nrc.std())
    if not nrc_std > 0:
        raise ValueError(f"{cohort}: revenue_change is constant in the training set; NRC cannot be standardised")

    churn_model = _fit_classifier(x_train, y_churn, settings, "is_churn", cohort)
    recontract_model = _fit_classifier(x_train, y_recontract, settings, "is_recontract", cohort)
    nrc_model = Ridge(alpha=settings.ridge_alpha).fit(x_train, (nrc - nrc_mean) / nrc_std)

    def _full(coefs: np.ndarray) -> list[float]:
        by_feature = dict(zip(usable, coefs.ravel().tolist(), strict=True))
        return [by_feature.get(f, 0.0) for f in features]

    coefficients = composite_weights(
        features,
        _full(churn_model.coef_),
        _full(recontract_model.coef_),
        _full(nrc_model.coef_),
        unusable,
    )

    # Held-out evaluation on customers the models never saw, with the serving-time inputs.
    held_churn = held["is_churn"].cast(pl.Int8).to_numpy()
    held_recontract = held["is_recontract"].cast(pl.Int8).to_numpy()
    held_nrc = held["revenue_change"].to_numpy().astype(np.float64)
    churn_m = classification_metrics(held_churn, churn_model.predict_proba(x_held)[:, 1])
    recontract_m = classification_metrics(held_recontract, recontract_model.predict_proba(x_held)[:, 1])
    nrc_pred = nrc_model.predict(x_held) * nrc_std + nrc_mean
    nrc_m = regression_metrics(held_nrc, nrc_pred, nrc_std)

    # Raw-score reference over the whole reference-date population (labelled or not).
    weights = dict(zip(coefficients["feature"].to_list(), coefficients["weight"].to_list(), strict=True))
    raw = standardised.frame.select(raw_score_expr(weights, features).alias("raw"))["raw"]
    raw_mean, raw_std = raw.mean(), raw.std(ddof=1)
    if raw_mean is None or raw_std is None or not math.isfinite(raw_std) or raw_std <= 0:  # type: ignore[operator]
        raise ValueError(f"{cohort}: the raw score has no spread over the reference population")

    hyper = hyperparameters(settings)
    hyper_json = canonical_json(hyper)
    fingerprint = data_fingerprint(
        labelled.frame.select("customer_id", "segment", *features, *LABEL_COLUMNS).with_columns(
            pl.lit(str(cohort)).alias("cohort")
        )
    )
    metrics: dict[str, Any] = {
        **{f"churn_{k}": v for k, v in churn_m.items()},
        **{f"recontract_{k}": v for k, v in recontract_m.items()},
        **{f"nrc_{k}": v for k, v in nrc_m.items()},
        "n_train": train.height,
        "n_holdout": held.height,
        "n_reference_population": population.height,
        "n_labels": labelled.n_labels,
        "n_labelled": labelled.n_joined,
        "n_dropped_null_labels": labelled.n_dropped_null_labels,
        "nrc_target_mean": nrc_mean,
        "nrc_target_std": nrc_std,
        "unusable_features": list(unusable),
    }
    return CohortTrainingResult(
        cohort=str(cohort),
        model_version=model_version_id(
            str(cohort), settings.reference_date, fingerprint, code_ver, hyper_json, ruler_version
        ),
        ruler_version=ruler_version,
        features=features,
        coefficients=coefficients,
        unusable_features=unusable,
        raw_ref_mean=float(raw_mean),  # type: ignore[arg-type]
        raw_ref_stddev=float(raw_std),  # type: ignore[arg-type]
        metrics=metrics,
        hyperparameters=hyper,
        data_fingerprint=fingerprint,
        code_version=code_ver,
        n_train=train.height,
        n_holdout=held.height,
        training_reference_date=settings.reference_date,
        outcome_start=settings.outcome_start,
        outcome_end=settings.outcome_end,
        intercepts={
            "churn": float(churn_model.intercept_[0]),
            "recontract": float(recontract_model.intercept_[0]),
            "nrc": float(nrc_model.intercept_),
        },
    )

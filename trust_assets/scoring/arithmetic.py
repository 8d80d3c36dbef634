"""The scoring arithmetic of spec section 3, as vectorised Polars expressions.

    z_f   = (x_f - ref_mean_f) / ref_stddev_f      (standardise.py, against the stored ruler)
    raw   = sum_f w_f * z_f                         (composite weights of the model version)
    z_raw = (raw - raw_ref_mean) / raw_ref_stddev   (raw-score stats stored with the model version)
    trust = tanh(z_raw)

A row's score depends only on its own feature values, the ruler and the model version: nothing here looks
at the rest of the population, which is what makes scores comparable from one day to the next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from trust_assets.scoring.standardise import MISSING_COLUMN, Standardised, standardise, z_column

DRIVER_DECIMALS = 3


@dataclass(frozen=True)
class ScoringModel:
    """What scoring needs from a model version: its weights and the raw-score reference statistics."""

    model_version: str
    ruler_version: str
    weights: Mapping[str, float]
    raw_ref_mean: float
    raw_ref_stddev: float


def check_weights(weights: Mapping[str, float], features: Sequence[str], cohort: str) -> None:
    """Weights and features must name the same set: a mismatch means model and feature table disagree."""
    missing = [f for f in features if f not in weights]
    extra = sorted(set(weights) - set(features))
    if missing or extra:
        raise ValueError(
            f"{cohort}: model weights do not match the feature definition "
            f"(features without a weight: {missing}; weights without a feature: {extra})"
        )
    bad = [f for f, w in weights.items() if w is None or not math.isfinite(w)]
    if bad:
        raise ValueError(f"{cohort}: weights of {bad} are not finite numbers")


def raw_score_expr(weights: Mapping[str, float], features: Sequence[str]) -> pl.Expr:
    """raw = sum_f w_f * z_f over the ``z__<feature>`` columns."""
    if not features:
        return pl.lit(0.0)
    # An explicit left-to-right chain of additions: the float result must not depend on how a horizontal
    # reduction happens to be scheduled, or re-scoring an unchanged customer could differ in the last bit.
    total = pl.lit(float(weights[features[0]])) * pl.col(z_column(features[0]))
    for f in features[1:]:
        total = total + pl.lit(float(weights[f])) * pl.col(z_column(f))
    return total


def trust_expr(raw: pl.Expr, raw_ref_mean: float, raw_ref_stddev: float) -> pl.Expr:
    """trust = tanh((raw - raw_ref_mean) / raw_ref_stddev)."""
    if raw_ref_stddev is None or not math.isfinite(raw_ref_stddev) or raw_ref_stddev <= 0:
        raise ValueError(f"raw_ref_stddev must be a positive number, got {raw_ref_stddev!r}")
    if raw_ref_mean is None or not math.isfinite(raw_ref_mean):
        raise ValueError(f"raw_ref_mean must be a finite number, got {raw_ref_mean!r}")
    return ((raw - pl.lit(float(raw_ref_mean))) / pl.lit(float(raw_ref_stddev))).tanh()


def _signed_text(term: pl.Expr, decimals: int) -> pl.Expr:
    # Fixed-point text like "+0.305" / "-1.020" built from integers, because Polars has no printf.
    scale = 10**decimals
    units = (term.abs() * scale).round(0).cast(pl.Int64)
    sign = pl.when(term < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    return pl.concat_str(
        [sign, (units // scale).cast(pl.String), pl.lit("."), (units % scale).cast(pl.String).str.zfill(decimals)]
    )


def _top_indices(terms: Sequence[np.ndarray], k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per row, the column indices of the ``k`` largest |terms| (first in column order on ties) and the
    |term| of each pick. Each round is a running maximum across the feature columns, whole columns at a
    time (vectorised per feature, never per row); the pick is then masked for the next round."""
    left = [np.abs(t) for t in terms]
    chosen: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    for _ in range(k):
        best = left[0].copy()
        pick = np.zeros(len(best), dtype=np.int64)
        for j in range(1, len(left)):
            larger = left[j] > best  # strictly: an equal later feature does not displace an earlier one
            best = np.where(larger, left[j], best)
            pick = np.where(larger, j, pick)
        for j, column in enumerate(left):
            column[pick == j] = -1.0
        chosen.append(pick)
        sizes.append(best)
    return chosen, sizes


def with_top_drivers(
    frame: pl.DataFrame,
    weights: Mapping[str, float],
    features: Sequence[str],
    k: int,
    decimals: int = DRIVER_DECIMALS,
    name: str = "top_drivers",
) -> pl.DataFrame:
    """Add the ``k`` largest |w_f * z_f| terms of each row as "feature=+0.123; other=-0.045".

    Terms that are exactly 0 (missing value, unusable entry or zero weight) drive nothing and are left out;
    a row without any non-zero term gets an empty string. Ties keep the feature order of the configuration.
    Reads the ``z__<feature>`` columns.
    """
    if k <= 0 or not features:
        return frame.with_columns(pl.lit("", dtype=pl.String).alias(name))
    k = min(k, len(features))
    terms = [
        s.to_numpy().astype(np.float64, copy=False)
        for s in frame.select(
            [(pl.lit(float(weights[f])) * pl.col(z_column(f))).alias(f) for f in features]
        ).get_columns()
    ]
    chosen, best = _top_indices(terms, k)
    labels = dict(enumerate(features))
    parts: list[pl.Expr] = []
    columns: list[pl.Series] = []
    for r in range(k):
        index, size, term = f"__chosen_{r}", f"__best_{r}", f"__term_{r}"
        # The signed term of the pick: its size with the sign of the chosen column's term.
        picked = np.choose(chosen[r], terms) if len(terms) <= 32 else np.stack(terms, axis=1)[
            np.arange(len(chosen[r])), chosen[r]]
        columns += [pl.Series(index, chosen[r]), pl.Series(size, best[r]), pl.Series(term, picked)]
        label = pl.col(index).replace_strict(labels, return_dtype=pl.String)
        parts.append(
            pl.when(pl.col(size) > 0).then(pl.concat_str([label, pl.lit("="), _signed_text(pl.col(term), decimals)]))
        )
    text = pl.DataFrame(columns).select(pl.concat_str(parts, separator="; ", ignore_nulls=True).alias(name))
    return frame.with_columns(text.to_series())


def score_standardised(
    standardised: Standardised,
    model: ScoringModel,
    cohort: str,
    top_k: int,
) -> pl.DataFrame:
    """raw_score, trust_score, missing_features and top_drivers for a standardised frame.

    Returns the input's non-z columns plus ``raw_score, trust_score, model_version, ruler_version,
    missing_features, top_drivers`` (the z columns are dropped).
    """
    features = standardised.features
    check_weights(model.weights, features, cohort)
    raw = raw_score_expr(model.weights, features)
    scored = standardised.frame.with_columns(raw.alias("raw_score")).with_columns(
        trust_expr(pl.col("raw_score"), model.raw_ref_mean, model.raw_ref_stddev).alias("trust_score"),
        pl.lit(model.model_version, dtype=pl.String).alias("model_version"),
        pl.lit(model.ruler_version, dtype=pl.String).alias("ruler_version"),
        pl.col(MISSING_COLUMN).cast(pl.Int64),
    )
    return with_top_drivers(scored, model.weights, features, top_k).drop(standardised.z_columns)


def score_frame(
    frame: pl.DataFrame,
    ruler: pl.DataFrame,
    model: ScoringModel,
    cohort: str,
    features: Sequence[str],
    top_k: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Standardise a wide cohort frame against ``ruler`` and score it; returns (scores, unusable report)."""
    standardised = standardise(frame, ruler, cohort, features)
    return score_standardised(standardised, model, cohort, top_k), standardised.unusable

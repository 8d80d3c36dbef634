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
    term_cols = [f"__term_{i}" for i in range(len(features))]
    left_cols = [f"__left_{i}" for i in range(len(features))]
    lazy = frame.lazy().with_columns(
        *[(pl.lit(float(weights[f])) * pl.col(z_column(f))).alias(t) for f, t in zip(features, term_cols, strict=True)]
    ).with_columns(*[pl.col(t).abs().alias(a) for t, a in zip(term_cols, left_cols, strict=True)])
    # k rounds of a horizontal arg-max (columnar, far faster than sorting a list per row). Each round is
    # materialised as columns before the next, so the expressions stay small: take the largest remaining
    # |term| (first in configuration order on ties), then mask it with -1.
    parts: list[str] = []
    for r in range(min(k, len(features))):
        best, chosen, part = f"__best_{r}", f"__chosen_{r}", f"__part_{r}"
        lazy = lazy.with_columns(pl.max_horizontal(left_cols).alias(best)).with_columns(
            pl.coalesce([pl.when(pl.col(a) == pl.col(best)).then(pl.lit(i)) for i, a in enumerate(left_cols)])
            .alias(chosen)
        )
        label = pl.coalesce([pl.when(pl.col(chosen) == i).then(pl.lit(f)) for i, f in enumerate(features)])
        term = pl.coalesce([pl.when(pl.col(chosen) == i).then(pl.col(t)) for i, t in enumerate(term_cols)])
        lazy = lazy.with_columns(
            pl.when(pl.col(best) > 0)
            .then(pl.concat_str([label, pl.lit("="), _signed_text(term, decimals)]))
            .alias(part),
            *[
                pl.when(pl.col(chosen) == i).then(pl.lit(-1.0)).otherwise(pl.col(a)).alias(a)
                for i, a in enumerate(left_cols)
            ],
        )
        parts.append(part)
    temporary = [*term_cols, *left_cols, *parts, *[f"__best_{r}" for r in range(len(parts))],
                 *[f"__chosen_{r}" for r in range(len(parts))]]  # fmt: skip
    return (
        lazy.with_columns(pl.concat_str([pl.col(p) for p in parts], separator="; ", ignore_nulls=True).alias(name))
        .drop(temporary)
        .collect()
    )


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

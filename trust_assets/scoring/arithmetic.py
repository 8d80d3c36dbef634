"""The scoring arithmetic of docs/architecture.md §3, as vectorised Polars expressions.

    z_f   = (x_f - ref_mean_f) / ref_stddev_f      (standardise.py, against the stored ruler)
    raw   = sum_f w_f * z_f                         (composite weights of the model version)
    z_raw = (raw - raw_ref_mean) / raw_ref_stddev   (raw-score stats stored with the model version)
    trust = tanh(z_raw)

A row's score depends only on its own feature values, the ruler and the model version: nothing here looks
at the rest of the population, which is what makes scores comparable from one day to the next.

:func:`score_frame` (the daily path) computes the terms w_f * z_f, the missing count, raw and trust in one
lazy pass without keeping z columns; the top-drivers text is built from the terms in :mod:`drivers`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from trust_assets.scoring.drivers import DRIVER_DECIMALS, driver_text, term_columns, top_terms
from trust_assets.scoring.standardise import SEGMENT_CODE, ruler_lookup, z_column


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


def _chained_sum(terms: Sequence[pl.Expr]) -> pl.Expr:
    # An explicit left-to-right chain of additions: the float result must not depend on how a horizontal
    # reduction happens to be scheduled, or re-scoring an unchanged customer could differ in the last bit.
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def raw_score_expr(weights: Mapping[str, float], features: Sequence[str]) -> pl.Expr:
    """raw = sum_f w_f * z_f over the ``z__<feature>`` columns."""
    if not features:
        return pl.lit(0.0)
    return _chained_sum([pl.lit(float(weights[f])) * pl.col(z_column(f)) for f in features])


def trust_expr(raw: pl.Expr, raw_ref_mean: float, raw_ref_stddev: float) -> pl.Expr:
    """trust = tanh((raw - raw_ref_mean) / raw_ref_stddev)."""
    if raw_ref_stddev is None or not math.isfinite(raw_ref_stddev) or raw_ref_stddev <= 0:
        raise ValueError(f"raw_ref_stddev must be a positive number, got {raw_ref_stddev!r}")
    if raw_ref_mean is None or not math.isfinite(raw_ref_mean):
        raise ValueError(f"raw_ref_mean must be a finite number, got {raw_ref_mean!r}")
    return ((raw - pl.lit(float(raw_ref_mean))) / pl.lit(float(raw_ref_stddev))).tanh()


def with_top_drivers(
    frame: pl.DataFrame,
    weights: Mapping[str, float],
    features: Sequence[str],
    k: int,
    decimals: int = DRIVER_DECIMALS,
    name: str = "top_drivers",
) -> pl.DataFrame:
    """Add the ``k`` largest |w_f * z_f| terms of each row as "feature=+0.123; other=-0.045" (rules in
    :mod:`drivers`). Reads the ``z__<feature>`` columns."""
    if k <= 0 or not features:
        return frame.with_columns(pl.lit("", dtype=pl.String).alias(name))
    terms = frame.select([(pl.lit(float(weights[f])) * pl.col(z_column(f))).alias(f) for f in features])
    return frame.with_columns(_drivers(term_columns(terms, list(features)), features, k, decimals, name))


def _drivers(terms: Sequence[np.ndarray], features: Sequence[str], k: int, decimals: int, name: str) -> pl.Series:
    return driver_text(top_terms(terms, min(k, len(features))), features, decimals, name)


def _term_column(feature: str) -> str:
    return f"__term__{feature}"


def score_frame(
    frame: pl.DataFrame,
    ruler: pl.DataFrame,
    model: ScoringModel,
    cohort: str,
    features: Sequence[str],
    top_k: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Standardise a wide cohort frame against ``ruler`` and score it; returns (scores, unusable report).

    Returns the input's columns plus ``missing_features, raw_score, trust_score, model_version,
    ruler_version, top_drivers``. The arithmetic is that of :func:`standardise`, :func:`raw_score_expr` and
    :func:`trust_expr` (the same expressions added in the same order, so the same bits), in one pass that
    keeps the terms w_f * z_f the top drivers rank instead of z columns nobody reads.
    """
    lookup = ruler_lookup(frame, ruler, cohort, features)
    features = lookup.features
    check_weights(model.weights, features, cohort)
    terms = [pl.lit(float(model.weights[f])) * lookup.z(j) for j, f in enumerate(features)]
    columns = [_term_column(f) for f in features]
    coded = lookup.with_code(frame)
    if top_k > 0 and features:
        # Materialise the terms once: the raw score adds the columns, the top drivers rank them.
        staged = coded.lazy().with_columns(
            *[t.alias(c) for t, c in zip(terms, columns, strict=True)], lookup.missing_count()
        )
        raw = _chained_sum([pl.col(c) for c in columns])
    else:
        staged = coded.lazy().with_columns(lookup.missing_count())
        raw = _chained_sum(terms) if features else pl.lit(0.0)
    scored = (
        staged.with_columns(raw.alias("raw_score"))
        .with_columns(
            trust_expr(pl.col("raw_score"), model.raw_ref_mean, model.raw_ref_stddev).alias("trust_score"),
            pl.lit(model.model_version, dtype=pl.String).alias("model_version"),
            pl.lit(model.ruler_version, dtype=pl.String).alias("ruler_version"),
        )
        .collect()
    )
    drivers = (
        _drivers(term_columns(scored, columns), features, top_k, DRIVER_DECIMALS, "top_drivers")
        if top_k > 0 and features
        else pl.lit("", dtype=pl.String).alias("top_drivers")
    )
    unusable = lookup.unusable(scored)
    helpers = {*columns, SEGMENT_CODE}
    # select_seq keeps the columns as they are; drop/select would re-chunk every kept column of a multi-chunk
    # frame (a frame read in batches), copying it for nothing.
    kept = scored.select_seq([c for c in scored.columns if c not in helpers])
    return kept.with_columns(drivers), unusable

"""The prediction distribution of a day against the reference-date scores of the same model version.

The reference population is the one the model was trained on: the cohort's feature snapshot at the model's
reference date, scored by the same model version and ruler. Per cohort and day: histogram, mean and quantiles
of the trust score, the share of raw scores outside the reference 1st-99th percentile, and the PSI of the
trust scores over equal-frequency bins of the reference scores.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import polars as pl

from trust_assets.monitoring.drift import band_of, bin_counts, equal_frequency_edges, psi

QUANTILES: tuple[float, ...] = (0.01, 0.10, 0.25, 0.50, 0.75, 0.90, 0.99)


def quantile_column(q: float) -> str:
    return f"p{round(q * 100):02d}"


SCORE_DISTRIBUTION_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_date": pl.Date(),
    "cohort": pl.String(),
    "model_version": pl.String(),
    "row_count": pl.Int64(),
    "mean": pl.Float64(),
    "stddev": pl.Float64(),
    **{quantile_column(q): pl.Float64() for q in QUANTILES},
    "reference_date": pl.Date(),
    "reference_rows": pl.Int64(),
    "reference_mean": pl.Float64(),
    "raw_reference_low": pl.Float64(),
    "raw_reference_high": pl.Float64(),
    "share_below_reference": pl.Float64(),
    "share_above_reference": pl.Float64(),
    "share_outside_reference": pl.Float64(),
    "score_psi": pl.Float64(),
    "band": pl.String(),
    "histogram": pl.String(),
    "reference_histogram": pl.String(),
}

SCORE_DISTRIBUTION_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "snapshot_date": "Scoring day.",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "model_version": "Model version that scored the day (and the reference population it is compared with).",
    "row_count": "Scores of the cohort on the day.",
    "mean": "Mean trust score.",
    "stddev": "Standard deviation of the trust score.",
    **{quantile_column(q): f"{round(q * 100)}th percentile of the trust score." for q in QUANTILES},
    "reference_date": "Date of the reference population (the model's training snapshot).",
    "reference_rows": "Customers in the reference population.",
    "reference_mean": "Mean trust score of the reference population.",
    "raw_reference_low": "1st percentile of the reference population's raw scores (configurable).",
    "raw_reference_high": "99th percentile of the reference population's raw scores (configurable).",
    "share_below_reference": "Share of the day's raw scores below raw_reference_low.",
    "share_above_reference": "Share of the day's raw scores above raw_reference_high.",
    "share_outside_reference": "Share of the day's raw scores outside the reference range (2% expected).",
    "score_psi": "PSI of the day's trust scores over equal-frequency bins of the reference trust scores.",
    "band": "PSI band of score_psi: stable, investigate or significant.",
    "histogram": "JSON list of counts of the day's trust scores in equal-width bins over (-1, 1).",
    "reference_histogram": "JSON list of counts of the reference trust scores in the same bins.",
}


def histogram_edges(bins: int) -> np.ndarray:
    return np.linspace(-1.0, 1.0, bins + 1)


def histogram(values: np.ndarray, bins: int) -> list[int]:
    counts, _ = np.histogram(np.clip(values, -1.0, 1.0), bins=histogram_edges(bins))
    return [int(c) for c in counts]


def score_distribution_row(
    day: date,
    cohort: str,
    model_version: str,
    scores: pl.DataFrame,
    reference: pl.DataFrame,
    reference_date: date,
    *,
    drift_bins: int,
    reference_quantiles: tuple[float, float],
    histogram_bins: int,
    psi_investigate: float,
    psi_significant: float,
    share_floor: float,
) -> dict[str, object]:
    """One row of ``score_distribution``: ``scores`` and ``reference`` carry ``raw_score`` and ``trust_score``."""
    trust = scores["trust_score"].cast(pl.Float64).to_numpy()
    raw = scores["raw_score"].cast(pl.Float64).to_numpy()
    ref_trust = reference["trust_score"].cast(pl.Float64).to_numpy()
    ref_raw = reference["raw_score"].cast(pl.Float64).to_numpy()
    if trust.size == 0 or ref_trust.size == 0:
        raise ValueError(f"{cohort} {day}: no scores ({trust.size}) or no reference scores ({ref_trust.size})")

    low_q, high_q = reference_quantiles
    low, high = (float(v) for v in np.quantile(ref_raw, [low_q, high_q]))
    below = float(np.mean(raw < low))
    above = float(np.mean(raw > high))

    edges = equal_frequency_edges(ref_trust, drift_bins)
    ref_counts, _ = bin_counts(ref_trust, edges)
    cur_counts, _ = bin_counts(trust, edges)
    score_psi = psi(ref_counts / ref_trust.size, cur_counts / trust.size, share_floor)

    row: dict[str, object] = {
        "snapshot_date": day,
        "cohort": cohort,
        "model_version": model_version,
        "row_count": int(trust.size),
        "mean": float(trust.mean()),
        "stddev": float(trust.std(ddof=1)) if trust.size > 1 else None,
        **{quantile_column(q): float(v) for q, v in zip(QUANTILES, np.quantile(trust, QUANTILES), strict=True)},
        "reference_date": reference_date,
        "reference_rows": int(ref_trust.size),
        "reference_mean": float(ref_trust.mean()),
        "raw_reference_low": low,
        "raw_reference_high": high,
        "share_below_reference": below,
        "share_above_reference": above,
        "share_outside_reference": below + above,
        "score_psi": score_psi,
        "band": band_of(score_psi, psi_investigate, psi_significant),
        "histogram": json.dumps(histogram(trust, histogram_bins)),
        "reference_histogram": json.dumps(histogram(ref_trust, histogram_bins)),
    }
    return row


def as_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCORE_DISTRIBUTION_SCHEMA).sort("snapshot_date", "cohort")

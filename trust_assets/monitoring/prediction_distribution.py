"""The prediction distribution of a day against the reference-date scores of the same model version.

The reference population is the one the model was trained on: the cohort's feature snapshot at the model's
reference date, scored by the same model version and ruler. Per cohort and day: histogram, mean and quantiles
of the trust score, the share of raw scores outside the reference 1st-99th percentile, and the PSI of the
trust scores over equal-frequency bins of the reference scores.

The reference population never changes for a model version, so what the day is compared with is summarised once
(:func:`summarise_reference`: row count, mean, raw-score range, bin edges and counts, histogram) and stored in
``reference_score_distribution``, one row per model version (:func:`reference_row`, :func:`summary_of_row`); the
daily rows are computed from that summary, never from the reference population's scores themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

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


@dataclass(frozen=True)
class ReferenceSummary:
    """What a day's scores are compared with: the reference population of a model version, reduced to the
    figures :func:`score_distribution_row` reads (the population itself is not kept)."""

    model_version: str
    cohort: str
    ruler_version: str
    reference_date: date
    drift_bins: int
    histogram_bins: int
    reference_quantiles: tuple[float, float]
    rows: int
    mean: float
    raw_low: float
    raw_high: float
    edges: tuple[float, ...]  # inner edges of the equal-frequency bins of the reference trust scores
    counts: tuple[int, ...]  # reference trust scores per bin (len(edges) + 1)
    histogram: str  # JSON counts over the equal-width bins of (-1, 1)


def summarise_reference(
    reference: pl.DataFrame,
    *,
    model_version: str,
    cohort: str,
    ruler_version: str,
    reference_date: date,
    drift_bins: int,
    reference_quantiles: tuple[float, float],
    histogram_bins: int,
) -> ReferenceSummary:
    """The summary of a reference population (``raw_score`` and ``trust_score`` of each reference customer)."""
    ref_trust = reference["trust_score"].cast(pl.Float64).to_numpy()
    ref_raw = reference["raw_score"].cast(pl.Float64).to_numpy()
    if ref_trust.size == 0:
        raise ValueError(f"{cohort} {model_version}: no reference scores")
    low_q, high_q = reference_quantiles
    low, high = (float(v) for v in np.quantile(ref_raw, [low_q, high_q]))
    edges = equal_frequency_edges(ref_trust, drift_bins)
    counts, _ = bin_counts(ref_trust, edges)
    return ReferenceSummary(
        model_version=model_version,
        cohort=cohort,
        ruler_version=ruler_version,
        reference_date=reference_date,
        drift_bins=drift_bins,
        histogram_bins=histogram_bins,
        reference_quantiles=(float(low_q), float(high_q)),
        rows=int(ref_trust.size),
        mean=float(ref_trust.mean()),
        raw_low=low,
        raw_high=high,
        edges=tuple(float(e) for e in edges),
        counts=tuple(int(c) for c in counts),
        histogram=json.dumps(histogram(ref_trust, histogram_bins)),
    )


def score_distribution_row(
    day: date,
    cohort: str,
    model_version: str,
    scores: pl.DataFrame,
    reference: ReferenceSummary,
    *,
    psi_investigate: float,
    psi_significant: float,
    share_floor: float,
) -> dict[str, object]:
    """One row of ``score_distribution``: ``scores`` carry ``raw_score`` and ``trust_score``; ``reference`` is the
    summary of the model version's reference population (:func:`summarise_reference`)."""
    trust = scores["trust_score"].cast(pl.Float64).to_numpy()
    raw = scores["raw_score"].cast(pl.Float64).to_numpy()
    if trust.size == 0 or reference.rows == 0:
        raise ValueError(f"{cohort} {day}: no scores ({trust.size}) or no reference scores ({reference.rows})")

    below = float(np.mean(raw < reference.raw_low))
    above = float(np.mean(raw > reference.raw_high))

    ref_counts = np.asarray(reference.counts, dtype=np.int64)
    cur_counts, _ = bin_counts(trust, reference.edges)
    score_psi = psi(ref_counts / reference.rows, cur_counts / trust.size, share_floor)

    row: dict[str, object] = {
        "snapshot_date": day,
        "cohort": cohort,
        "model_version": model_version,
        "row_count": int(trust.size),
        "mean": float(trust.mean()),
        "stddev": float(trust.std(ddof=1)) if trust.size > 1 else None,
        **{quantile_column(q): float(v) for q, v in zip(QUANTILES, np.quantile(trust, QUANTILES), strict=True)},
        "reference_date": reference.reference_date,
        "reference_rows": reference.rows,
        "reference_mean": reference.mean,
        "raw_reference_low": reference.raw_low,
        "raw_reference_high": reference.raw_high,
        "share_below_reference": below,
        "share_above_reference": above,
        "share_outside_reference": below + above,
        "score_psi": score_psi,
        "band": band_of(score_psi, psi_investigate, psi_significant),
        "histogram": json.dumps(histogram(trust, reference.histogram_bins)),
        "reference_histogram": reference.histogram,
    }
    return row


# --- the stored summaries: reference_score_distribution ---------------------------------------------------------
REFERENCE_SCORES_SCHEMA: dict[str, pl.DataType] = {
    "model_version": pl.String(),
    "cohort": pl.String(),
    "ruler_version": pl.String(),
    "reference_date": pl.Date(),
    "drift_bins": pl.Int64(),
    "histogram_bins": pl.Int64(),
    "reference_low_quantile": pl.Float64(),
    "reference_high_quantile": pl.Float64(),
    "reference_rows": pl.Int64(),
    "reference_mean": pl.Float64(),
    "raw_reference_low": pl.Float64(),
    "raw_reference_high": pl.Float64(),
    "score_bin_edges": pl.String(),
    "score_bin_counts": pl.String(),
    "reference_histogram": pl.String(),
    "computed_at": pl.Datetime("us", "UTC"),
}

# One stored summary per model version and the settings it was computed with: a changed setting gets a new row.
REFERENCE_SCORES_KEY: tuple[str, ...] = (
    "model_version", "ruler_version", "reference_date", "drift_bins", "histogram_bins", "reference_low_quantile",
    "reference_high_quantile",
)

REFERENCE_SCORES_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "model_version": "Model version whose reference population is summarised.",
    "cohort": "Product cohort of the model version: mobile, tv or broadband.",
    "ruler_version": "Ruler version the reference population was scored with (the model version's own).",
    "reference_date": "Date of the reference population: the model's training snapshot.",
    "drift_bins": "Number of equal-frequency bins asked for (RulerSettings.drift_bins); ties can merge bins.",
    "histogram_bins": "Equal-width bins of (-1, 1) of the histogram (MonitoringSettings.score_histogram_bins).",
    "reference_low_quantile": "Quantile of the raw scores that bounds the reference range from below (0.01).",
    "reference_high_quantile": "Quantile of the raw scores that bounds the reference range from above (0.99).",
    "reference_rows": "Customers in the reference population.",
    "reference_mean": "Mean trust score of the reference population.",
    "raw_reference_low": "Raw score at reference_low_quantile: the day's raw scores below it are outside.",
    "raw_reference_high": "Raw score at reference_high_quantile: the day's raw scores above it are outside.",
    "score_bin_edges": "JSON list of the inner edges of the equal-frequency bins of the reference trust scores.",
    "score_bin_counts": "JSON list of the reference trust scores in each of those bins (one more than the edges).",
    "reference_histogram": "JSON list of counts of the reference trust scores in the histogram's bins.",
    "computed_at": "When the summary was computed and stored (UTC).",
}


def reference_row(summary: ReferenceSummary, computed_at: datetime) -> pl.DataFrame:
    """The stored row of a summary. Floats are kept at full precision (JSON writes the shortest text that reads
    back as the same double), so a day compared with the stored row gets the figures of a fresh computation."""
    low_q, high_q = summary.reference_quantiles
    row = {
        "model_version": summary.model_version,
        "cohort": summary.cohort,
        "ruler_version": summary.ruler_version,
        "reference_date": summary.reference_date,
        "drift_bins": summary.drift_bins,
        "histogram_bins": summary.histogram_bins,
        "reference_low_quantile": low_q,
        "reference_high_quantile": high_q,
        "reference_rows": summary.rows,
        "reference_mean": summary.mean,
        "raw_reference_low": summary.raw_low,
        "raw_reference_high": summary.raw_high,
        "score_bin_edges": json.dumps(list(summary.edges)),
        "score_bin_counts": json.dumps(list(summary.counts)),
        "reference_histogram": summary.histogram,
        "computed_at": computed_at,
    }
    return pl.DataFrame([row], schema=REFERENCE_SCORES_SCHEMA)


def summary_of_row(row: Mapping[str, Any]) -> ReferenceSummary:
    """The summary a stored row holds (the inverse of :func:`reference_row`)."""
    return ReferenceSummary(
        model_version=str(row["model_version"]),
        cohort=str(row["cohort"]),
        ruler_version=str(row["ruler_version"]),
        reference_date=row["reference_date"],
        drift_bins=int(row["drift_bins"]),
        histogram_bins=int(row["histogram_bins"]),
        reference_quantiles=(float(row["reference_low_quantile"]), float(row["reference_high_quantile"])),
        rows=int(row["reference_rows"]),
        mean=float(row["reference_mean"]),
        raw_low=float(row["raw_reference_low"]),
        raw_high=float(row["raw_reference_high"]),
        edges=tuple(float(e) for e in json.loads(row["score_bin_edges"])),
        counts=tuple(int(c) for c in json.loads(row["score_bin_counts"])),
        histogram=str(row["reference_histogram"]),
    )


def as_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCORE_DISTRIBUTION_SCHEMA).sort("snapshot_date", "cohort")

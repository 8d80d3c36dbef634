"""Feature drift against the frozen reference: PSI over fixed bins and a Wasserstein distance in ruler units.

The bins and quantiles are fitted ONCE from the reference period (the same month-end snapshots as the ruler)
and stored with the ruler version, so every day's drift is measured against the same frozen ruler as the
score. Nothing here re-fits on the day's population.

- PSI: ``sum_b (cur_b - ref_b) * ln(cur_b / ref_b)`` over equal-frequency reference bins plus one bin for
  missing values (a change in missingness is drift too); shares are floored so an empty bin stays finite.
- Wasserstein-1 distance between the day's and the reference distribution, divided by the feature's
  reference standard deviation (the ruler's cohort-level stddev). PSI grows without bound on large samples
  for tiny shifts concentrated in one bin; this distance says how far the mass moved, in ruler units.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import polars as pl

from trust_assets.scoring.reference_stats import rounded_text

STABLE, INVESTIGATE, SIGNIFICANT = "stable", "investigate", "significant"
BANDS: tuple[str, ...] = (STABLE, INVESTIGATE, SIGNIFICANT)
MISSING_BIN = -1

BINS_SCHEMA: dict[str, pl.DataType] = {
    "ruler_version": pl.String(),
    "cohort": pl.String(),
    "feature": pl.String(),
    "bin": pl.Int64(),
    "lower": pl.Float64(),
    "upper": pl.Float64(),
    "ref_count": pl.Int64(),
    "ref_share": pl.Float64(),
}

BINS_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "ruler_version": "Ruler version the bins belong to; frozen with it.",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "feature": "Behaviour feature the bins cut.",
    "bin": "Bin number from 0 (lowest values); -1 is the bin of missing values.",
    "lower": "Exclusive lower edge; NULL for the lowest bin (minus infinity) and the missing bin.",
    "upper": "Inclusive upper edge; NULL for the highest bin (plus infinity) and the missing bin.",
    "ref_count": "Reference-period values in the bin.",
    "ref_share": "Share of the reference-period rows in the bin (all bins of a feature sum to 1).",
}

QUANTILES_SCHEMA: dict[str, pl.DataType] = {
    "ruler_version": pl.String(),
    "cohort": pl.String(),
    "feature": pl.String(),
    "p": pl.Float64(),
    "value": pl.Float64(),
}

DRIFT_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_date": pl.Date(),
    "cohort": pl.String(),
    "feature": pl.String(),
    "ruler_version": pl.String(),
    "row_count": pl.Int64(),
    "missing_share": pl.Float64(),
    "reference_missing_share": pl.Float64(),
    "current_mean": pl.Float64(),
    "reference_mean": pl.Float64(),
    "psi": pl.Float64(),
    "wasserstein_sd": pl.Float64(),
    "band": pl.String(),
    "reference_max_psi": pl.Float64(),
    "reference_max_wasserstein_sd": pl.Float64(),
    "excess_wasserstein_sd": pl.Float64(),
    "drifted": pl.Boolean(),
}

VARIATION_SCHEMA: dict[str, pl.DataType] = {
    "ruler_version": pl.String(),
    "cohort": pl.String(),
    "feature": pl.String(),
    "snapshots": pl.Int64(),
    "max_psi": pl.Float64(),
    "max_wasserstein_sd": pl.Float64(),
}

DRIFT_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "snapshot_date": "Day whose feature values are compared with the reference period.",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "feature": "Behaviour feature.",
    "ruler_version": "Ruler version whose frozen bins and statistics the day is measured against.",
    "row_count": "Feature rows of the cohort on the day.",
    "missing_share": "Share of the day's rows without a value of the feature.",
    "reference_missing_share": "Share of reference-period rows without a value of the feature.",
    "current_mean": "Mean of the day's non-missing values.",
    "reference_mean": "Reference mean of the feature (the ruler's cohort-level mean).",
    "psi": "Population stability index of the day against the reference bins (missing values are a bin).",
    "wasserstein_sd": "Wasserstein-1 distance to the reference distribution in reference standard deviations.",
    "band": "PSI band: stable (< 0.10), investigate (0.10 - 0.25) or significant (>= 0.25); thresholds in config.",
    "reference_max_psi": "Largest PSI of a reference month-end snapshot against the pooled reference period.",
    "reference_max_wasserstein_sd": "Largest distance of a reference month-end snapshot from the pooled reference.",
    "excess_wasserstein_sd": "wasserstein_sd minus reference_max_wasserstein_sd: movement beyond the reference's own.",
    "drifted": "Significant PSI band and excess_wasserstein_sd >= min_excess_wasserstein_sd: counts for drift events.",
}


# --- the frozen reference ---------------------------------------------------------------------------------------
def finite_values(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]


def equal_frequency_edges(values: np.ndarray, bins: int) -> list[float]:
    """Inner edges of ``bins`` equal-frequency bins of the finite values; ties collapse duplicate edges.

    Bins are right-closed: ``(-inf, e0], (e0, e1], ..., (e_last, +inf)``. A count feature that is 0 for most
    customers gets one bin for the zeros instead of several empty ones.
    """
    if bins < 2:
        raise ValueError("at least 2 bins are needed")
    finite = finite_values(values)
    if finite.size == 0:
        return []
    inner = np.quantile(finite, np.arange(1, bins) / bins, method="inverted_cdf")
    edges = sorted({float(e) for e in inner})
    # An edge at the maximum would leave an always-empty top bin: drop it.
    return [e for e in edges if e < float(finite.max())]


def bin_counts(values: np.ndarray, edges: Sequence[float]) -> tuple[np.ndarray, int]:
    """Counts per right-closed bin of the finite values, and the number of missing (NULL/NaN/inf) values."""
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    index = np.searchsorted(np.asarray(edges, dtype=float), finite, side="left")
    counts = np.bincount(index, minlength=len(edges) + 1)
    return counts.astype(np.int64), int(array.size - finite.size)


def quantile_points(n: int) -> np.ndarray:
    """Midpoints of ``n`` equal probability slices: the grid the Wasserstein integral is evaluated on."""
    return (np.arange(n) + 0.5) / n


def quantiles(values: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    finite = finite_values(values)
    if finite.size == 0:
        return None
    return np.quantile(finite, points, method="inverted_cdf")


def reference_bins(
    values: np.ndarray, *, ruler_version: str, cohort: str, feature: str, bins: int
) -> pl.DataFrame:
    """The frozen bin rows of one feature: equal-frequency bins of its reference values plus a missing bin."""
    edges = equal_frequency_edges(values, bins)
    counts, missing = bin_counts(values, edges)
    total = max(int(np.asarray(values).size), 1)
    lowers: list[float | None] = [None, *edges]
    uppers: list[float | None] = [*edges, None]
    rows = [
        (ruler_version, cohort, feature, i, lowers[i], uppers[i], int(c), int(c) / total)
        for i, c in enumerate(counts)
    ]
    rows.append((ruler_version, cohort, feature, MISSING_BIN, None, None, missing, missing / total))
    return pl.DataFrame(rows, schema=BINS_SCHEMA, orient="row")


def reference_quantiles(
    values: np.ndarray, *, ruler_version: str, cohort: str, feature: str, points: int
) -> pl.DataFrame:
    grid = quantile_points(points)
    q = quantiles(values, grid)
    if q is None:
        return pl.DataFrame(schema=QUANTILES_SCHEMA)
    return pl.DataFrame(
        {"ruler_version": ruler_version, "cohort": cohort, "feature": feature, "p": grid, "value": q},
        schema=QUANTILES_SCHEMA,
    )


def fit_reference(
    frames: Mapping[str, pl.DataFrame],
    features: Mapping[str, Sequence[str]],
    *,
    ruler_version: str,
    bins: int,
    points: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Bins and quantiles of every cohort x feature from the reference-period rows of each cohort."""
    bin_parts: list[pl.DataFrame] = []
    quantile_parts: list[pl.DataFrame] = []
    for cohort, frame in frames.items():
        for feature in features[cohort]:
            values = frame[feature].cast(pl.Float64).to_numpy()
            keys = {"ruler_version": ruler_version, "cohort": cohort, "feature": feature}
            bin_parts.append(reference_bins(values, bins=bins, **keys))
            quantile_parts.append(reference_quantiles(values, points=points, **keys))
    order = ["cohort", "feature"]
    return (
        pl.concat(bin_parts).sort([*order, "bin"]),
        pl.concat(quantile_parts).sort([*order, "p"]),
    )


def reference_fingerprint(
    bins: pl.DataFrame, quantile_rows: pl.DataFrame, variation: pl.DataFrame | None = None
) -> str:
    """sha256 of the frozen reference content (not its version), with floats rounded like the ruler's."""
    lines: list[str] = []
    frames = [(bins, ["cohort", "feature", "bin"]), (quantile_rows, ["cohort", "feature", "p"])]
    if variation is not None:
        frames.append((variation, ["cohort", "feature"]))
    for frame, keys in frames:
        numeric = [c for c, t in frame.schema.items() if t == pl.Float64]
        text = frame.sort(keys).select(
            pl.concat_str(
                [pl.col("cohort"), pl.col("feature"), *[pl.col(c).cast(pl.String) for c in frame.columns
                                                         if c not in numeric and c not in
                                                         ("cohort", "feature", "ruler_version")],
                 *[rounded_text(c) for c in numeric]],
                separator="|",
            ).alias("line")
        )
        lines.extend(text["line"].to_list())
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


# --- the daily comparison -----------------------------------------------------------------------------------------
def psi(reference_shares: Sequence[float], current_shares: Sequence[float], floor: float) -> float:
    """Population stability index of two share vectors over the same bins (shares floored at ``floor``)."""
    ref = np.maximum(np.asarray(reference_shares, dtype=float), floor)
    cur = np.maximum(np.asarray(current_shares, dtype=float), floor)
    if ref.shape != cur.shape:
        raise ValueError("reference and current shares must cover the same bins")
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def wasserstein_from_quantiles(reference_q: np.ndarray, current_q: np.ndarray) -> float:
    """W1 = integral over p of |Q_ref(p) - Q_cur(p)|, on the midpoint grid both quantile vectors share."""
    if reference_q.shape != current_q.shape:
        raise ValueError("quantile vectors must share the grid")
    return float(np.mean(np.abs(np.asarray(reference_q) - np.asarray(current_q))))


def band_of(value: float | None, investigate: float, significant: float) -> str | None:
    if value is None or not math.isfinite(value):
        return None
    if value >= significant:
        return SIGNIFICANT
    return INVESTIGATE if value >= investigate else STABLE


def feature_drift_day(
    day: date,
    cohort: str,
    frame: pl.DataFrame,
    features: Sequence[str],
    bins: pl.DataFrame,
    quantile_rows: pl.DataFrame,
    ruler_stats: pl.DataFrame,
    *,
    psi_investigate: float,
    psi_significant: float,
    share_floor: float,
    variation: pl.DataFrame | None = None,
    min_excess_wasserstein_sd: float = 0.0,
) -> pl.DataFrame:
    """Drift of every feature of one cohort on one day (``frame``: that day's feature rows).

    ``bins`` / ``quantile_rows``: the cohort's frozen reference; ``ruler_stats``: the cohort-level ruler rows
    (``feature, mean, stddev``) that give the reference mean and the Wasserstein unit; ``variation``: the
    reference's own month-to-month variation (:func:`reference_variation`), None while it is being computed.
    """
    out: list[dict[str, object]] = []
    stats = {r["feature"]: r for r in ruler_stats.iter_rows(named=True)}
    own_variation = {
        r["feature"]: r for r in (variation.filter(pl.col("cohort") == cohort).iter_rows(named=True)
                                  if variation is not None else [])
    }
    for feature in features:
        own = bins.filter((pl.col("cohort") == cohort) & (pl.col("feature") == feature))
        if own.height == 0:
            raise ValueError(f"no reference bins for {cohort}/{feature}: materialise reference_feature_bins")
        regular = own.filter(pl.col("bin") != MISSING_BIN).sort("bin")
        edges = regular["upper"].drop_nulls().to_list()
        values = frame[feature].cast(pl.Float64).to_numpy()
        counts, missing = bin_counts(values, edges)
        total = max(values.size, 1)
        reference_missing = float(own.filter(pl.col("bin") == MISSING_BIN)["ref_share"].sum())
        ref_shares = [*regular["ref_share"].to_list(), reference_missing]
        cur_shares = [*(counts / total).tolist(), missing / total]
        value = psi(ref_shares, cur_shares, share_floor) if values.size else None

        q_ref = quantile_rows.filter((pl.col("cohort") == cohort) & (pl.col("feature") == feature)).sort("p")
        q_cur = quantiles(values, q_ref["p"].to_numpy()) if q_ref.height else None
        stat = stats.get(feature, {})
        sd = stat.get("stddev")
        distance = None
        if q_cur is not None and sd is not None and sd > 0:
            distance = wasserstein_from_quantiles(q_ref["value"].to_numpy(), q_cur) / float(sd)
        finite = finite_values(values)
        band = band_of(value, psi_investigate, psi_significant)
        varied = own_variation.get(feature, {})
        reference_distance = varied.get("max_wasserstein_sd")
        excess = distance - reference_distance if distance is not None and reference_distance is not None else None
        out.append(
            {
                "snapshot_date": day,
                "cohort": cohort,
                "feature": feature,
                "ruler_version": own["ruler_version"][0],
                "row_count": int(values.size),
                "missing_share": missing / total,
                "reference_missing_share": reference_missing,
                "current_mean": float(finite.mean()) if finite.size else None,
                "reference_mean": stat.get("mean"),
                "psi": value,
                "wasserstein_sd": distance,
                "band": band,
                "reference_max_psi": varied.get("max_psi"),
                "reference_max_wasserstein_sd": reference_distance,
                "excess_wasserstein_sd": excess,
                "drifted": band == SIGNIFICANT and excess is not None and excess >= min_excess_wasserstein_sd,
            }
        )
    return pl.DataFrame(out, schema=DRIFT_SCHEMA)


def reference_variation(
    frame: pl.DataFrame,
    cohort: str,
    features: Sequence[str],
    bins: pl.DataFrame,
    quantile_rows: pl.DataFrame,
    ruler_stats: pl.DataFrame,
    *,
    share_floor: float,
) -> pl.DataFrame:
    """The reference period's own variation: each month-end snapshot (``snapshot_date`` of ``frame``) measured
    against the pooled reference, the largest PSI and distance per feature.

    A day that moved no further from the reference than one of the reference's own months did is not drift in
    any useful sense, whatever its PSI (a feature shared by a whole region, or a seasonal one such as the ARPU
    change around a price rise inside the reference period).
    """
    ruler_version = bins["ruler_version"][0] if bins.height else ""
    days = sorted(set(frame["snapshot_date"].to_list()))
    per_day = [
        feature_drift_day(
            day, cohort, frame.filter(pl.col("snapshot_date") == day), features, bins, quantile_rows, ruler_stats,
            psi_investigate=math.inf, psi_significant=math.inf, share_floor=share_floor,
        )
        for day in days
    ]
    return (
        pl.concat(per_day)
        .group_by("cohort", "feature")
        .agg(
            pl.len().cast(pl.Int64).alias("snapshots"),
            pl.col("psi").max().alias("max_psi"),
            pl.col("wasserstein_sd").max().alias("max_wasserstein_sd"),
        )
        .with_columns(pl.lit(ruler_version, dtype=pl.String).alias("ruler_version"))
        .select(list(VARIATION_SCHEMA))
        .sort("cohort", "feature")
    )


def band_counts(drift: pl.DataFrame) -> pl.DataFrame:
    """Per day and cohort: features in each band, drifted features, the largest PSI and its feature."""
    return (
        drift.group_by("snapshot_date", "cohort")
        .agg(
            pl.len().alias("features"),
            *[(pl.col("band") == b).sum().alias(f"features_{b}") for b in BANDS],
            pl.col("drifted").sum().alias("features_drifted"),
            pl.col("psi").max().alias("max_psi"),
            pl.col("feature").sort_by("psi", descending=True, nulls_last=True).first().alias("max_psi_feature"),
            pl.col("wasserstein_sd").max().alias("max_wasserstein_sd"),
        )
        .with_columns(
            (pl.col(f"features_{SIGNIFICANT}") / pl.col("features")).alias("significant_share"),
            (pl.col("features_drifted") / pl.col("features")).alias("drifted_share"),
        )
        .sort("snapshot_date", "cohort")
    )

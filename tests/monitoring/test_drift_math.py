"""PSI, Wasserstein distance, bins and drift events against independent computations."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats

from trust_assets.monitoring import drift
from trust_assets.monitoring.drift_events import drifting_run, find_drift_events

RNG = np.random.default_rng(7)


def _independent_psi(reference: np.ndarray, current: np.ndarray, edges: list[float], floor: float) -> float:
    """PSI written out plainly: right-closed bins by explicit comparisons, plus a bin of NaNs."""
    bounds = [-np.inf, *edges, np.inf]
    shares = []
    for sample in (reference, current):
        finite = sample[~np.isnan(sample)]
        per_bin = [np.sum((finite > lo) & (finite <= hi)) for lo, hi in itertools.pairwise(bounds)]
        per_bin.append(np.sum(np.isnan(sample)))
        shares.append(np.maximum(np.array(per_bin, dtype=float) / sample.size, floor))
    ref, cur = shares
    return float(sum((c - r) * np.log(c / r) for r, c in zip(ref, cur, strict=True)))


@pytest.mark.parametrize(
    "reference, current",
    [
        (RNG.normal(0, 1, 20_000), RNG.normal(0.2, 1.1, 5_000)),
        (RNG.poisson(0.4, 20_000).astype(float), RNG.poisson(1.5, 4_000).astype(float)),
        (np.where(RNG.random(10_000) < 0.2, np.nan, RNG.exponential(3, 10_000)),
         np.where(RNG.random(3_000) < 0.4, np.nan, RNG.exponential(4, 3_000))),
    ],
)
def test_psi_matches_an_independent_computation(reference: np.ndarray, current: np.ndarray) -> None:
    bins = drift.reference_bins(reference, ruler_version="r", cohort="c", feature="f", bins=10)
    regular = bins.filter(pl.col("bin") != drift.MISSING_BIN).sort("bin")
    edges = regular["upper"].drop_nulls().to_list()
    shares = [*regular["ref_share"].to_list(), bins.filter(pl.col("bin") == drift.MISSING_BIN)["ref_share"][0]]
    counts, missing = drift.bin_counts(current, edges)
    current_shares = [*(counts / current.size).tolist(), missing / current.size]
    ours = drift.psi(shares, current_shares, 1e-4)
    assert ours == pytest.approx(_independent_psi(reference, current, edges, 1e-4), rel=1e-12, abs=1e-12)
    assert abs(sum(shares) - 1) < 1e-12


def test_psi_is_zero_for_the_reference_itself_and_grows_with_the_shift() -> None:
    reference = RNG.normal(0, 1, 50_000)
    edges = drift.equal_frequency_edges(reference, 10)
    ref_counts, _ = drift.bin_counts(reference, edges)
    shares = ref_counts / reference.size
    assert drift.psi(shares, shares, 1e-4) == 0.0
    values = []
    for shift in (0.05, 0.3, 1.0):
        counts, _ = drift.bin_counts(reference + shift, edges)
        values.append(drift.psi(shares, counts / reference.size, 1e-4))
    assert values == sorted(values) and values[0] < 0.01 and values[-1] > 0.25


def test_equal_frequency_edges_cut_equal_shares_and_collapse_ties() -> None:
    continuous = RNG.normal(0, 1, 10_000)
    edges = drift.equal_frequency_edges(continuous, 10)
    counts, _ = drift.bin_counts(continuous, edges)
    assert len(edges) == 9 and np.all(np.abs(counts / continuous.size - 0.1) < 0.002)
    mostly_zero = np.where(RNG.random(10_000) < 0.85, 0.0, RNG.integers(1, 5, 10_000)).astype(float)
    edges = drift.equal_frequency_edges(mostly_zero, 10)
    assert edges[0] == 0.0 and len(edges) == len(set(edges)) and len(edges) < 9


@pytest.mark.parametrize(
    "a, b",
    [
        (RNG.normal(0, 1, 8_000), RNG.normal(0.4, 1.3, 3_000)),
        (RNG.poisson(0.5, 6_000).astype(float), RNG.poisson(0.9, 2_500).astype(float)),
        (RNG.exponential(2, 10_000), RNG.exponential(2.5, 1_000)),
    ],
)
def test_wasserstein_on_the_quantile_grid_matches_scipy(a: np.ndarray, b: np.ndarray) -> None:
    grid = drift.quantile_points(200)
    ours = drift.wasserstein_from_quantiles(drift.quantiles(a, grid), drift.quantiles(b, grid))
    exact = stats.wasserstein_distance(a, b)
    # The stored reference is a 200-point quantile grid, not the full sample: within 3% of the exact distance.
    assert ours == pytest.approx(exact, rel=0.03, abs=0.005)


def test_feature_drift_day_uses_the_frozen_reference_and_ruler_units() -> None:
    reference = pl.DataFrame({"segment": ["s"] * 20_000, "x": RNG.normal(10, 2, 20_000)})
    bins, quantiles = drift.fit_reference({"c": reference}, {"c": ["x"]}, ruler_version="r", bins=10, points=200)
    ruler = pl.DataFrame({"feature": ["x"], "mean": [10.0], "stddev": [2.0]})
    today = pl.DataFrame({"x": RNG.normal(11, 2, 5_000)})
    row = drift.feature_drift_day(
        date(2026, 1, 1), "c", today, ["x"], bins, quantiles, ruler,
        psi_investigate=0.1, psi_significant=0.25, share_floor=1e-4,
    ).row(0, named=True)
    # A shift of half a reference sd: W1 is 1.0 in the feature's unit, 0.5 in ruler units.
    assert row["wasserstein_sd"] == pytest.approx(stats.wasserstein_distance(reference["x"], today["x"]) / 2, rel=0.03)
    assert row["band"] == drift.band_of(row["psi"], 0.1, 0.25) and row["psi"] > 0.1
    assert row["drifted"] is False and row["excess_wasserstein_sd"] is None  # no reference variation given


def test_drifted_means_significant_and_beyond_the_reference_months_own_variation() -> None:
    # Two reference "months" far apart (a seasonal feature): pooled, each month alone is far from the pool.
    months = [date(2025, 2, 28), date(2025, 3, 31)]
    frame = pl.DataFrame(
        {
            "snapshot_date": [months[0]] * 5_000 + [months[1]] * 5_000,
            "segment": ["s"] * 10_000,
            "x": np.concatenate([RNG.normal(0, 1, 5_000), RNG.normal(3, 1, 5_000)]),
        }
    )
    bins, quantiles = drift.fit_reference({"c": frame}, {"c": ["x"]}, ruler_version="r", bins=10, points=200)
    ruler = pl.DataFrame({"feature": ["x"], "mean": [1.5], "stddev": [float(frame["x"].std())]})
    variation = drift.reference_variation(frame, "c", ["x"], bins, quantiles, ruler, share_floor=1e-4)
    assert variation["snapshots"][0] == 2 and variation["max_psi"][0] > 0.25

    def day(values: np.ndarray) -> dict:
        return drift.feature_drift_day(
            date(2026, 2, 28), "c", pl.DataFrame({"x": values}), ["x"], bins, quantiles, ruler,
            psi_investigate=0.1, psi_significant=0.25, share_floor=1e-4, variation=variation,
            min_excess_wasserstein_sd=0.1,
        ).row(0, named=True)

    like_february = day(RNG.normal(0, 1, 3_000))  # significant PSI, but no further away than February was
    assert like_february["band"] == "significant" and not like_february["drifted"]
    far_away = day(RNG.normal(7, 1, 3_000))
    assert far_away["band"] == "significant" and far_away["drifted"]
    assert far_away["excess_wasserstein_sd"] == pytest.approx(
        far_away["wasserstein_sd"] - variation["max_wasserstein_sd"][0]
    )
    assert drift.reference_fingerprint(bins, quantiles) == drift.reference_fingerprint(
        bins.sample(fraction=1.0, shuffle=True, seed=1), quantiles.reverse()
    )


def test_bands_follow_the_configured_thresholds() -> None:
    assert [drift.band_of(v, 0.1, 0.25) for v in (0.0, 0.0999, 0.1, 0.2499, 0.25, 3.0)] == [
        "stable", "stable", "investigate", "investigate", "significant", "significant"
    ]
    assert drift.band_of(None, 0.1, 0.25) is None


def _counts(shares: list[float], start: date = date(2026, 2, 1)) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "snapshot_date": [start + timedelta(days=i) for i in range(len(shares))],
            "cohort": ["broadband"] * len(shares),
            "drifted_share": shares,
            "max_psi": [s * 2 for s in shares],
        }
    )


def test_drift_event_needs_k_consecutive_days() -> None:
    k = 3
    assert find_drift_events(_counts([0.0, 0.3, 0.3]), 0.1, k) == []
    events = find_drift_events(_counts([0.0, 0.3, 0.3, 0.3]), 0.1, k)
    assert [(e.cohort, e.since, e.consecutive_days) for e in events] == [("broadband", date(2026, 2, 2), 3)]
    # The same run one day later is the same event (same id); a calm latest day ends it; a gap breaks a run.
    later = find_drift_events(_counts([0.0, 0.3, 0.3, 0.3, 0.3]), 0.1, k)
    assert later[0].event_id == events[0].event_id
    assert find_drift_events(_counts([0.3, 0.3, 0.3, 0.0]), 0.1, k) == []
    gapped = _counts([0.3, 0.3, 0.3]).filter(pl.col("snapshot_date") != date(2026, 2, 2))
    assert drifting_run(gapped, "broadband", 0.1) == (date(2026, 2, 3), date(2026, 2, 3), 1)

"""Drift and score monitoring on generated data: a regional Broadband outage against quiet days."""

from __future__ import annotations

import json

import polars as pl

from tests.support import query
from trust_assets.config import FEATURES, SETTINGS

MON = SETTINGS.monitoring
# Features the outage moves directly: network outage minutes of the region (28-day window).
OUTAGE_FEATURES = {"outage_minutes_28d"}


def _drift(path) -> pl.DataFrame:
    return query(path, "select * from analytics.feature_drift order by snapshot_date, cohort, feature")


def test_outage_features_drift_significantly_on_outage_days(outage_warehouse) -> None:
    drift = _drift(outage_warehouse.path)
    hit = drift.filter(pl.col("cohort") == "broadband", pl.col("snapshot_date").is_in(outage_warehouse.outage_days))
    print(hit.filter(pl.col("band") != "stable").select("snapshot_date", "feature", "psi", "excess_wasserstein_sd"))
    for feature in OUTAGE_FEATURES:
        rows = hit.filter(pl.col("feature") == feature)
        assert rows.height == len(outage_warehouse.outage_days)
        assert (rows["psi"] > MON.psi_significant).all(), rows
        assert (rows["band"] == "significant").all() and rows["drifted"].all(), rows
    # Nothing else drifted: not the other Broadband features, not Mobile or TV.
    others = drift.filter(pl.col("snapshot_date").is_in(outage_warehouse.outage_days), pl.col("drifted"))
    assert set(zip(others["cohort"], others["feature"], strict=True)) == {("broadband", f) for f in OUTAGE_FEATURES}


def test_quiet_days_stay_stable_for_every_feature(outage_warehouse) -> None:
    drift = _drift(outage_warehouse.path)
    quiet = drift.filter(pl.col("snapshot_date").is_in(outage_warehouse.quiet_days))
    assert quiet.height == len(outage_warehouse.quiet_days) * sum(len(f) for f in FEATURES.values())
    worst = quiet.group_by("cohort", "feature").agg(pl.col("psi").max(), pl.col("wasserstein_sd").max()).sort(
        "psi", descending=True
    )
    print(f"largest quiet-day PSI per cohort and feature:\n{worst.head(8)}")
    print(f"largest PSI of a reference month-end against the pooled reference: {quiet['reference_max_psi'].max()}")
    # Every feature of every cohort in the stable band, none drifted: the base world moves only by slow data growth.
    assert (quiet["psi"] < MON.psi_investigate).all(), worst.filter(pl.col("psi") >= MON.psi_investigate)
    assert (quiet["band"] == "stable").all()
    assert not quiet["drifted"].any(), quiet.filter(pl.col("drifted"))


def test_broadband_score_distribution_drifts_on_outage_days_only(outage_warehouse) -> None:
    scores = query(outage_warehouse.path, "select * from analytics.score_distribution order by snapshot_date, cohort")
    print(scores.select("snapshot_date", "cohort", "mean", "score_psi", "share_outside_reference"))
    broadband = scores.filter(pl.col("cohort") == "broadband")
    outage = broadband.filter(pl.col("snapshot_date").is_in(outage_warehouse.outage_days)).sort("snapshot_date")
    quiet = scores.filter(pl.col("snapshot_date").is_in(outage_warehouse.quiet_days))
    assert outage.height == len(outage_warehouse.outage_days)
    assert quiet.height == 3 * len(outage_warehouse.quiet_days)
    # From the first outage day on (a full day of outage minutes in the window) the significant band; quiet days stable.
    assert (outage["score_psi"] > MON.psi_significant).all(), outage
    assert (quiet["score_psi"] < MON.psi_investigate).all(), quiet
    assert outage["mean"].max() < quiet.filter(pl.col("cohort") == "broadband")["mean"].min()
    for row in scores.iter_rows(named=True):
        counts = json.loads(row["histogram"])
        assert sum(counts) == row["row_count"] and len(counts) == MON.score_histogram_bins


def test_score_distribution_matches_an_independent_computation(outage_warehouse) -> None:
    day = outage_warehouse.outage_days[-1]
    published = query(
        outage_warehouse.path,
        "select cohort, row_count, mean, p50, share_outside_reference from analytics.score_distribution"
        " where snapshot_date = $d order by cohort",
        {"d": day},
    )
    independent = query(
        outage_warehouse.path,
        "select cohort, count(*) as n, avg(trust_score) as mean, quantile_cont(trust_score, 0.5) as p50"
        " from analytics.customer_trust_signal where snapshot_date = $d group by cohort order by cohort",
        {"d": day},
    )
    assert published["row_count"].to_list() == independent["n"].to_list()
    assert (published["mean"] - independent["mean"]).abs().max() < 1e-12
    assert (published["p50"] - independent["p50"]).abs().max() < 1e-12
    assert ((published["share_outside_reference"] >= 0) & (published["share_outside_reference"] <= 1)).all()


def test_reports_are_written_and_linked(outage_warehouse) -> None:
    for day in [*outage_warehouse.quiet_days, *outage_warehouse.outage_days]:
        page = (outage_warehouse.reports_dir / f"monitoring_{day.isoformat()}.html").read_text()
        assert page.count('class="plot"') >= 9, day  # three plots per product

"""The outcome-monitoring checks' rules on small hand-made frames, and their registration."""

from __future__ import annotations

from datetime import date

import dagster as dg
import polars as pl

from asset_checks.catalog import ASSET_CHECKS
from asset_checks.monitoring_outcomes import auc_drop_violations, decile_order_violations, disparity_violations
from trust_assets.monitoring.fairness import fairness_rows, worst_disparity

DAY = date(2025, 7, 31)


def test_auc_drop_warns_only_beyond_the_tolerance() -> None:
    rows = pl.DataFrame({
        "scoring_date": [DAY] * 3, "cohort": ["mobile", "tv", "broadband"], "model": ["churn"] * 3,
        "model_version": ["m", "t", "b"], "roc_auc": [0.70, 0.64, None], "heldout_roc_auc": [0.72, 0.72, 0.7],
        "roc_auc_change": [-0.02, -0.08, None],
    })  # fmt: skip
    found = auc_drop_violations(rows, 0.05)
    assert len(found) == 1 and found[0].failing_rows == 1
    assert found[0].examples["cohort"].to_list() == ["tv"]
    assert auc_drop_violations(rows, 0.10) == []


def test_decile_order_rule() -> None:
    good = pl.DataFrame({"scoring_date": [DAY] * 3, "cohort": ["tv"] * 3, "trust_decile": [1, 2, 3],
                         "churn_rate": [0.3, 0.2, 0.1]})  # fmt: skip
    assert decile_order_violations(good) == []
    flat = good.with_columns(pl.Series("churn_rate", [0.1, 0.2, 0.1]))
    assert decile_order_violations(flat)[0].failing_rows == 1


def test_fairness_rows_flag_a_shifted_large_group_only() -> None:
    # Cohort mean 0.091, std 0.233: east sits 3 std away, north 0.39, south 0.18; tiny is too small to judge.
    big, east, rows_total = 1000, 200, 2210
    frame = pl.DataFrame({
        "cohort": ["tv"] * rows_total,
        "region": ["north"] * big + ["south"] * big + ["east"] * east + ["tiny"] * 10,
        "segment": ["basic"] * rows_total,
        "trust_score": [0.0] * big + [0.05] * big + [0.8] * east + [-0.9] * 10,
        "p_churn": [0.1] * rows_total,
        "is_churn": [None] * rows_total,
    }, schema_overrides={"is_churn": pl.Boolean})  # fmt: skip
    rows = fairness_rows(frame, DAY, threshold=0.5, min_group_size=30, at_risk_trust=-0.5)
    region = rows.filter(pl.col("dimension") == "region").sort("group_value")
    flagged = dict(zip(region["group_value"], region["exceeds_threshold"], strict=True))
    assert flagged == {"east": True, "north": False, "south": False, "tiny": False}
    assert region.filter(pl.col("group_value") == "tiny")["judged"].to_list() == [False]
    assert not rows["outcomes_matured"].any()
    assert disparity_violations(rows)[0].failing_rows == 1
    worst = worst_disparity(rows).filter(pl.col("dimension") == "region")
    assert worst["worst_group"].to_list() == ["east"] and worst["groups_exceeding"].to_list() == [1]


def test_checks_are_registered_on_the_monitoring_tables() -> None:
    keys = {spec.key for check in ASSET_CHECKS for spec in check.check_specs}
    assert dg.AssetCheckKey(dg.AssetKey("matured_outcome_performance"), "matured_auc_within_tolerance") in keys
    assert dg.AssetCheckKey(dg.AssetKey("trust_decile_outcomes"), "lowest_trust_decile_churns_most") in keys
    assert dg.AssetCheckKey(dg.AssetKey("fairness_by_group"), "disparity_within_threshold") in keys

"""The guards are wired into the code location: the gate runs before the daily dbt models in every job that
builds them, and every check is registered (asset_checks/catalog.py says how)."""

from __future__ import annotations

import dagster as dg

from asset_checks.catalog import ASSET_CHECKS, GATE_KEY, GUARD_ASSETS

C360 = dg.AssetKey("customer_360_definition")


def test_the_gate_is_an_asset_upstream_of_customer_360() -> None:
    from trust_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    assert GATE_KEY in graph.get_all_asset_keys(), "Definitions(assets=[..., *GUARD_ASSETS]) is missing"
    assert GATE_KEY in graph.get(C360).parent_keys, (
        "customer_360_definition must depend on raw_source_contract (dbt translator: deps on GATE_KEY)"
    )
    gate_checks = {k.name for k in graph.get(GATE_KEY).check_keys}
    assert gate_checks == {s.name for s in GUARD_ASSETS[0].check_specs}


def test_the_gate_runs_in_every_job_that_builds_customer_360() -> None:
    from trust_assets.definitions import defs

    for name in ("daily_trust_job", "features_job"):
        job = defs.resolve_job_def(name)
        nodes = {n.name for n in job.graph.nodes}
        assert "raw_source_contract" in nodes, name
        upstream = job.graph.dependency_structure.input_to_upstream_outputs_for_node("trust_dbt_daily_models")
        assert any(o.node_name == "raw_source_contract" for outs in upstream.values() for o in outs), name


def test_every_check_is_registered_and_blocking_where_documented() -> None:
    from trust_assets.definitions import defs

    registered = defs.resolve_asset_graph().asset_check_keys
    expected = {spec.key for check in ASSET_CHECKS for spec in check.check_specs}
    assert expected <= registered, f"Definitions(asset_checks=ASSET_CHECKS) is missing {expected - registered}"
    non_blocking = {
        (spec.asset_key.to_user_string(), spec.name)
        for check in ASSET_CHECKS
        for spec in check.check_specs
        if not spec.blocking
    }
    assert non_blocking == {
        ("mobile_features", "missing_share"),
        ("tv_features", "missing_share"),
        ("broadband_features", "missing_share"),
        ("hierarchical_reference_stats", "stddev_usable"),
        # Monitoring never blocks publishing (docs/monitoring.md).
        ("feature_drift", "drift_bands"),
        ("score_distribution", "score_distribution_stable"),
        ("monitoring_report", "report_written"),
        # Outcome monitors warn only (docs/monitoring_outcomes.md).
        ("matured_outcome_performance", "matured_auc_within_tolerance"),
        ("trust_decile_outcomes", "lowest_trust_decile_churns_most"),
        ("fairness_by_group", "disparity_within_threshold"),
    }

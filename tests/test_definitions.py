"""The code location's wiring, asserted here and nowhere else: it loads and validates, shows the lineage, and
holds the jobs, schedules, sensors, guards and checks the product runs on (which assets each job builds, what each
sensor targets, which checks block). Behaviour of those pieces is tested beside them (tests/guards, tests/operations,
tests/monitoring)."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg

from asset_checks.catalog import ASSET_CHECKS, GATE_KEY, GUARD_ASSETS
from tests.support import PRODUCT_ASSETS
from trust_assets.config import SETTINGS
from trust_assets.operations.gate import ALERTS_ON_RUN_STATUS

LINEAGE_EDGES = [
    ("customer_360_definition", "mobile_features"),
    ("customer_360_definition", "tv_features"),
    ("customer_360_definition", "broadband_features"),
    ("mobile_features", "hierarchical_reference_stats"),
    ("hierarchical_reference_stats", "trust_model_weights"),
    ("outcome_labels", "model_registry"),
    ("trust_model_weights", "customer_trust_signal"),
    ("model_registry", "customer_trust_signal"),
    ("hierarchical_reference_stats", "customer_trust_signal"),
    ("broadband_features", "customer_trust_signal"),
]


def _graph() -> dg.AssetGraph:  # type: ignore[name-defined]
    from trust_assets.definitions import defs

    return defs.resolve_asset_graph()


def test_definitions_load_with_the_product_assets_and_lineage() -> None:
    graph = _graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert set(PRODUCT_ASSETS) <= keys
    assert {f"raw/{t}" for t in ("customers", "bills", "contract_events")} <= keys
    for upstream, downstream in LINEAGE_EDGES:
        parents = {k.to_user_string() for k in graph.get(dg.AssetKey(downstream)).parent_keys}
        assert upstream in parents, f"{upstream} -> {downstream} missing from the lineage"


def test_every_asset_is_described_owned_and_grouped() -> None:
    graph = _graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.description and len(node.description) > 30, f"{name} lacks a readable description"
        assert node.owners, f"{name} has no owner"
        assert node.group_name and node.group_name != "default", f"{name} is not in an architecture group"


JOBS = {
    "daily_trust_job",
    "features_job",
    "foundation_job",
    "ruler_and_models_job",
    "monitoring_report_job",
    "outcome_monitoring_job",
    "retrain_models_job",
    "start_shadow_job",
    "readiness_gate_job",
    "approve_model_job",
    "promote_model_job",
    "rollback_model_job",
    "archive_model_job",
    "start_canary_job",
    "stop_canary_job",
}
# The operating loop's jobs: the op each runs and the typed config fields it takes.
OPERATION_JOBS = {
    "retrain_models_job": ("retrain_models", {"cohorts", "reference_date", "reason", "requested_by"}),
    "start_shadow_job": ("start_shadow", {"model_version", "actor", "reason"}),
    "readiness_gate_job": ("readiness_gate", {"model_version"}),
    "approve_model_job": ("approve_model", {"model_version", "approver", "reason"}),
    "promote_model_job": ("promote_model", {"model_version", "actor", "reason"}),
    "rollback_model_job": ("rollback_model", {"cohort", "actor", "reason", "evidence"}),
    "archive_model_job": ("archive_model", {"model_version", "actor", "reason"}),
    "start_canary_job": ("start_canary", {"model_version", "actor", "reason"}),
    "stop_canary_job": ("stop_canary", {"model_version", "actor", "reason"}),
}
C360 = dg.AssetKey("customer_360_definition")


def test_jobs_and_schedules() -> None:
    from trust_assets.definitions import defs

    assert {j.name for j in defs.resolve_all_job_defs()} - {"__ASSET_JOB"} == JOBS
    for job_name, (op_name, fields) in OPERATION_JOBS.items():
        job = defs.resolve_job_def(job_name)
        config_fields = set(job.graph.node_named(op_name).definition.config_schema.config_type.fields)
        assert fields <= config_fields, (job_name, config_fields)
    daily_schedule = defs.resolve_schedule_def("daily_trust_job_schedule")
    assert daily_schedule.cron_schedule.startswith("0 6 ") and daily_schedule.job_name == "daily_trust_job"
    retrain = defs.resolve_schedule_def("retrain_models_schedule")
    assert retrain.cron_schedule == SETTINGS.operations.retrain_cron
    assert retrain.default_status == dg.DefaultScheduleStatus.STOPPED
    assert retrain.job_name == "retrain_models_job"


def test_the_daily_job_builds_the_shadow_and_probation_assets() -> None:
    from trust_assets.definitions import defs

    daily = defs.resolve_job_def("daily_trust_job").asset_layer.executable_asset_keys
    probation = SETTINGS.probation
    expected = {SETTINGS.operations.shadow_table, probation.previous_champion_table, probation.guard_table}
    assert {dg.AssetKey(name) for name in expected} <= daily


def test_sensors_and_what_they_target() -> None:
    from trust_assets.definitions import defs

    failure_sensor = defs.resolve_sensor_def("run_failure_alert_sensor")
    assert isinstance(failure_sensor, dg.RunStatusSensorDefinition)
    # The status it watches, stated in public metadata for the readiness gate (item 3).
    assert failure_sensor.metadata[ALERTS_ON_RUN_STATUS].value == dg.DagsterRunStatus.FAILURE.value
    drift = defs.resolve_sensor_def("feature_drift_sensor")
    assert drift.job_name == "retrain_models_job" and drift.job_name in JOBS
    rollback = defs.resolve_sensor_def("automatic_rollback_sensor")
    assert [t.job_name for t in rollback.targets] == ["rollback_model_job"]
    # The tests run on the local target: the sensor waits to be started there, and runs by itself on BigQuery.
    assert rollback.default_status == dg.DefaultSensorStatus.STOPPED
    assert f"{SETTINGS.probation.consecutive_days} consecutive days" in (rollback.description or "")


def test_the_gate_is_an_asset_upstream_of_customer_360() -> None:
    graph = _graph()
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
    registered = _graph().asset_check_keys
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


def test_dagster_cli_validates_the_workspace() -> None:
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert result.returncode == 0, result.stdout + result.stderr

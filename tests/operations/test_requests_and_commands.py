"""The operating loop in the code location and on the command line: jobs with typed config, the retraining
schedule (stopped by default), the shadow asset in the daily job, and ``--help`` on every command."""

from __future__ import annotations

from pathlib import Path

import pytest

from trust_assets.cli import build_parser
from trust_assets.config import SETTINGS

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
COMMANDS = ["list", "train", "shadow", "gate", "approve", "canary", "canary-stop", "promote", "rollback", "archive",
            "audit"]


def test_jobs_have_typed_config_and_the_schedule_is_stopped() -> None:
    import dagster as dg

    from trust_assets.definitions import defs

    for job_name, (op_name, fields) in OPERATION_JOBS.items():
        job = defs.resolve_job_def(job_name)
        config_fields = set(job.graph.node_named(op_name).definition.config_schema.config_type.fields)
        assert fields <= config_fields, (job_name, config_fields)
    schedule = defs.resolve_schedule_def("retrain_models_schedule")
    assert schedule.cron_schedule == SETTINGS.operations.retrain_cron
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.job_name == "retrain_models_job"
    daily = defs.resolve_job_def("daily_trust_job")
    assert dg.AssetKey(SETTINGS.operations.shadow_table) in daily.asset_layer.executable_asset_keys
    failure_sensor = defs.resolve_sensor_def("run_failure_alert_sensor")
    assert isinstance(failure_sensor, dg.RunStatusSensorDefinition)


def test_retrain_config_defaults_and_refusals(tmp_path: Path) -> None:
    import duckdb

    from resources.warehouse import DuckDBWarehouse
    from trust_assets.operations.jobs import RetrainConfig, retrain_models_job

    config = RetrainConfig()
    assert config.cohorts == ["mobile", "tv", "broadband"]
    assert config.reference_date == SETTINGS.model.reference_date.isoformat()

    # A request the job cannot honour fails the run with one line saying why, before anything is trained.
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    refusals = {
        "unknown cohort": ({"cohorts": ["fixed-line"]}, "unknown or no cohorts ['fixed-line']"),
        "no cohort": ({"cohorts": []}, "unknown or no cohorts []"),
        "impossible date": ({"reference_date": "2026-02-30"}, "day is out of range for month"),
    }
    for case, (fields, message) in refusals.items():
        result = retrain_models_job.execute_in_process(
            run_config={"ops": {"retrain_models": {"config": {"reason": case, **fields}}}},
            resources={"warehouse": DuckDBWarehouse(path=str(path))}, raise_on_error=False,
        )
        (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        description = failure.step_failure_data.user_failure_data.description or ""
        assert not result.success and description.startswith("Retraining refused: "), (case, description)
        assert message in description, (case, description)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_models_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["models", command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: trust models " + command in capsys.readouterr().out


def test_refused_command_exits_with_status_one(tmp_path, monkeypatch, capsys) -> None:
    import duckdb

    from trust_assets import cli

    # A warehouse file must exist (the CLI refuses a missing one before anything else); the actor is refused.
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    monkeypatch.setenv("TRUST_DUCKDB_PATH", str(tmp_path / "empty.duckdb"))
    assert cli.main(["models", "approve", "tv-none", "--reason", "x", "--approver", " "]) == 1
    assert "refused" in capsys.readouterr().out


def test_training_settings_move_the_outcome_window() -> None:
    from datetime import date

    from trust_assets.operations.retrain import training_settings

    assert training_settings() == SETTINGS.model
    moved = training_settings(date(2025, 6, 30), logistic_c=0.05)
    assert (moved.outcome_start, moved.outcome_end) == (date(2025, 7, 1), date(2025, 12, 31))
    assert moved.logistic_c == 0.05 and moved.ridge_alpha == SETTINGS.model.ridge_alpha


def test_probation_assets_run_daily_and_the_rollback_sensor_targets_the_rollback_job() -> None:
    import dagster as dg

    from trust_assets.definitions import defs

    daily = defs.resolve_job_def("daily_trust_job").asset_layer.executable_asset_keys
    probation = SETTINGS.probation
    assert {dg.AssetKey(probation.previous_champion_table), dg.AssetKey(probation.guard_table)} <= daily
    sensor = defs.resolve_sensor_def("automatic_rollback_sensor")
    assert [t.job_name for t in sensor.targets] == ["rollback_model_job"]
    # The tests run on the local target: the sensor waits to be started there, and runs by itself on BigQuery.
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert f"{probation.consecutive_days} consecutive days" in (sensor.description or "")

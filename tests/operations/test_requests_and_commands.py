"""The operating loop's requests: the retrain job refuses what it cannot honour, every ``trust models`` command has
``--help``, a refused command exits with status one, and the training settings move the outcome window. (Which jobs,
schedules and sensors the code location holds is asserted in tests/test_definitions.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from trust_assets.cli import build_parser
from trust_assets.config import SETTINGS

COMMANDS = ["list", "train", "shadow", "gate", "approve", "canary", "canary-stop", "promote", "rollback", "archive",
            "audit"]


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


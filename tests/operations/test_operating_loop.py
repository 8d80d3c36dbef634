"""The whole operating loop on a private copy of the session warehouse, through the real jobs, assets and CLI:

v1 in production (from the pipeline) -> retrain v2 -> shadow -> gate fails before the minimum shadow days and
passes after -> self-approval refused, approval by a second person -> promotion (refused while the gate fails)
-> the next partitions are scored with v2 -> rollback restores v1 and re-scores them. The audit trail shows every
step in order and the partitions published before the promotion stay bit-identical.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from resources.warehouse import DuckDBWarehouse
from tests.support import query, table_fingerprint
from trust_assets import cli
from trust_assets.config import SETTINGS
from trust_assets.definitions import defs
from trust_assets.operations.audit import read_trail, state
from trust_assets.operations.gate import evaluate_gate
from trust_assets.operations.jobs import promote_model_job, retrain_models_job, rollback_model_job
from trust_assets.operations.promotion import PromotionRefused, promote
from trust_assets.store.models import read_registry

SIGNAL = "analytics.customer_trust_signal"
ORDER = "snapshot_date, cohort, customer_id"
COHORT = "tv"
MIN_DAYS = SETTINGS.operations.min_shadow_days


def _status(wh: DuckDBWarehouse) -> dict[str, str]:
    reg = read_registry(wh).filter(pl.col("cohort") == COHORT)
    return dict(reg.select("model_version", "status").iter_rows())


def _days_fingerprint(path: Path, days: list) -> str:
    frame = query(path, f"select * from {SIGNAL} where snapshot_date between ? and ? order by {ORDER}",
                  [days[0], days[-1]])
    return str(hash(frame.write_csv()))


def _ok(result) -> None:
    assert result.success, [e.message for e in result.all_events if e.is_failure]


def test_operating_loop(pipeline_warehouse, materialize_on, tmp_path: Path, monkeypatch, capsys) -> None:
    path = pipeline_warehouse.copy_to(tmp_path)
    wh = DuckDBWarehouse(path=str(path))
    days = pipeline_warehouse.scoring_dates
    assert len(days) >= MIN_DAYS + 1
    shadow_window, later = days[:MIN_DAYS], days[MIN_DAYS:]
    # The days after the shadow window have "not arrived yet": they are published after the promotion.
    original_later = _days_fingerprint(path, later)
    con = duckdb.connect(str(path))
    con.execute(f"delete from {SIGNAL} where snapshot_date >= ?", [later[0]])
    con.close()
    published_before = table_fingerprint(path, SIGNAL, ORDER)
    monkeypatch.setenv("TRUST_DUCKDB_PATH", str(path))

    (v1,) = [v for v, s in _status(wh).items() if s == "production"]
    fixture_events = read_trail(wh, model_version=v1)["event_type"].to_list()
    assert fixture_events == ["trained", "promoted"]

    # The gate reads the daily monitors as evidence; build them on the copy if the pipeline did not.
    if not (wh.table_exists("feature_drift") and wh.table_exists("score_distribution")):
        _ok(materialize_on(path, ["reference_feature_bins"]))
        _ok(materialize_on(path, ["feature_drift", "score_distribution"], shadow_window[0], shadow_window[-1]))

    # Retrain: a different regularisation gives a new version, registered as development.
    _ok(retrain_models_job.execute_in_process(
        run_config={"ops": {"retrain_models": {"config": {
            "cohorts": [COHORT], "reason": "viewing drift", "requested_by": "alice", "logistic_c": 0.05}}}},
        resources={"warehouse": wh},
    ))  # fmt: skip
    (v2,) = [v for v, s in _status(wh).items() if s == "development"]
    trained = read_trail(wh, model_version=v2).row(0, named=True)
    comparison = state(trained["after_state"])["champion_comparison"]
    assert trained["actor"] == "alice" and comparison["churn_auc"]["champion"] is not None

    assert cli.main(["models", "shadow", v2, "--reason", "challenger for the drift", "--actor", "alice"]) == 0
    assert _status(wh)[v2] == "staging"

    # Shadow for fewer days than the minimum: the gate fails on the shadow item alone.
    shadow = materialize_on(path, ["customer_trust_signal_shadow"], shadow_window[0], shadow_window[1])
    _ok(shadow)
    meta = shadow.get_asset_materialization_events()[0].materialization.metadata
    assert 0.5 < meta[f"{COHORT}_spearman"].value <= 1.0
    assert 0.0 <= meta[f"{COHORT}_decile_moved_share"].value < 1.0
    report = evaluate_gate(wh, v2, defs)
    assert [i.number for i in report.failing] == [5], report.table()
    assert cli.main(["models", "gate", v2]) == 1
    assert "| 5 | Shadow period | FAIL | 2 days in shadow" in capsys.readouterr().out

    # Approval: not by the trainer, then by a second person.
    assert cli.main(["models", "approve", v2, "--reason", "mine", "--approver", "alice"]) == 1
    assert "cannot approve" in capsys.readouterr().out
    assert cli.main(["models", "approve", v2, "--reason", "metrics and shadow reviewed", "--approver", "bob"]) == 0
    with pytest.raises(PromotionRefused, match="fails the readiness gate"):
        promote(wh, v2, "carol", "too early", defs)

    _ok(materialize_on(path, ["customer_trust_signal_shadow"], shadow_window[2], shadow_window[-1]))
    report = evaluate_gate(wh, v2, defs)
    assert report.passed, report.table()

    # From the code location, as the UI launches it: the job's run sees the location's jobs and sensors.
    _ok(defs.resolve_job_def(promote_model_job.name).execute_in_process(
        run_config={"ops": {"promote_model": {"config": {
            "model_version": v2, "actor": "carol", "reason": "better calibrated after the drift"}}}},
        resources={"warehouse": wh},
    ))  # fmt: skip
    assert _status(wh) == {v1: "archived", v2: "production"}
    assert table_fingerprint(path, SIGNAL, ORDER) == published_before  # nothing published was touched
    promoted = read_trail(wh, model_version=v2).filter(pl.col("event_type") == "promoted").row(0, named=True)
    assert state(promoted["after_state"])["effective_from"] == later[0].isoformat()

    # The next partitions are scored with the new champion.
    _ok(materialize_on(path, ["customer_trust_signal"], later[0], later[-1]))
    versions = query(path, f"select distinct model_version from {SIGNAL} where cohort = ? and snapshot_date >= ?",
                     [COHORT, later[0]])
    assert versions["model_version"].to_list() == [v2]

    # Rollback at "2am": v1 restored, the days since the promotion re-scored with it.
    started = time.perf_counter()
    result = rollback_model_job.execute_in_process(
        run_config={"ops": {"rollback_model": {"config": {
            "cohort": COHORT, "actor": "dave", "reason": "complaints about tv scores"}}}},
        resources={"warehouse": wh},
    )  # fmt: skip
    wall = time.perf_counter() - started
    _ok(result)
    assert _status(wh) == {v1: "production", v2: "archived"}
    # The re-scored days are bit-identical to what v1 had published for them before the whole episode.
    assert _days_fingerprint(path, later) == original_later
    assert table_fingerprint(path, SIGNAL, ORDER) != published_before
    before_rows = query(path, f"select * from {SIGNAL} where snapshot_date < ? order by {ORDER}", [later[0]])
    con = duckdb.connect(str(path))
    con.execute(f"delete from {SIGNAL} where snapshot_date >= ?", [later[0]])
    con.close()
    assert table_fingerprint(path, SIGNAL, ORDER) == published_before and before_rows.height > 0

    trail = read_trail(wh, cohort=COHORT).filter(pl.col("model_version").is_in([v1, v2]))
    steps = list(zip(trail["event_type"].to_list(), trail["model_version"].to_list(), trail["actor"].to_list(),
                     strict=True))
    assert steps[2:] == [
        ("trained", v2, "alice"), ("shadow_started", v2, "alice"), ("approved", v2, "bob"),
        ("promoted", v2, "carol"), ("archived", v1, "carol"), ("rolled_back", v2, "dave"), ("rolled_back", v1, "dave"),
    ]  # fmt: skip
    assert steps[:2] == [("trained", v1, steps[0][2]), ("promoted", v1, steps[0][2])]
    assert trail["occurred_at"].is_sorted()
    print(f"\nrollback of {COHORT} at {pipeline_warehouse.customers} customers, {len(later)} days re-scored: "
          f"{wall:.2f} s job wall time")

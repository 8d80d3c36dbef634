"""Automatic rollback end to end on a private copy of the session warehouse, with the real assets, sensor, jobs
and command line.

Three versions go through the whole path of a promotion (`trust models shadow`, five days in shadow, `trust models
approve` by a second person, promote_model_job behind the readiness gate) and go live on the same day: tv gets
its champion's weights with flipped signs (harmful; its held-out metrics are the champion's, as for a model whose
offline evaluation missed the fault), mobile a slightly perturbed copy (benign), broadband flipped weights too,
but its previous champion loses its weights before the sensor looks (it cannot be restored). Day by day: one
breached day is not enough; outside probation nothing happens; after K = 2 days tv is rolled back through
rollback_model_job and broadband only alerted; the sensor never decides twice; the re-scored tv days equal what
the old champion had published, and so does a day re-run after the rollback.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from resources.warehouse import DuckDBWarehouse
from tests.operations.variants import champion, register_variant
from tests.support import query
from trust_assets import cli
from trust_assets.config import SETTINGS
from trust_assets.definitions import defs
from trust_assets.operations import auto_rollback
from trust_assets.operations.audit import read_trail, state
from trust_assets.operations.jobs import promote_model_job, rollback_model_job
from trust_assets.sensors import automatic_rollback_sensor
from trust_assets.services.monitoring import write_report

PROBATION = SETTINGS.probation
SIGNAL = "analytics.customer_trust_signal"
ORDER = "snapshot_date, cohort, customer_id"
DAILY = ["customer_trust_signal", PROBATION.previous_champion_table, PROBATION.guard_table]


def _effective_from(wh: DuckDBWarehouse, version: str) -> str:
    promoted = read_trail(wh, model_version=version).filter(pl.col("event_type") == "promoted")
    return state(promoted["after_state"][-1])["effective_from"]


def _tick(path: Path) -> dg.SensorResult | dg.SkipReason:
    # The warehouse resource holds the file's lock for the context's lifetime: leave it before running jobs.
    with dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"warehouse": DuckDBWarehouse(path=str(path))}
    ) as context:
        return automatic_rollback_sensor(context)


def _alerts(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@dataclass
class Episode:
    path: Path
    later: list[date]
    versions: dict[str, tuple[str, str]]  # cohort -> (previous champion, promoted version)
    original_later: pl.DataFrame
    guard_events: list[dg.AssetMaterialization]
    guard_rows: pl.DataFrame  # the probation tables as the sensor read them, before the rollback
    previous_rows: pl.DataFrame
    ticks: dict[str, dg.SensorResult | dg.SkipReason]
    alerts_after_decision: list[dict]
    alerts: list[dict]
    rollback_result: dg.ExecuteInProcessResult
    audit_cli: list[dict]
    report: str


@pytest.fixture(scope="module")
def episode(pipeline_warehouse, materialize_on, tmp_path_factory) -> Iterator[Episode]:
    tmp = tmp_path_factory.mktemp("automatic-rollback")
    path = pipeline_warehouse.copy_to(tmp)
    alerts_file = tmp / "alerts.jsonl"
    wh = DuckDBWarehouse(path=str(path))
    days = pipeline_warehouse.scoring_dates
    # The readiness gate's minimum shadow period comes first; the days after it are published under probation.
    before, later = days[:SETTINGS.operations.min_shadow_days], days[SETTINGS.operations.min_shadow_days:]
    assert len(later) >= 2, "the session warehouse needs K = 2 scoring days after the shadow period"
    original_later = query(path, f"select * from {SIGNAL} where snapshot_date >= ? order by {ORDER}", [later[0]])
    con = duckdb.connect(str(path))
    con.execute(f"delete from {SIGNAL} where snapshot_date >= ?", [later[0]])
    con.close()

    factors = {"tv": "-1", "mobile": "1 + 0.08 * ((i % 3) - 1)", "broadband": "-1"}
    versions: dict[str, tuple[str, str]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRUST_DUCKDB_PATH", str(path))
        for cohort, factor in factors.items():
            old = champion(wh, cohort)
            new = f"{cohort}-probation-{'benign' if cohort == 'mobile' else 'flipped'}"
            register_variant(path, old, new, factor, status="development")
            assert cli.main(["models", "shadow", new, "--reason", "challenger", "--actor", "alice"]) == 0
            versions[cohort] = (old, new)
        shadow = materialize_on(path, ["customer_trust_signal_shadow"], before[0], before[-1])
        assert shadow.success, [e.message for e in shadow.all_events if e.is_failure]
        for cohort, (_, new) in versions.items():
            assert cli.main(["models", "approve", new, "--reason", "shadow reviewed", "--approver", "bob"]) == 0
            # From the code location, as the UI launches it: the gate reads the location's jobs and sensors.
            promoted = defs.resolve_job_def(promote_model_job.name).execute_in_process(
                run_config={"ops": {"promote_model": {"config": {
                    "model_version": new, "actor": "carol", "reason": "looks better"}}}},
                resources={"warehouse": wh},
            )  # fmt: skip
            assert promoted.success
            assert (champion(wh, cohort), _effective_from(wh, new)) == (new, later[0].isoformat())

    ticks: dict[str, dg.SensorResult | dg.SkipReason] = {}
    guard_events: list[dg.AssetMaterialization] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRUST_ALERTS_FILE", str(alerts_file))
        mp.setenv("TRUST_DUCKDB_PATH", str(path))
        for day in later[:2]:
            result = materialize_on(path, DAILY, day, day)
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            guard_events += [
                e.materialization for e in result.get_asset_materialization_events()
                if e.materialization.asset_key == dg.AssetKey(PROBATION.guard_table)
            ]
            if day == later[0]:
                ticks["one_day"] = _tick(path)
        # The broadband champion it replaced cannot be restored any more: its weights are gone.
        con = duckdb.connect(str(path))
        con.execute("delete from analytics.trust_model_weights where model_version = ?", [versions["broadband"][0]])
        con.close()
        with pytest.MonkeyPatch.context() as short:
            short.setattr(auto_rollback, "PROBATION", replace(PROBATION, days=1))
            ticks["outside_probation"] = _tick(path)
        assert not _alerts(alerts_file)
        ticks["decision"] = _tick(path)
        guard_rows = query(path, f"select * from analytics.{PROBATION.guard_table} order by snapshot_date, cohort")
        previous_rows = query(path, f"select * from analytics.{PROBATION.previous_champion_table} order by {ORDER}")
        alerts_after_decision = _alerts(alerts_file)
        mp.setenv("TRUST_REPORTS_DIR", str(tmp / "reports"))
        report = Path(write_report(wh, later[1])[0]).read_text()
        ticks["again"] = _tick(path)
        assert isinstance(ticks["decision"], dg.SensorResult)
        (request,) = ticks["decision"].run_requests or []
        rollback_result = rollback_model_job.execute_in_process(
            run_config=request.run_config, resources={"warehouse": wh}, tags=request.tags
        )
        ticks["after_rollback"] = _tick(path)
        # The last day is published again after the rollback (a re-run) and is scored by the restored champion.
        result = materialize_on(path, DAILY, later[-1], later[-1])
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        ticks["last_day"] = _tick(path)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.main(["models", "audit", "--cohort", "tv", "--json"]) == 0
        audit_cli = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        alerts = _alerts(alerts_file)
    yield Episode(path, later, versions, original_later, guard_events, guard_rows, previous_rows, ticks,
                  alerts_after_decision, alerts, rollback_result, audit_cli, report)


def test_one_breached_day_and_days_outside_probation_do_nothing(episode: Episode) -> None:
    assert isinstance(episode.ticks["one_day"], dg.SkipReason)
    assert isinstance(episode.ticks["outside_probation"], dg.SkipReason)


def test_guard_metrics_per_day_show_the_harmful_and_the_benign_promotion(episode: Episode) -> None:
    metrics = episode.guard_rows
    first_two = metrics.filter(pl.col("snapshot_date").cast(pl.Date) <= episode.later[1])
    assert first_two.group_by("cohort").len().sort("cohort").rows() == [("broadband", 2), ("mobile", 2), ("tv", 2)]
    tv = first_two.filter(pl.col("cohort") == "tv")
    mobile = first_two.filter(pl.col("cohort") == "mobile")
    assert (tv["rank_agreement"] < -0.95).all()  # flipped signs reverse the order
    assert (mobile["rank_agreement"] > 0.95).all() and (mobile["score_psi"] < PROBATION.max_score_psi).all()
    assert (mobile["mean_shift"].abs() < PROBATION.max_mean_shift).all()
    assert (tv["customers"] > 500).all()
    assert metrics["matured_auc_drop"].is_null().all()  # no outcome window of these days has closed
    with pl.Config(tbl_cols=12, tbl_width_chars=200, float_precision=3):
        print(f"\n{first_two.drop('champion_version', 'previous_version', 'matured_auc_drop')}")
    # Each partition carries its own day's figures (not the run's), named to plot over partitions.
    by_day = {e.partition: e.metadata for e in episode.guard_events}
    assert sorted(by_day) == [d.isoformat() for d in episode.later[:2]]
    for row in first_two.iter_rows(named=True):
        meta = by_day[row["snapshot_date"].isoformat()]
        for metric in ("rank_agreement", "score_psi", "outside_share", "missing_feature_share", "mean_shift"):
            assert meta[f"{row['cohort']}_{metric}"].value == pytest.approx(row[metric], rel=1e-12)
        assert any(b.startswith("tv: rank_agreement < 0.8") for b in meta["breaches"].value)
        assert not any(b.startswith("mobile") for b in meta["breaches"].value)


def test_previous_champion_scores_are_what_it_published(episode: Episode) -> None:
    old_tv = episode.versions["tv"][0]
    shadow = episode.previous_rows.filter(pl.col("cohort") == "tv")
    original = episode.original_later.filter(
        (pl.col("cohort") == "tv") & (pl.col("snapshot_date") <= episode.later[1])
    )
    assert shadow["model_version"].unique().to_list() == [old_tv]
    assert shadow.select(original.columns).equals(original)


def test_harmful_promotion_is_rolled_back_after_k_days(episode: Episode) -> None:
    decision = episode.ticks["decision"]
    assert isinstance(decision, dg.SensorResult)
    (request,) = decision.run_requests or []
    old_tv, bad_tv = episode.versions["tv"]
    config = request.run_config["ops"]["rollback_model"]["config"]
    assert (request.job_name, config["cohort"], config["actor"]) == ("rollback_model_job", "tv", "automatic-rollback")
    assert episode.rollback_result.success
    wh = DuckDBWarehouse(path=str(episode.path))
    assert champion(wh, "tv") == old_tv
    # The re-scored days and the day published after the rollback equal what the old champion had published.
    now = query(episode.path, f"select * from {SIGNAL} where cohort = 'tv' and snapshot_date >= ? order by {ORDER}",
                [episode.later[0]])
    assert now.equals(episode.original_later.filter(pl.col("cohort") == "tv"))
    # The benign promotion stays in production and keeps publishing.
    assert champion(wh, "mobile") == episode.versions["mobile"][1]
    mobile = query(episode.path, f"select distinct model_version from {SIGNAL} where cohort = 'mobile' "
                   "and snapshot_date >= ?", [episode.later[0]])
    assert mobile["model_version"].to_list() == [episode.versions["mobile"][1]]

    event = read_trail(wh, model_version=bad_tv).filter(pl.col("event_type") == "rolled_back").row(0, named=True)
    assert event["actor"] == "automatic-rollback"
    guard = state(event["after_state"])["guard"]
    assert guard["metric"] == "rank_agreement" and guard["threshold"] == PROBATION.min_rank_agreement
    assert guard["days"] == [d.isoformat() for d in episode.later[:2]]
    assert len(guard["values"]) == 2 and all(v < -0.95 for v in guard["values"])
    assert state(event["after_state"])["rescore_days"] == [d.isoformat() for d in episode.later[:2]]
    shown = [e for e in episode.audit_cli if e["event_type"] == "rolled_back" and e["model_version"] == bad_tv]
    assert shown and shown[0]["actor"] == "automatic-rollback"
    print(f"\nautomatic rollback audit event: {json.dumps(state(event['after_state']), sort_keys=True)}")


def test_a_day_rerun_after_the_rollback_is_out_of_probation_for_that_product(episode: Episode) -> None:
    day = episode.later[-1]
    guard = query(episode.path, f"select cohort from analytics.{PROBATION.guard_table} where snapshot_date = ? "
                  "order by cohort", [day])
    previous = query(episode.path, f"select distinct cohort from analytics.{PROBATION.previous_champion_table} "
                     "where snapshot_date = ? order by cohort", [day])
    # tv's promotion ended with its rollback; broadband's previous champion lost its weights, so nothing can score
    # in its shadow or be compared with it any more (the withheld alert says so). Mobile stays on probation.
    assert guard["cohort"].to_list() == ["mobile"]
    assert previous["cohort"].to_list() == ["mobile"]


def test_previous_champion_unavailable_alerts_instead(episode: Episode) -> None:
    old_bb, bad_bb = episode.versions["broadband"]
    wh = DuckDBWarehouse(path=str(episode.path))
    assert champion(wh, "broadband") == bad_bb  # not rolled back
    withheld = [a for a in episode.alerts_after_decision if a["kind"] == "automatic_rollback_withheld"]
    assert [a["cohort"] for a in withheld] == ["broadband"]
    assert f"{old_bb} cannot score" in withheld[0]["details"]["why"]
    assert withheld[0]["details"]["metric"] == "rank_agreement"
    requested = [a for a in episode.alerts_after_decision if a["kind"] == "automatic_rollback"]
    assert [a["cohort"] for a in requested] == ["tv"]
    assert requested[0]["details"]["days"] == [d.isoformat() for d in episode.later[:2]]
    assert "What to look at" in requested[0]["message"]
    done = [a for a in episode.alerts if a["kind"] == "automatic_rollback_done"]
    assert [(a["cohort"], a["details"]["restored"]) for a in done] == [("tv", episode.versions["tv"][0])]


def test_never_twice_for_the_same_promotion(episode: Episode) -> None:
    for tick in ("again", "after_rollback", "last_day"):
        assert isinstance(episode.ticks[tick], dg.SkipReason), tick
    decided = query(episode.path, f"select cohort, action from analytics.{PROBATION.events_table} order by cohort")
    assert decided.rows() == [("broadband", "alerted_previous_unavailable"), ("tv", "rollback_requested")]
    # Alerts: one per decision, plus the completed rollback's; nothing from the later ticks.
    assert sorted(a["kind"] for a in episode.alerts) == [
        "automatic_rollback", "automatic_rollback_done", "automatic_rollback_withheld"
    ]


def test_monitoring_report_shows_the_probation_guards(episode: Episode) -> None:
    section = episode.report.split("<section id='probation'>")[1].split("</section>")[0]
    for cohort in ("tv", "mobile", "broadband"):
        assert episode.versions[cohort][1] in section
    assert "rank_agreement" in section and episode.later[1].isoformat() in section

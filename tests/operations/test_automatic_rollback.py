"""Automatic rollback end to end on a private copy of the session warehouse, with the real assets, sensor, job
and command line.

Three promotions go live on the same day: tv gets its champion's weights with flipped signs (harmful), mobile a
slightly perturbed copy (benign), broadband flipped weights too, but its previous champion loses its weights
before the sensor looks (it cannot be restored). Day by day: one breached day is not enough; outside probation
nothing happens; after K = 2 days tv is rolled back through rollback_model_job and broadband only alerted; the
sensor never decides twice; the re-scored tv days equal what the old champion had published.
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
from trust_assets.assets.monitoring_drift import write_report
from trust_assets.config import SETTINGS
from trust_assets.operations import auto_rollback
from trust_assets.operations.audit import EventType, read_trail, state
from trust_assets.operations.jobs import rollback_model_job
from trust_assets.operations.registry_store import StatusChange, transition
from trust_assets.scoring.registry import ModelStatus
from trust_assets.sensors import automatic_rollback_sensor

PROBATION = SETTINGS.probation
SIGNAL = "analytics.customer_trust_signal"
ORDER = "snapshot_date, cohort, customer_id"
DAILY = ["customer_trust_signal", PROBATION.previous_champion_table, PROBATION.guard_table]


def _promote(wh: DuckDBWarehouse, new: str, old: str, effective: date, last_before: date) -> None:
    """The registry change and audit events of a promotion, as promote() writes them. The readiness gate and the
    four-eyes approval in front of it are exercised by test_operating_loop; here only what follows matters."""
    transition(
        wh,
        [
            StatusChange(new, ModelStatus.STAGING, ModelStatus.PRODUCTION, EventType.PROMOTED, "looks better",
                         {"champion": old}, {"approved_by": "bob", "effective_from": effective.isoformat(),
                                             "last_published_before": last_before.isoformat()}),
            StatusChange(old, ModelStatus.PRODUCTION, ModelStatus.ARCHIVED, EventType.ARCHIVED,
                         f"replaced by {new}", None, {"replaced_by": new}),
        ],
        "carol",
    )


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
    before, later = days[:4], days[4:]
    original_later = query(path, f"select * from {SIGNAL} where snapshot_date >= ? order by {ORDER}", [later[0]])
    con = duckdb.connect(str(path))
    con.execute(f"delete from {SIGNAL} where snapshot_date >= ?", [later[0]])
    con.close()

    factors = {"tv": "-1", "mobile": "1 + 0.08 * ((i % 3) - 1)", "broadband": "-1"}
    versions: dict[str, tuple[str, str]] = {}
    for cohort, factor in factors.items():
        old = champion(wh, cohort)
        new = f"{cohort}-probation-{'benign' if cohort == 'mobile' else 'flipped'}"
        register_variant(path, old, new, factor)
        _promote(wh, new, old, later[0], before[-1])
        versions[cohort] = (old, new)

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
        # The last day arrives after the rollback and is scored by the restored champion.
        result = materialize_on(path, DAILY, later[2], later[2])
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        ticks["last_day"] = _tick(path)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.main(["models", "audit", "--cohort", "tv", "--json"]) == 0
        audit_cli = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        alerts = _alerts(alerts_file)
    yield Episode(path, later, versions, original_later, guard_events, ticks, alerts_after_decision, alerts,
                  rollback_result, audit_cli, report)


def test_one_breached_day_and_days_outside_probation_do_nothing(episode: Episode) -> None:
    assert isinstance(episode.ticks["one_day"], dg.SkipReason)
    assert isinstance(episode.ticks["outside_probation"], dg.SkipReason)


def test_guard_metrics_per_day_show_the_harmful_and_the_benign_promotion(episode: Episode) -> None:
    metrics = query(episode.path, f"select * from analytics.{PROBATION.guard_table} order by snapshot_date, cohort")
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
    shadow = query(episode.path, f"select * from analytics.{PROBATION.previous_champion_table} "
                   f"where cohort = 'tv' and snapshot_date <= ? order by {ORDER}", [episode.later[1]])
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

"""The production-readiness gate: the ten items of docs/architecture.md §4, each with the evidence the system shows.

Evidence comes from the warehouse (registry, audit trail, shadow and published tables, monitoring tables),
from the code location (jobs, schedules, sensors, asset groups) and from the repository evidence recorded when
the code was set up and tested (feature tests and their results, the runbook: repository_evidence.py), never
from the source tree at promotion time.
Promotion is refused while any item fails.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.config import PROJECT_ROOT, SETTINGS, Cohort, OperationsSettings, feature_names
from trust_assets.operations.audit import EventType, read_trail, state
from trust_assets.operations.canary import canary_versions
from trust_assets.operations.registry_store import version_row, versions_with_status
from trust_assets.operations.repository_evidence import (
    FEATURE_TESTS,
    ROLLBACK_COMMAND,
    RUNBOOK,
    RepositoryEvidence,
    evidence_path,
    load,
)
from trust_assets.operations.retrain import COMPARED_METRICS
from trust_assets.operations.serving import score_window
from trust_assets.operations.shadow import shadow_days
from trust_assets.scoring.registry import ModelStatus
from trust_assets.scoring.training import code_version
from trust_assets.store.models import load_version, read_registry, ruler_row_count, weights_of
from trust_assets.store.signal import latest_published_day, signal_rows
from trust_assets.tables import feature_table

DAILY_JOB = "daily_trust_job"
RETRAIN_JOB = "retrain_models_job"
ROLLBACK_JOB = "rollback_model_job"
FEATURE_TABLES = tuple(feature_table(c.value) for c in Cohort)
# Dagster keeps the run status a run-status sensor watches private, so an alerting sensor states it in its public
# metadata under this key (the value a ``dg.DagsterRunStatus`` value, e.g. "FAILURE"), beside the decorator that
# sets it (run_failure_alert_sensor in operations/jobs.py); item 3 reads it there.
ALERTS_ON_RUN_STATUS = "alerts_on_run_status"


@dataclass(frozen=True)
class GateItem:
    number: int
    name: str
    passed: bool
    evidence: str


@dataclass(frozen=True)
class GateReport:
    model_version: str
    cohort: str
    items: list[GateItem]

    @property
    def passed(self) -> bool:
        return all(i.passed for i in self.items)

    @property
    def failing(self) -> list[GateItem]:
        return [i for i in self.items if not i.passed]

    def table(self) -> str:
        """The pass/fail table, as Markdown (readable in a terminal and in the Dagster UI)."""
        lines = [
            f"Readiness gate for {self.model_version} ({self.cohort}): {'PASS' if self.passed else 'FAIL'}",
            "",
            "| # | item | result | evidence |",
            "| ---: | --- | --- | --- |",
        ]
        for i in self.items:
            evidence = i.evidence.replace("|", "/").replace("\n", " ")
            lines.append(f"| {i.number} | {i.name} | {'pass' if i.passed else 'FAIL'} | {evidence} |")
        return "\n".join(lines)


# The code location whose jobs, schedules, sensors and assets are evidence: the Definitions object (command line,
# tests) or, inside a run, the run's own repository (``context.repository_def``). Passed in, never imported here:
# the code location imports the jobs that evaluate the gate.
CodeLocation = dg.Definitions | dg.RepositoryDefinition


def _repository(location: CodeLocation) -> dg.RepositoryDefinition:
    return location.get_repository_def() if isinstance(location, dg.Definitions) else location


class CodeLocationHandle:
    """The code location, handed to the operating loop's ops as the ``code_location`` resource.

    trust_assets/definitions.py creates the handle, builds the Definitions with it and then binds them to it, so
    the gate and promotion ops read the location's jobs and sensors without importing the module that imports
    them (and in every kind of run: Dagster sets a step's repository only in runs launched from a workspace).
    """

    def __init__(self) -> None:
        self._location: CodeLocation | None = None

    def bind(self, location: CodeLocation) -> None:
        self._location = location

    def get(self) -> CodeLocation:
        if self._location is None:
            raise RuntimeError("the code_location resource is not bound: run the job from trust_assets.definitions")
        return self._location


@dataclass(frozen=True)
class _Context:
    warehouse: WarehouseResource
    location: dg.RepositoryDefinition
    row: dict[str, Any]
    registry: pl.DataFrame
    settings: OperationsSettings
    root: Path
    latest_published: date | None
    evidence: RepositoryEvidence | None
    evidence_file: Path

    def no_evidence(self) -> str:
        return (f"no repository evidence recorded in {self.evidence_file}: "
                "run `bash scripts/dev.sh setup` (or the build step that records it)")


# --- code-location helpers ----------------------------------------------------------------------------------
def _job_assets(location: dg.RepositoryDefinition, job_name: str) -> set[str]:
    try:
        job = location.get_job(job_name)
    except Exception:  # an absent job is evidence, not an error
        return set()
    return {k.to_user_string() for k in job.asset_layer.executable_asset_keys}


def _schedule_jobs(location: dg.RepositoryDefinition) -> dict[str, str]:
    out = {}
    for s in location.schedule_defs:
        job_name = getattr(s, "job_name", None) or getattr(getattr(s, "job", None), "name", None)
        out[s.name] = str(job_name)
    return out


def _sensors(location: dg.RepositoryDefinition) -> list[Any]:
    return list(location.sensor_defs)


def _alerts_on(sensor: dg.SensorDefinition) -> str | None:
    """The run status a run-status sensor says it alerts on (its metadata, ALERTS_ON_RUN_STATUS), if any."""
    value = (sensor.metadata or {}).get(ALERTS_ON_RUN_STATUS)
    return str(getattr(value, "value", value)) if value is not None else None


def _sensor_targets(sensor: Any) -> set[str]:
    names: set[str] = set()
    for target in getattr(sensor, "targets", []) or []:
        name = getattr(target, "job_name", None)
        if name:
            names.add(name)
    return names


# --- the ten items ------------------------------------------------------------------------------------------
def _feature_pipeline(ctx: _Context) -> GateItem:
    scheduled = [
        n for n, j in _schedule_jobs(ctx.location).items() if set(FEATURE_TABLES) <= _job_assets(ctx.location, j)
    ]
    schedules = f"schedules building the feature tables: {', '.join(scheduled) or 'none'}"
    if ctx.evidence is None:
        return GateItem(1, "Scheduled and tested feature pipeline", False, f"{schedules}; {ctx.no_evidence()}")
    tests, results = ctx.evidence.feature_test_files, ctx.evidence.feature_test_results
    passing = results is None or (results.failed == 0 and results.passed > 0)
    if results is None:
        outcome = "results of the last test run not recorded"
    else:
        outcome = f"last recorded run {results.passed} passed, {results.failed} failed, {results.skipped} skipped"
    return GateItem(
        1, "Scheduled and tested feature pipeline", bool(scheduled) and bool(tests) and passing,
        f"{schedules}; feature tests: {len(tests)} files in {FEATURE_TESTS}, {outcome} "
        f"(recorded {ctx.evidence.recorded_at})",
    )


def _parity(ctx: _Context) -> GateItem:
    cohort, version = ctx.row["cohort"], ctx.row["model_version"]
    weights = weights_of(ctx.warehouse, version)
    trained_on = set(weights["feature"].to_list())
    served = set(feature_names(cohort))
    ruler_rows = ruler_row_count(ctx.warehouse, ctx.row["ruler_version"], cohort)
    same_code = ctx.row["code_version"] == code_version(ctx.root)
    ok = trained_on == served and ruler_rows > 0 and same_code
    return GateItem(
        2, "Training/serving parity", ok,
        f"weights cover {len(trained_on & served)}/{len(served)} served features"
        f"{'' if trained_on == served else f' (differ: {sorted(trained_on ^ served)})'}; "
        f"ruler {ctx.row['ruler_version']}: {ruler_rows} rows; "
        f"trained with {'the current' if same_code else 'a different'} scoring code ({ctx.row['code_version'][:12]})",
    )


def _scoring_job(ctx: _Context) -> GateItem:
    try:
        retries = int(ctx.location.get_job(DAILY_JOB).tags.get("dagster/max_retries", 0))
    except Exception:
        retries = 0
    alerts = [
        s.name for s in _sensors(ctx.location)
        if isinstance(s, dg.RunStatusSensorDefinition) and _alerts_on(s) == dg.DagsterRunStatus.FAILURE.value
    ]
    ok = retries >= 1 and bool(alerts)
    return GateItem(
        3, "Scoring job with retries and failure alerts", ok,
        f"{DAILY_JOB} max_retries={retries}; run-failure sensors: {', '.join(alerts) or 'none'}",
    )


def _offline_evaluation(ctx: _Context) -> GateItem:
    row, tol = ctx.row, ctx.settings.metric_tolerance
    metrics = json.loads(row["metrics"] or "{}")
    if not row["n_holdout"] or any(metrics.get(m) is None for m in COMPARED_METRICS):
        return GateItem(4, "Offline evaluation on held-out data", False, "no held-out metrics recorded")
    trained = read_trail(ctx.warehouse, model_version=row["model_version"])
    trained = trained.filter(pl.col("event_type") == EventType.TRAINED.value)
    comparison = state(trained["after_state"][-1]).get("champion_comparison") if trained.height else None
    if not comparison:
        # No comparison recorded at training: compare with the champion's own held-out metrics.
        champions = [v for v in versions_with_status(ctx.registry, row["cohort"], ModelStatus.PRODUCTION)
                     if v != row["model_version"]]
        champ = json.loads(version_row(ctx.registry, champions[0])["metrics"] or "{}") if champions else {}
        comparison = {m: {"champion": champ.get(m), "challenger": metrics.get(m)} for m in COMPARED_METRICS}
    worse, parts = [], []
    for m in COMPARED_METRICS:
        old, new = comparison.get(m, {}).get("champion"), comparison.get(m, {}).get("challenger")
        if new is None or math.isnan(new):
            parts.append(f"{m} n/a")
            worse.append(m)
            continue
        parts.append(f"{m} {new:.4f}" + (f" vs champion {old:.4f}" if old is not None else ""))
        if old is not None and new < old - tol:
            worse.append(m)
    ok = not worse
    return GateItem(
        4, "Offline evaluation on held-out data", ok,
        f"{row['n_holdout']} held-out customers, serving-time inputs; " + "; ".join(parts)
        + (f"; worse than the champion beyond {tol}: {', '.join(worse)}" if worse else f" (tolerance {tol})"),
    )


def _shadow_period(ctx: _Context) -> GateItem:
    days = shadow_days(ctx.warehouse, ctx.row["model_version"])
    need = ctx.settings.min_shadow_days
    span = f" ({days[0]} .. {days[-1]})" if days else ""
    return GateItem(5, "Shadow period", len(days) >= need, f"{len(days)} days in shadow{span}; minimum {need}")


def _monitoring_assets(ctx: _Context) -> list[str]:
    graph = ctx.location.asset_graph
    group = ctx.settings.monitoring_group
    return sorted(k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name == group)


def _monitoring(ctx: _Context) -> GateItem:
    name = "Monitoring of predictions, drift and outcomes"
    assets = set(_monitoring_assets(ctx))
    outcome_missing = [a for a in ctx.settings.outcome_monitoring_assets if a not in assets]
    lag = timedelta(days=ctx.settings.max_monitoring_lag_days)
    fresh, stale = [], []
    for table in ctx.settings.fresh_monitoring_tables:
        latest = None
        if table in assets and ctx.warehouse.table_exists(table):
            latest = ctx.warehouse.read(f"select max(snapshot_date) as d from {{analytics}}.{table}")["d"][0]
        if latest is not None and ctx.latest_published is not None and latest >= ctx.latest_published - lag:
            fresh.append(f"{table} ({latest})")
        else:
            stale.append(f"{table} ({latest or 'absent'})")
    ok = not stale and not outcome_missing
    defined = [a for a in ctx.settings.outcome_monitoring_assets if a in assets]
    return GateItem(
        6, name, ok,
        f"daily monitors fresh within {lag.days} days of {ctx.latest_published}: {', '.join(fresh) or 'none'}"
        + (f"; stale or absent: {', '.join(stale)}" if stale else "")
        + f"; outcome monitors defined: {', '.join(defined) or 'none'}"
        + (f"; missing: {', '.join(outcome_missing)}" if outcome_missing else ""),
    )


def _drift_alerts(ctx: _Context) -> GateItem:
    sensors = [s.name for s in _sensors(ctx.location) if "drift" in s.name]
    return GateItem(7, "Drift alerts", bool(sensors), f"drift sensors: {', '.join(sensors) or 'none'}")


def _retraining_criterion(ctx: _Context) -> GateItem:
    schedules = [n for n, j in _schedule_jobs(ctx.location).items() if j == RETRAIN_JOB]
    sensors = [s.name for s in _sensors(ctx.location) if RETRAIN_JOB in _sensor_targets(s)]
    ok = bool(schedules or sensors)
    return GateItem(
        8, "Retraining criterion", ok,
        f"{RETRAIN_JOB} started by schedules: {', '.join(schedules) or 'none'}; "
        f"by sensors: {', '.join(sensors) or 'none'}",
    )


def _rollback_drill(ctx: _Context) -> GateItem:
    """Drill: re-score the latest published day with the champion in memory; it must reproduce the published
    rows exactly, which is what a rollback to that champion relies on."""
    cohort = ctx.row["cohort"]
    champions = versions_with_status(ctx.registry, cohort, ModelStatus.PRODUCTION)
    if len(champions) != 1 or ctx.latest_published is None:
        return GateItem(9, "Tested rollback", False, "no single champion with published scores to fall back to")
    day = ctx.latest_published
    published = signal_rows(
        ctx.warehouse, day, day, ("customer_id", "trust_score", "model_version"), cohort, order_by="customer_id"
    )
    model = load_version(ctx.warehouse, version_row(ctx.registry, champions[0])).scoring_pair
    redone = score_window(ctx.warehouse, {Cohort(cohort): model}, day, day).sort("customer_id")
    # During a canary the canary customers carry the candidate's rows: the drill compares the champion's.
    own = published["model_version"] == champions[0]
    canary = canary_versions(ctx.warehouse).get(cohort)
    same = (
        published.height == redone.height
        and bool(own.any())
        and published["customer_id"].to_list() == redone["customer_id"].to_list()
        and published.filter(own)["trust_score"].to_list() == redone.filter(own)["trust_score"].to_list()
        and set(published["model_version"].to_list()) <= {champions[0], canary}
    )
    documented = ctx.evidence is not None and ctx.evidence.rollback_command_documented
    # The same rollback runs by itself during probation: the sensor that requests it must exist.
    automatic = [sensor.name for sensor in _sensors(ctx.location) if ROLLBACK_JOB in _sensor_targets(sensor)]
    return GateItem(
        9, "Tested rollback", same and documented and bool(automatic),
        f"drill: re-scored {redone.height} {cohort} rows of {day} with champion {champions[0]}: "
        f"{'identical to' if same else 'DIFFERENT from'} the published rows; rollback command "
        f"`{ROLLBACK_COMMAND}` {'documented' if documented else 'not documented'} in {RUNBOOK}"
        f"{'' if ctx.evidence else ' (' + ctx.no_evidence() + ')'}; automatic rollback in probation by "
        f"{', '.join(automatic) or 'no sensor'}",
    )


def _runbook(ctx: _Context) -> GateItem:
    if ctx.evidence is None:
        return GateItem(10, "Operational runbook", False, ctx.no_evidence())
    present, absent = ctx.evidence.runbook_present, ctx.evidence.runbook_topics_missing
    return GateItem(
        10, "Operational runbook", present and not absent,
        f"{RUNBOOK} {'present' if present else 'missing'}"
        + (f"; lacks sections on: {', '.join(absent)}" if absent else "; covers rollback, promotion, 07:00 failure")
        + f" (recorded {ctx.evidence.recorded_at})",
    )


ITEMS: tuple[Callable[[_Context], GateItem], ...] = (
    _feature_pipeline, _parity, _scoring_job, _offline_evaluation, _shadow_period,
    _monitoring, _drift_alerts, _retraining_criterion, _rollback_drill, _runbook,
)


def evaluate_gate(
    warehouse: WarehouseResource,
    model_version: str,
    location: CodeLocation,
    settings: OperationsSettings = SETTINGS.operations,
    root: Path = PROJECT_ROOT,
    evidence_file: Path | None = None,
) -> GateReport:
    """Evaluate the ten readiness items for ``model_version`` (an item that cannot gather evidence fails)."""
    registry = read_registry(warehouse)
    row = version_row(registry, model_version)
    evidence_file = evidence_file or evidence_path()
    ctx = _Context(warehouse, _repository(location), row, registry, settings, root, latest_published_day(warehouse),
                   load(evidence_file), evidence_file)
    items = []
    for number, item in enumerate(ITEMS, start=1):
        try:
            items.append(item(ctx))
        except Exception as exc:  # evidence that cannot be read is a failing item, shown with its cause
            items.append(GateItem(number, item.__name__.strip("_").replace("_", " "), False, f"error: {exc}"))
    return GateReport(model_version, row["cohort"], items)

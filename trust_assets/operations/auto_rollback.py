"""The automatic rollback's decision: which promotion in probation regressed, and what to do about it.

A decision is taken once per promotion and recorded in ``probation_guard_events`` before anything is sent, so a
failing webhook or a second tick never acts twice. The rollback itself is a run of ``rollback_model_job``, the
manual rollback's path, requested with the guard evidence in its config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS, ProbationSettings
from trust_assets.monitoring.alerts import AlertSink
from trust_assets.operations.guard_alerts import rollback_requested_alert, rollback_withheld_alert
from trust_assets.operations.guard_metrics import Regression, find_regression
from trust_assets.operations.probation import Probation, previous_champion_unavailable, probations
from trust_assets.store.signal import latest_published_day

PROBATION = SETTINGS.probation
ROLLBACK_JOB = "rollback_model_job"
ROLLBACK_REQUESTED = "rollback_requested"
ALERTED = "alerted_previous_unavailable"

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "promotion_event_id": pl.String(),
    "cohort": pl.String(),
    "champion_version": pl.String(),
    "previous_version": pl.String(),
    "action": pl.String(),
    "metric": pl.String(),
    "threshold": pl.Float64(),
    "days": pl.String(),
    "metric_values": pl.String(),
    "detail": pl.String(),
    "decided_at": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class Decision:
    probation: Probation
    regression: Regression
    # Why the previous champion cannot be restored; None when the rollback goes ahead.
    unavailable: str | None

    @property
    def action(self) -> str:
        return ALERTED if self.unavailable else ROLLBACK_REQUESTED

    @property
    def run_key(self) -> str:
        return f"automatic-rollback-{self.probation.promotion_event_id}"


def _handled(warehouse: WarehouseResource) -> set[str]:
    if not warehouse.table_exists(PROBATION.events_table):
        return set()
    found = warehouse.read(f"select promotion_event_id from {{analytics}}.{PROBATION.events_table}")
    return set(found["promotion_event_id"].to_list())


def decide(warehouse: WarehouseResource, settings: ProbationSettings | None = None) -> list[Decision]:
    """Promotions whose probation is running (the cohort's latest published day lies in it), that have not been
    decided on before, and where a guard breached on K consecutive days inside the probation window."""
    settings = settings or PROBATION
    if not warehouse.table_exists(settings.guard_table):
        return []
    handled = _handled(warehouse)
    out: list[Decision] = []
    for probation in probations(warehouse, settings):
        if probation.promotion_event_id in handled:
            continue
        latest = latest_published_day(warehouse, probation.cohort)
        if latest is None or not probation.covers(latest):
            continue
        metrics = warehouse.read(
            f"select * from {{analytics}}.{settings.guard_table} where cohort = $c and champion_version = $v",
            {"c": probation.cohort, "v": probation.champion},
        ).with_columns(pl.col("snapshot_date").cast(pl.Date))
        regression = find_regression(metrics, probation.effective_from, probation.last_day, settings)
        if regression is not None:
            out.append(Decision(probation, regression, previous_champion_unavailable(warehouse, probation)))
    return out


def event_row(decision: Decision) -> pl.DataFrame:
    evidence = decision.regression.evidence()
    return pl.DataFrame(
        [
            {
                "promotion_event_id": decision.probation.promotion_event_id,
                "cohort": decision.probation.cohort,
                "champion_version": decision.probation.champion,
                "previous_version": decision.probation.previous,
                "action": decision.action,
                "metric": evidence["metric"],
                "threshold": evidence["threshold"],
                "days": json.dumps(evidence["days"]),
                "metric_values": json.dumps(evidence["values"]),
                "detail": decision.unavailable or decision.run_key,
                "decided_at": datetime.now(UTC),
            }
        ],
        schema=EVENTS_SCHEMA,
    )


def rollback_request(decision: Decision, settings: ProbationSettings | None = None) -> dg.RunRequest:
    """The run of rollback_model_job that restores the previous champion: the one place that knows the shape
    of its config for the automatic path."""
    settings = settings or PROBATION
    regression = decision.regression
    return dg.RunRequest(
        run_key=decision.run_key,
        job_name=ROLLBACK_JOB,
        run_config={
            "ops": {
                "rollback_model": {
                    "config": {
                        "cohort": decision.probation.cohort,
                        "actor": settings.actor,
                        "reason": f"guard {regression.guard.describe()} breached on "
                        f"{', '.join(d.isoformat() for d in regression.days)} in the probation of "
                        f"{decision.probation.champion}",
                        "evidence": json.dumps(regression.evidence()),
                    }
                }
            }
        },
        tags={"trust/cohort": decision.probation.cohort, "trust/automatic_rollback": decision.probation.champion},
    )


def evaluate_probation(
    warehouse: WarehouseResource, sink: AlertSink, settings: ProbationSettings | None = None
) -> list[dg.RunRequest]:
    """Act on every new decision: record it, alert, and return the rollback runs to launch."""
    requests: list[dg.RunRequest] = []
    for decision in decide(warehouse, settings):
        # Record first: a failing alert sink must not make the next tick decide (and roll back) again.
        warehouse.append((settings or PROBATION).events_table, event_row(decision))
        if decision.unavailable:
            sink.send(rollback_withheld_alert(decision.probation, decision.regression, decision.unavailable))
            continue
        request = rollback_request(decision, settings)
        try:
            sink.send(rollback_requested_alert(decision.probation, decision.regression, decision.run_key))
        finally:
            requests.append(request)
    return requests

"""The alerts of the automatic rollback: what happened, on which evidence, and what the on-call person looks at.

They go through the monitoring's sinks (:func:`trust_assets.monitoring.alerts.default_sink`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from trust_assets.config import SETTINGS
from trust_assets.monitoring.alerts import Alert
from trust_assets.operations.guard_metrics import Regression
from trust_assets.operations.probation import Probation
from trust_assets.operations.rollback import Rollback

GUARD_TABLE = SETTINGS.probation.guard_table
ACTOR = SETTINGS.probation.actor


def _evidence_lines(regression: Regression) -> list[str]:
    pairs = ", ".join(f"{d.isoformat()}: {v:.3f}" for d, v in zip(regression.days, regression.values, strict=True))
    return [f"Guard {regression.guard.describe()} breached on {len(regression.days)} consecutive days ({pairs})."]


def _look_at(probation: Probation, since: date) -> list[str]:
    return [
        "What to look at:",
        f"- {GUARD_TABLE} for {probation.cohort} since {since.isoformat()} (every guard, every day), and its "
        "per-day metadata in the UI;",
        f"- `trust models audit --version {probation.champion}`: how {probation.champion} was trained, shadowed "
        "and approved, and what its shadow comparison showed;",
        "- the monitoring report of the latest day (score distribution against the reference);",
        "- docs/runbook.md, 'H2. An automatic rollback happened'.",
    ]


def rollback_requested_alert(probation: Probation, regression: Regression, run_key: str) -> Alert:
    message = "\n".join(
        [
            f"{probation.champion} ({probation.cohort}) was promoted over {probation.previous} from "
            f"{probation.effective_from.isoformat()} and is in probation until {probation.last_day.isoformat()}.",
            *_evidence_lines(regression),
            f"rollback_model_job was requested (run key {run_key}, actor {ACTOR}): {probation.previous} becomes "
            f"the {probation.cohort} champion again and the days published by {probation.champion} are re-scored.",
            *_look_at(probation, probation.effective_from),
        ]
    )
    return Alert(
        kind="automatic_rollback",
        severity="error",
        title=f"Automatic rollback of {probation.cohort}: {regression.guard.describe()} since "
        f"{regression.days[0].isoformat()}",
        message=message,
        cohort=probation.cohort,
        since=regression.days[0],
        details={"champion": probation.champion, "previous": probation.previous, "run_key": run_key,
                 **regression.evidence()},
    )


def rollback_withheld_alert(probation: Probation, regression: Regression, why: str) -> Alert:
    message = "\n".join(
        [
            f"{probation.champion} ({probation.cohort}) regressed in probation, but no automatic rollback was "
            f"made: {why}.",
            *_evidence_lines(regression),
            f"The {probation.cohort} scores keep coming from {probation.champion} until a person decides: restore "
            f"{probation.previous} by hand (its weights and ruler rows first), or accept {probation.champion}.",
            *_look_at(probation, probation.effective_from),
        ]
    )
    return Alert(
        kind="automatic_rollback_withheld",
        severity="error",
        title=f"Guard regression in {probation.cohort}, automatic rollback withheld: {regression.guard.describe()}",
        message=message,
        cohort=probation.cohort,
        since=regression.days[0],
        details={"champion": probation.champion, "previous": probation.previous, "why": why,
                 **regression.evidence()},
    )


def rollback_done_alert(done: Rollback, evidence: dict[str, Any]) -> Alert:
    days = ", ".join(d.isoformat() for d in done.rescored_days) or "none"
    message = "\n".join(
        [
            f"{done.restored} is the {done.cohort} champion again; {done.rolled_back} is archived.",
            f"Guard {evidence.get('rule')} on {', '.join(evidence.get('days', []))}: {evidence.get('values')}.",
            f"Re-scored days: {days} ({done.rescored_rows} rows, {done.seconds:.1f} s).",
            f"The audit trail holds the event (actor {ACTOR}) with this evidence under after_state.guard.",
            "Before promoting again: find out why the guard breached (docs/runbook.md, 'H2. An automatic "
            "rollback happened').",
        ]
    )
    return Alert(
        kind="automatic_rollback_done",
        severity="warning",
        title=f"Automatic rollback of {done.cohort} done: {done.restored} restored",
        message=message,
        cohort=done.cohort,
        details={"rolled_back": done.rolled_back, "restored": done.restored,
                 "rescored_days": [d.isoformat() for d in done.rescored_days], **evidence},
    )

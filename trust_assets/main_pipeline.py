"""The main job of the product, end to end, as a user would run it the first time.

1. ``foundation_job``: staging views and the outcome labels.
2. ``features_job`` for each month-end snapshot of the reference period (the only reference days the ruler, the
   drift reference and the models read), one run per snapshot.
3. ``ruler_and_models_job``: issue (or verify) the frozen ruler and train the cohort models.
4. ``daily_trust_job`` over the latest days: features and the trust signal.
5. Outcome monitoring, so that every section of the monitoring report has data: the latest scoring date whose
   outcome window has closed is scored (``daily_trust_job``) and judged against what its customers then did
   (``outcome_monitoring_job``); the latest days get their fairness figures; their reports and the matured
   date's are re-written (``monitoring_report_job``), so no section of a report the demo wrote is empty.

Every run goes through the Dagster instance at ``$DAGSTER_HOME`` under its job's code-location origin, so the
runs and their metadata are in the UI, listed under their jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from trust_assets.config import SETTINGS
from trust_assets.monitoring.matured_outcomes import is_matured


@dataclass(frozen=True)
class MainPlan:
    reference_start: date
    reference_end: date
    scoring_start: date
    scoring_end: date
    # The latest date before the scored days whose outcome window has closed (None: no such date after the models'
    # reference date, whose customers trained them).
    matured_date: date | None = None


def latest_matured_date(end_date: date, before: date) -> date | None:
    """The latest scoring date before ``before`` whose outcome window closed by ``end_date``, after the models'
    reference date."""
    months = SETTINGS.outcomes.window_months
    day = before - timedelta(days=1)
    while day > SETTINGS.model.reference_date:
        if is_matured(day, months, end_date):
            return day
        day -= timedelta(days=1)
    return None


def plan_main_run(end_date: date, scoring_days: int = 7) -> MainPlan:
    if scoring_days < 1:
        raise ValueError("scoring_days must be at least 1")
    scoring_start = end_date - timedelta(days=scoring_days - 1)
    if scoring_start <= SETTINGS.model.outcome_end:
        raise ValueError(
            f"end date {end_date} leaves no scoring day after the outcome window ({SETTINGS.model.outcome_end}); "
            "generate history up to a later date"
        )
    return MainPlan(
        SETTINGS.ruler.reference_start, SETTINGS.ruler.reference_end, scoring_start, end_date,
        latest_matured_date(end_date, scoring_start),
    )


def _range_tags(start: date, end: date) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat()}


@dataclass(frozen=True)
class MainStep:
    """One run of the main job: its stage (what the terminal shows), job, purpose and run tags."""

    stage: str
    job_name: str
    what: str
    tags: Mapping[str, str] = field(default_factory=dict)


def main_steps(plan: MainPlan, with_outcome_monitoring: bool = True) -> list[MainStep]:
    steps = [
        MainStep("foundation", "foundation_job", "staging views and outcome labels"),
        *(
            MainStep(
                "reference features",
                "features_job",
                f"features of the reference snapshot {day}",
                {PARTITION_NAME_TAG: day.isoformat()},
            )
            for day in SETTINGS.ruler.snapshot_dates
        ),
        MainStep("ruler and models", "ruler_and_models_job", "frozen ruler and cohort models"),
        MainStep(
            "daily scoring and monitoring",
            "daily_trust_job",
            f"features, trust signal and monitoring for {plan.scoring_start} .. {plan.scoring_end}",
            _range_tags(plan.scoring_start, plan.scoring_end),
        ),
    ]
    return steps + outcome_steps(plan) if with_outcome_monitoring else steps


def outcome_steps(plan: MainPlan) -> list[MainStep]:
    """The outcome monitors of the latest matured date and of the scored days, then the days' reports again."""
    window = _range_tags(plan.scoring_start, plan.scoring_end)
    days = f"{plan.scoring_start} .. {plan.scoring_end}"
    matured: list[MainStep] = []
    if plan.matured_date is not None:
        day = plan.matured_date.isoformat()
        matured = [
            MainStep("outcome monitoring", "daily_trust_job",
                     f"scores of {day}, the latest date whose outcome window has closed", {PARTITION_NAME_TAG: day}),
            MainStep("outcome monitoring", "outcome_monitoring_job",
                     f"model performance and decile lift of {day} on what its customers then did",
                     {PARTITION_NAME_TAG: day}),
        ]
    reports = [MainStep("outcome monitoring", "monitoring_report_job", f"monitoring reports of {days}", window)]
    if plan.matured_date is not None:
        # The matured date's report was written when it was scored, before its outcomes were judged.
        day = plan.matured_date.isoformat()
        reports.append(MainStep("outcome monitoring", "monitoring_report_job", f"monitoring report of {day}",
                                {PARTITION_NAME_TAG: day}))
    return [
        *matured,
        MainStep("outcome monitoring", "outcome_monitoring_job", f"fairness of {days}", window),
        *reports,
    ]


class Progress(Protocol):
    def start(self, stage: str) -> None: ...

    def advance(self) -> None: ...


def run_main(
    end_date: date,
    scoring_days: int = 7,
    instance: dg.DagsterInstance | None = None,
    log: Callable[[str], None] = print,
    progress: Progress | None = None,
    with_outcome_monitoring: bool = True,
) -> MainPlan:
    """Materialise the whole graph for the demo warehouse; raises if any run fails."""
    from trust_assets.job_launch import run_job

    plan = plan_main_run(end_date, scoring_days)
    instance = instance or dg.DagsterInstance.get()
    for step in main_steps(plan, with_outcome_monitoring):
        if progress is not None:
            progress.start(step.stage)
        log(f"-> {step.job_name}: {step.what}")
        # Launched under the job's code-location origin, so the UI lists the run under its job.
        run = run_job(step.job_name, instance, step.tags)
        succeeded = run.status == dg.DagsterRunStatus.SUCCESS
        log(f"   run {run.run_id[:8]} {'succeeded' if succeeded else 'FAILED'}")
        if not succeeded:
            raise MainRunFailed(step, run.run_id)
        if progress is not None:
            progress.advance()
    return plan


class MainRunFailed(RuntimeError):
    """A run of the main job failed; the message says which and where to look."""

    def __init__(self, step: MainStep, run_id: str) -> None:
        super().__init__(
            f"{step.job_name} ({step.what}) failed in run {run_id}: open it in the Dagster UI (Runs) to see the "
            "failed step, and docs/runbook.md for what to do."
        )
        self.step = step
        self.run_id = run_id

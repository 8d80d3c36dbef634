"""The main job of the product, end to end, as a user would run it the first time.

1. ``foundation_job``: staging views and the outcome labels.
2. ``features_job`` over the whole reference period (one run for the range, single-run backfill policy).
3. ``ruler_and_models_job``: issue (or verify) the frozen ruler and train the cohort models.
4. ``daily_trust_job`` over the latest days: features and the trust signal.

Every run goes through the Dagster instance at ``$DAGSTER_HOME``, so the runs and their metadata are in the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from trust_assets.config import SETTINGS


@dataclass(frozen=True)
class MainPlan:
    reference_start: date
    reference_end: date
    scoring_start: date
    scoring_end: date


def plan_main_run(end_date: date, scoring_days: int = 7) -> MainPlan:
    if scoring_days < 1:
        raise ValueError("scoring_days must be at least 1")
    scoring_start = end_date - timedelta(days=scoring_days - 1)
    if scoring_start <= SETTINGS.model.outcome_end:
        raise ValueError(
            f"end date {end_date} leaves no scoring day after the outcome window ({SETTINGS.model.outcome_end}); "
            "generate history up to a later date"
        )
    return MainPlan(SETTINGS.ruler.reference_start, SETTINGS.ruler.reference_end, scoring_start, end_date)


def _range_tags(start: date, end: date) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat()}


def run_main(
    end_date: date,
    scoring_days: int = 7,
    instance: dg.DagsterInstance | None = None,
    log: Callable[[str], None] = print,
) -> MainPlan:
    """Materialise the whole graph for the demo warehouse; raises if any run fails."""
    from trust_assets.definitions import defs

    plan = plan_main_run(end_date, scoring_days)
    instance = instance or dg.DagsterInstance.get()
    steps: list[tuple[str, str, dict[str, str]]] = [
        ("foundation_job", "staging views and outcome labels", {}),
        (
            "features_job",
            f"features for the reference period {plan.reference_start} .. {plan.reference_end}",
            _range_tags(plan.reference_start, plan.reference_end),
        ),
        ("ruler_and_models_job", "frozen ruler and cohort models", {}),
        (
            "daily_trust_job",
            f"features and trust signal for {plan.scoring_start} .. {plan.scoring_end}",
            _range_tags(plan.scoring_start, plan.scoring_end),
        ),
    ]
    for job_name, what, tags in steps:
        log(f"-> {job_name}: {what}")
        result = defs.resolve_job_def(job_name).execute_in_process(instance=instance, tags=tags)
        log(f"   run {result.run_id[:8]} {'succeeded' if result.success else 'FAILED'}")
    return plan

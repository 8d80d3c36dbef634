"""Asset checks on the outcome monitors: matured performance, the decile KPI view and fairness.

All three warn (never block): they are evidence for people deciding about retraining or a review, not a
reason to stop publishing. docs/monitoring_outcomes.md explains the measures and thresholds.
"""

# No ``from __future__ import annotations`` here: Dagster checks the ``context`` annotation when decorating.
from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl

from asset_checks.daily_checks import Evaluation, daily_check
from asset_checks.violations import Violation
from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS
from trust_assets.partitions import DAILY_PARTITIONS
from trust_assets.tables import FAIRNESS_BY_GROUP, MATURED_OUTCOME_PERFORMANCE, TRUST_DECILE_OUTCOMES

PERFORMANCE = MATURED_OUTCOME_PERFORMANCE
DECILES = TRUST_DECILE_OUTCOMES
FAIRNESS = FAIRNESS_BY_GROUP
WARN = dg.AssetCheckSeverity.WARN


def _window_rows(warehouse: WarehouseResource, table: str, start: object, end: object) -> pl.DataFrame | None:
    if not warehouse.table_exists(table):
        return None
    return warehouse.read(
        f"select * from {{analytics}}.{table} where scoring_date between $s and $e", {"s": start, "e": end}
    )


def auc_drop_violations(rows: pl.DataFrame, tolerance: float) -> list[Violation]:
    """Classifiers whose matured ROC AUC fell more than ``tolerance`` below the held-out AUC."""
    bad = rows.filter(pl.col("roc_auc_change").is_not_null() & (pl.col("roc_auc_change") < -tolerance))
    if bad.height == 0:
        return []
    return [
        Violation(
            table=PERFORMANCE,
            column="roc_auc",
            rule=f"matured roc_auc >= heldout_roc_auc - {tolerance}",
            failing_rows=bad.height,
            examples=bad.select("scoring_date", "cohort", "model", "model_version", "roc_auc", "heldout_roc_auc"),
            detail="the model ranks customers worse than when it was trained: look at drift, consider retraining",
        )
    ]


def decile_order_violations(rows: pl.DataFrame) -> list[Violation]:
    """Dates and cohorts where the lowest-trust decile did not churn more than the highest-trust decile."""
    ends = rows.group_by("scoring_date", "cohort").agg(
        pl.col("churn_rate").sort_by("trust_decile").first().alias("lowest_decile_churn"),
        pl.col("churn_rate").sort_by("trust_decile").last().alias("highest_decile_churn"),
    )
    bad = ends.filter(pl.col("lowest_decile_churn") <= pl.col("highest_decile_churn")).sort("scoring_date", "cohort")
    if bad.height == 0:
        return []
    return [
        Violation(
            table=DECILES,
            column="churn_rate",
            rule="churn rate of decile 1 (lowest trust) > churn rate of the top decile",
            failing_rows=bad.height,
            examples=bad,
            detail="the trust score no longer orders churn risk",
        )
    ]


def disparity_violations(rows: pl.DataFrame) -> list[Violation]:
    bad = rows.filter(pl.col("exceeds_threshold"))
    if bad.height == 0:
        return []
    return [
        Violation(
            table=FAIRNESS,
            column="disparity",
            rule=f"disparity <= {SETTINGS.outcomes.disparity_threshold} for groups of at least "
            f"{SETTINGS.outcomes.min_group_size}",
            failing_rows=bad.height,
            examples=bad.sort("disparity", descending=True).select(
                "scoring_date", "cohort", "dimension", "group_value", "n", "trust_mean", "disparity"
            ),
            detail="a group's scores sit far from its product's: review the drivers behind it",
        )
    ]


def _missing(table: str) -> list[Violation]:
    return [Violation(table=table, column=None, rule="table exists", failing_rows=0, detail="not materialised")]


@dg.asset_check(
    asset=dg.AssetKey(PERFORMANCE),
    name="matured_auc_within_tolerance",
    partitions_def=DAILY_PARTITIONS,
    description=(
        "WARN when a churn or recontract model's matured ROC AUC is more than "
        f"{SETTINGS.outcomes.auc_drop_warn} below its held-out AUC at training (OutcomeMonitoringSettings)."
    ),
)
def matured_auc_within_tolerance(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[object]:
    def evaluate(start: date, end: date) -> Evaluation:
        rows = _window_rows(warehouse, PERFORMANCE, start, end)
        found = _missing(PERFORMANCE) if rows is None else auc_drop_violations(rows, SETTINGS.outcomes.auc_drop_warn)
        return found, WARN

    yield from daily_check(context, evaluate, lambda day: f"matured AUCs hold up (where outcomes matured) for {day}.")


@dg.asset_check(
    asset=dg.AssetKey(DECILES),
    name="lowest_trust_decile_churns_most",
    partitions_def=DAILY_PARTITIONS,
    description="WARN when the lowest-trust decile of a product did not churn more than its highest-trust decile.",
)
def lowest_trust_decile_churns_most(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[object]:
    def evaluate(start: date, end: date) -> Evaluation:
        rows = _window_rows(warehouse, DECILES, start, end)
        return (_missing(DECILES) if rows is None else decile_order_violations(rows)), WARN

    yield from daily_check(context, evaluate, lambda day: f"churn falls with trust for {day}.")


@dg.asset_check(
    asset=dg.AssetKey(FAIRNESS),
    name="disparity_within_threshold",
    partitions_def=DAILY_PARTITIONS,
    description=(
        "WARN when a region or segment's mean trust score is more than "
        f"{SETTINGS.outcomes.disparity_threshold} product standard deviations from its product's mean."
    ),
)
def disparity_within_threshold(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[object]:
    def evaluate(start: date, end: date) -> Evaluation:
        rows = _window_rows(warehouse, FAIRNESS, start, end)
        return (_missing(FAIRNESS) if rows is None else disparity_violations(rows)), WARN

    yield from daily_check(context, evaluate, lambda day: f"no group exceeds the disparity threshold for {day}.")


OUTCOME_CHECKS: list[dg.AssetChecksDefinition] = [
    matured_auc_within_tolerance,
    lowest_trust_decile_churns_most,
    disparity_within_threshold,
]

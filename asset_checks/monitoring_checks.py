"""Asset checks on the drift and prediction-distribution monitors (docs/checks.md, docs/monitoring.md).

Monitoring never blocks publishing: these checks are non-blocking. Their severity says how urgent the finding
is: WARN for a feature or score distribution in the investigate or significant band; ERROR when a product's
share of drifted features (significant and beyond the reference period's own variation) reaches the
drift-event share, or its score distribution moved significantly.
"""

# No ``from __future__ import annotations`` here: Dagster checks the ``context`` annotation of a check function.
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import polars as pl

from asset_checks.daily_checks import Evaluation, daily_check
from asset_checks.product_checks import ERROR, WARN, check_result_of
from asset_checks.reads import read_table, read_window
from asset_checks.violations import Violation
from resources.warehouse import WarehouseResource
from trust_assets.config import COHORTS, SETTINGS, feature_names
from trust_assets.monitoring.drift import INVESTIGATE, MISSING_BIN, SIGNIFICANT, band_counts
from trust_assets.monitoring.locations import report_path
from trust_assets.partitions import DAILY_PARTITIONS
from trust_assets.tables import FEATURE_DRIFT, REFERENCE_FEATURE_BINS, SCORE_DISTRIBUTION

MONITORING = SETTINGS.monitoring
DRIFT = FEATURE_DRIFT
SCORES = SCORE_DISTRIBUTION
BINS = REFERENCE_FEATURE_BINS
REPORT = "monitoring_report"


def drift_violations(drift: pl.DataFrame) -> Evaluation:
    """Significant or investigate-band features; ERROR when a cohort-day's drifted share reaches the event share."""
    found: list[Violation] = []
    severity = WARN
    counts = band_counts(drift)
    alarming = counts.filter(pl.col("drifted_share") >= MONITORING.drift_event_feature_share)
    if alarming.height:
        severity = ERROR
        found.append(
            Violation(
                DRIFT, "drifted", f"drifted share < {MONITORING.drift_event_feature_share:.0%}", alarming.height,
                alarming.select("snapshot_date", "cohort", "features_drifted", "drifted_share", "max_psi",
                                "max_psi_feature"),
                detail="cohort-days with many drifted features",
            )
        )
    for band, threshold in ((SIGNIFICANT, MONITORING.psi_significant), (INVESTIGATE, MONITORING.psi_investigate)):
        rows = drift.filter(pl.col("band") == band).sort("psi", descending=True)
        if rows.height:
            found.append(
                Violation(
                    DRIFT, "psi", f"psi < {threshold}", rows.height,
                    rows.select("snapshot_date", "cohort", "feature", "psi", "wasserstein_sd",
                                "excess_wasserstein_sd"),
                    detail=f"features in the {band} band",
                )
            )
    return found, severity


def score_violations(scores: pl.DataFrame) -> Evaluation:
    found: list[Violation] = []
    severity = WARN
    for band, threshold in ((SIGNIFICANT, MONITORING.psi_significant), (INVESTIGATE, MONITORING.psi_investigate)):
        rows = scores.filter(pl.col("band") == band)
        if rows.height:
            severity = ERROR if band == SIGNIFICANT else severity
            found.append(
                Violation(SCORES, "score_psi", f"score_psi < {threshold}", rows.height,
                          rows.select("snapshot_date", "cohort", "score_psi", "mean", "reference_mean"),
                          detail=f"score distribution in the {band} band")
            )
    limit = MONITORING.max_score_outside_share
    outside = scores.filter(pl.col("share_outside_reference") > limit)
    if outside.height:
        found.append(
            Violation(SCORES, "share_outside_reference", f"share_outside_reference <= {limit}", outside.height,
                      outside.select("snapshot_date", "cohort", "share_below_reference", "share_above_reference"),
                      detail="raw scores outside the reference 1st-99th percentile")
        )
    return found, severity


def bins_violations(bins: pl.DataFrame) -> list[Violation]:
    found: list[Violation] = []
    expected = {(c.value, f) for c in COHORTS for f in feature_names(c)}
    present = set(bins.select("cohort", "feature").unique().iter_rows())
    absent = sorted(expected - present)
    if absent:
        found.append(Violation(BINS, "feature", "every cohort x feature has bins", len(absent),
                               pl.DataFrame(absent, schema=["cohort", "feature"], orient="row")))
    sums = bins.group_by("cohort", "feature").agg(
        pl.col("ref_share").sum().alias("share_sum"), (pl.col("bin") == MISSING_BIN).sum().alias("missing_bins")
    )
    bad = sums.filter(((pl.col("share_sum") - 1).abs() > 1e-9) | (pl.col("missing_bins") != 1))
    if bad.height:
        found.append(Violation(BINS, "ref_share", "shares sum to 1 with one missing bin", bad.height, bad))
    return found


@dg.asset_check(
    asset=dg.AssetKey(DRIFT),
    name="drift_bands",
    partitions_def=DAILY_PARTITIONS,
    blocking=False,
    description=(
        f"Every feature's PSI is below {MONITORING.psi_investigate} (stable). WARN for features in the "
        f"investigate band or significant (>= {MONITORING.psi_significant}); ERROR when a product has at least "
        f"{MONITORING.drift_event_feature_share:.0%} of its features drifted on a day (significant and beyond the "
        "reference period's own variation: the drift-event share)."
    ),
)
def feature_drift_bands(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
    def evaluate(start: date, end: date) -> Evaluation:
        return drift_violations(read_window(warehouse, DRIFT, start, end))

    yield from daily_check(context, evaluate, lambda day: f"Every feature stable against the reference for {day}.")


@dg.asset_check(
    asset=dg.AssetKey(SCORES),
    name="score_distribution_stable",
    partitions_def=DAILY_PARTITIONS,
    blocking=False,
    description=(
        "Each product's trust-score distribution is stable against its model's reference population: score PSI "
        f"below {MONITORING.psi_investigate} and at most {MONITORING.max_score_outside_share:.0%} of raw scores "
        "outside the reference 1st-99th percentile. WARN otherwise; ERROR when the score PSI is significant."
    ),
)
def score_distribution_stable(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[object]:
    def evaluate(start: date, end: date) -> Evaluation:
        return score_violations(read_window(warehouse, SCORES, start, end))

    yield from daily_check(context, evaluate, lambda day: f"Score distributions stable for {day}.")


@dg.asset_check(
    asset=dg.AssetKey(BINS),
    name="reference_complete",
    blocking=True,
    description=(
        "The drift reference of the configured ruler version covers every cohort x feature, with one missing-value "
        "bin and bin shares summing to 1. Blocks the drift monitor otherwise."
    ),
)
def reference_bins_complete(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    def evaluate() -> Evaluation:
        bins = read_table(warehouse, BINS).filter(pl.col("ruler_version") == SETTINGS.ruler.version)
        return bins_violations(bins), ERROR

    return check_result_of(evaluate, f"Drift reference of {SETTINGS.ruler.version} is complete.", None)


@dg.asset_check(
    asset=dg.AssetKey(REPORT),
    name="report_written",
    partitions_def=DAILY_PARTITIONS,
    blocking=False,
    description="The HTML monitoring report of every day of the partition window exists and contains its plots.",
)
def monitoring_report_written(context: dg.AssetCheckExecutionContext) -> Iterator[object]:
    def evaluate(start: date, end: date) -> Evaluation:
        missing: list[tuple[str, str]] = []
        day = start
        while day <= end:
            path = report_path(day)
            if not path.exists():
                missing.append((day.isoformat(), "missing"))
            elif 'class="plot"' not in path.read_text(encoding="utf-8"):
                missing.append((day.isoformat(), "no plots"))
            day += timedelta(days=1)
        if not missing:
            return [], ERROR
        examples = pl.DataFrame(missing, schema=["day", "problem"], orient="row")
        return [Violation(REPORT, None, "report file with plots", len(missing), examples)], ERROR

    yield from daily_check(context, evaluate, lambda day: f"Report written for {day}.")


MONITORING_CHECKS: list[dg.AssetChecksDefinition] = [
    feature_drift_bands,
    score_distribution_stable,
    reference_bins_complete,
    monitoring_report_written,
]

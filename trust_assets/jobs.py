"""Jobs and schedules: how the graph is run day to day.

- ``daily_trust_job``: one day of features (dbt) and scores (Polars), scheduled every morning for yesterday.
- ``features_job``: customer_360 and the cohort features only, for history and the reference period.
- ``foundation_job``: staging views and the outcome labels (unpartitioned dbt models).
- ``ruler_and_models_job``: the fixed ruler and the cohort models (explicit, rare acts).
- ``monitoring_report_job``: the HTML monitoring report alone, re-written for a range of days.
- ``retrain_models_job`` and the other model-operation jobs (``trust_assets.operations.jobs``): retraining,
  shadow start, readiness gate, approval, promotion and rollback, each with typed config.
"""

from __future__ import annotations

import dagster as dg

from resources import Target, current_target
from trust_assets.assets.raw_sources import RAW_SOURCE_SPECS
from trust_assets.config import SETTINGS
from trust_assets.operations.jobs import OPERATIONS_JOBS, OPERATIONS_SCHEDULES
from trust_assets.tables import MODEL_REGISTRY, MODEL_WEIGHTS, OUTCOME_LABELS, REFERENCE_FEATURE_BINS, RULER

# Drift and score monitoring run with every day's scores (a few seconds); the report is written with them.
MONITORING_DAILY_ASSETS = ("feature_drift", "score_distribution", "monitoring_report")
# A staging (challenger) model scores each day into the shadow table after the published signal; a no-op
# when no cohort has a challenger. During a promotion's probation the previous champion scores beside the new
# one and the guard metrics are computed (no-ops outside probation).
DAILY_SELECTION = (
    dg.AssetSelection.groups("customer_360", "cohort_features", "trust_signal")
    | dg.AssetSelection.assets(*MONITORING_DAILY_ASSETS)
    | dg.AssetSelection.assets(SETTINGS.operations.shadow_table)
    | dg.AssetSelection.assets(SETTINGS.probation.previous_champion_table, SETTINGS.probation.guard_table)
)
# The dbt source tests (checks on raw/<table>) run with the staging views they guard.
FOUNDATION_SELECTION = (
    dg.AssetSelection.groups("staging")
    | dg.AssetSelection.assets(OUTCOME_LABELS)
    | dg.AssetSelection.checks_for_assets(*(spec.key for spec in RAW_SOURCE_SPECS))
)
RULER_AND_MODELS_SELECTION = dg.AssetSelection.assets(
    RULER, MODEL_WEIGHTS, MODEL_REGISTRY, REFERENCE_FEATURE_BINS
)

daily_trust_job = dg.define_asset_job(
    "daily_trust_job",
    selection=DAILY_SELECTION,
    description="Builds one day of customer_360, the cohort features and the trust signal, and monitors it "
    "(feature drift, score distribution, HTML report).",
    tags={"dagster/max_retries": 1},
)

features_job = dg.define_asset_job(
    "features_job",
    selection=dg.AssetSelection.groups("customer_360", "cohort_features"),
    description="Builds customer_360 and the cohort features for a range of days (history and the reference period).",
)

foundation_job = dg.define_asset_job(
    "foundation_job",
    selection=FOUNDATION_SELECTION,
    description="Staging views over the raw sources and the outcome labels of the reference population.",
)

ruler_and_models_job = dg.define_asset_job(
    "ruler_and_models_job",
    selection=RULER_AND_MODELS_SELECTION,
    description="Issues (or verifies) the frozen ruler and its drift reference and trains the cohort models on the "
    "reference date.",
)

monitoring_report_job = dg.define_asset_job(
    "monitoring_report_job",
    selection=dg.AssetSelection.assets("monitoring_report"),
    description="Re-writes the HTML monitoring report of a range of scoring dates, e.g. once the outcome monitors "
    "have run for them (the daily job writes it before they run).",
)

daily_trust_schedule = dg.build_schedule_from_partitioned_job(
    daily_trust_job,
    hour_of_day=SETTINGS.schedule_hour,
    description=f"Scores yesterday's partition every day at {SETTINGS.schedule_hour:02d}:00 {SETTINGS.timezone}, "
    "after the overnight loads of the raw sources have landed.",
    # Locally the warehouse is a demo file: start the schedule by hand in the UI. In production it runs.
    default_status=dg.DefaultScheduleStatus.RUNNING
    if current_target() is Target.BIGQUERY
    else dg.DefaultScheduleStatus.STOPPED,
)

JOBS = [daily_trust_job, features_job, foundation_job, ruler_and_models_job, monitoring_report_job, *OPERATIONS_JOBS]
SCHEDULES = [daily_trust_schedule, *OPERATIONS_SCHEDULES]

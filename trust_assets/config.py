"""The one place where the trust index is configured.

Dates, cohorts, features, the ruler and model settings, and monitoring thresholds live here, typed and
versioned. Nothing else in the code base hard-codes a date, a feature name or a threshold: it imports them
from here. Changing the reference period or a feature list without bumping ``RULER_VERSION`` is refused by
the frozen-ruler guard at materialisation time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from trust_assets import tables

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Cohort(StrEnum):
    """The three products scored; the names are part of the product (docs/architecture.md §7)."""

    MOBILE = "mobile"
    TV = "tv"
    BROADBAND = "broadband"


COHORTS: tuple[Cohort, ...] = (Cohort.MOBILE, Cohort.TV, Cohort.BROADBAND)


@dataclass(frozen=True)
class FeatureSpec:
    """One numeric behaviour feature of a cohort feature table."""

    name: str
    description: str
    unit: str
    window: str


USAGE_4W = "4 usage weeks ending on or before the snapshot date"
USAGE_16W = "16 usage weeks ending on or before the snapshot date"

# Feature families shared by every cohort (computed once for every product held, in dbt's int_common_features).
_COMMON_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("outage_minutes_28d",
                "Minutes of network outage reaching the customer's network area for this product",
                "minutes", "28 days ending on the snapshot date"),
    FeatureSpec("fault_tickets_90d", "Fault tickets opened by the customer for this product", "count",
                "90 days ending on the snapshot date"),
    FeatureSpec("care_contacts_90d", "Care contacts (any channel, any reason) about this product", "count",
                "90 days ending on the snapshot date"),
    FeatureSpec("complaints_90d", "Care contacts about this product flagged as complaints", "count",
                "90 days ending on the snapshot date"),
    FeatureSpec("late_payments_180d", "Bills for this product due in the window and not paid by their due date",
                "count", "180 days ending on the snapshot date"),
    FeatureSpec("bill_shocks_180d", "Bills for this product at least 30% above the mean of the three bills before",
                "count", "180 days ending on the snapshot date"),
    FeatureSpec("tenure_months", "Months since the subscription started", "months", "as of the snapshot date"),
    FeatureSpec("months_to_contract_end", "Months until the contract ends (NULL without a contract)", "months",
                "as of the snapshot date"),
    FeatureSpec("arpu_3m", "Average billed amount per month for this product", "currency per month",
                "bills of the 3 months ending on the snapshot date"),
    FeatureSpec("arpu_change_3m", "ARPU of the last 3 months minus ARPU of the 3 months before", "currency per month",
                "bills of the 6 months ending on the snapshot date"),
)

FEATURES: dict[Cohort, tuple[FeatureSpec, ...]] = {
    Cohort.MOBILE: (
        FeatureSpec("data_gb_28d", "Mobile data used", "GB", USAGE_4W),
        FeatureSpec("data_trend_28d", "Data used in the last 4 weeks over the weekly mean of the 12 weeks before",
                    "ratio", USAGE_16W),
        FeatureSpec("voice_minutes_28d", "Outgoing voice minutes", "minutes",
                    USAGE_4W),
        FeatureSpec("dropped_call_rate_28d", "Share of calls dropped by the network", "ratio",
                    USAGE_4W),
        *_COMMON_FEATURES,
    ),
    Cohort.TV: (
        FeatureSpec("viewing_hours_28d", "Hours of TV viewed", "hours", USAGE_4W),
        FeatureSpec("viewing_trend_28d", "Viewing in the last 4 weeks over the weekly mean of the 12 weeks before",
                    "ratio", USAGE_16W),
        FeatureSpec("active_days_28d", "Days with any viewing", "days", USAGE_4W),
        FeatureSpec("buffering_events_28d", "Playback interruptions caused by buffering", "count",
                    USAGE_4W),
        *_COMMON_FEATURES,
    ),
    Cohort.BROADBAND: (
        FeatureSpec("download_gb_28d", "Data downloaded", "GB", USAGE_4W),
        FeatureSpec("traffic_trend_28d", "Download in the last 4 weeks over the weekly mean of the 12 weeks before",
                    "ratio", USAGE_16W),
        FeatureSpec("speed_ratio_28d", "Mean delivered speed over provisioned speed", "ratio",
                    USAGE_4W),
        FeatureSpec("upload_gb_28d", "Data uploaded", "GB", USAGE_4W),
        *_COMMON_FEATURES,
    ),
}


def feature_names(cohort: Cohort | str) -> list[str]:
    return [f.name for f in FEATURES[Cohort(cohort)]]


def common_feature_names() -> list[str]:
    """The families every cohort shares, in order: dbt computes them once per day in int_common_features."""
    return [f.name for f in _COMMON_FEATURES]


# Which customer_360 attribute segments a cohort (plan type, TV package, broadband speed tier).
SEGMENT_SOURCE: dict[Cohort, str] = {
    Cohort.MOBILE: "mobile_plan_type",
    Cohort.TV: "tv_package",
    Cohort.BROADBAND: "broadband_speed_tier",
}

# Identifier columns carried into customer_trust_signal; NULL where a cohort lacks them.
COHORT_IDENTIFIERS: dict[Cohort, tuple[str, ...]] = {
    Cohort.MOBILE: ("msisdn",),
    Cohort.TV: ("icoms_account_uid",),
    Cohort.BROADBAND: ("icoms_account_uid",),
}


def _month_ends(start: date, end: date) -> tuple[date, ...]:
    out: list[date] = []
    d = date(start.year, start.month, 1)
    while d <= end:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        month_end = nxt - timedelta(days=1)
        if start <= month_end <= end:
            out.append(month_end)
        d = nxt
    return tuple(out)


@dataclass(frozen=True)
class RulerSettings:
    """The fixed ruler: issuing a new one means bumping ``version`` (an explicit, recorded act)."""

    version: str = "ruler-v1"
    reference_start: date = date(2025, 2, 1)
    reference_end: date = date(2025, 7, 31)
    # Segment rows exist only where a segment has at least this many reference rows (over all snapshots).
    min_segment_support: int = 300
    # Equal-frequency bins fixed from the reference period, used by drift monitoring.
    drift_bins: int = 10

    @property
    def snapshot_dates(self) -> tuple[date, ...]:
        """Month-end snapshots of the reference period (2025-02-28 .. 2025-07-31)."""
        return _month_ends(self.reference_start, self.reference_end)


@dataclass(frozen=True)
class ModelSettings:
    """Training settings of the cohort models; part of each model version's fingerprint."""

    reference_date: date = date(2025, 7, 31)
    outcome_start: date = date(2025, 8, 1)
    outcome_end: date = date(2026, 1, 31)
    # Net revenue change: monthly revenue over the outcome window minus the ARPU of this many months up to the
    # reference date (the arpu_3m feature's window).
    nrc_baseline_months: int = 3
    holdout_fraction: float = 0.3
    # Salt of the deterministic hash split: the same customer is always in the same set.
    split_salt: str = "eti-holdout-v1"
    # Strong regularisation: at demo scale the held-out AUCs and validity improve clearly over C=1.
    logistic_c: float = 0.03
    ridge_alpha: float = 30.0
    max_iter: int = 1000
    top_drivers: int = 3


@dataclass(frozen=True)
class MonitoringSettings:
    psi_investigate: float = 0.10
    psi_significant: float = 0.25
    row_count_tolerance: float = 0.10
    max_missing_share: float = 0.35
    max_source_staleness_days: int = 3
    # The raw-contract gate runs Pandera over the raw rows that landed (loaded_at) on or after the window start
    # minus this many days; the window's older rows passed an earlier day's gate and are re-checked by SQL
    # aggregates in the warehouse (docs/checks.md). A day of margin covers a late or skipped run of the day before.
    raw_new_rows_margin_days: int = 1
    # Drift monitoring (docs/monitoring.md). Wasserstein distance is in reference standard deviations.
    # A significant-band feature counts as drifted only when its distance exceeds the largest distance of any
    # reference month-end from the pooled reference by this much: a seasonal feature, or one shared by a whole
    # region, can sit in the significant PSI band within the reference period itself.
    min_excess_wasserstein_sd: float = 0.10
    # Reference quantiles kept per feature for the Wasserstein distance (midpoints of this many equal slices).
    drift_quantile_points: int = 200
    # Floor of a bin share in PSI, so an empty bin on one side gives a large but finite term.
    psi_share_floor: float = 1e-4
    # A cohort has a drift event when at least this share of its features has drifted for K consecutive days.
    # 0.05 is one feature of the 14 per cohort: a regional outage moves one feature beyond the reference's variation.
    drift_event_feature_share: float = 0.05
    drift_event_consecutive_days: int = 3
    # How far back the drift sensor reads feature_drift to find where a run of drifting days began.
    drift_event_lookback_days: int = 60
    # Raw scores outside these reference quantiles count as "outside the reference range".
    score_reference_quantiles: tuple[float, float] = (0.01, 0.99)
    max_score_outside_share: float = 0.05
    # Bins of the daily trust-score histogram over (-1, 1) shown in the report.
    score_histogram_bins: int = 20
    # Days of drift history plotted in the monitoring report.
    report_history_days: int = 14
    # Where reports and alerts go; default: next to the local warehouse file (data/reports, data/alerts).
    reports_dir_env: str = "TRUST_REPORTS_DIR"
    alerts_file_env: str = "TRUST_ALERTS_FILE"
    # An alert webhook is used only when this environment variable holds a URL.
    alert_webhook_env: str = "TRUST_ALERT_WEBHOOK_URL"
    alert_webhook_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class RawGuardSettings:
    """Thresholds of the raw-data guards of the gate (asset_checks/raw_guards.py, docs/checks.md).

    Each guard compares what a load delivered with the table's own trailing history (or, for master data,
    with the last published day) and blocks the day when the difference is beyond what normal days show;
    the false-positive measurement behind the values is in docs/checks.md ("Raw guards").
    """

    # Trailing history of the daily event tables (rows per business day) and of the weekly usage tables.
    trailing_days: int = 28
    trailing_weeks: int = 8
    # Volume: a day (week) with fewer rows than this share of the trailing median blocks ...
    min_volume_share: float = 0.5
    # ... when it is also this many Poisson standard deviations (sqrt of the median) below it, so that the
    # natural noise of a small table (9 fault tickets a day) never blocks a day.
    volume_sigmas: float = 4.0
    # Master data: customers (subscriptions) live on the first day of the window in the raw tables may be
    # at most this share below the last published customer_360_definition day.
    max_master_drop: float = 0.10
    # Referential: share of a load's rows whose key has no match in the master or subscription table.
    max_orphan_share: float = 0.01
    # The referential and re-sent guards judge the loads (and, for re-sends, the business days) of this many days
    # before the window start: the latest weekly load of any day and a late run are included; older loads were
    # judged on the days they arrived. Bounds their cost to a week of rows instead of the look-back.
    recent_load_days: int = 8
    # Distribution: a unit change multiplies every quantile. A day's (week's) measure blocks when its median
    # AND its p95 both moved by at least this factor, in the same direction, against the trailing history.
    max_quantile_ratio: float = 4.0
    # A day or week is judged on a measure only with at least this many values (and history rows).
    min_distribution_rows: int = 20
    # Re-sent events: rows sharing every business column but the id (near-duplicates) per load.
    max_near_duplicate_share: float = 0.01
    min_near_duplicate_rows: int = 3
    # Published trust signal: rows per cohort may drop at most this share against the previous published
    # day (and day to day inside a backfill); beyond it the write is refused and row_count_stable is ERROR.
    max_published_row_drop: float = 0.25


@dataclass(frozen=True)
class OperationsSettings:
    """The model operating loop: retraining cadence, shadow period, readiness gate and approval rules."""

    # Retraining schedule (cron, in ``TrustIndexSettings.timezone``); the schedule starts STOPPED.
    retrain_cron: str = "0 3 1 * *"
    # Days a staging version must have scored in shadow before the readiness gate passes.
    min_shadow_days: int = 5
    # A challenger's held-out AUC may trail the champion's by at most this much (R^2 of NRC likewise).
    metric_tolerance: float = 0.02
    # Monitoring evidence counts as fresh when its latest day is at most this many days behind the latest score.
    max_monitoring_lag_days: int = 2
    # Approval must come from someone other than the person who trained (or requested) the version.
    require_distinct_approver: bool = True
    # Asset group whose assets are the monitoring evidence of the gate.
    monitoring_group: str = "monitoring"
    # Daily monitors (drift, prediction distribution) that must be fresh, and the outcome monitors that must
    # exist (they fill only once a scoring date's outcome window has closed, so they are not fresh by nature).
    fresh_monitoring_tables: tuple[str, ...] = (tables.FEATURE_DRIFT, tables.SCORE_DISTRIBUTION)
    outcome_monitoring_assets: tuple[str, ...] = (tables.MATURED_OUTCOME_PERFORMANCE,)
    audit_table: str = tables.MODEL_AUDIT_TRAIL
    shadow_table: str = tables.SHADOW_SIGNAL


@dataclass(frozen=True)
class ProbationSettings:
    """Probation after a promotion, its guard metrics and the automatic rollback (docs/operating_loop.md).

    For ``days`` days from a promotion's first published day, the previous champion scores the same customers in
    ``previous_champion_table`` and ``guard_table`` compares the two per cohort and day. A guard that breaches
    its threshold on ``consecutive_days`` consecutive days inside that window rolls the cohort back.
    """

    days: int = 14
    # K: one bad day can be a data accident that hits both models; two in a row is the model.
    consecutive_days: int = 2
    # Spearman rank correlation of the new champion's trust scores with the previous champion's, same customers.
    min_rank_agreement: float = 0.80
    # PSI of the new champion's trust scores over deciles of the previous champion's: the monitoring's
    # "significant" band.
    max_score_psi: float = 0.25
    # A raw score is outside the model's reference range when it lies more than this many reference standard
    # deviations (registry raw_ref_stddev) from the reference mean: 2.576 is the 1st-99th percentile of a normal.
    reference_range_sd: float = 2.576
    max_outside_share: float = 0.10
    # Share of feature values missing (scored at the reference mean) over the day's rows of the cohort.
    max_missing_feature_share: float = 0.20
    # Absolute change of the mean trust score against the previous champion on the same customers.
    max_mean_shift: float = 0.15
    # Held-out churn AUC minus the matured churn AUC of the day, once its outcome window has closed.
    max_auc_drop: float = 0.05
    # Who the automatic rollback acts as in the audit trail.
    actor: str = "automatic-rollback"
    previous_champion_table: str = tables.PREVIOUS_CHAMPION_SIGNAL
    guard_table: str = tables.PROBATION_GUARD_METRICS
    events_table: str = tables.PROBATION_GUARD_EVENTS


@dataclass(frozen=True)
class CanarySettings:
    """The optional canary between shadow and full promotion (docs/operating_loop.md). Off unless a staging
    version is explicitly put in canary; then this share of customers, chosen by a salted hash of customer_id
    (the same customers every day), is published with the candidate's scores."""

    share: float = 0.05
    # A salt of its own: the canary customers are not the training hold-out.
    salt: str = "eti-canary-v1"


@dataclass(frozen=True)
class OutcomeMonitoringSettings:
    """Matured-outcome performance, the decile KPI view and the fairness check (docs/monitoring_outcomes.md)."""

    # A scoring date's outcomes are observed over the months after it, as for training (ModelSettings).
    window_months: int = 6
    # Trust-score buckets of the business KPI view (1 = lowest trust).
    deciles: int = 10
    # A matured AUC this far below the held-out AUC recorded at training warns.
    auc_drop_warn: float = 0.05
    # Fairness: |group mean trust - cohort mean trust| / cohort trust stddev above this is flagged.
    disparity_threshold: float = 0.5
    # Groups smaller than this are reported but not judged (their means are too noisy).
    min_group_size: int = 30
    # A customer is "flagged at risk" when trust_score is below this; its error rates are judged per group.
    at_risk_trust: float = -0.5


@dataclass(frozen=True)
class BigQuerySettings:
    """Production warehouse layout and cost guards (docs/deployment.md, docs/scaling.md).

    Project, datasets, location and credentials are deployment values: they come from the environment
    variables named here, never from code.
    """

    project_env: str = "TRUST_BQ_PROJECT"
    dataset_env: str = "TRUST_BQ_DATASET"
    raw_dataset_env: str = "TRUST_RAW_SCHEMA"
    location_env: str = "TRUST_BQ_LOCATION"
    default_location: str = "EU"
    # Base64-encoded service-account key, optional (workload identity or GOOGLE_APPLICATION_CREDENTIALS otherwise).
    credentials_env: str = "TRUST_BQ_GCP_CREDENTIALS"
    maximum_bytes_billed_env: str = "TRUST_BQ_MAX_BYTES_BILLED"
    # The same default as the dbt profile: a query that would bill more than 500 GB fails instead of running.
    default_maximum_bytes_billed: int = 500_000_000_000
    # Product tables written from Python are day-partitioned on snapshot_date and clustered by these columns
    # (those a table has), in this order: the daily reads filter a cohort and join on customer_id.
    cluster_columns: tuple[str, ...] = ("cohort", "customer_id")
    # Per-write staging tables in the analytics dataset, dropped after the write.
    staging_prefix: str = "_staging_"
    job_labels: tuple[tuple[str, str], ...] = (("application", "trust-index"),)


@dataclass(frozen=True)
class DuckDBSettings:
    """Resource settings of every DuckDB connection to the local warehouse file: dbt's (the ``settings:`` of
    the duckdb output in dbt_project/profiles.yml, which repeats these defaults; a test pins that they agree)
    and the Python assets' (resources/warehouse.py). Each can be overridden by the environment variable named
    beside it. Measurements behind the values: docs/performance.md."""

    # DuckDB's own default is 80% of RAM, far beyond what the daily build needs; with this limit DuckDB spills to
    # its temp directory, "<warehouse file>.tmp" beside the file. Raise it for larger data: a model whose working
    # set cannot spill fails with "failed to pin block". The temp directory is not configurable here: dbt-duckdb
    # SETs its settings on every cursor, and DuckDB refuses to switch the temp directory after a spill. The
    # measurements behind the value: docs/performance.md, "DuckDB settings of the daily dbt build".
    memory_limit: str = "3GB"
    memory_limit_env: str = "TRUST_DUCKDB_MEMORY_LIMIT"
    # DuckDB rewrites "row_number() ... = 1" (the latest-load deduplication of every staged table) into hash
    # aggregates of arg_max over the whole row, whose string-holding states cannot spill, so a large day runs out
    # of memory where the window would spill (docs/performance.md, "Memory of the deduplication").
    disabled_optimizers: str = "top_n_window_elimination"
    disabled_optimizers_env: str = "TRUST_DUCKDB_DISABLED_OPTIMIZERS"


@dataclass(frozen=True)
class TrustIndexSettings:
    history_start: date = date(2024, 8, 1)
    partitions_start: date = date(2025, 2, 1)
    timezone: str = "UTC"
    # The daily schedule scores yesterday's partition at this hour, once upstream loads have landed.
    schedule_hour: int = 6
    ruler: RulerSettings = field(default_factory=RulerSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    raw_guards: RawGuardSettings = field(default_factory=RawGuardSettings)
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    probation: ProbationSettings = field(default_factory=ProbationSettings)
    canary: CanarySettings = field(default_factory=CanarySettings)
    outcomes: OutcomeMonitoringSettings = field(default_factory=OutcomeMonitoringSettings)
    bigquery: BigQuerySettings = field(default_factory=BigQuerySettings)
    duckdb: DuckDBSettings = field(default_factory=DuckDBSettings)
    # Schema that holds every table the product publishes (dbt marts and Python-written tables).
    analytics_schema: str = "analytics"
    raw_schema: str = "raw"


SETTINGS = TrustIndexSettings()


def default_end_date() -> date:
    """The last day with data: yesterday, unless ``TRUST_END_DATE`` pins it (tests and demos)."""
    pinned = os.environ.get("TRUST_END_DATE")
    return date.fromisoformat(pinned) if pinned else date.today() - timedelta(days=1)


def duckdb_path() -> Path:
    """Local warehouse file: ``$TRUST_DUCKDB_PATH``, default ``data/warehouse.duckdb`` under the project root."""
    raw = os.environ.get("TRUST_DUCKDB_PATH")
    path = Path(raw) if raw else PROJECT_ROOT / "data" / "warehouse.duckdb"
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def duckdb_settings() -> dict[str, str]:
    """The DuckDB settings (name -> value for ``SET``) that every connection to the warehouse file applies:
    ``SETTINGS.duckdb``, each overridden by its environment variable; an empty value keeps DuckDB's default."""
    duck = SETTINGS.duckdb
    values = {"memory_limit": os.environ.get(duck.memory_limit_env, duck.memory_limit),
              "disabled_optimizers": os.environ.get(duck.disabled_optimizers_env, duck.disabled_optimizers)}
    return {name: value.strip() for name, value in values.items() if value.strip()}

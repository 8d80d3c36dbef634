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

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Cohort(StrEnum):
    """The three products scored; the names are part of the product (spec section 7)."""

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

# Feature families shared by every cohort (computed the same way per product in dbt).
_COMMON_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("outage_minutes_28d", "Minutes of network outage in the customer's region for this product",
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

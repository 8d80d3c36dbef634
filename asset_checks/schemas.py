"""One Pandera (``pandera.polars``) schema per table of the product, written once and used by every check.

- Product tables (docs/architecture.md §7): ``customer_360_definition``, the three cohort feature tables (generated from
  ``config.FEATURES``, so they follow the feature lists), ``hierarchical_reference_stats``,
  ``trust_model_weights``, ``model_registry`` and ``customer_trust_signal``.
- Raw sources: one schema per table of the source contract (``RAW_TABLES``), its types and nullability taken
  from the contract and its value rules (enumerations, non-negative amounts and usage, physical upper bounds)
  from :data:`RAW_VALUE_RULES` below. Rules that depend on the run (no dates after the as-of date) are added by
  :func:`raw_schema` at validation time.

Grain uniqueness is declared with ``Config.unique`` where every grain column is non-null; the nullable grains
(the ruler's ``segment``) are checked in :mod:`asset_checks.product_checks` with NULLs compared as equal.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandera.polars as pa
import polars as pl

from source_contract.raw_tables import (
    BROADBAND_TIERS,
    MAX_DAYS_BILL_TO_DUE,
    MOBILE_PLAN_TYPES,
    PRODUCTS,
    RAW_TABLES,
    RAW_TABLES_BY_NAME,
    REGIONS,
    TV_PACKAGES,
    RawTable,
)
from trust_assets.config import COHORTS, FEATURES, Cohort, FeatureSpec, feature_names
from trust_assets.monitoring.prediction_distribution import REFERENCE_SCORES_KEY
from trust_assets.scoring.registry import ModelStatus
from trust_assets.tables import (
    CUSTOMER_360,
    MODEL_REGISTRY,
    MODEL_WEIGHTS,
    REFERENCE_SCORE_DISTRIBUTION,
    RULER,
    TRUST_SIGNAL,
)

COHORT_NAMES: list[str] = [c.value for c in COHORTS]
CUSTOMER_TYPES: list[str] = ["consumer", "small_business"]
MODEL_STATUSES: list[str] = [s.value for s in ModelStatus]


# --- customer_360_definition ------------------------------------------------------------------------------------
class Customer360Schema(pa.DataFrameModel):
    """Who the customer is on a day: one row per customer holding at least one product."""

    snapshot_date: dt.date
    customer_id: str
    region: str = pa.Field(isin=list(REGIONS))
    customer_type: str = pa.Field(isin=CUSTOMER_TYPES)
    signup_date: dt.date
    tenure_months: float = pa.Field(ge=0, le=12 * 120)
    has_mobile: bool
    has_tv: bool
    has_broadband: bool
    msisdn: str = pa.Field(nullable=True)
    mobile_plan_type: str = pa.Field(nullable=True, isin=list(MOBILE_PLAN_TYPES))
    icoms_account_uid: str = pa.Field(nullable=True)
    tv_package: str = pa.Field(nullable=True, isin=list(TV_PACKAGES))
    broadband_speed_tier: str = pa.Field(nullable=True, isin=list(BROADBAND_TIERS))
    monthly_revenue: float = pa.Field(nullable=True, ge=0, le=10_000)

    class Config:
        name = CUSTOMER_360
        # The model carries more columns (start dates, contract ends); the product names are pinned here.
        strict = False
        unique = ("snapshot_date", "customer_id")

    @pa.dataframe_check(name="holds at least one product")
    @classmethod
    def holds_a_product(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("has_mobile") | pl.col("has_tv") | pl.col("has_broadband"))

    @pa.dataframe_check(name="msisdn filled iff has_mobile")
    @classmethod
    def msisdn_iff_mobile(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("has_mobile").fill_null(False) == pl.col("msisdn").is_not_null())

    @pa.dataframe_check(name="icoms_account_uid filled iff has_tv or has_broadband")
    @classmethod
    def account_iff_fixed(cls, data: Any) -> pl.LazyFrame:
        fixed = (pl.col("has_tv") | pl.col("has_broadband")).fill_null(False)
        return data.lazyframe.select(fixed == pl.col("icoms_account_uid").is_not_null())

    @pa.dataframe_check(name="signup_date on or before snapshot_date")
    @classmethod
    def signed_up_before(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("signup_date") <= pl.col("snapshot_date"))


# --- cohort feature tables ------------------------------------------------------------------------------------------
# Units whose values cannot be negative (counts, durations, volumes, rates); months to contract end and ARPU
# changes can be.
_NON_NEGATIVE_UNITS = {"minutes", "count", "GB", "hours", "days", "ratio"}
_NON_NEGATIVE_FEATURES = {"tenure_months", "arpu_3m"}


class _FeatureKeys(pa.DataFrameModel):
    snapshot_date: dt.date
    customer_id: str
    segment: str


def _feature_field(spec: FeatureSpec) -> Any:
    if spec.unit in _NON_NEGATIVE_UNITS or spec.name in _NON_NEGATIVE_FEATURES:
        return pa.Field(nullable=True, ge=0)
    return pa.Field(nullable=True)


def _segments(cohort: Cohort) -> list[str]:
    return list({Cohort.MOBILE: MOBILE_PLAN_TYPES, Cohort.TV: TV_PACKAGES, Cohort.BROADBAND: BROADBAND_TIERS}[cohort])


@cache
def feature_model(cohort: Cohort | str) -> type[pa.DataFrameModel]:
    """The schema of ``<cohort>_features``: keys, then one nullable Float64 column per configured feature."""
    cohort = Cohort(cohort)
    specs = FEATURES[cohort]
    annotations: dict[str, Any] = {spec.name: float for spec in specs}
    fields: dict[str, Any] = {spec.name: _feature_field(spec) for spec in specs}
    fields["segment"] = pa.Field(isin=_segments(cohort))
    annotations["segment"] = str
    names = [spec.name for spec in specs]

    class Config:
        name = f"{cohort.value}_features"
        strict = True  # docs/architecture.md §7: keys then exactly the configured features
        unique = ("snapshot_date", "customer_id")

    def finite(cls: Any, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.all_horizontal([pl.col(n).is_finite() | pl.col(n).is_null() for n in names]).alias("finite")
        )

    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "__module__": __name__,
        "Config": Config,
        **fields,
        "features_finite": pa.dataframe_check(name="features finite (no NaN or infinity)")(classmethod(finite)),
    }
    return type(f"{cohort.value.title()}FeaturesSchema", (_FeatureKeys,), namespace)


FEATURE_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {c.value: feature_model(c) for c in COHORTS}


# --- the ruler, the models, the registry ------------------------------------------------------------------------------
class ReferenceStatsSchema(pa.DataFrameModel):
    """``hierarchical_reference_stats``: the frozen ruler (grain checked with NULL segments as equal)."""

    ruler_version: str
    cohort: str = pa.Field(isin=COHORT_NAMES)
    segment: str = pa.Field(nullable=True)
    feature: str
    n: int = pa.Field(ge=0)
    mean: float = pa.Field(nullable=True)
    stddev: float = pa.Field(nullable=True, ge=0)
    period_start: dt.date
    period_end: dt.date

    class Config:
        name = RULER
        strict = True

    @pa.dataframe_check(name="feature belongs to the cohort's feature list")
    @classmethod
    def known_feature(cls, data: Any) -> pl.LazyFrame:
        allowed = [f"{c.value}|{f}" for c in COHORTS for f in feature_names(c)]
        return data.lazyframe.select(pl.concat_str([pl.col("cohort"), pl.col("feature")], separator="|").is_in(allowed))

    @pa.dataframe_check(name="period_start before period_end")
    @classmethod
    def ordered_period(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("period_start") <= pl.col("period_end"))


class ModelWeightsSchema(pa.DataFrameModel):
    """``trust_model_weights``: one row per model version and feature."""

    model_version: str
    cohort: str = pa.Field(isin=COHORT_NAMES)
    feature: str
    w_churn: float
    w_recontract: float
    w_nrc: float
    weight: float

    class Config:
        name = MODEL_WEIGHTS
        strict = True
        unique = ("model_version", "feature")

    @pa.dataframe_check(name="weight = w_recontract + w_nrc - w_churn (or 0 for an unusable feature)")
    @classmethod
    def composite(cls, data: Any) -> pl.LazyFrame:
        expected = pl.col("w_recontract") + pl.col("w_nrc") - pl.col("w_churn")
        close = (pl.col("weight") - expected).abs() <= 1e-9 * (1 + expected.abs())
        return data.lazyframe.select(close | (pl.col("weight") == 0))

    @pa.dataframe_check(name="weights finite")
    @classmethod
    def finite(cls, data: Any) -> pl.LazyFrame:
        cols = ["w_churn", "w_recontract", "w_nrc", "weight"]
        return data.lazyframe.select(pl.all_horizontal([pl.col(c).is_finite() for c in cols]))


class ModelRegistrySchema(pa.DataFrameModel):
    """``model_registry``: one row per model version (provenance and metric columns are not pinned here)."""

    model_version: str = pa.Field(unique=True)
    cohort: str = pa.Field(isin=COHORT_NAMES)
    status: str = pa.Field(isin=MODEL_STATUSES)
    ruler_version: str
    raw_ref_mean: float
    raw_ref_stddev: float = pa.Field(gt=0)
    trained_at: dt.datetime

    class Config:
        name = MODEL_REGISTRY
        strict = False

    @pa.dataframe_check(name="raw-score reference statistics finite")
    @classmethod
    def finite(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("raw_ref_mean").is_finite() & pl.col("raw_ref_stddev").is_finite())


# --- customer_trust_signal ---------------------------------------------------------------------------------------
_MAX_FEATURES = {c.value: len(feature_names(c)) for c in COHORTS}


class TrustSignalSchema(pa.DataFrameModel):
    """``customer_trust_signal``: one row per day, cohort and customer."""

    snapshot_date: dt.date
    cohort: str = pa.Field(isin=COHORT_NAMES)
    customer_id: str
    msisdn: str = pa.Field(nullable=True)
    icoms_account_uid: str = pa.Field(nullable=True)
    segment: str
    region: str = pa.Field(nullable=True, isin=list(REGIONS))
    raw_score: float
    # tanh of a finite number: strictly inside (-1, 1); +-1 means the raw score overflowed the scale.
    trust_score: float = pa.Field(gt=-1, lt=1)
    model_version: str
    ruler_version: str
    missing_features: int = pa.Field(ge=0)
    top_drivers: str = pa.Field(nullable=True)

    class Config:
        name = TRUST_SIGNAL
        strict = False  # docs/architecture.md §7: "plus whatever cohort-specific identifiers the union carries"
        unique = ("snapshot_date", "cohort", "customer_id")

    @pa.dataframe_check(name="scores finite")
    @classmethod
    def finite(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("raw_score").is_finite() & pl.col("trust_score").is_finite())

    @pa.dataframe_check(name="msisdn filled iff cohort is mobile")
    @classmethod
    def mobile_ids(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("cohort") == "mobile") == pl.col("msisdn").is_not_null())

    @pa.dataframe_check(name="icoms_account_uid filled iff cohort is tv or broadband")
    @classmethod
    def fixed_ids(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("cohort").is_in(["tv", "broadband"]) == pl.col("icoms_account_uid").is_not_null()
        )

    @pa.dataframe_check(name="missing_features at most the cohort's feature count")
    @classmethod
    def missing_bounded(cls, data: Any) -> pl.LazyFrame:
        limit = pl.col("cohort").replace_strict(_MAX_FEATURES, default=0, return_dtype=pl.Int64)
        return data.lazyframe.select(pl.col("missing_features") <= limit)


# --- reference_score_distribution ------------------------------------------------------------------------------
class ReferenceScoreDistributionSchema(pa.DataFrameModel):
    """``reference_score_distribution``: one summary of a model version's reference scores per model version and
    setting, checked before it is written and when it is read back for a day's score distribution."""

    model_version: str
    cohort: str = pa.Field(isin=COHORT_NAMES)
    ruler_version: str
    reference_date: dt.date
    drift_bins: int = pa.Field(ge=2)
    histogram_bins: int = pa.Field(ge=1)
    reference_low_quantile: float = pa.Field(ge=0, le=1)
    reference_high_quantile: float = pa.Field(ge=0, le=1)
    reference_rows: int = pa.Field(gt=0)
    reference_mean: float = pa.Field(ge=-1, le=1)
    raw_reference_low: float
    raw_reference_high: float
    score_bin_edges: str
    score_bin_counts: str
    reference_histogram: str
    computed_at: dt.datetime

    class Config:
        name = REFERENCE_SCORE_DISTRIBUTION
        strict = True
        unique = REFERENCE_SCORES_KEY

    @pa.dataframe_check(name="reference range ordered: low quantile and raw score at most the high ones")
    @classmethod
    def ordered_range(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("reference_low_quantile") < pl.col("reference_high_quantile"))
            & (pl.col("raw_reference_low") <= pl.col("raw_reference_high"))
        )

    @pa.dataframe_check(name="one bin count more than edges; counts sum to at most reference_rows")
    @classmethod
    def bins_consistent(cls, data: Any) -> pl.LazyFrame:
        edges = pl.col("score_bin_edges").str.json_decode(pl.List(pl.Float64))
        counts = pl.col("score_bin_counts").str.json_decode(pl.List(pl.Int64))
        histogram = pl.col("reference_histogram").str.json_decode(pl.List(pl.Int64))
        return data.lazyframe.select(
            (counts.list.len() == edges.list.len() + 1)
            & (counts.list.min() >= 0)
            & (counts.list.sum() <= pl.col("reference_rows"))
            & (histogram.list.len() == pl.col("histogram_bins"))
            & (histogram.list.sum() <= pl.col("reference_rows"))
        )


# Per table, the columns whose values no rule of its schema reads: nullable, without a value check, in no unique
# key and in no frame-wide check (tests/guards/test_schema_check_reads.py holds each to that). Only their type is
# checked, and that comes from the warehouse's catalogue: the daily schema check does not read them on a day that
# passes, so BigQuery does not bill them (top_drivers: about 70 of the ~188 bytes of a published row).
TYPE_ONLY_COLUMNS: Mapping[str, tuple[str, ...]] = {TRUST_SIGNAL: ("top_drivers",)}


# --- raw sources -------------------------------------------------------------------------------------------------
_PY_TYPES: dict[str, type] = {
    "VARCHAR": str,
    "DATE": dt.date,
    "TIMESTAMP": dt.datetime,
    "DOUBLE": float,
    "INTEGER": int,
    "BOOLEAN": bool,
}

MINUTES_PER_WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class ValueRule:
    """Value rules of one raw column beyond its contract type and nullability."""

    isin: tuple[str, ...] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None


# Enumerations from the contract, non-negative amounts and usage, and upper bounds that are physically or
# commercially impossible (a week has 10,080 minutes; a 10 Gbit/s line moves < 800 TB a week): a value past
# them is a unit or load error, never a heavy user.
RAW_VALUE_RULES: dict[str, dict[str, ValueRule]] = {
    "customers": {
        "region": ValueRule(isin=REGIONS),
        "birth_year": ValueRule(ge=1900, le=2015),
        "customer_type": ValueRule(isin=tuple(CUSTOMER_TYPES)),
    },
    "mobile_subscriptions": {
        "plan_type": ValueRule(isin=MOBILE_PLAN_TYPES),
        "monthly_fee": ValueRule(ge=0, le=1_000),
    },
    "fixed_subscriptions": {
        "product": ValueRule(isin=("tv", "broadband")),
        "package": ValueRule(isin=(*TV_PACKAGES, *BROADBAND_TIERS)),
        "provisioned_mbps": ValueRule(gt=0, le=10_000),
        "monthly_fee": ValueRule(ge=0, le=1_000),
    },
    "mobile_usage_weekly": {
        "data_mb": ValueRule(ge=0, le=10_000_000),
        "voice_minutes": ValueRule(ge=0, le=MINUTES_PER_WEEK),
        "calls": ValueRule(ge=0, le=100_000),
        "dropped_calls": ValueRule(ge=0, le=100_000),
    },
    "tv_viewing_weekly": {
        # Minutes are summed over a household's set-top boxes: several screens can exceed one week's minutes.
        "viewing_minutes": ValueRule(ge=0, le=4 * MINUTES_PER_WEEK),
        "active_days": ValueRule(ge=0, le=7),
        "buffering_events": ValueRule(ge=0, le=100_000),
    },
    "broadband_usage_weekly": {
        "download_gb": ValueRule(ge=0, le=800_000),
        "upload_gb": ValueRule(ge=0, le=800_000),
        "avg_delivered_mbps": ValueRule(ge=0, le=10_000),
        "provisioned_mbps": ValueRule(gt=0, le=10_000),
    },
    "bills": {
        "product": ValueRule(isin=PRODUCTS),
        "amount": ValueRule(ge=0, le=10_000),
    },
    "payments": {
        "amount": ValueRule(ge=0, le=10_000),
    },
    "care_contacts": {
        "product": ValueRule(isin=PRODUCTS),
        "channel": ValueRule(isin=("phone", "chat", "store")),
        "reason": ValueRule(isin=("billing", "technical", "cancellation", "sales", "other")),
    },
    "fault_tickets": {
        "product": ValueRule(isin=PRODUCTS),
        "fault_type": ValueRule(isin=("no_service", "degraded", "equipment", "other")),
    },
    "network_outages": {
        "region": ValueRule(isin=REGIONS),
        "product": ValueRule(isin=PRODUCTS),
        "duration_minutes": ValueRule(ge=0, le=31 * 24 * 60),
    },
    "contract_events": {
        "product": ValueRule(isin=PRODUCTS),
        "event_type": ValueRule(isin=("termination", "recontract", "price_change")),
        "new_monthly_fee": ValueRule(ge=0, le=1_000),
    },
}

# Row-level relations between columns of one raw row.
RAW_ROW_RULES: dict[str, dict[str, pl.Expr]] = {
    "mobile_subscriptions": {"end_date on or after start_date": pl.col("end_date") >= pl.col("start_date")},
    "fixed_subscriptions": {
        "end_date on or after start_date": pl.col("end_date") >= pl.col("start_date"),
        "provisioned_mbps filled iff product is broadband": (
            (pl.col("product") == "broadband") == pl.col("provisioned_mbps").is_not_null()
        ),
    },
    "mobile_usage_weekly": {
        "dropped_calls at most calls": pl.col("dropped_calls") <= pl.col("calls"),
        "week_ending is a Sunday": pl.col("week_ending").dt.weekday() == 7,
    },
    "tv_viewing_weekly": {"week_ending is a Sunday": pl.col("week_ending").dt.weekday() == 7},
    "broadband_usage_weekly": {"week_ending is a Sunday": pl.col("week_ending").dt.weekday() == 7},
    "bills": {
        "due_date on or after bill_date": pl.col("due_date") >= pl.col("bill_date"),
        # The payments look-back of the daily models rests on it (source_contract.raw_tables).
        f"due_date at most {MAX_DAYS_BILL_TO_DUE} days after bill_date": (
            (pl.col("due_date") - pl.col("bill_date")).dt.total_days() <= MAX_DAYS_BILL_TO_DUE
        ),
    },
    "fault_tickets": {"resolved_ts on or after opened_ts": pl.col("resolved_ts") >= pl.col("opened_ts")},
}

# Columns that say when something happened: none may lie after the as-of date. Contract ends, due dates and
# scheduled events are legitimately in the future and are not listed.
RAW_EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("signup_date",),
    "mobile_subscriptions": ("start_date",),
    "fixed_subscriptions": ("start_date",),
    "mobile_usage_weekly": ("week_ending",),
    "tv_viewing_weekly": ("week_ending",),
    "broadband_usage_weekly": ("week_ending",),
    "bills": ("bill_date",),
    "payments": ("paid_date",),
    "care_contacts": ("contact_ts",),
    "fault_tickets": ("opened_ts", "resolved_ts"),
    "network_outages": ("start_ts",),
    "contract_events": (),
}


def _row_rule_check(name: str, expr: pl.Expr) -> pa.Check:
    # A NULL on either side (an open ticket, an active line) is not a violation of the relation.
    return pa.Check(lambda data: data.lazyframe.select(expr.fill_null(True).alias("ok")), name=name, error=name)


def _field(column_nullable: bool, rule: ValueRule | None) -> Any:
    kwargs: dict[str, Any] = {"nullable": column_nullable}
    if rule is not None:
        if rule.isin is not None:
            kwargs["isin"] = list(rule.isin)
        if rule.ge is not None:
            kwargs["ge"] = rule.ge
        if rule.gt is not None:
            kwargs["gt"] = rule.gt
        if rule.le is not None:
            kwargs["le"] = rule.le
    return pa.Field(**kwargs)


@cache
def raw_model(table_name: str) -> type[pa.DataFrameModel]:
    """The contract of ``raw.<table_name>`` as a DataFrameModel: types, nullability, value rules.

    Rows may be delivered more than once (staging keeps the latest load), so the unique grain of a raw
    table is its grain plus ``loaded_at``.
    """
    table: RawTable = RAW_TABLES_BY_NAME[table_name]
    rules = RAW_VALUE_RULES.get(table.name, {})
    annotations = {c.name: _PY_TYPES[c.type] for c in table.columns}
    fields = {c.name: _field(c.nullable, rules.get(c.name)) for c in table.columns}

    class Config:
        name = f"raw.{table.name}"
        # Extra columns are allowed by the contract (docs/source_contract.md); a renamed column shows as missing.
        strict = False
        unique = (*table.grain, "loaded_at")

    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__, "Config": Config, **fields}
    return type(f"Raw{''.join(p.title() for p in table.name.split('_'))}Schema", (pa.DataFrameModel,), namespace)


FINITE = "finite"


def finite_check() -> pa.Check:
    """NaN and +-infinity are not values: the ``finite`` rule reports them (NULL is the nullability rule's), and
    the column's other rules skip them (asset_checks/validation.py, asset_checks/raw_window.py)."""
    return pa.Check(
        lambda data: data.lazyframe.select(pl.col(data.key).is_finite() | pl.col(data.key).is_null()),
        name=FINITE, error=FINITE,
    )


def raw_schema(table_name: str, as_of: dt.date | None = None) -> pa.DataFrameSchema:
    """The raw table's schema, with the cross-column rules, a ``finite`` rule on every DOUBLE column and (given
    ``as_of``) the no-future-dates rule."""
    schema = copy.deepcopy(raw_model(table_name).to_schema())
    schema.checks = [*schema.checks, *(_row_rule_check(n, e) for n, e in RAW_ROW_RULES.get(table_name, {}).items())]
    doubles = [c.name for c in RAW_TABLES_BY_NAME[table_name].columns if c.type == "DOUBLE"]
    if doubles:
        schema = schema.update_columns(
            {name: {"checks": [finite_check(), *schema.columns[name].checks]} for name in doubles}
        )
    if as_of is not None:
        updates: dict[str, dict[str, Any]] = {}
        for column in RAW_EVENT_COLUMNS.get(table_name, ()):
            col = schema.columns[column]
            bound: Any = as_of if col.dtype.type == pl.Date() else dt.datetime.combine(as_of, dt.time.max)
            updates[column] = {"checks": [*col.checks, pa.Check.le(bound, name=f"not after {as_of}")]}
        if updates:
            schema = schema.update_columns(updates)
    return schema


RAW_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {t.name: raw_model(t.name) for t in RAW_TABLES}

PRODUCT_SCHEMAS: Mapping[str, type[pa.DataFrameModel]] = {
    CUSTOMER_360: Customer360Schema,
    **{f"{c}_features": m for c, m in FEATURE_SCHEMAS.items()},
    RULER: ReferenceStatsSchema,
    MODEL_WEIGHTS: ModelWeightsSchema,
    MODEL_REGISTRY: ModelRegistrySchema,
    TRUST_SIGNAL: TrustSignalSchema,
}

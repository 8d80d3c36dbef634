"""Asset checks on the product tables, as the UI shows them.

Daily tables get partition-aware checks: each reads only the partition window's rows, in the warehouse (a
single-run backfill checks its whole range in one query), and the checks of a table run as one step on one read
of it (asset_checks/window_reads.py). Checks whose failure must stop downstream work are
``blocking=True`` and fail with ERROR severity; trend checks warn. docs/checks.md lists every check with its
severity and the reason for it.
"""

# No ``from __future__ import annotations`` here: Dagster checks the ``context`` annotation of a check function
# when it is decorated, and a string annotation fails that check.
from collections.abc import Callable, Iterator
from datetime import date

import dagster as dg
import pandera.polars as pa
import polars as pl

from asset_checks import rules, window_reads
from asset_checks.daily_checks import DailyCheck, Evaluation, daily_checks
from asset_checks.reads import MissingTable, feature_table, read_table
from asset_checks.schemas import (
    Customer360Schema,
    ModelRegistrySchema,
    ModelWeightsSchema,
    ReferenceStatsSchema,
    TrustSignalSchema,
    feature_model,
)
from asset_checks.violations import Violation, check_result
from asset_checks.window_reads import WindowReads
from asset_checks.windows import window_of
from resources.warehouse import WarehouseResource
from trust_assets.config import COHORTS, SETTINGS, Cohort, feature_names
from trust_assets.partitions import DAILY_PARTITIONS
from trust_assets.tables import CUSTOMER_360, MODEL_REGISTRY, MODEL_WEIGHTS, RULER, RULER_ISSUES, TRUST_SIGNAL

ERROR = dg.AssetCheckSeverity.ERROR
WARN = dg.AssetCheckSeverity.WARN



def check_result_of(
    evaluate: Callable[[], Evaluation], passed_text: str, window: str | None
) -> dg.AssetCheckResult:
    try:
        found, severity = evaluate()
    except MissingTable as missing:
        found, severity = [missing.violation], ERROR
    return check_result(found, severity=severity, passed_text=passed_text, partition=window)


def schema_check_violations(
    warehouse: WarehouseResource, table: str, model: type[pa.DataFrameModel], start: date, end: date
) -> list[Violation]:
    """The schema check of a daily table over [start, end], judged on the columns its rules read.

    A window that passes on those columns passes on the whole rows too: the columns left out are ones no rule
    reads (other columns of a non-strict schema; :data:`~asset_checks.schemas.TYPE_ONLY_COLUMNS`, whose type
    comes from the catalogue). A window that fails is read whole again, so its violations and example rows are
    those of the whole rows. BigQuery bills the columns a query names: the normal, passing day bills fewer.
    """
    return window_reads.schema_violations(WindowReads(warehouse, start, end), table, model, start, end)


# --- the checks of the daily tables -------------------------------------------------------------------------------
# The checks of a table run as one step and share its reads (asset_checks/window_reads.py): each column of the
# window is read, and billed, once per step instead of once per check. A step holds checks whose assets have the
# same downstream assets, so a failed blocking check blocks exactly what it blocked as a step of its own.
_TOLERANCE = SETTINGS.monitoring.row_count_tolerance
_MAX_DROP = SETTINGS.raw_guards.max_published_row_drop
_MISSING_LIMIT = SETTINGS.monitoring.max_missing_share


def _spec(table: str, name: str, blocking: bool, description: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name, asset=dg.AssetKey(table), description=description, blocking=blocking,
                             partitions_def=DAILY_PARTITIONS)


def _schema_spec(table: str) -> dg.AssetCheckSpec:
    return _spec(table, "schema", True, (
        f"The partition's rows of {table} match its Pandera schema (asset_checks/schemas.py): columns and "
        "types, non-null keys, unique grain, allowed values and ranges."
    ))


def _row_count_spec(table: str) -> dg.AssetCheckSpec:
    # Blocks when a day is empty or collapsed (ERROR); a moved count warns and lets the day through.
    return _spec(table, "row_count_stable", True, (
        f"Each day's row count of {table} is within {_TOLERANCE:.0%} of the previous day's "
        "(MonitoringSettings.row_count_tolerance). WARN when it moved; ERROR when a day is empty or "
        f"fell more than {_MAX_DROP:.0%} (RawGuardSettings.max_published_row_drop)."
    ))


def _coverage_spec(cohort: Cohort) -> dg.AssetCheckSpec:
    table = feature_table(cohort)
    return _spec(table, "covers_customer_360", True, (
        f"{table} has exactly one row per customer holding {cohort.value} in customer_360_definition "
        "(has_" + cohort.value + ") on each day, and no other rows."
    ))


def _missing_share_spec(cohort: Cohort) -> dg.AssetCheckSpec:
    return _spec(feature_table(cohort), "missing_share", False, (
        f"Per day and feature, at most {_MISSING_LIMIT:.0%} of {feature_table(cohort)}'s values are missing (NULL "
        "or not finite; MonitoringSettings.max_missing_share). Missing values score at the reference mean, so a "
        "higher share flattens scores: WARN."
    ))


TRUST_SIGNAL_SPECS = [
    _schema_spec(TRUST_SIGNAL),
    _spec(TRUST_SIGNAL, "scored_once_per_product", True, (
        "Every customer active on a day (a customer_360_definition row) is scored exactly once per product "
        "held (has_mobile, has_tv, has_broadband), and nobody else is scored."
    )),
    _spec(TRUST_SIGNAL, "provenance", True, (
        "Every row names a registered model version of its cohort and an issued ruler version whose content "
        "is unchanged since it was issued (fingerprint in ruler_issues)."
    )),
    _row_count_spec(TRUST_SIGNAL),
]
CUSTOMER_360_SPECS = [_schema_spec(CUSTOMER_360), _row_count_spec(CUSTOMER_360)]
FEATURE_SPECS = [
    spec
    for c in COHORTS
    for spec in (_schema_spec(feature_table(c)), _coverage_spec(c), _missing_share_spec(c),
                 _row_count_spec(feature_table(c)))
]


def _key(table: str, name: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(table), name)


def _table_checks(reads: WindowReads, table: str, model: type[pa.DataFrameModel]) -> dict[dg.AssetCheckKey, DailyCheck]:
    """schema and row_count_stable of a daily table, on the step's reads."""
    def schema(start: date, end: date) -> Evaluation:
        return window_reads.schema_violations(reads, table, model, start, end), ERROR

    def row_count(start: date, end: date) -> Evaluation:
        counts = window_reads.daily_counts(reads, table, model, start, end)
        found, unusable = rules.row_count_violations(counts, start, end, _TOLERANCE, table, _MAX_DROP)
        return found, ERROR if unusable else WARN

    return {
        _key(table, "schema"): DailyCheck(schema, lambda day: f"{table} matches its schema for {day}."),
        _key(table, "row_count_stable"): DailyCheck(row_count, lambda day: f"{table} row count is stable for {day}."),
    }


def _with_table_checks(
    reads: WindowReads, table: str, model: type[pa.DataFrameModel], own: dict[str, DailyCheck]
) -> dict[dg.AssetCheckKey, DailyCheck]:
    """schema first, then the table's ``own`` checks (by name), then row_count_stable: the order the step runs
    and reports them."""
    common = _table_checks(reads, table, model)
    schema, row_count = _key(table, "schema"), _key(table, "row_count_stable")
    return {schema: common[schema], **{_key(table, name): check for name, check in own.items()},
            row_count: common[row_count]}


def _feature_checks(
    reads: WindowReads, cohort: Cohort, holder_cohorts: list[str]
) -> dict[dg.AssetCheckKey, DailyCheck]:
    table, model, features = feature_table(cohort), feature_model(cohort), feature_names(cohort)
    what = f"every customer with has_{cohort.value} in customer_360_definition"

    def coverage(start: date, end: date) -> Evaluation:
        return window_reads.coverage_violations(
            reads, table, model, [cohort.value], what, start, end, holder_cohorts
        ), ERROR

    def missing_share(start: date, end: date) -> Evaluation:
        return window_reads.missing_share_violations(
            reads, table, model, features, _MISSING_LIMIT, start, end
        ), WARN

    return _with_table_checks(reads, table, model, {
        "covers_customer_360": DailyCheck(
            coverage, lambda day: f"{table} covers every {cohort.value} holder for {day}."
        ),
        "missing_share": DailyCheck(
            missing_share, lambda day: f"{table} missing shares within {_MISSING_LIMIT:.0%} for {day}."
        ),
    })


@dg.multi_asset_check(specs=CUSTOMER_360_SPECS, can_subset=True, name="customer_360_definition_checks")
def customer_360_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
    reads = WindowReads(warehouse, *window_of(context))
    # The day's counts come from the rows the schema check reads.
    yield from daily_checks(context, _table_checks(reads, CUSTOMER_360, Customer360Schema))


@dg.multi_asset_check(specs=FEATURE_SPECS, can_subset=True, name="cohort_feature_checks")
def cohort_feature_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
    """The three feature tables' checks in one step: customer_360_definition's holders are read once for every
    coverage check, and each table's window once (by its schema check) for its four checks. The feature tables
    have the same downstream assets (customer_trust_signal, feature_drift), so a failed blocking check of one
    blocks what it blocked before."""
    reads = WindowReads(warehouse, *window_of(context))
    selected = context.selected_asset_check_keys
    holder_cohorts = [c.value for c in COHORTS if _key(feature_table(c), "covers_customer_360") in selected]
    yield from daily_checks(context, _all_feature_checks(reads, holder_cohorts),
                            lambda asset: reads.forget(asset.path[-1]))


def _all_feature_checks(reads: WindowReads, holder_cohorts: list[str]) -> dict[dg.AssetCheckKey, DailyCheck]:
    return {k: v for c in COHORTS for k, v in _feature_checks(reads, c, holder_cohorts).items()}


def _trust_signal_checks(reads: WindowReads) -> dict[dg.AssetCheckKey, DailyCheck]:
    cohorts = [c.value for c in COHORTS]
    what = "every customer holding the product in customer_360_definition"

    def coverage(start: date, end: date) -> Evaluation:
        return window_reads.coverage_violations(
            reads, TRUST_SIGNAL, TrustSignalSchema, cohorts, what, start, end
        ), ERROR

    def provenance(start: date, end: date) -> Evaluation:
        used = window_reads.versions_used(reads, TRUST_SIGNAL, TrustSignalSchema, start, end)
        return provenance_violations(reads.warehouse, used), ERROR

    return _with_table_checks(reads, TRUST_SIGNAL, TrustSignalSchema, {
        "scored_once_per_product": DailyCheck(
            coverage, lambda day: f"Every holder scored exactly once per product for {day}."
        ),
        "provenance": DailyCheck(
            provenance, lambda day: f"Model and ruler versions are registered and intact for {day}."
        ),
    })


@dg.multi_asset_check(specs=TRUST_SIGNAL_SPECS, can_subset=True, name="customer_trust_signal_checks")
def trust_signal_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
    """The published signal's checks in one step: the schema check's read (every column but the drivers) gives
    the keys for the coverage check, the versions for the provenance check and the day's counts."""
    yield from daily_checks(context, _trust_signal_checks(WindowReads(warehouse, *window_of(context))))


def provenance_violations(warehouse: WarehouseResource, used: pl.DataFrame) -> list[Violation]:
    """``used`` (rows per cohort, model and ruler version) names registered model versions of their cohorts and
    issued ruler versions whose content is unchanged."""
    registry = read_table(warehouse, MODEL_REGISTRY).select("model_version", "cohort")
    found: list[Violation] = []
    unknown = used.join(registry, on=["model_version", "cohort"], how="anti")
    if unknown.height:
        found.append(Violation(TRUST_SIGNAL, "model_version", "a registered model version of the row's cohort",
                               int(unknown["rows"].sum()), unknown))
    ruler = read_table(warehouse, RULER)
    issues = read_table(warehouse, RULER_ISSUES)
    versions = used["ruler_version"].unique().to_list()
    not_issued = used.filter(~pl.col("ruler_version").is_in(issues["ruler_version"].to_list()))
    if not_issued.height:
        found.append(Violation(TRUST_SIGNAL, "ruler_version", "an issued ruler version",
                               int(not_issued["rows"].sum()), not_issued))
    found += rules.fingerprint_violations(
        ruler.filter(pl.col("ruler_version").is_in(versions)),
        issues.filter(pl.col("ruler_version").is_in(versions)),
    )
    return found


# --- the ruler and the models (unpartitioned) -----------------------------------------------------------------------
@dg.asset_check(
    asset=dg.AssetKey(RULER),
    name="schema",
    blocking=True,
    description=(
        f"{RULER} matches its schema: columns and types, cohorts, features from the "
        "configuration, n >= 0, stddev >= 0, and one row per ruler_version, cohort, segment and feature."
    ),
)
def ruler_schema(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    def evaluate() -> Evaluation:
        ruler = read_table(warehouse, RULER)
        found = rules.schema_violations(ruler, ReferenceStatsSchema, RULER)
        found += rules.grain_violations(ruler, ["ruler_version", "cohort", "segment", "feature"], RULER)
        return found, ERROR

    return check_result_of(evaluate, "The ruler matches its schema and grain.", None)


@dg.asset_check(
    asset=dg.AssetKey(RULER),
    name="fingerprint_unchanged",
    blocking=True,
    description=(
        "Each ruler version's content still has the fingerprint recorded in ruler_issues when it was issued "
        "(trust_assets/scoring/reference_stats.py ruler_fingerprint): the ruler never moves."
    ),
)
def ruler_fingerprint_unchanged(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    def evaluate() -> Evaluation:
        return rules.fingerprint_violations(read_table(warehouse, RULER), read_table(warehouse, RULER_ISSUES)), ERROR

    return check_result_of(evaluate, "Every issued ruler version is unchanged.", None)


@dg.asset_check(
    asset=dg.AssetKey(RULER),
    name="stddev_usable",
    blocking=False,
    description=(
        "No ruler row has a zero or NULL standard deviation. Such a feature is unusable and scores with "
        "weight 0 (docs/architecture.md §3), so the index still runs: WARN, to be fixed with the next ruler version."
    ),
)
def ruler_stddev_usable(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    def evaluate() -> Evaluation:
        return rules.stddev_violations(read_table(warehouse, RULER)), WARN

    return check_result_of(evaluate, "Every ruler row has a positive standard deviation.", None)


@dg.asset_check(
    asset=dg.AssetKey(MODEL_WEIGHTS),
    name="schema",
    blocking=True,
    description=(
        f"{MODEL_WEIGHTS} matches its schema (weight = w_recontract + w_nrc - w_churn, finite, one row per "
        "model version and feature) and every registered version has a weight for each configured feature."
    ),
)
def weights_schema(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    def evaluate() -> Evaluation:
        weights = read_table(warehouse, MODEL_WEIGHTS)
        found = rules.schema_violations(weights, ModelWeightsSchema, MODEL_WEIGHTS)
        registry = read_table(warehouse, MODEL_REGISTRY)
        found += rules.weights_coverage_violations(
            weights, registry, {c.value: feature_names(c) for c in COHORTS}
        )
        return found, ERROR

    return check_result_of(evaluate, "The model weights match their schema and cover every feature.", None)


@dg.asset_check(
    asset=dg.AssetKey(MODEL_REGISTRY),
    name="schema",
    blocking=True,
    description=(
        f"{MODEL_REGISTRY} matches its schema: one row per model version, known cohort and status, finite "
        "raw-score reference mean, raw_ref_stddev > 0."
    ),
)
def registry_schema(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    def evaluate() -> Evaluation:
        registry = read_table(warehouse, MODEL_REGISTRY)
        return rules.schema_violations(registry, ModelRegistrySchema, MODEL_REGISTRY), ERROR

    return check_result_of(evaluate, "The model registry matches its schema.", None)


@dg.asset_check(
    asset=dg.AssetKey(MODEL_REGISTRY),
    name="one_production_per_cohort",
    blocking=True,
    description="Exactly one production model version per cohort: the daily scoring needs it.",
)
def registry_one_production(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    def evaluate() -> Evaluation:
        return rules.production_violations(read_table(warehouse, MODEL_REGISTRY)), ERROR

    return check_result_of(evaluate, "Each cohort has exactly one production model.", None)


DAILY_CHECKS: list[dg.AssetChecksDefinition] = [customer_360_checks, cohort_feature_checks, trust_signal_checks]

MODEL_CHECKS: list[dg.AssetChecksDefinition] = [
    ruler_schema,
    ruler_fingerprint_unchanged,
    ruler_stddev_usable,
    weights_schema,
    registry_schema,
    registry_one_production,
]

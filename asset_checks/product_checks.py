"""Asset checks on the product tables, as the UI shows them.

Daily tables get partition-aware checks: each reads only the partition window's rows, in the warehouse (a
single-run backfill checks its whole range in one query). Checks whose failure must stop downstream work are
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

from asset_checks import rules
from asset_checks.daily_checks import Evaluation, daily_check
from asset_checks.reads import (
    MissingTable,
    feature_table,
    read_coverage_problems,
    read_daily_counts,
    read_missing_shares,
    read_schema_columns,
    read_table,
    read_window,
)
from asset_checks.schemas import (
    TYPE_ONLY_COLUMNS,
    Customer360Schema,
    ModelRegistrySchema,
    ModelWeightsSchema,
    ReferenceStatsSchema,
    TrustSignalSchema,
    feature_model,
)
from asset_checks.violations import Violation, check_result
from resources.warehouse import WarehouseResource
from trust_assets.config import COHORTS, SETTINGS, Cohort, feature_names
from trust_assets.partitions import DAILY_PARTITIONS
from trust_assets.store.signal import versions_used
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
    narrow = read_schema_columns(warehouse, table, start, end, model.to_schema(), TYPE_ONLY_COLUMNS.get(table, ()))
    if narrow is not None and not rules.schema_violations(narrow, model, table):
        return []
    return rules.schema_violations(read_window(warehouse, table, start, end), model, table)


# --- check factories for the daily tables -------------------------------------------------------------------------
def _schema_check(table: str, model: type[pa.DataFrameModel]) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(table),
        name="schema",
        partitions_def=DAILY_PARTITIONS,
        blocking=True,
        description=(
            f"The partition's rows of {table} match its Pandera schema (asset_checks/schemas.py): columns and "
            "types, non-null keys, unique grain, allowed values and ranges."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
        def evaluate(start: date, end: date) -> Evaluation:
            return schema_check_violations(warehouse, table, model, start, end), ERROR

        yield from daily_check(context, evaluate, lambda day: f"{table} matches its schema for {day}.")

    return _check


def _row_count_check(table: str) -> dg.AssetChecksDefinition:
    tolerance = SETTINGS.monitoring.row_count_tolerance
    max_drop = SETTINGS.raw_guards.max_published_row_drop

    @dg.asset_check(
        asset=dg.AssetKey(table),
        name="row_count_stable",
        partitions_def=DAILY_PARTITIONS,
        # Blocks when a day is empty or collapsed (ERROR); a moved count warns and lets the day through.
        blocking=True,
        description=(
            f"Each day's row count of {table} is within {tolerance:.0%} of the previous day's "
            "(MonitoringSettings.row_count_tolerance). WARN when it moved; ERROR when a day is empty or "
            f"fell more than {max_drop:.0%} (RawGuardSettings.max_published_row_drop)."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
        def evaluate(start: date, end: date) -> Evaluation:
            counts = read_daily_counts(warehouse, table, start, end)
            found, unusable = rules.row_count_violations(counts, start, end, tolerance, table, max_drop)
            return found, ERROR if unusable else WARN

        yield from daily_check(context, evaluate, lambda day: f"{table} row count is stable for {day}.")

    return _check


def _feature_coverage_check(cohort: Cohort) -> dg.AssetChecksDefinition:
    table = feature_table(cohort)

    @dg.asset_check(
        asset=dg.AssetKey(table),
        name="covers_customer_360",
        partitions_def=DAILY_PARTITIONS,
        blocking=True,
        description=(
            f"{table} has exactly one row per customer holding {cohort.value} in customer_360_definition "
            "(has_" + cohort.value + ") on each day, and no other rows."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
        def evaluate(start: date, end: date) -> Evaluation:
            # Compared in the warehouse: only keys that break the rule come back.
            problems = read_coverage_problems(warehouse, table, start, end, [cohort.value])
            what = f"every customer with has_{cohort.value} in customer_360_definition"
            return rules.key_count_violations(problems, table, what), ERROR

        yield from daily_check(context, evaluate, lambda day: f"{table} covers every {cohort.value} holder for {day}.")

    return _check


def _missing_share_check(cohort: Cohort) -> dg.AssetChecksDefinition:
    table = feature_table(cohort)
    limit = SETTINGS.monitoring.max_missing_share
    features = feature_names(cohort)

    @dg.asset_check(
        asset=dg.AssetKey(table),
        name="missing_share",
        partitions_def=DAILY_PARTITIONS,
        blocking=False,
        description=(
            f"Per day and feature, at most {limit:.0%} of {table}'s values are missing (NULL or not finite; "
            "MonitoringSettings.max_missing_share). Missing values score at the reference mean, so a higher "
            "share flattens scores: WARN."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
        def evaluate(start: date, end: date) -> Evaluation:
            # Aggregated in the warehouse: one row per day instead of the partition.
            shares = read_missing_shares(warehouse, table, start, end, features)
            return rules.share_violations(shares, features, limit, table), WARN

        yield from daily_check(context, evaluate, lambda day: f"{table} missing shares within {limit:.0%} for {day}.")

    return _check


@dg.asset_check(
    asset=dg.AssetKey(TRUST_SIGNAL),
    name="scored_once_per_product",
    partitions_def=DAILY_PARTITIONS,
    blocking=True,
    description=(
        "Every customer active on a day (a customer_360_definition row) is scored exactly once per product "
        "held (has_mobile, has_tv, has_broadband), and nobody else is scored."
    ),
)
def trust_signal_coverage(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
    def evaluate(start: date, end: date) -> Evaluation:
        problems = read_coverage_problems(warehouse, TRUST_SIGNAL, start, end, [c.value for c in COHORTS])
        what = "every customer holding the product in customer_360_definition"
        return rules.key_count_violations(problems, TRUST_SIGNAL, what), ERROR

    yield from daily_check(context, evaluate, lambda day: f"Every holder scored exactly once per product for {day}.")


@dg.asset_check(
    asset=dg.AssetKey(TRUST_SIGNAL),
    name="provenance",
    partitions_def=DAILY_PARTITIONS,
    blocking=True,
    description=(
        "Every row names a registered model version of its cohort and an issued ruler version whose content "
        "is unchanged since it was issued (fingerprint in ruler_issues)."
    ),
)
def trust_signal_provenance(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[object]:
    def evaluate(start: date, end: date) -> Evaluation:
        used = _versions_used(warehouse, start, end)
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
        return found, ERROR

    yield from daily_check(
        context, evaluate, lambda day: f"Model and ruler versions are registered and intact for {day}."
    )


def _versions_used(warehouse: WarehouseResource, start: date, end: date) -> pl.DataFrame:
    if not warehouse.table_exists(TRUST_SIGNAL):
        raise MissingTable(TRUST_SIGNAL)
    return versions_used(warehouse, start, end)


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


DAILY_CHECKS: list[dg.AssetChecksDefinition] = [
    _schema_check(CUSTOMER_360, Customer360Schema),
    _row_count_check(CUSTOMER_360),
    *[_schema_check(feature_table(c), feature_model(c)) for c in COHORTS],
    *[_feature_coverage_check(c) for c in COHORTS],
    *[_missing_share_check(c) for c in COHORTS],
    *[_row_count_check(feature_table(c)) for c in COHORTS],
    _schema_check(TRUST_SIGNAL, TrustSignalSchema),
    trust_signal_coverage,
    trust_signal_provenance,
    _row_count_check(TRUST_SIGNAL),
]

MODEL_CHECKS: list[dg.AssetChecksDefinition] = [
    ruler_schema,
    ruler_fingerprint_unchanged,
    ruler_stddev_usable,
    weights_schema,
    registry_schema,
    registry_one_production,
]

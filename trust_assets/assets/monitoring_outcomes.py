"""Outcome monitoring assets: matured-outcome performance, the decile KPI view and the fairness check.

One daily-partitioned step writes three tables for the scoring dates of its window (a partition is a scoring
date): ``matured_outcome_performance`` and ``trust_decile_outcomes`` once the date's outcome window has closed
(no rows before), and ``fairness_by_group`` always (its realised error-rate columns fill in once matured).
Re-running a partition replaces its rows (``replace_partitions``), so the job is idempotent. The outcomes are
the dbt model ``outcome_labels`` compiled for the scoring date (see trust_assets/monitoring/matured_outcomes.py).
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg
import polars as pl

from resources.warehouse import DuckDBWarehouse, WarehouseResource
from trust_assets.asset_metadata import column_schema, markdown_table
from trust_assets.assets.reference import feature_table
from trust_assets.config import COHORTS, SETTINGS, default_end_date, feature_names
from trust_assets.dbt_project import TrustDbtCliResource, duckdb_environment
from trust_assets.monitoring.fairness import (
    DISPARITY_MEASURE,
    FAIRNESS_DESCRIPTIONS,
    FAIRNESS_SCHEMA,
    fairness_rows,
    worst_disparity,
)
from trust_assets.monitoring.matured_outcomes import (
    DECILE_DESCRIPTIONS,
    DECILE_SCHEMA,
    PERFORMANCE_DESCRIPTIONS,
    PERFORMANCE_SCHEMA,
    decile_rows,
    is_matured,
    outcome_dbt_vars,
    outcome_window,
    performance_rows,
    predict,
    registry_metrics,
)
from trust_assets.owners import ML_ENGINEERING
from trust_assets.partition_events import add_daily_metadata
from trust_assets.partitions import DAILY_PARTITIONS, fixed_dbt_vars, partition_window_dates
from trust_assets.services.features import read_feature_rows
from trust_assets.store.models import ModelVersion, load_model_version
from trust_assets.store.signal import signal_rows
from trust_assets.tables import (
    FAIRNESS_BY_GROUP,
    MATURED_OUTCOME_PERFORMANCE,
    MODEL_REGISTRY,
    MODEL_WEIGHTS,
    OUTCOME_LABELS,
    RULER,
    TRUST_DECILE_OUTCOMES,
    TRUST_SIGNAL,
)

PARTITION_COLUMN = "scoring_date"
GROUP = "monitoring"

_DEPS = [
    dg.AssetDep(TRUST_SIGNAL),
    *[dg.AssetDep(feature_table(c)) for c in COHORTS],
    dg.AssetDep(RULER),
    dg.AssetDep(MODEL_WEIGHTS),
    dg.AssetDep(MODEL_REGISTRY),
    # Its SQL (compiled for each scoring date) defines the outcomes; its staging views must exist.
    dg.AssetDep(OUTCOME_LABELS),
]
_MONTHS = SETTINGS.outcomes.window_months


def _monitoring_spec(
    table: str, description: str, schema: dict[str, pl.DataType], descriptions: dict[str, str], kinds: set[str]
) -> dg.AssetSpec:
    """One of the three outcome-monitoring tables: same group, owner, dependencies and daily partitions."""
    return dg.AssetSpec(
        table,
        group_name=GROUP,
        owners=[ML_ENGINEERING],
        kinds=kinds,
        deps=_DEPS,
        partitions_def=DAILY_PARTITIONS,
        tags={"layer": "monitoring"},
        description=description,
        metadata={"dagster/column_schema": column_schema(schema, descriptions)},
    )


PERFORMANCE_SPEC = _monitoring_spec(
    MATURED_OUTCOME_PERFORMANCE,
    (
        f"Did the models get worse? For each scoring date whose {_MONTHS}-month outcome window has closed: how "
        "well each product's churn, recontract and revenue-change models predicted what the scored customers "
        "then actually did (ROC AUC, log loss, calibration error and slope, R^2), next to the same figures "
        "measured on held-out customers when the model was trained. Outcomes come from the real contract and "
        "billing events. A date whose window is still open has no rows yet."
    ),
    PERFORMANCE_SCHEMA,
    PERFORMANCE_DESCRIPTIONS,
    {"polars", "scikit-learn"},
)

DECILE_SPEC = _monitoring_spec(
    TRUST_DECILE_OUTCOMES,
    (
        "The business view of the trust score: customers of each product split into ten equal groups by their "
        "trust score on a scoring date, with how many of each group left, signed a new contract, and how their "
        f"revenue changed over the {_MONTHS} months that followed. A useful score shows churn falling and "
        "recontracting rising from the lowest-trust group to the highest. Filled once the window has closed."
    ),
    DECILE_SCHEMA,
    DECILE_DESCRIPTIONS,
    {"polars"},
)

FAIRNESS_SPEC = _monitoring_spec(
    FAIRNESS_BY_GROUP,
    (
        "Is the score even-handed across regions and customer segments? Per scoring date, product, and region "
        "or segment: the trust-score distribution, the share flagged at risk, predicted churn, and (once the "
        "outcomes are known) realised churn and how often the at-risk flag was wrong. A group is flagged when "
        f"its mean score is more than {SETTINGS.outcomes.disparity_threshold} product-wide standard deviations "
        "from the product's mean (the disparity threshold in config)."
    ),
    FAIRNESS_SCHEMA,
    FAIRNESS_DESCRIPTIONS,
    {"polars"},
)


# --- dbt: the outcome model compiled for a scoring date ----------------------------------------------------------
def outcome_sql(dbt: TrustDbtCliResource, warehouse: WarehouseResource, scoring_date: date) -> str:
    """The SQL of the dbt model ``outcome_labels`` with the scoring date as its reference date.

    ``dbt compile`` renders the model for the date's window without building anything; the warehouse then
    runs that SELECT. The trained models' ``outcome_labels`` table is left untouched.
    """
    # dbt-duckdb names the catalog after the file: compile against the file this step reads.
    env = duckdb_environment(warehouse.path) if isinstance(warehouse, DuckDBWarehouse) else {}
    # Every var from config (as the dbt assets pass them), with the scoring date's window on top.
    dbt_vars = {**fixed_dbt_vars(), **outcome_dbt_vars(scoring_date, _MONTHS)}
    invocation = dbt.cli(["compile", "--select", OUTCOME_LABELS, "--vars", json.dumps(dbt_vars)], env=env).wait()
    for result in invocation.get_artifact("run_results.json").get("results", []):
        if result.get("unique_id", "").endswith(f".{OUTCOME_LABELS}") and result.get("unique_id", "").startswith(
            "model."
        ):
            return str(result["compiled_code"])
    raise dg.Failure(description=f"dbt compile returned no SQL for {OUTCOME_LABELS} ({scoring_date})")


def read_outcomes(warehouse: WarehouseResource, sql: str) -> pl.DataFrame:
    return warehouse.read(
        f"select cohort, customer_id, is_churn, is_recontract, revenue_change from ({sql}) as outcomes"
    ).with_columns(
        pl.col("cohort").cast(pl.String),
        pl.col("customer_id").cast(pl.String),
        pl.col("is_churn").cast(pl.Boolean),
        pl.col("is_recontract").cast(pl.Boolean),
        pl.col("revenue_change").cast(pl.Float64),
    )


# --- one scoring date ----------------------------------------------------------------------------------------------
def scored_population(warehouse: WarehouseResource, day: date, versions: dict[str, ModelVersion]) -> pl.DataFrame:
    """The published scores of a date with each row's model predictions (``p_churn, p_recontract, nrc_pred``)."""
    columns = ("cohort", "customer_id", "segment", "region", "trust_score", "model_version")
    signal = signal_rows(warehouse, day, day, columns).with_columns(
        pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String)
    )
    if signal.height == 0:
        raise dg.Failure(
            description=f"{TRUST_SIGNAL} has no rows for {day}: publish that date's scores before monitoring it."
        )
    parts: list[pl.DataFrame] = []
    for cohort in COHORTS:
        rows = signal.filter(pl.col("cohort") == cohort.value)
        if rows.height == 0:
            continue
        features = read_feature_rows(warehouse, cohort, "snapshot_date = $d", {"d": day})
        for version_id in sorted(rows["model_version"].unique().to_list()):
            if version_id not in versions:
                versions[version_id] = load_model_version(warehouse, version_id)
            version = versions[version_id]
            own = rows.filter(pl.col("model_version") == version_id)
            predicted = predict(
                features.join(own.select("customer_id"), on="customer_id", how="semi"),
                version.ruler,
                version.weights,
                registry_metrics(version.registry_row),
                cohort.value,
                feature_names(cohort),
            ).select("customer_id", "p_churn", "p_recontract", "nrc_pred")
            parts.append(own.join(predicted, on="customer_id", how="left"))
    return pl.concat(parts)


def monitor_date(
    warehouse: WarehouseResource, dbt: TrustDbtCliResource, day: date, last_day: date, versions: dict[str, ModelVersion]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """(performance rows, decile rows, fairness rows, facts) of one scoring date."""
    scored = scored_population(warehouse, day, versions)
    matured = is_matured(day, _MONTHS, last_day)
    window = outcome_window(day, _MONTHS)
    facts: dict[str, Any] = {"matured": matured, "window": window, "without_outcome": 0}
    if matured:
        outcomes = read_outcomes(warehouse, outcome_sql(dbt, warehouse, day))
        scored = scored.join(outcomes, on=["cohort", "customer_id"], how="left")
        facts["without_outcome"] = int(scored["is_churn"].null_count())
    else:
        scored = scored.with_columns(
            pl.lit(None, pl.Boolean).alias("is_churn"),
            pl.lit(None, pl.Boolean).alias("is_recontract"),
            pl.lit(None, pl.Float64).alias("revenue_change"),
        )
    performance: list[pl.DataFrame] = []
    if matured:
        for (cohort, version_id), part in scored.group_by("cohort", "model_version", maintain_order=True):
            held = registry_metrics(versions[str(version_id)].registry_row)
            performance.append(performance_rows(part, day, str(cohort), str(version_id), held, window))
    perf = pl.concat(performance) if performance else pl.DataFrame(schema=PERFORMANCE_SCHEMA)
    deciles = decile_rows(scored, day, SETTINGS.outcomes.deciles) if matured else pl.DataFrame(schema=DECILE_SCHEMA)
    outcome_settings = SETTINGS.outcomes
    fairness = fairness_rows(
        scored, day, outcome_settings.disparity_threshold, outcome_settings.min_group_size,
        outcome_settings.at_risk_trust,
    )  # fmt: skip
    return perf, deciles, fairness, facts


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _metric(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dg.multi_asset(
    specs=[PERFORMANCE_SPEC, DECILE_SPEC, FAIRNESS_SPEC],
    name="outcome_monitoring",
    can_subset=False,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def outcome_monitoring(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, dbt: TrustDbtCliResource
) -> Iterator[dg.MaterializeResult]:
    start, end = partition_window_dates(context)
    last_day = default_end_date()
    versions: dict[str, ModelVersion] = {}
    perf_parts, decile_parts, fairness_parts = [], [], []
    matured_days: list[str] = []
    waiting: list[str] = []
    for day in _days(start, end):
        perf, deciles, fairness, facts = monitor_date(warehouse, dbt, day, last_day, versions)
        (matured_days if facts["matured"] else waiting).append(day.isoformat())
        if facts["without_outcome"]:
            context.log.warning(f"{day}: {facts['without_outcome']} scored rows have no outcome row")
        perf_parts.append(perf)
        decile_parts.append(deciles)
        fairness_parts.append(fairness)
    perf = pl.concat(perf_parts)
    deciles = pl.concat(decile_parts)
    fairness = pl.concat(fairness_parts)
    # One atomic replace per table: a re-run of the window replaces its rows (and clears stale ones).
    warehouse.replace_partitions(MATURED_OUTCOME_PERFORMANCE, perf, start, end, PARTITION_COLUMN)
    warehouse.replace_partitions(TRUST_DECILE_OUTCOMES, deciles, start, end, PARTITION_COLUMN)
    warehouse.replace_partitions(FAIRNESS_BY_GROUP, fairness, start, end, PARTITION_COLUMN)

    # Each day's own figures on its own partition of each table (trust_assets/partition_events.py).
    days = _days(start, end)
    for key, describe_day, frame in (
        (MATURED_OUTCOME_PERFORMANCE, performance_metadata, perf),
        (TRUST_DECILE_OUTCOMES, decile_metadata, deciles),
        (FAIRNESS_BY_GROUP, fairness_metadata, fairness),
    ):
        add_daily_metadata(
            context,
            {
                day: {
                    "matured": day.isoformat() in matured_days,
                    "outcome_window": "{} .. {}".format(*outcome_window(day, _MONTHS)),
                    **describe_day(frame.filter(pl.col("scoring_date") == day)),
                }
                for day in days
            },
            dg.AssetKey(key),
        )
    common: dict[str, Any] = {
        "window": f"{start} .. {end}",
        "matured_dates": len(matured_days),
        "dates_waiting_for_outcomes": ", ".join(waiting) or "none",
    }
    context.log.info(f"outcome monitoring for {start} .. {end}: matured {matured_days or 'none'}")
    yield dg.MaterializeResult(asset_key=MATURED_OUTCOME_PERFORMANCE, metadata=common)
    yield dg.MaterializeResult(asset_key=TRUST_DECILE_OUTCOMES, metadata=common)
    yield dg.MaterializeResult(asset_key=FAIRNESS_BY_GROUP, metadata=common)


def performance_metadata(perf: pl.DataFrame) -> dict[str, Any]:
    """A day's matured AUC, calibration and R^2 per cohort and model, next to the held-out figures."""
    meta: dict[str, Any] = {"dagster/row_count": perf.height}
    for row in perf.iter_rows(named=True):
        prefix = f"{row['cohort']}_{row['model']}"
        if row["model"] == "nrc":
            meta[f"{prefix}_r2"] = _metric(row["r2"])
            meta[f"{prefix}_r2_heldout"] = _metric(row["heldout_r2"])
        else:
            meta[f"{prefix}_auc"] = _metric(row["roc_auc"])
            meta[f"{prefix}_auc_heldout"] = _metric(row["heldout_roc_auc"])
            meta[f"{prefix}_ece"] = _metric(row["ece"])
            meta[f"{prefix}_calibration_slope"] = _metric(row["calibration_slope"])
    meta["performance"] = (
        dg.MetadataValue.md(
            markdown_table(perf.select("cohort", "model", "n", "outcome_mean", "roc_auc", "heldout_roc_auc", "ece",
                                       "calibration_slope", "r2", "heldout_r2"))
        )
        if perf.height
        else "outcomes have not matured yet"
    )  # fmt: skip
    return meta


def decile_metadata(deciles: pl.DataFrame) -> dict[str, Any]:
    """A day's churn and recontract rates of the lowest and highest trust deciles per cohort."""
    meta: dict[str, Any] = {"dagster/row_count": deciles.height}
    for cohort in COHORTS:
        own = deciles.filter(pl.col("cohort") == cohort.value).sort("trust_decile")
        if own.height:
            meta[f"{cohort.value}_churn_rate_lowest_decile"] = float(own["churn_rate"][0])
            meta[f"{cohort.value}_churn_rate_highest_decile"] = float(own["churn_rate"][-1])
            meta[f"{cohort.value}_recontract_rate_lowest_decile"] = float(own["recontract_rate"][0])
            meta[f"{cohort.value}_recontract_rate_highest_decile"] = float(own["recontract_rate"][-1])
    if deciles.height:
        meta["deciles"] = dg.MetadataValue.md(
            markdown_table(deciles.select("cohort", "trust_decile", "customers", "churn_rate", "recontract_rate",
                                          "mean_revenue_change"))
        )  # fmt: skip
    return meta


def fairness_metadata(fairness: pl.DataFrame) -> dict[str, Any]:
    """A day's groups beyond the disparity threshold and the worst disparity per cohort and dimension."""
    worst = worst_disparity(fairness)
    meta: dict[str, Any] = {
        "dagster/row_count": fairness.height,
        "disparity_measure": DISPARITY_MEASURE,
        "disparity_threshold": SETTINGS.outcomes.disparity_threshold,
        "groups_exceeding": int(fairness["exceeds_threshold"].sum()) if fairness.height else 0,
        "worst_disparity": dg.MetadataValue.md(markdown_table(worst) if worst.height else "no judged groups"),
    }
    for cohort, dimension, value in worst.select("cohort", "dimension", "max_disparity").iter_rows():
        meta[f"{cohort}_{dimension}_max_disparity"] = _metric(value)
    return meta


OUTCOME_MONITORING_ASSETS: list[dg.AssetsDefinition] = [outcome_monitoring]
OUTCOME_MONITORING_KEYS: tuple[str, ...] = (MATURED_OUTCOME_PERFORMANCE, TRUST_DECILE_OUTCOMES, FAIRNESS_BY_GROUP)


def dates_maturing_on(day: date) -> list[date]:
    """The scoring dates whose outcome window ends on ``day`` (usually one; month ends can give several)."""
    earliest = day - timedelta(days=31 * (_MONTHS + 1))
    return [d for d in _days(earliest, day) if outcome_window(d, _MONTHS)[1] == day]


outcome_monitoring_job = dg.define_asset_job(
    "outcome_monitoring_job",
    selection=dg.AssetSelection.assets(*OUTCOME_MONITORING_KEYS),
    description="Matured-outcome performance, trust deciles and fairness for the scoring dates of a range.",
)


@dg.schedule(
    job=outcome_monitoring_job,
    cron_schedule=f"30 {SETTINGS.schedule_hour + 1} * * *",
    execution_timezone=SETTINGS.timezone,
    description=(
        "Every morning, after the daily scores: monitors the scoring date whose outcome window closed "
        "yesterday (performance, deciles and fairness with realised error rates)."
    ),
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def matured_outcomes_schedule(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
    yesterday = context.scheduled_execution_time.date() - timedelta(days=1)
    days = [d for d in dates_maturing_on(yesterday) if d >= SETTINGS.partitions_start]
    if not days:
        yield dg.SkipReason(f"no partition's outcome window closed on {yesterday}")
    for day in days:
        yield dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())


OUTCOME_MONITORING_JOBS = [outcome_monitoring_job]
OUTCOME_MONITORING_SCHEDULES: list[dg.ScheduleDefinition] = [matured_outcomes_schedule]

__all__ = [
    "OUTCOME_MONITORING_ASSETS",
    "OUTCOME_MONITORING_JOBS",
    "OUTCOME_MONITORING_KEYS",
    "OUTCOME_MONITORING_SCHEDULES",
    "dates_maturing_on",
    "outcome_monitoring",
]

"""The probation assets: the previous champion's scores beside a new one, and the daily guard metrics."""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
from datetime import date

import dagster as dg
import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.asset_metadata import column_schema, markdown_table
from trust_assets.config import SETTINGS
from trust_assets.operations.assets import OPERATIONS_GROUP
from trust_assets.operations.guard_metrics import GUARD_DESCRIPTIONS, GUARD_SCHEMA, guards
from trust_assets.operations.probation import compute_guard_metrics, score_previous_champions
from trust_assets.owners import ML_ENGINEERING
from trust_assets.partition_events import add_daily_metadata, run_days
from trust_assets.partitions import DAILY_PARTITIONS, partition_window_dates
from trust_assets.scoring.union import TRUST_SIGNAL_COLUMN_DESCRIPTIONS, TRUST_SIGNAL_SCHEMA
from trust_assets.tables import MODEL_REGISTRY, MODEL_WEIGHTS, TRUST_SIGNAL

PROBATION = SETTINGS.probation


@dg.asset(
    name=PROBATION.previous_champion_table,
    group_name=OPERATIONS_GROUP,
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetDep(TRUST_SIGNAL), dg.AssetDep(MODEL_REGISTRY), dg.AssetDep(MODEL_WEIGHTS)],
    tags={"layer": "model_operations"},
    description=(
        f"Probation scores: for {PROBATION.days} days after a product's model is promoted, the model it replaced "
        "keeps scoring the same customers here, so every day of the new model can be compared like for like "
        "with what the old one would have published. Nothing downstream reads this table; the guard metrics "
        "do. Empty on days when no product is in probation."
    ),
    metadata={"dagster/column_schema": column_schema(TRUST_SIGNAL_SCHEMA, TRUST_SIGNAL_COLUMN_DESCRIPTIONS)},
)
def customer_trust_signal_previous_champion(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    start, end = partition_window_dates(context)
    frame = score_previous_champions(warehouse, start, end, context.log.warning)
    warehouse.replace_partitions(PROBATION.previous_champion_table, frame, start, end)
    counts = frame.group_by("snapshot_date", "model_version").agg(pl.len().alias("rows"))
    add_daily_metadata(
        context,
        {
            day: {
                "dagster/row_count": int(counts.filter(pl.col("snapshot_date") == day)["rows"].sum()),
                "previous_champions": dg.MetadataValue.json(
                    counts.filter(pl.col("snapshot_date") == day)["model_version"].sort().to_list()
                ),
            }
            for day in run_days(context)
        },
    )
    return dg.MaterializeResult(metadata={"window": f"{start} .. {end}"})


@dg.asset(
    name=PROBATION.guard_table,
    group_name=OPERATIONS_GROUP,
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetDep(TRUST_SIGNAL), dg.AssetDep(PROBATION.previous_champion_table)],
    tags={"layer": "model_operations"},
    description=(
        "Guard metrics of a newly promoted model, per product and day of its probation: how well it agrees "
        "with the model it replaced on the same customers (rank agreement, score PSI, mean shift), the share of "
        "its scores outside its own reference range, the share of missing feature values, and the drop of its "
        "churn AUC once that day's outcomes are known. A guard beyond its threshold on "
        f"{PROBATION.consecutive_days} consecutive days rolls the product back automatically "
        "(automatic_rollback_sensor). Empty on days when no product is in probation."
    ),
    metadata={"dagster/column_schema": column_schema(GUARD_SCHEMA, GUARD_DESCRIPTIONS)},
)
def probation_guard_metrics(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    start, end = partition_window_dates(context)
    metrics = compute_guard_metrics(warehouse, start, end)
    warehouse.replace_partitions(PROBATION.guard_table, metrics, start, end)
    add_daily_metadata(context, guard_metadata(metrics, run_days(context)))
    return dg.MaterializeResult(metadata={"window": f"{start} .. {end}"})


def guard_metadata(metrics: pl.DataFrame, days: list[date]) -> dict[date, dict[str, object]]:
    """Each day's guard values per cohort as ``<cohort>_<metric>`` (plotted over partitions in the UI) and the
    guards that breached that day."""
    out: dict[date, dict[str, object]] = {}
    for day in days:
        part = metrics.filter(pl.col("snapshot_date") == day)
        breached: list[str] = []
        meta: dict[str, object] = {
            "dagster/row_count": part.height,
            "guard_metrics": dg.MetadataValue.md(markdown_table(part) if part.height else "no product in probation"),
        }
        for row in part.iter_rows(named=True):
            for guard in guards(PROBATION):
                value = row[guard.metric]
                if value is not None:
                    meta[f"{row['cohort']}_{guard.metric}"] = float(value)
                if guard.breached(value):
                    breached.append(f"{row['cohort']}: {guard.describe()} ({value:.3f})")
        meta["breaches"] = dg.MetadataValue.json(breached)
        out[day] = meta
    return out


PROBATION_ASSETS: list[dg.AssetsDefinition] = [customer_trust_signal_previous_champion, probation_guard_metrics]

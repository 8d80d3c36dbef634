"""``customer_trust_signal_shadow``: the challenger's scores beside the champion's, never published."""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
import dagster as dg
import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.assets.reference import column_schema, markdown_table
from trust_assets.operations.shadow import SHADOW_TABLE, SIGNAL_TABLE, run_shadow
from trust_assets.owners import ML_ENGINEERING
from trust_assets.partitions import DAILY_PARTITIONS, partition_window_dates
from trust_assets.scoring.union import TRUST_SIGNAL_COLUMN_DESCRIPTIONS, TRUST_SIGNAL_SCHEMA

OPERATIONS_GROUP = "model_operations"


@dg.asset(
    name=SHADOW_TABLE,
    group_name=OPERATIONS_GROUP,
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetDep(SIGNAL_TABLE), dg.AssetDep("model_registry"), dg.AssetDep("trust_model_weights")],
    tags={"layer": "model_operations"},
    description=(
        "Shadow scores: each product's challenger model (status staging) scores the same customers and days as "
        "the published trust signal, here and nowhere else, so its behaviour can be judged before anyone relies "
        "on it. Nothing downstream reads this table. The metadata compares challenger and champion each day: "
        "rank correlation, mean shift, score PSI and the share of customers whose decile moved. Empty when no "
        "product has a challenger in shadow."
    ),
    metadata={"dagster/column_schema": column_schema(TRUST_SIGNAL_SCHEMA, TRUST_SIGNAL_COLUMN_DESCRIPTIONS)},
)
def customer_trust_signal_shadow(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    start, end = partition_window_dates(context)
    comparison = run_shadow(warehouse, start, end)
    metadata: dict[str, object] = {
        "window": f"{start} .. {end}",
        "dagster/row_count": int(comparison["customers"].sum()) if comparison.height else 0,
        "challengers": dg.MetadataValue.json(
            dict(comparison.select("cohort", "challenger_version").unique().iter_rows()) if comparison.height else {}
        ),
        "comparison": dg.MetadataValue.md(markdown_table(comparison) if comparison.height else "no challenger"),
    }
    per_cohort = comparison.group_by("cohort").agg(
        pl.col("spearman").mean(), pl.col("mean_shift").mean(), pl.col("score_psi").mean(),
        pl.col("decile_moved_share").mean(),
    )
    for row in per_cohort.iter_rows(named=True):
        for key in ("spearman", "mean_shift", "score_psi", "decile_moved_share"):
            metadata[f"{row['cohort']}_{key}"] = float(row[key])
    context.log.info(f"shadow {start} .. {end}: {comparison.height} cohort-days compared")
    return dg.MaterializeResult(metadata=metadata)


OPERATIONS_ASSETS: list[dg.AssetsDefinition] = [customer_trust_signal_shadow]

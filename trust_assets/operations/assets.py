"""``customer_trust_signal_shadow``: the challenger's scores beside the champion's, never published."""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
from datetime import date

import dagster as dg
import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.asset_metadata import column_schema, markdown_table
from trust_assets.operations.shadow import SHADOW_TABLE, run_shadow
from trust_assets.owners import ML_ENGINEERING
from trust_assets.partition_events import add_daily_metadata, run_days
from trust_assets.partitions import DAILY_PARTITIONS, partition_window_dates
from trust_assets.scoring.union import TRUST_SIGNAL_COLUMN_DESCRIPTIONS, TRUST_SIGNAL_SCHEMA
from trust_assets.tables import MODEL_REGISTRY, MODEL_WEIGHTS, TRUST_SIGNAL

OPERATIONS_GROUP = "model_operations"


@dg.asset(
    name=SHADOW_TABLE,
    group_name=OPERATIONS_GROUP,
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetDep(TRUST_SIGNAL), dg.AssetDep(MODEL_REGISTRY), dg.AssetDep(MODEL_WEIGHTS)],
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
    add_daily_metadata(context, shadow_metadata(comparison, run_days(context)))
    context.log.info(f"shadow {start} .. {end}: {comparison.height} cohort-days compared")
    return dg.MaterializeResult(metadata={"window": f"{start} .. {end}"})


def shadow_metadata(comparison: pl.DataFrame, days: list[date]) -> dict[date, dict[str, object]]:
    """Each day's challenger-versus-champion figures per cohort (zero rows on a day without a challenger)."""
    out: dict[date, dict[str, object]] = {}
    for day in days:
        part = comparison.filter(pl.col("snapshot_date") == day)
        meta: dict[str, object] = {
            "dagster/row_count": int(part["customers"].sum()) if part.height else 0,
            "challengers": dg.MetadataValue.json(
                dict(part.select("cohort", "challenger_version").iter_rows()) if part.height else {}
            ),
            "comparison": dg.MetadataValue.md(markdown_table(part) if part.height else "no challenger"),
        }
        for row in part.iter_rows(named=True):
            for key in ("spearman", "mean_shift", "score_psi", "decile_moved_share"):
                meta[f"{row['cohort']}_{key}"] = float(row[key])
        out[day] = meta
    return out


OPERATIONS_ASSETS: list[dg.AssetsDefinition] = [customer_trust_signal_shadow]

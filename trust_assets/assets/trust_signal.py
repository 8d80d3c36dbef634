"""``customer_trust_signal``: the daily trust score of every customer and product held.

The work is :func:`trust_assets.services.publishing.publish_scores`; this module is the asset's wiring.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
from datetime import timedelta

import dagster as dg
import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.asset_metadata import column_schema, markdown_table
from trust_assets.config import COHORTS
from trust_assets.owners import ML_ENGINEERING
from trust_assets.partition_events import add_daily_metadata
from trust_assets.partitions import DAILY_PARTITIONS
from trust_assets.scoring.feature_reads import feature_table
from trust_assets.scoring.union import TRUST_SIGNAL_COLUMN_DESCRIPTIONS, TRUST_SIGNAL_SCHEMA
from trust_assets.services.publishing import daily_signal_metadata, publish_scores
from trust_assets.tables import CUSTOMER_360, MODEL_REGISTRY, MODEL_WEIGHTS, RULER, TRUST_SIGNAL


@dg.asset(
    name=TRUST_SIGNAL,
    group_name="trust_signal",
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        *[dg.AssetDep(feature_table(c)) for c in COHORTS],
        dg.AssetDep(CUSTOMER_360),
        dg.AssetDep(RULER),
        dg.AssetDep(MODEL_WEIGHTS),
        dg.AssetDep(MODEL_REGISTRY),
    ],
    tags={"layer": "trust_signal"},
    description=(
        "The Experiential Trust Index: one score per customer, product held and day, from -1 (trust eroding) "
        "to +1 (strong), for Mobile, TV and Broadband in one table. Each score measures the customer's own "
        "behaviour (usage, faults, care contacts, payments, contract, revenue) against the fixed ruler with the "
        "product's production model, so day-to-day moves reflect the customer, not the population or the model. "
        "Every row names the model and ruler versions that produced it and its top drivers. A day is published "
        "only when every product has feature rows for it."
    ),
    metadata={"dagster/column_schema": column_schema(TRUST_SIGNAL_SCHEMA, TRUST_SIGNAL_COLUMN_DESCRIPTIONS)},
)
def customer_trust_signal(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    window = context.partition_time_window
    start = window.start.date()
    end = window.end.date() - timedelta(days=1)  # the window's end is exclusive
    published = publish_scores(warehouse, start, end, context.log.info)
    models = published.models
    unmatched_total = published.unmatched_total

    unusable_entries = (
        pl.concat(published.unusable)
        .group_by("cohort", "segment", "feature")
        .agg(pl.col("stddev").first(), pl.col("rows_affected").sum())
        .sort("cohort", "feature", "segment", nulls_last=False)
    )
    if any(unmatched_total.values()):
        context.log.warning(f"feature rows without a customer_360_definition row: {unmatched_total}")
    # Each day's own figures on its own partition (also in multi-day runs); trust_assets/partition_events.py.
    add_daily_metadata(context, daily_signal_metadata(pl.concat(published.stats), published.unmatched))
    return dg.MaterializeResult(
        metadata={
            "window": f"{start} .. {end}",
            "model_versions": dg.MetadataValue.json({c.value: m.model_version for c, (m, _) in models.items()}),
            "ruler_versions": dg.MetadataValue.json({c.value: m.ruler_version for c, (m, _) in models.items()}),
            "canary_versions": dg.MetadataValue.json(
                {c.value: m.model_version for c, (m, _) in published.canaries.items()}
            ),
            "unusable_ruler_entries": dg.MetadataValue.md(
                markdown_table(unusable_entries) if unusable_entries.height else "none"
            ),
        }
    )

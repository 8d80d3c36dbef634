"""``hierarchical_reference_stats``: the fixed ruler every score is measured with.

Also the dependencies of an asset on given days of the three feature tables (:func:`feature_deps`), which the
model and monitoring assets share.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
from collections.abc import Sequence
from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from resources.sql_dialect import date_list_sql
from resources.warehouse import WarehouseResource
from trust_assets.asset_metadata import column_schema, markdown_table
from trust_assets.config import COHORTS, SETTINGS, feature_names
from trust_assets.operations.audit import record_ruler_issue
from trust_assets.owners import ML_ENGINEERING
from trust_assets.scoring.feature_reads import feature_table
from trust_assets.scoring.reference_stats import (
    RULER_COLUMN_DESCRIPTIONS,
    RULER_SCHEMA,
    compute_reference_stats_from_wide,
    describe_ruler_difference,
    ruler_fingerprint,
    unusable_entries,
)
from trust_assets.services.features import read_feature_rows
from trust_assets.store.models import row_count, ruler_issue_recorded, stored_ruler
from trust_assets.tables import RULER, RULER_ISSUES

RULER_ISSUES_SCHEMA: dict[str, pl.DataType] = {
    "ruler_version": pl.String(),
    "issued_at": pl.Datetime("us", "UTC"),
    "fingerprint": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "snapshot_dates": pl.String(),
    "min_segment_support": pl.Int64(),
    "rows": pl.Int64(),
    "run_id": pl.String(),
}


def snapshot_partition_keys(days: Sequence[date]) -> list[str]:
    return [d.isoformat() for d in days]


def feature_deps(partition_keys: Sequence[str]) -> list[dg.AssetDep]:
    """Dependencies on specific days of the three cohort feature tables."""
    return [
        dg.AssetDep(
            dg.AssetKey(feature_table(c)),
            partition_mapping=dg.SpecificPartitionsPartitionMapping(list(partition_keys)),
        )
        for c in COHORTS
    ]


# --- the ruler -------------------------------------------------------------------------------------------------
def _issue_row(ruler: pl.DataFrame, fingerprint: str, run_id: str) -> pl.DataFrame:
    settings = SETTINGS.ruler
    row = {
        "ruler_version": settings.version,
        "issued_at": datetime.now(UTC),
        "fingerprint": fingerprint,
        "period_start": settings.reference_start,
        "period_end": settings.reference_end,
        "snapshot_dates": ",".join(d.isoformat() for d in settings.snapshot_dates),
        "min_segment_support": settings.min_segment_support,
        "rows": ruler.height,
        "run_id": run_id,
    }
    return pl.DataFrame([row], schema=RULER_ISSUES_SCHEMA)


def _ruler_summary(ruler: pl.DataFrame) -> dict[str, dg.MetadataValue | str | int | float]:
    per_cohort = (
        ruler.group_by("cohort")
        .agg(
            pl.col("segment").drop_nulls().n_unique().alias("segments"),
            pl.col("segment").is_not_null().sum().alias("segment_rows"),
            pl.col("n").filter(pl.col("segment").is_null()).max().alias("max_reference_values"),
        )
        .sort("cohort")
    )
    unusable = unusable_entries(ruler)
    return {
        "cohorts": dg.MetadataValue.md(markdown_table(per_cohort)),
        "segment_rows": int(ruler["segment"].is_not_null().sum()),
        "cohort_rows": int(ruler["segment"].is_null().sum()),
        "unusable_entries": int(unusable.height),
        "unusable_entry_list": dg.MetadataValue.md(markdown_table(unusable) if unusable.height else "none"),
    }


@dg.asset(
    name=RULER,
    group_name="reference",
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    deps=feature_deps(snapshot_partition_keys(SETTINGS.ruler.snapshot_dates)),
    tags={"layer": "reference"},
    description=(
        "The fixed ruler of the trust index: for every feature, its average and typical spread (standard "
        "deviation) among customers in the reference period (month-end snapshots, "
        f"{SETTINGS.ruler.reference_start} to {SETTINGS.ruler.reference_end}), per product and, where a plan, "
        "package or speed tier has enough customers, per segment. Every daily score measures a customer against "
        "this ruler, never against today's population, so a score only moves when the customer's own behaviour "
        "moves. Each ruler version is issued once and frozen: a run that would change an issued version fails "
        "instead; a new ruler is an explicit act (bump RulerSettings.version), recorded in ruler_issues."
    ),
    metadata={"dagster/column_schema": column_schema(RULER_SCHEMA, RULER_COLUMN_DESCRIPTIONS)},
)
def hierarchical_reference_stats(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = SETTINGS.ruler
    days = settings.snapshot_dates
    frames: dict[str, pl.DataFrame] = {}
    for cohort in COHORTS:
        frame = read_feature_rows(warehouse, cohort, f"snapshot_date in ({date_list_sql(days)})", {})
        present = set(frame["snapshot_date"].unique().to_list())
        absent = [d for d in days if d not in present]
        if absent:
            raise dg.Failure(
                description=(
                    f"{feature_table(cohort)} has no rows for the reference snapshot date(s) "
                    f"{', '.join(map(str, absent))}: materialise those feature partitions before the ruler."
                ),
                metadata={"cohort": cohort.value, "missing_dates": ", ".join(map(str, absent))},
            )
        frames[cohort.value] = frame

    fresh = compute_reference_stats_from_wide(
        frames,
        {c.value: feature_names(c) for c in COHORTS},
        ruler_version=settings.version,
        period_start=settings.reference_start,
        period_end=settings.reference_end,
        min_segment_support=settings.min_segment_support,
    )
    fingerprint = ruler_fingerprint(fresh)
    stored = stored_ruler(warehouse, settings.version)
    common: dict[str, object] = {
        "ruler_version": settings.version,
        "fingerprint": fingerprint,
        "ruler_rows": fresh.height,
        "reference_rows": dg.MetadataValue.json({c: f.height for c, f in frames.items()}),
        "snapshot_dates": ", ".join(d.isoformat() for d in days),
        **_ruler_summary(fresh),
    }

    if stored.height:
        stored_fingerprint = ruler_fingerprint(stored)
        if stored_fingerprint != fingerprint:
            difference = describe_ruler_difference(stored, fresh)
            raise dg.Failure(
                description=(
                    f"The ruler {settings.version} is frozen, but the reference data now gives different "
                    f"statistics ({difference}). The stored ruler was left untouched. If the reference features "
                    "changed on purpose, issue a new ruler: bump RulerSettings.version in trust_assets/config.py, "
                    f"re-materialise {RULER} and retrain the models on the new version. "
                    "Otherwise find out why the reference-period feature partitions changed."
                ),
                metadata={
                    "ruler_version": settings.version,
                    "stored_fingerprint": stored_fingerprint,
                    "fresh_fingerprint": fingerprint,
                    "difference": difference,
                },
            )
        if not ruler_issue_recorded(warehouse, settings.version):
            # A run that stopped between the two appends left the ruler without its issue record: complete it.
            warehouse.append(RULER_ISSUES, _issue_row(stored, stored_fingerprint, context.run_id))
        context.log.info(f"ruler {settings.version} unchanged (fingerprint {fingerprint[:12]}); nothing written")
        return dg.MaterializeResult(
            metadata={**common, "ruler_status": "unchanged", "dagster/row_count": row_count(warehouse, RULER)}
        )

    warehouse.append(RULER, fresh)
    warehouse.append(RULER_ISSUES, _issue_row(fresh, fingerprint, context.run_id))
    record_ruler_issue(warehouse, settings.version, fingerprint, fresh.height, f"dagster run {context.run_id}")
    context.log.info(f"issued ruler {settings.version} ({fresh.height} rows, fingerprint {fingerprint[:12]})")
    return dg.MaterializeResult(
        metadata={**common, "ruler_status": "issued", "dagster/row_count": row_count(warehouse, RULER)}
    )


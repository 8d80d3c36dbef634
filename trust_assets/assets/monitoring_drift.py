"""Monitoring assets: the frozen drift reference, daily feature drift, the score distribution and the report.

Wiring, descriptions and metadata around :mod:`trust_assets.services.monitoring` (the reads, drift, the score
distribution and the report) and :mod:`trust_assets.monitoring` (every number, computed by plain functions).
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from resources.sql_dialect import date_list_sql
from resources.warehouse import WarehouseResource
from trust_assets.asset_metadata import column_schema, markdown_table
from trust_assets.assets.reference import (
    feature_deps,
    feature_table,
    snapshot_partition_keys,
)
from trust_assets.config import COHORTS, SETTINGS, feature_names
from trust_assets.monitoring import drift as drift_fns
from trust_assets.monitoring.prediction_distribution import (
    REFERENCE_SCORES_COLUMN_DESCRIPTIONS,
    REFERENCE_SCORES_SCHEMA,
    SCORE_DISTRIBUTION_COLUMN_DESCRIPTIONS,
    SCORE_DISTRIBUTION_SCHEMA,
)
from trust_assets.owners import ML_ENGINEERING
from trust_assets.partition_events import add_daily_metadata
from trust_assets.partitions import DAILY_PARTITIONS, partition_window_dates, window_days
from trust_assets.services.features import read_feature_rows
from trust_assets.services.monitoring import (
    compute_feature_drift,
    compute_score_distribution,
    frozen_reference,
    require_tables,
    write_report,
)
from trust_assets.store.models import cohort_ruler, ruler_row_count
from trust_assets.tables import (
    FAIRNESS_BY_GROUP,
    FEATURE_DRIFT,
    MATURED_OUTCOME_PERFORMANCE,
    MODEL_REGISTRY,
    MODEL_WEIGHTS,
    REFERENCE_FEATURE_BINS,
    REFERENCE_FEATURE_QUANTILES,
    REFERENCE_FEATURE_VARIATION,
    REFERENCE_SCORE_DISTRIBUTION,
    RULER,
    SCORE_DISTRIBUTION,
    TRUST_DECILE_OUTCOMES,
    TRUST_SIGNAL,
)

REPORT_ASSET = "monitoring_report"
# Tables of the outcome and fairness monitors, shown in the report when they hold rows for the date.
# Written by outcome_monitoring; the report shows them when they have rows (the lineage says so).
OUTCOME_REPORT_TABLES = (FAIRNESS_BY_GROUP, TRUST_DECILE_OUTCOMES, MATURED_OUTCOME_PERFORMANCE)

GROUP = "monitoring"
MONITORING = SETTINGS.monitoring


# --- reference_feature_bins ---------------------------------------------------------------------------------------
@dg.asset(
    name=REFERENCE_FEATURE_BINS,
    group_name=GROUP,
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    deps=[dg.AssetDep(RULER), *feature_deps(snapshot_partition_keys(SETTINGS.ruler.snapshot_dates))],
    tags={"layer": "monitoring"},
    description=(
        "The fixed yardstick of feature drift: for every product and feature, ten equal-frequency bins (plus a "
        "bin for missing values) and a fine grid of quantiles of the reference period's month-end snapshots, "
        "the same data the ruler was computed from. Stored with the ruler version and frozen like the ruler: "
        "drift is always measured against the same reference, never re-fitted. Also writes "
        f"{REFERENCE_FEATURE_QUANTILES} (the quantile grid behind the Wasserstein distance) and "
        f"{REFERENCE_FEATURE_VARIATION} (how far each reference month-end itself was from the pooled reference: "
        "the reference's own seasonality)."
    ),
    metadata={"dagster/column_schema": column_schema(drift_fns.BINS_SCHEMA, drift_fns.BINS_COLUMN_DESCRIPTIONS)},
)
def reference_feature_bins(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    version = SETTINGS.ruler.version
    require_tables(warehouse, RULER)
    if not ruler_row_count(warehouse, version):
        raise dg.Failure(description=f"Ruler {version} is not issued: materialise {RULER} first.")
    days = SETTINGS.ruler.snapshot_dates
    frames = {
        c.value: read_feature_rows(warehouse, c, f"snapshot_date in ({date_list_sql(days)})", {}) for c in COHORTS
    }
    empty = [c for c, f in frames.items() if f.height == 0]
    if empty:
        raise dg.Failure(description=f"No reference-period feature rows for {empty}: materialise the features.")
    bins, quantiles = drift_fns.fit_reference(
        frames,
        {c.value: feature_names(c) for c in COHORTS},
        ruler_version=version,
        bins=SETTINGS.ruler.drift_bins,
        points=MONITORING.drift_quantile_points,
    )
    variation = pl.concat(
        [
            drift_fns.reference_variation(
                frames[c.value], c.value, feature_names(c), bins.filter(pl.col("cohort") == c.value),
                quantiles.filter(pl.col("cohort") == c.value), cohort_ruler(warehouse, version, c.value),
                share_floor=MONITORING.psi_share_floor,
            )
            for c in COHORTS
        ]
    )
    fingerprint = drift_fns.reference_fingerprint(bins, quantiles, variation)
    stored_bins, stored_quantiles, stored_variation = frozen_reference(warehouse, version)
    per_feature = bins.filter(pl.col("bin") != drift_fns.MISSING_BIN).group_by("cohort").agg(
        pl.len().alias("bins"), pl.col("feature").n_unique().alias("features")
    ).sort("cohort")
    metadata: dict[str, Any] = {
        "ruler_version": version,
        "fingerprint": fingerprint,
        "bins_per_cohort": dg.MetadataValue.md(markdown_table(per_feature)),
        "volatile_features": dg.MetadataValue.md(
            markdown_table(variation.filter(pl.col("max_psi") >= MONITORING.psi_investigate).drop("ruler_version"))
        ),
        "reference_rows": dg.MetadataValue.json({c: f.height for c, f in frames.items()}),
        "dagster/row_count": bins.height,
    }
    if stored_bins.height:
        stored = drift_fns.reference_fingerprint(stored_bins, stored_quantiles, stored_variation)
        if stored != fingerprint:
            raise dg.Failure(
                description=(
                    f"The drift reference of ruler {version} is frozen, but the reference data now gives different "
                    "bins. The stored bins were left untouched. Find out why the reference-period feature "
                    "partitions changed, or issue a new ruler version (RulerSettings.version) on purpose."
                ),
                metadata={"stored_fingerprint": stored, "fresh_fingerprint": fingerprint},
            )
        context.log.info(f"drift reference of {version} unchanged (fingerprint {fingerprint[:12]})")
        return dg.MaterializeResult(metadata={**metadata, "reference_status": "unchanged"})
    warehouse.append(REFERENCE_FEATURE_BINS, bins)
    warehouse.append(REFERENCE_FEATURE_QUANTILES, quantiles)
    warehouse.append(REFERENCE_FEATURE_VARIATION, variation)
    return dg.MaterializeResult(metadata={**metadata, "reference_status": "issued"})


# --- feature_drift ------------------------------------------------------------------------------------------------
def drift_metadata(drift: pl.DataFrame) -> dict[date, dict[str, Any]]:
    """Each day's per-cohort figures (max PSI, band counts, drifted features), named so the UI plots them."""
    counts = drift_fns.band_counts(drift)
    out: dict[date, dict[str, Any]] = {}
    for (day,), day_counts in counts.group_by("snapshot_date", maintain_order=True):
        day_drift = drift.filter(pl.col("snapshot_date") == day)
        meta: dict[str, Any] = {"dagster/row_count": day_drift.height}
        for row in day_counts.iter_rows(named=True):
            cohort = row["cohort"]
            meta[f"{cohort}_max_psi"] = float(row["max_psi"])
            meta[f"{cohort}_max_psi_feature"] = row["max_psi_feature"]
            meta[f"{cohort}_max_wasserstein_sd"] = float(row["max_wasserstein_sd"] or 0.0)
            for band in drift_fns.BANDS:
                meta[f"{cohort}_features_{band}"] = int(row[f"features_{band}"])
            meta[f"{cohort}_features_drifted"] = int(row["features_drifted"])
        flagged = day_drift.filter(pl.col("band") != drift_fns.STABLE).select(
            "cohort", "feature", "psi", "wasserstein_sd", "excess_wasserstein_sd", "band", "drifted"
        )
        meta["drifting_features"] = dg.MetadataValue.md(markdown_table(flagged) if flagged.height else "none")
        out[day] = meta
    return out


@dg.asset(
    name=FEATURE_DRIFT,
    group_name=GROUP,
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetDep(REFERENCE_FEATURE_BINS), dg.AssetDep(RULER), dg.AssetDep(MODEL_REGISTRY),
          *[dg.AssetDep(feature_table(c)) for c in COHORTS]],
    tags={"layer": "monitoring"},
    description=(
        "Has the customer base moved away from the reference period? For every day, product and feature: the "
        "population stability index (PSI) of the day's values against the frozen reference bins, the "
        "Wasserstein distance in reference standard deviations, and a band (stable < 0.10, investigate, "
        "significant >= 0.25). A significant feature that also moved further than the reference period's own "
        "months did counts as drifted; drifted features on several days in a row raise a drift event."
    ),
    metadata={"dagster/column_schema": column_schema(drift_fns.DRIFT_SCHEMA, drift_fns.DRIFT_COLUMN_DESCRIPTIONS)},
)
def feature_drift(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    start, end = partition_window_dates(context)
    drift = compute_feature_drift(warehouse, start, end)
    warehouse.replace_partitions(FEATURE_DRIFT, drift, start, end)
    add_daily_metadata(context, drift_metadata(drift))
    return dg.MaterializeResult(metadata={"window": f"{start} .. {end}"})


# --- score_distribution -------------------------------------------------------------------------------------------
def score_metadata(frame: pl.DataFrame) -> dict[date, dict[str, Any]]:
    """Each day's per-cohort score mean, percentiles, share outside the reference and score PSI."""
    out: dict[date, dict[str, Any]] = {}
    for (day,), part in frame.group_by("snapshot_date", maintain_order=True):
        meta: dict[str, Any] = {"dagster/row_count": part.height}
        for row in part.iter_rows(named=True):
            cohort = row["cohort"]
            for key in ("mean", "p10", "p50", "p90"):
                meta[f"{cohort}_score_{key}"] = float(row[key])
            for key in ("share_outside_reference", "score_psi"):
                meta[f"{cohort}_{key}"] = float(row[key])
        summary = part.select("cohort", "row_count", "mean", "p10", "p50", "p90", "share_outside_reference",
                              "score_psi", "band")
        meta["distribution"] = dg.MetadataValue.md(markdown_table(summary))
        out[day] = meta
    return out


@dg.asset(
    name=SCORE_DISTRIBUTION,
    group_name=GROUP,
    owners=[ML_ENGINEERING],
    kinds={"polars"},
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetDep(TRUST_SIGNAL), dg.AssetDep(MODEL_REGISTRY), dg.AssetDep(MODEL_WEIGHTS),
          dg.AssetDep(RULER)],
    tags={"layer": "monitoring"},
    description=(
        "Are today's scores distributed like the scores of the population the model was trained on? Per day "
        "and product: the trust-score histogram, mean and percentiles, the share of raw scores outside the "
        "reference population's 1st-99th percentile, and the PSI of the scores against the model version's "
        "reference-date scores. Those reference scores never change for a model version, so they are computed "
        f"once, the first day a version scores, and kept in {REFERENCE_SCORE_DISTRIBUTION}: one row per model "
        "version with the reference population's size, mean, score range, bins and histogram, which every later "
        "day is compared with (a new model version gets its own row)."
    ),
    metadata={
        "dagster/column_schema": column_schema(SCORE_DISTRIBUTION_SCHEMA, SCORE_DISTRIBUTION_COLUMN_DESCRIPTIONS),
        "reference_table": REFERENCE_SCORE_DISTRIBUTION,
        "reference_table_column_schema": column_schema(REFERENCE_SCORES_SCHEMA, REFERENCE_SCORES_COLUMN_DESCRIPTIONS),
    },
)
def score_distribution(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    start, end = partition_window_dates(context)
    frame = compute_score_distribution(warehouse, start, end)
    warehouse.replace_partitions(SCORE_DISTRIBUTION, frame, start, end)
    add_daily_metadata(context, score_metadata(frame))
    return dg.MaterializeResult(metadata={"window": f"{start} .. {end}"})


# --- monitoring_report --------------------------------------------------------------------------------------------
@dg.asset(
    name=REPORT_ASSET,
    group_name=GROUP,
    owners=[ML_ENGINEERING],
    kinds={"html"},
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        dg.AssetDep(FEATURE_DRIFT), dg.AssetDep(SCORE_DISTRIBUTION), *(dg.AssetDep(t) for t in OUTCOME_REPORT_TABLES),
        dg.AssetDep(SETTINGS.probation.guard_table),
    ],
    tags={"layer": "monitoring"},
    description=(
        "The page people look at: one self-contained HTML monitoring report per scoring date with plots of drift "
        "per feature and over recent days, the score distribution against the reference population, fairness "
        "across regions and segments when that monitor has run for the date, decile lift and model "
        "performance on what customers then did, for the latest scoring date whose outcome window has closed, "
        "and the guards of a model in probation. "
        "Linked from each materialisation."
    ),
)
def monitoring_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    start, end = partition_window_dates(context)
    per_day: dict[date, dict[str, Any]] = {}
    for day in window_days(start, end):
        path, present = write_report(warehouse, day)
        per_day[day] = {
            "report": dg.MetadataValue.path(path),
            "report_url": dg.MetadataValue.url(f"file://{path}"),
            **{f"has_{k}": v for k, v in present.items()},
        }
    context.log.info(f"wrote {len(per_day)} report(s), latest {per_day[end]['report'].value}")
    add_daily_metadata(context, per_day)
    return dg.MaterializeResult(metadata={"window": f"{start} .. {end}", "reports_written": len(per_day)})


MONITORING_DRIFT_ASSETS: list[dg.AssetsDefinition] = [
    reference_feature_bins,
    feature_drift,
    score_distribution,
    monitoring_report,
]

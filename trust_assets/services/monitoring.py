"""The work of the monitoring assets: reading the frozen drift reference and the monitors' tables, feature drift
and the score distribution of a window, and writing the day's HTML report.

Every number is computed by the plain functions of :mod:`trust_assets.monitoring`; this module reads their inputs
from the warehouse and fails the run (``dg.Failure``) naming what is missing. The assets in
``trust_assets/assets/monitoring_drift.py`` are its wiring.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import polars as pl

from asset_checks.rules import schema_violations
from asset_checks.schemas import ReferenceScoreDistributionSchema
from asset_checks.violations import failure
from resources.warehouse import WarehouseResource
from trust_assets.config import COHORTS, SETTINGS, Cohort, feature_names
from trust_assets.monitoring import drift as drift_fns
from trust_assets.monitoring.locations import report_path
from trust_assets.monitoring.prediction_distribution import (
    REFERENCE_SCORES_KEY,
    ReferenceSummary,
    as_frame,
    reference_row,
    score_distribution_row,
    summarise_reference,
    summary_of_row,
)
from trust_assets.monitoring.report import ReportInputs, render_report
from trust_assets.operations.canary import canary_candidates, canary_comparison
from trust_assets.partitions import window_days
from trust_assets.scoring.arithmetic import score_frame
from trust_assets.scoring.feature_reads import feature_table
from trust_assets.scoring.registry import ModelLoadError
from trust_assets.services.features import read_feature_rows
from trust_assets.store.models import cohort_ruler, load_model_version, production_rows, read_registry
from trust_assets.store.reference_scores import read_reference_scores, with_rows, write_reference_scores
from trust_assets.store.signal import signal_rows
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

MONITORING = SETTINGS.monitoring


# --- reads --------------------------------------------------------------------------------------------------
def require_tables(warehouse: WarehouseResource, *tables: str) -> None:
    """Fail the run unless every table exists."""
    for table in tables:
        if not warehouse.table_exists(table):
            raise dg.Failure(description=f"{table} does not exist: materialise it before the monitoring assets.")


def production_rows_or_fail(warehouse: WarehouseResource) -> dict[str, dict[str, Any]]:
    """The one production registry row of every cohort, or a run failure that says what is wrong."""
    require_tables(warehouse, MODEL_REGISTRY)
    try:
        return production_rows(warehouse)
    except ModelLoadError as exc:
        raise dg.Failure(description=str(exc)) from exc


def frozen_reference(warehouse: WarehouseResource, version: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The stored bins, quantiles and reference variation of a ruler version (empty frames if none)."""
    out: list[pl.DataFrame] = []
    for table, schema in (
        (REFERENCE_FEATURE_BINS, drift_fns.BINS_SCHEMA),
        (REFERENCE_FEATURE_QUANTILES, drift_fns.QUANTILES_SCHEMA),
        (REFERENCE_FEATURE_VARIATION, drift_fns.VARIATION_SCHEMA),
    ):
        if not warehouse.table_exists(table):
            out.append(pl.DataFrame(schema=schema))
            continue
        frame = warehouse.read(f"select * from {{analytics}}.{table} where ruler_version = $v", {"v": version})
        out.append(frame.select([pl.col(c).cast(t) for c, t in schema.items()]))
    return out[0], out[1], out[2]


def read_window(warehouse: WarehouseResource, table: str, start: date, end: date) -> pl.DataFrame:
    return warehouse.read(
        f"select * from {{analytics}}.{table} where snapshot_date between $start and $end",
        {"start": start, "end": end},
    ).with_columns(pl.col("snapshot_date").cast(pl.Date))


def optional_day(warehouse: WarehouseResource, table: str, day: date) -> pl.DataFrame | None:
    """Rows of another monitor's table for the day (its date column is snapshot_date or scoring_date)."""
    if not warehouse.table_exists(table):
        return None
    columns = set(warehouse.columns(table))
    column = next((c for c in ("snapshot_date", "scoring_date") if c in columns), None)
    if column is None:
        return None
    return warehouse.read(f"select * from {{analytics}}.{table} where {column} = $d", {"d": day})


def latest_outcomes_date(warehouse: WarehouseResource, day: date) -> date | None:
    """The latest scoring date on or before ``day`` with matured-outcome rows (a date gets them only once its
    outcome window has closed), or None."""
    if not warehouse.table_exists(MATURED_OUTCOME_PERFORMANCE):
        return None
    found = warehouse.read(
        f"select max(scoring_date) as d from {{analytics}}.{MATURED_OUTCOME_PERFORMANCE} where scoring_date <= $d",
        {"d": day},
    )
    return found["d"][0] if found.height else None


def compute_feature_drift(warehouse: WarehouseResource, start: date, end: date) -> pl.DataFrame:
    """Drift rows of every cohort, feature and day of [start, end] against the production ruler's reference."""
    production = production_rows_or_fail(warehouse)
    parts: list[pl.DataFrame] = []
    for cohort in COHORTS:
        version = production[cohort.value]["ruler_version"]
        bins, quantiles, variation = frozen_reference(warehouse, version)
        bins = bins.filter(pl.col("cohort") == cohort.value)
        if bins.height == 0:
            raise dg.Failure(
                description=f"No drift reference for ruler {version} and {cohort.value}: "
                f"materialise {REFERENCE_FEATURE_BINS} first."
            )
        ruler = cohort_ruler(warehouse, version, cohort.value)
        features = read_feature_rows(
            warehouse, cohort, "snapshot_date between $start and $end", {"start": start, "end": end}
        )
        for day in window_days(start, end):
            rows = features.filter(pl.col("snapshot_date") == day)
            if rows.height == 0:
                raise dg.Failure(
                    description=f"No {cohort.value} feature rows for {day} in {feature_table(cohort)}: "
                    "materialise the features for that day before measuring its drift."
                )
            parts.append(
                drift_fns.feature_drift_day(
                    day,
                    cohort.value,
                    rows,
                    feature_names(cohort),
                    bins,
                    quantiles.filter(pl.col("cohort") == cohort.value),
                    ruler,
                    psi_investigate=MONITORING.psi_investigate,
                    psi_significant=MONITORING.psi_significant,
                    share_floor=MONITORING.psi_share_floor,
                    variation=variation,
                    min_excess_wasserstein_sd=MONITORING.min_excess_wasserstein_sd,
                )
            )
    return pl.concat(parts).sort("snapshot_date", "cohort", "feature")


def reference_scores(warehouse: WarehouseResource, model_version: str) -> tuple[Mapping[str, Any], pl.DataFrame]:
    """The model version's registry row and its own reference population scored by it: the training snapshot's
    feature rows (``raw_score``, ``trust_score``). Read once per version: see :func:`reference_summaries`."""
    try:
        version = load_model_version(warehouse, model_version)
    except ModelLoadError as exc:
        raise dg.Failure(description=str(exc)) from exc
    model, ruler = version.scoring_pair
    cohort = Cohort(version.cohort)
    reference_date = version.registry_row["training_reference_date"]
    features = read_feature_rows(warehouse, cohort, "snapshot_date = $d", {"d": reference_date})
    if features.height == 0:
        raise dg.Failure(description=f"No {cohort.value} feature rows on the reference date {reference_date}.")
    scores, _ = score_frame(features, ruler, model, cohort.value, feature_names(cohort), SETTINGS.model.top_drivers)
    return version.registry_row, scores.select("raw_score", "trust_score")


def guarded_reference_scores(frame: pl.DataFrame, what: str, advice: str) -> pl.DataFrame:
    """``frame`` if it matches the schema of ``reference_score_distribution``; a run failure naming every broken
    rule otherwise."""
    found = schema_violations(frame, ReferenceScoreDistributionSchema, REFERENCE_SCORE_DISTRIBUTION)
    if found:
        raise failure(found, what, advice)
    return frame


def summary_settings() -> dict[str, object]:
    """The settings a stored summary must have been computed with to be used (part of its key)."""
    low, high = MONITORING.score_reference_quantiles
    return {
        "drift_bins": SETTINGS.ruler.drift_bins,
        "histogram_bins": MONITORING.score_histogram_bins,
        "reference_low_quantile": float(low),
        "reference_high_quantile": float(high),
    }


def fresh_reference_summary(warehouse: WarehouseResource, model_version: str) -> ReferenceSummary:
    """The model version's reference population scored now and summarised: what is stored once per version."""
    registry_row, scores = reference_scores(warehouse, model_version)
    return summarise_reference(
        scores,
        model_version=model_version,
        cohort=str(registry_row["cohort"]),
        ruler_version=str(registry_row["ruler_version"]),
        reference_date=registry_row["training_reference_date"],
        drift_bins=SETTINGS.ruler.drift_bins,
        reference_quantiles=MONITORING.score_reference_quantiles,
        histogram_bins=MONITORING.score_histogram_bins,
    )


def reference_summaries(warehouse: WarehouseResource, versions: Collection[str]) -> dict[str, ReferenceSummary]:
    """The summary of each model version's reference population, from ``reference_score_distribution``.

    The reference population of a version (its training snapshot scored by it) never changes, so it is scored
    once: a version without a stored summary at the configured settings (a new version, or changed settings) has
    it computed from the reference date's features and stored, and every later day reads the stored row instead
    of the features. The stored rows are checked against their schema when read and before being written.
    """
    stored = guarded_reference_scores(
        read_reference_scores(warehouse),
        f"{REFERENCE_SCORE_DISTRIBUTION} breaks its schema: the day's score distribution was not computed.",
        f"Delete the broken rows of {REFERENCE_SCORE_DISTRIBUTION} (or the table): the next run re-scores the "
        "reference population of each model version it needs and stores it again.",
    )
    registry = read_registry(warehouse).filter(pl.col("model_version").is_in(list(versions)))
    unknown = sorted(set(versions) - set(registry["model_version"].to_list()))
    if unknown:
        raise dg.Failure(description=f"Model versions {unknown} scored days but are not in {MODEL_REGISTRY}.")
    wanted = registry.select(
        "model_version", "ruler_version", pl.col("training_reference_date").alias("reference_date"),
        *[pl.lit(value).alias(name) for name, value in summary_settings().items()],
    ).cast(stored.select(REFERENCE_SCORES_KEY).schema)  # type: ignore[arg-type]
    found = stored.join(wanted, on=list(REFERENCE_SCORES_KEY), how="semi")
    summaries = {str(row["model_version"]): summary_of_row(row) for row in found.iter_rows(named=True)}
    absent = sorted(set(versions) - set(summaries))
    if absent:
        now = datetime.now(UTC)
        rows = guarded_reference_scores(
            pl.concat([reference_row(fresh_reference_summary(warehouse, v), now) for v in absent]),
            f"The reference score summaries of {absent} break the schema of {REFERENCE_SCORE_DISTRIBUTION}: "
            "nothing was stored and the day's score distribution was not computed.",
            "Check the model versions' reference populations (their training snapshot's features and scores).",
        )
        write_reference_scores(warehouse, with_rows(stored, rows))
        # The figures of a first day come from the row as stored, the same path as every later day's.
        summaries |= {str(row["model_version"]): summary_of_row(row) for row in rows.iter_rows(named=True)}
    return summaries


def compute_score_distribution(warehouse: WarehouseResource, start: date, end: date) -> pl.DataFrame:
    require_tables(warehouse, TRUST_SIGNAL, MODEL_REGISTRY, MODEL_WEIGHTS, RULER)
    scores = signal_rows(
        warehouse, start, end, ("snapshot_date", "cohort", "model_version", "raw_score", "trust_score")
    ).with_columns(pl.col("snapshot_date").cast(pl.Date))
    absent = [d for d in window_days(start, end) if d not in set(scores["snapshot_date"].to_list())]
    if absent:
        raise dg.Failure(description=f"No {TRUST_SIGNAL} rows for {absent[:5]}: score those days first.")
    references = reference_summaries(warehouse, sorted(set(scores["model_version"].to_list())))
    rows: list[dict[str, object]] = []
    for (day, cohort, version), part in scores.group_by(
        "snapshot_date", "cohort", "model_version", maintain_order=True
    ):
        rows.append(
            score_distribution_row(
                day,
                cohort,
                version,
                part,
                references[version],
                psi_investigate=MONITORING.psi_investigate,
                psi_significant=MONITORING.psi_significant,
                share_floor=MONITORING.psi_share_floor,
            )
        )
    return as_frame(rows)


def probation_days(warehouse: WarehouseResource, day: date) -> pl.DataFrame | None:
    """Guard metrics of the probation days up to ``day`` (a probation is at most ProbationSettings.days long)."""
    table = SETTINGS.probation.guard_table
    if not warehouse.table_exists(table):
        return None
    return read_window(warehouse, table, day - timedelta(days=SETTINGS.probation.days - 1), day)


def canary_day(warehouse: WarehouseResource, day: date) -> pl.DataFrame | None:
    """The day's canary customers against the rest, for the cohorts whose rows include a canary version."""
    candidates = canary_candidates(warehouse)
    if not candidates:
        return None
    signal = signal_rows(warehouse, day, day, ("snapshot_date", "cohort", "model_version", "trust_score"))
    return canary_comparison(signal, candidates)


def write_report(warehouse: WarehouseResource, day: date) -> tuple[str, dict[str, bool]]:
    """Renders and writes the day's report; returns its path and which optional sections had data."""
    history_start = day - timedelta(days=MONITORING.report_history_days - 1)
    history = read_window(warehouse, FEATURE_DRIFT, history_start, day)
    drift = history.filter(pl.col("snapshot_date") == day)
    scores = read_window(warehouse, SCORE_DISTRIBUTION, day, day)
    if drift.height == 0 or scores.height == 0:
        raise dg.Failure(
            description=f"No {FEATURE_DRIFT} or {SCORE_DISTRIBUTION} rows for {day}: materialise them first."
        )
    outcomes_date = latest_outcomes_date(warehouse, day)
    inputs = ReportInputs(
        day=day,
        drift=drift,
        drift_history=history,
        scores=scores,
        psi_investigate=MONITORING.psi_investigate,
        psi_significant=MONITORING.psi_significant,
        fairness=optional_day(warehouse, FAIRNESS_BY_GROUP, day),
        deciles=optional_day(warehouse, TRUST_DECILE_OUTCOMES, outcomes_date) if outcomes_date else None,
        outcome_performance=(
            optional_day(warehouse, MATURED_OUTCOME_PERFORMANCE, outcomes_date) if outcomes_date else None
        ),
        outcomes_date=outcomes_date,
        probation=probation_days(warehouse, day),
        canary=canary_day(warehouse, day),
    )
    path = report_path(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: a reader never opens a half-written page.
    partial = path.with_suffix(".html.partial")
    partial.write_text(render_report(inputs), encoding="utf-8")
    partial.replace(path)
    present = {
        name: frame is not None and frame.height > 0
        for name, frame in (
            ("deciles", inputs.deciles),
            ("fairness", inputs.fairness),
            ("outcomes", inputs.outcome_performance),
        )
    }
    return str(path), present

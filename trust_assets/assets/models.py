"""``trust_model_weights`` and ``model_registry``: the cohort models, trained, evaluated and registered."""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.asset_metadata import column_schema, markdown_table
from trust_assets.assets.reference import feature_deps
from trust_assets.config import COHORTS, SETTINGS, feature_names
from trust_assets.operations.registry_store import register_versions
from trust_assets.owners import ML_ENGINEERING
from trust_assets.scoring.registry import (
    REGISTRY_COLUMN_DESCRIPTIONS,
    REGISTRY_SCHEMA,
    WEIGHTS_COLUMN_DESCRIPTIONS,
    WEIGHTS_SCHEMA,
    coefficients_markdown,
    initial_status,
    is_registered,
    registry_row,
    weights_rows,
)
from trust_assets.scoring.training import CohortTrainingResult, code_version, train_cohort
from trust_assets.services.features import read_feature_rows
from trust_assets.store.models import read_registry, row_count, ruler_rows, weight_versions
from trust_assets.tables import MODEL_REGISTRY, MODEL_WEIGHTS, OUTCOME_LABELS, RULER

_MODEL_DEPS = [
    dg.AssetDep(RULER),
    dg.AssetDep(OUTCOME_LABELS),
    *feature_deps([SETTINGS.model.reference_date.isoformat()]),
]

_WINDOW = (
    f"features of {SETTINGS.model.reference_date} and outcomes of "
    f"{SETTINGS.model.outcome_start} to {SETTINGS.model.outcome_end}"
)

WEIGHTS_SPEC = dg.AssetSpec(
    MODEL_WEIGHTS,
    group_name="models",
    owners=[ML_ENGINEERING],
    kinds={"scikit-learn"},
    deps=_MODEL_DEPS,
    tags={"layer": "models"},
    description=(
        "How much each behaviour counts in the trust score, per product and model version. Three models are "
        f"trained per product ({_WINDOW}): will the customer leave (churn), sign a new contract (recontract), "
        "and how will their revenue change. A feature's weight is its recontract effect plus its revenue effect "
        "minus its churn effect, per reference standard deviation: the score rewards what the business wants "
        "and penalises what it does not. Versions are never overwritten."
    ),
    metadata={"dagster/column_schema": column_schema(WEIGHTS_SCHEMA, WEIGHTS_COLUMN_DESCRIPTIONS)},
)

REGISTRY_SPEC = dg.AssetSpec(
    MODEL_REGISTRY,
    group_name="models",
    owners=[ML_ENGINEERING],
    kinds={"scikit-learn"},
    deps=_MODEL_DEPS,
    tags={"layer": "models"},
    description=(
        "The register of every trained model version: when and on which data it was trained (training "
        "window, data fingerprint, code version, settings), how well it predicts customers it never saw "
        "(held-out AUC, calibration, R^2) and its status (development, staging, production or archived). "
        "Exactly one production version per product feeds the daily trust score; the first version of a "
        "product becomes production, later versions wait as development for an approved promotion."
    ),
    metadata={"dagster/column_schema": column_schema(REGISTRY_SCHEMA, REGISTRY_COLUMN_DESCRIPTIONS)},
)


def _created_by(context: dg.AssetExecutionContext) -> str:
    user = context.run.tags.get("dagster/user") or context.run.tags.get("user")
    return f"{user} via dagster run {context.run_id}" if user else f"dagster run {context.run_id}"


def _metrics_table(results: list[CohortTrainingResult]) -> str:
    keys = [
        "churn_auc", "churn_log_loss", "churn_brier", "churn_ece", "churn_calibration_slope",
        "churn_calibration_intercept", "recontract_auc", "recontract_log_loss", "recontract_brier",
        "recontract_ece", "recontract_calibration_slope", "recontract_calibration_intercept",
        "nrc_r2", "nrc_rmse", "n_train", "n_holdout",
    ]  # fmt: skip
    frame = pl.DataFrame(
        {"metric": keys, **{r.cohort: [_as_float(r.metrics.get(k)) for k in keys] for r in results}},
        schema={"metric": pl.String, **{r.cohort: pl.Float64 for r in results}},
    )
    return markdown_table(frame)


def _as_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dg.multi_asset(specs=[WEIGHTS_SPEC, REGISTRY_SPEC], name="cohort_models", can_subset=False)
def cohort_models(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    settings = SETTINGS.model
    ruler_version = SETTINGS.ruler.version
    if not warehouse.table_exists(RULER):
        raise dg.Failure(description=f"{RULER} does not exist: issue the ruler before training.")
    ruler = ruler_rows(warehouse, ruler_version)
    if ruler.height == 0:
        raise dg.Failure(
            description=f"Ruler {ruler_version} has not been issued: materialise {RULER} before training."
        )
    if not warehouse.table_exists(OUTCOME_LABELS):
        raise dg.Failure(description=f"{OUTCOME_LABELS} does not exist: build the outcome labels before training.")
    labels = warehouse.read(
        f"select cohort, customer_id, reference_date, is_churn, is_recontract, revenue_change "
        f"from {{analytics}}.{OUTCOME_LABELS} where reference_date = $d",
        {"d": settings.reference_date},
    )
    code_ver = code_version()

    results: list[CohortTrainingResult] = []
    for cohort in COHORTS:
        features = read_feature_rows(warehouse, cohort, "snapshot_date = $d", {"d": settings.reference_date})
        try:
            result = train_cohort(features, labels, ruler, cohort.value, feature_names(cohort), settings, code_ver)
        except ValueError as exc:
            raise dg.Failure(description=f"Training the {cohort.value} models failed: {exc}") from exc
        context.log.info(
            f"{cohort.value}: {result.model_version} churn AUC {result.metrics.get('churn_auc')}, "
            f"recontract AUC {result.metrics.get('recontract_auc')}, NRC R^2 {result.metrics.get('nrc_r2')}"
        )
        results.append(result)

    registry = read_registry(warehouse)
    stored_weights = weight_versions(warehouse)
    trained_at = datetime.now(UTC)
    new_weights: list[pl.DataFrame] = []
    new_registry: list[pl.DataFrame] = []
    statuses: dict[str, str] = {}
    for result in results:
        # Weights and registry are checked separately: a run stopped between the two appends resumes cleanly.
        if not is_registered(stored_weights, result.model_version):
            new_weights.append(weights_rows(result))
        if is_registered(registry, result.model_version):
            statuses[result.cohort] = "already registered"
            continue
        status = initial_status(registry, result.cohort)
        statuses[result.cohort] = f"registered as {status.value}"
        new_registry.append(registry_row(result, status, trained_at, _created_by(context)))

    # The weights land before the registry row that makes a version visible to scoring.
    if new_weights:
        warehouse.append(MODEL_WEIGHTS, pl.concat(new_weights))
    if new_registry:
        # Appends the rows with their 'trained' (and, for a first version, 'promoted') audit events.
        register_versions(warehouse, pl.concat(new_registry), _created_by(context), "trained by cohort_models")

    versions = {r.cohort: r.model_version for r in results}
    weights_meta: dict[str, object] = {
        "dagster/row_count": row_count(warehouse, MODEL_WEIGHTS),
        "model_versions": dg.MetadataValue.json(versions),
        "new_rows": sum(f.height for f in new_weights),
        **{f"coefficients_{r.cohort}": dg.MetadataValue.md(coefficients_markdown(weights_rows(r))) for r in results},
        **{f"unusable_features_{r.cohort}": ", ".join(r.unusable_features) or "none" for r in results},
    }
    registry_meta: dict[str, object] = {
        "dagster/row_count": row_count(warehouse, MODEL_REGISTRY),
        "model_versions": dg.MetadataValue.json(versions),
        "registration": dg.MetadataValue.json(statuses),
        "ruler_version": ruler_version,
        "code_version": code_ver,
        "held_out_metrics": dg.MetadataValue.md(_metrics_table(results)),
        **{f"{r.cohort}_churn_auc": _as_float(r.metrics.get("churn_auc")) for r in results},
        **{f"{r.cohort}_recontract_auc": _as_float(r.metrics.get("recontract_auc")) for r in results},
        **{f"{r.cohort}_nrc_r2": _as_float(r.metrics.get("nrc_r2")) for r in results},
    }
    yield dg.MaterializeResult(asset_key=MODEL_WEIGHTS, metadata=weights_meta)
    yield dg.MaterializeResult(asset_key=MODEL_REGISTRY, metadata=registry_meta)

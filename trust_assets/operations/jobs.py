"""Dagster jobs of the operating loop, each with typed config, for people who live in the UI.

Thin wrappers: each op resolves the actor, calls the plain function of its module and reports what it did as
run metadata. The same functions back the ``trust models`` commands.
"""

# No `from __future__ import annotations`: Dagster reads the op's context, config and resource annotations.
import json
import os
from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl
from pydantic import Field

from resources.warehouse import WarehouseResource
from trust_assets.asset_metadata import markdown_table
from trust_assets.config import COHORTS, SETTINGS
from trust_assets.monitoring.alerts import default_sink
from trust_assets.operations.approval import approve
from trust_assets.operations.audit import ActorError, resolve_actor
from trust_assets.operations.canary import start_canary, stop_canary
from trust_assets.operations.gate import ALERTS_ON_RUN_STATUS, CodeLocationHandle, evaluate_gate
from trust_assets.operations.guard_alerts import rollback_done_alert
from trust_assets.operations.lifecycle import archive, start_shadow
from trust_assets.operations.promotion import promote
from trust_assets.operations.registry_store import RegistryError
from trust_assets.operations.retrain import RetrainError, comparison_markdown, retrain, training_settings
from trust_assets.operations.rollback import rollback
from trust_assets.tables import MODEL_REGISTRY, MODEL_WEIGHTS

RETRAIN_JOB = "retrain_models_job"


def _actor(context: dg.OpExecutionContext, given: str) -> str:
    """The named actor; a blank config value falls back to the launching user, never to nobody."""
    try:
        if given.strip():
            return resolve_actor(given)
        launched_by = context.run.tags.get("dagster/user") or context.run.tags.get("user")
        return resolve_actor(launched_by) if launched_by else resolve_actor(None)
    except ActorError as exc:
        raise dg.Failure(description=str(exc)) from exc


class RetrainConfig(dg.Config):
    """Run config of ``retrain_models_job`` (ops.retrain_models.config).

    A drift sensor requests a run with, for example::

        {"ops": {"retrain_models": {"config": {"cohorts": ["mobile"], "reason": "feature drift since 2026-02-20",
                                               "requested_by": "drift sensor"}}}}
    """

    cohorts: list[str] = Field(
        default_factory=lambda: [c.value for c in COHORTS], description="Cohorts to retrain (default: all three)."
    )
    reference_date: str = Field(
        default=SETTINGS.model.reference_date.isoformat(),
        description="Snapshot date of the training features (ISO date); outcome labels must exist for it.",
    )
    reason: str = Field(default="scheduled retraining", description="Why the models are retrained (audit trail).")
    requested_by: str = Field(
        default="", description="Who asks for the retraining; blank means the launching user or the environment user."
    )
    logistic_c: float | None = Field(default=None, description="Override of the logistic regularisation C.")
    ridge_alpha: float | None = Field(default=None, description="Override of the NRC ridge alpha.")


@dg.op(
    name="retrain_models",
    description="Trains a challenger per chosen cohort, compares it with the champion on the same held-out "
    "customers and registers it as development.",
    tags={"kind": "scikit-learn"},
)
def retrain_models_op(
    context: dg.OpExecutionContext, config: RetrainConfig, warehouse: WarehouseResource
) -> Iterator[dg.AssetMaterialization | dg.Output]:
    actor = _actor(context, config.requested_by)
    try:
        settings = training_settings(date.fromisoformat(config.reference_date), config.logistic_c, config.ridge_alpha)
        outcomes = retrain(warehouse, config.cohorts, actor, config.reason, settings)
    except (RetrainError, ValueError) as exc:
        raise dg.Failure(description=f"Retraining refused: {exc}") from exc
    versions = {o.result.cohort: o.result.model_version for o in outcomes}
    registration = {o.result.model_version: o.registration for o in outcomes}
    for key in (MODEL_WEIGHTS, MODEL_REGISTRY):
        yield dg.AssetMaterialization(
            asset_key=key,
            description=f"retrain_models_job: {config.reason}",
            metadata={"model_versions": dg.MetadataValue.json(versions), "requested_by": actor},
        )
    yield dg.Output(
        registration,
        metadata={
            "model_versions": dg.MetadataValue.json(versions),
            "registration": dg.MetadataValue.json(registration),
            "challenger_vs_champion": dg.MetadataValue.md(comparison_markdown(outcomes)),
            "reference_date": config.reference_date,
            "requested_by": actor,
        },
    )


@dg.job(
    name=RETRAIN_JOB,
    description="Retrains one or all cohorts on a reference date (default the configured one), compares each "
    "challenger with its champion on the same held-out customers and registers it as development. Config: "
    "ops.retrain_models.config = {cohorts, reference_date, reason, requested_by, logistic_c, ridge_alpha}.",
    tags={"dagster/max_retries": 0},
)
def retrain_models_job() -> None:
    retrain_models_op()


retrain_schedule = dg.ScheduleDefinition(
    name="retrain_models_schedule",
    job=retrain_models_job,
    cron_schedule=SETTINGS.operations.retrain_cron,
    execution_timezone=SETTINGS.timezone,
    run_config={"ops": {"retrain_models": {"config": {"reason": "scheduled retraining",
                                                      "requested_by": "retrain_models_schedule"}}}},
    description=f"Retrains every cohort on the cadence {SETTINGS.operations.retrain_cron!r} "
    f"({SETTINGS.timezone}). Stopped by default: start it in the UI once the loop runs in production.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

# --- status changes ------------------------------------------------------------------------------------------
class VersionActConfig(dg.Config):
    """A status change of one model version, by a named person, for a stated reason."""

    model_version: str = Field(description="The model version, e.g. mobile-20250731-1a2b3c4d.")
    actor: str = Field(default="", description="Who does this; blank means the launching or environment user.")
    reason: str = Field(description="Why (recorded in the audit trail).")


class ApproveConfig(dg.Config):
    """An approval: the approver is required and must differ from whoever trained the version."""

    model_version: str = Field(description="The staging version to approve.")
    approver: str = Field(description="The person approving (not the one who trained the version).")
    reason: str = Field(description="What was reviewed (recorded in the audit trail).")


class RollbackConfig(dg.Config):
    cohort: str = Field(description="mobile, tv or broadband: its previous champion is restored.")
    actor: str = Field(default="", description="Who rolls back; blank means the launching or environment user.")
    reason: str = Field(description="What regressed (recorded in the audit trail).")
    evidence: str = Field(
        default="",
        description="JSON of the guard regression behind an automatic rollback (metric, threshold, values, days), "
        "recorded in the audit event; blank for a manual rollback.",
    )


def _refused(exc: Exception) -> dg.Failure:
    return dg.Failure(description=str(exc))


def _audit_metadata(rows: pl.DataFrame) -> dict[str, object]:
    shown = rows.select("event_type", "model_version", "actor", "reason", "before_state", "after_state")
    return {"audit_events": dg.MetadataValue.md(markdown_table(shown))}


@dg.op(name="start_shadow", description="development -> staging: the version starts scoring in shadow.")
def start_shadow_op(context: dg.OpExecutionContext, config: VersionActConfig, warehouse: WarehouseResource) -> None:
    try:
        rows = start_shadow(warehouse, config.model_version, _actor(context, config.actor), config.reason)
    except (RegistryError, ActorError) as exc:
        raise _refused(exc) from exc
    context.log.info(f"shadow started: {rows.to_dicts()}")


@dg.op(name="readiness_gate", description="Evaluates the ten production-readiness items for a version.")
def readiness_gate_op(
    context: dg.OpExecutionContext, config: VersionActConfig, warehouse: WarehouseResource,
    code_location: dg.ResourceParam[CodeLocationHandle],
) -> bool:
    report = evaluate_gate(warehouse, config.model_version, code_location.get())
    context.log.info(report.table())
    context.add_output_metadata(
        {"gate": dg.MetadataValue.md(report.table()), "passed": report.passed,
         "failing_items": len(report.failing)}
    )
    return report.passed


@dg.op(name="approve_model", description="Records an approval of a staging version by a second person.")
def approve_op(context: dg.OpExecutionContext, config: ApproveConfig, warehouse: WarehouseResource) -> None:
    try:
        rows = approve(warehouse, config.model_version, config.approver, config.reason)
    except (RegistryError, ActorError) as exc:
        raise _refused(exc) from exc
    context.log.info(f"approved: {rows.to_dicts()}")


@dg.op(name="promote_model", description="Promotes an approved staging version that passes the gate.")
def promote_op(
    context: dg.OpExecutionContext, config: VersionActConfig, warehouse: WarehouseResource,
    code_location: dg.ResourceParam[CodeLocationHandle],
) -> str:
    try:
        done = promote(
            warehouse, config.model_version, _actor(context, config.actor), config.reason, code_location.get()
        )
    except (RegistryError, ActorError) as exc:
        raise _refused(exc) from exc
    context.add_output_metadata(
        {"previous_champion": done.previous or "none", "approved_by": done.approved_by,
         "effective_from": str(done.effective_from), "gate": dg.MetadataValue.md(done.gate.table()),
         **_audit_metadata(done.audit)}
    )
    return done.model_version


@dg.op(name="rollback_model", description="Restores the previous champion and re-scores the days since.")
def rollback_op(context: dg.OpExecutionContext, config: RollbackConfig, warehouse: WarehouseResource) -> str:
    evidence = json.loads(config.evidence) if config.evidence.strip() else None
    try:
        done = rollback(
            warehouse, config.cohort, _actor(context, config.actor), config.reason, context.log.info, evidence
        )
    except (RegistryError, ActorError) as exc:
        raise _refused(exc) from exc
    if evidence:
        default_sink(context.log).send(rollback_done_alert(done, evidence))
    context.add_output_metadata(
        {"rolled_back": done.rolled_back, "restored": done.restored,
         "rescored_days": ", ".join(str(d) for d in done.rescored_days) or "none",
         "rescored_rows": done.rescored_rows, "seconds": round(done.seconds, 2), **_audit_metadata(done.audit)}
    )
    return done.restored


@dg.op(name="start_canary", description="Publishes an approved staging version for the canary share of customers.")
def start_canary_op(context: dg.OpExecutionContext, config: VersionActConfig, warehouse: WarehouseResource) -> None:
    try:
        rows = start_canary(warehouse, config.model_version, _actor(context, config.actor), config.reason)
    except (RegistryError, ActorError) as exc:
        raise _refused(exc) from exc
    context.add_output_metadata(_audit_metadata(rows))


@dg.op(name="stop_canary", description="Ends a version's canary: the champion scores every customer again.")
def stop_canary_op(context: dg.OpExecutionContext, config: VersionActConfig, warehouse: WarehouseResource) -> None:
    try:
        rows = stop_canary(warehouse, config.model_version, _actor(context, config.actor), config.reason)
    except (RegistryError, ActorError) as exc:
        raise _refused(exc) from exc
    context.add_output_metadata(_audit_metadata(rows))


@dg.op(name="archive_model", description="development or staging -> archived.")
def archive_op(context: dg.OpExecutionContext, config: VersionActConfig, warehouse: WarehouseResource) -> None:
    try:
        archive(warehouse, config.model_version, _actor(context, config.actor), config.reason)
    except (RegistryError, ActorError) as exc:
        raise _refused(exc) from exc


@dg.job(name="start_shadow_job", description="Puts a development version into shadow (status staging).")
def start_shadow_job() -> None:
    start_shadow_op()


@dg.job(name="readiness_gate_job", description="Shows the production-readiness table of a version.")
def readiness_gate_job() -> None:
    readiness_gate_op()


@dg.job(name="approve_model_job", description="Records a second person's approval of a staging version.")
def approve_model_job() -> None:
    approve_op()


@dg.job(
    name="promote_model_job",
    description="Makes an approved staging version that passes the gate its product's champion from the next "
    "partition on; published partitions are not touched.",
)
def promote_model_job() -> None:
    promote_op()


@dg.job(
    name="rollback_model_job",
    description="Restores a product's previous champion and re-scores the partitions published since the "
    "promotion. The 2am button: see docs/runbook.md.",
)
def rollback_model_job() -> None:
    rollback_op()


@dg.job(
    name="start_canary_job",
    description=f"Optional step between shadow and full: from the next partition, {SETTINGS.canary.share:.0%} of the "
    "product's customers (always the same ones) are published with an approved staging version's scores, the "
    "rest with the champion's. Promotion to full stays a separate, explicit act (promote_model_job).",
)
def start_canary_job() -> None:
    start_canary_op()


@dg.job(name="stop_canary_job", description="Ends a canary: the champion scores every customer again.")
def stop_canary_job() -> None:
    stop_canary_op()


@dg.job(name="archive_model_job", description="Archives a development or staging version.")
def archive_model_job() -> None:
    archive_op()


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    description="Alerts when a run of this code location fails (the daily scoring after its retry, a retraining, "
    "a promotion or a rollback): logs an error naming the run and the runbook, and appends it to "
    "$DAGSTER_HOME/alerts/run_failures.jsonl.",
    default_status=dg.DefaultSensorStatus.RUNNING,
    # What the decorator watches, stated publicly for the readiness gate (item 3) and the UI.
    metadata={ALERTS_ON_RUN_STATUS: dg.DagsterRunStatus.FAILURE.value},
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    message = (
        f"{run.job_name} run {run.run_id} failed: {context.failure_event.message}. "
        "See docs/runbook.md ('The daily partition failed at 07:00' for daily_trust_job)."
    )
    context.log.error(message)
    folder = os.path.join(os.environ.get("DAGSTER_HOME", "."), "alerts")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "run_failures.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"job": run.job_name, "run_id": run.run_id, "message": message}) + "\n")


OPERATIONS_JOBS: list[dg.JobDefinition] = [
    retrain_models_job, start_shadow_job, readiness_gate_job, approve_model_job, promote_model_job,
    rollback_model_job, archive_model_job, start_canary_job, stop_canary_job,
]
OPERATIONS_SCHEDULES: list[dg.ScheduleDefinition] = [retrain_schedule]
OPERATIONS_SENSORS: list[dg.SensorDefinition] = [run_failure_alert_sensor]

__all__ = ["OPERATIONS_JOBS", "OPERATIONS_SCHEDULES", "OPERATIONS_SENSORS", "RETRAIN_JOB"]

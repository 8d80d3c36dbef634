"""Status changes that need no gate: entering shadow and archiving."""

from __future__ import annotations

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.operations.audit import EventType, resolve_actor
from trust_assets.operations.registry_store import (
    RegistryError,
    StatusChange,
    transition,
    version_row,
    versions_with_status,
)
from trust_assets.scoring.registry import ModelStatus
from trust_assets.store.models import read_registry


def start_shadow(warehouse: WarehouseResource, model_version: str, actor: str, reason: str) -> pl.DataFrame:
    """development -> staging: the version scores every daily partition into the shadow table from now on."""
    actor = resolve_actor(actor)
    registry = read_registry(warehouse)
    row = version_row(registry, model_version)
    others = [v for v in versions_with_status(registry, row["cohort"], ModelStatus.STAGING) if v != model_version]
    if others:
        raise RegistryError(f"{row['cohort']} already has a staging version ({others[0]}); archive it first")
    return transition(
        warehouse,
        [StatusChange(model_version, ModelStatus.DEVELOPMENT, ModelStatus.STAGING, EventType.SHADOW_STARTED, reason)],
        actor,
    )


def archive(warehouse: WarehouseResource, model_version: str, actor: str, reason: str) -> pl.DataFrame:
    """development or staging -> archived (a production version leaves only by promotion or rollback)."""
    actor = resolve_actor(actor)
    row = version_row(read_registry(warehouse), model_version)
    status = ModelStatus(row["status"])
    if status not in (ModelStatus.DEVELOPMENT, ModelStatus.STAGING):
        raise RegistryError(f"{model_version} is {status.value}: only development or staging versions are archived")
    return transition(
        warehouse, [StatusChange(model_version, status, ModelStatus.ARCHIVED, EventType.ARCHIVED, reason)], actor
    )

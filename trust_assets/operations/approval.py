"""Approval: a named person, other than the one who trained the version, approves a staging version."""

from __future__ import annotations

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS
from trust_assets.operations.audit import AuditEvent, EventType, read_trail, record, resolve_actor
from trust_assets.operations.registry_store import RegistryError, version_row
from trust_assets.scoring.registry import ModelStatus
from trust_assets.store.models import read_registry


class ApprovalError(RegistryError):
    """An approval the rules refuse."""


def trainers(warehouse: WarehouseResource, model_version: str) -> set[str]:
    """Everyone recorded as having trained the version: the registry's created_by and the trained events."""
    row = version_row(read_registry(warehouse), model_version)
    trail = read_trail(warehouse, model_version=model_version)
    names = set(trail.filter(pl.col("event_type") == EventType.TRAINED.value)["actor"].to_list())
    names.add(str(row["created_by"]))
    return {n.strip().casefold() for n in names if n and n.strip()}


def approve(
    warehouse: WarehouseResource,
    model_version: str,
    approver: str,
    reason: str,
    require_distinct: bool = SETTINGS.operations.require_distinct_approver,
) -> pl.DataFrame:
    """Record an approval of a staging version; returns the audit row."""
    approver = resolve_actor(approver)
    if not reason.strip():
        raise ApprovalError("an approval needs a reason (what was reviewed)")
    row = version_row(read_registry(warehouse), model_version)
    if row["status"] != ModelStatus.STAGING.value:
        raise ApprovalError(
            f"{model_version} is {row['status']}: only a staging version (one that has run in shadow) can be approved"
        )
    if require_distinct and approver.casefold() in trainers(warehouse, model_version):
        raise ApprovalError(
            f"{approver} trained {model_version} and cannot approve it: approval needs a second person"
        )
    event = AuditEvent(
        EventType.APPROVED, model_version, row["cohort"], approver, reason,
        {"status": row["status"]}, {"status": row["status"], "approved_by": approver},
    )
    return record(warehouse, [event])


def current_approval(warehouse: WarehouseResource, model_version: str) -> dict | None:
    """The latest approval of the version given after it last entered shadow, or None."""
    trail = read_trail(warehouse, model_version=model_version)
    started = trail.filter(pl.col("event_type") == EventType.SHADOW_STARTED.value)
    approvals = trail.filter(pl.col("event_type") == EventType.APPROVED.value)
    if started.height:
        approvals = approvals.filter(pl.col("occurred_at") > started["occurred_at"].max())
    return approvals.row(-1, named=True) if approvals.height else None

"""Promotion: an approved staging version that passes the readiness gate becomes its cohort's champion.

The change takes effect from the next partition on: partitions already published keep the scores (and the
``model_version``) they were published with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.operations.approval import current_approval
from trust_assets.operations.audit import EventType, resolve_actor, state
from trust_assets.operations.canary import canary_state
from trust_assets.operations.gate import CodeLocation, GateReport, evaluate_gate
from trust_assets.operations.registry_store import (
    RegistryError,
    StatusChange,
    transition,
    version_row,
    versions_with_status,
)
from trust_assets.scoring.registry import ModelStatus
from trust_assets.store.models import read_registry
from trust_assets.store.signal import latest_published_day


class PromotionRefused(RegistryError):
    """Promotion is refused; the message says which rule failed."""

    def __init__(self, message: str, gate: GateReport | None = None) -> None:
        super().__init__(message)
        self.gate = gate


@dataclass(frozen=True)
class Promotion:
    model_version: str
    cohort: str
    previous: str | None
    approved_by: str
    effective_from: date | None
    gate: GateReport
    audit: pl.DataFrame


def promote(
    warehouse: WarehouseResource,
    model_version: str,
    actor: str,
    reason: str,
    location: CodeLocation,
) -> Promotion:
    actor = resolve_actor(actor)
    registry = read_registry(warehouse)
    row = version_row(registry, model_version)
    if row["status"] != ModelStatus.STAGING.value:
        raise PromotionRefused(f"{model_version} is {row['status']}: only a staging version can be promoted")
    approval = current_approval(warehouse, model_version)
    if approval is None:
        raise PromotionRefused(
            f"{model_version} has no approval since it entered shadow: a second person must run "
            f"`trust models approve {model_version}` first"
        )
    gate = evaluate_gate(warehouse, model_version, location)
    if not gate.passed:
        failing = ", ".join(f"{i.number}. {i.name}" for i in gate.failing)
        raise PromotionRefused(f"{model_version} fails the readiness gate: {failing}\n\n{gate.table()}", gate)
    # From canary to full is this same explicit act; its event records the canary it ends.
    canary = canary_state(warehouse, model_version)
    from_canary = None
    if canary:
        started = state(canary["after_state"])
        from_canary = {"share": started.get("share"), "effective_from": started.get("effective_from"),
                       "started_at": str(canary["occurred_at"]), "started_by": canary["actor"]}
    champions = versions_with_status(registry, row["cohort"], ModelStatus.PRODUCTION)
    previous = champions[0] if champions else None
    last = latest_published_day(warehouse)
    effective = last + timedelta(days=1) if last else None
    changes = [
        StatusChange(
            model_version, ModelStatus.STAGING, ModelStatus.PRODUCTION, EventType.PROMOTED, reason,
            {"champion": previous},
            {"approved_by": approval["actor"], "effective_from": str(effective) if effective else None,
             "last_published_before": str(last) if last else None,
             **({"from_canary": from_canary} if from_canary else {})},
        )
    ]
    if previous:
        changes.append(
            StatusChange(
                previous, ModelStatus.PRODUCTION, ModelStatus.ARCHIVED, EventType.ARCHIVED,
                f"replaced by {model_version}: {reason}", None, {"replaced_by": model_version},
            )
        )
    audit = transition(warehouse, changes, actor)
    return Promotion(model_version, row["cohort"], previous, approval["actor"], effective, gate, audit)

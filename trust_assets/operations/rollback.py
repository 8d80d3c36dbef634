"""Rollback: restore a cohort's previous production version and re-score the partitions published since the
promotion, through the same scoring path as the daily trust signal."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.operations.audit import EventType, read_trail, resolve_actor, state
from trust_assets.operations.canary import canary_versions
from trust_assets.operations.registry_store import (
    RegistryError,
    StatusChange,
    transition,
    version_row,
    versions_with_status,
)
from trust_assets.scoring.registry import ModelStatus
from trust_assets.services.publishing import publish_scores
from trust_assets.store.models import read_registry
from trust_assets.store.signal import days_scored_by, versions_in_window


class RollbackRefused(RegistryError):
    """Rollback is not possible; the message says why."""


@dataclass(frozen=True)
class Rollback:
    cohort: str
    rolled_back: str
    restored: str
    rescored_days: list[date]
    rescored_rows: int
    seconds: float
    audit: pl.DataFrame


def previous_champion(warehouse: WarehouseResource, model_version: str) -> str | None:
    """The champion the version replaced, from its latest promotion event."""
    trail = read_trail(warehouse, model_version=model_version)
    promoted = trail.filter(pl.col("event_type") == EventType.PROMOTED.value)
    return state(promoted["before_state"][-1]).get("champion") if promoted.height else None


def day_ranges(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive runs of days as inclusive (first, last) pairs."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and day == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def rollback(
    warehouse: WarehouseResource,
    cohort: str,
    actor: str,
    reason: str,
    log: Callable[[str], None] = lambda _: None,
    evidence: dict[str, Any] | None = None,
) -> Rollback:
    """production -> archived for the current champion, archived -> production for the one it replaced, then
    re-score every published day that carries the rolled-back version.

    ``evidence``: what made an automatic rollback act (guard metric, threshold, values, days); it is recorded
    in the audit event of the rolled-back version under ``guard``.
    """
    actor = resolve_actor(actor)
    if not reason.strip():
        raise RollbackRefused("a rollback needs a reason (what regressed)")
    started = time.perf_counter()
    registry = read_registry(warehouse)
    champions = versions_with_status(registry, cohort, ModelStatus.PRODUCTION)
    if len(champions) != 1:
        raise RollbackRefused(f"{cohort} has {len(champions)} production versions; expected exactly one")
    current = champions[0]
    previous = previous_champion(warehouse, current)
    if previous is None:
        raise RollbackRefused(f"{current} replaced no earlier version: there is nothing to roll back to")
    if version_row(registry, previous)["status"] != ModelStatus.ARCHIVED.value:
        raise RollbackRefused(f"the previous champion {previous} is no longer archived; resolve by hand")
    days = days_scored_by(warehouse, cohort, current)
    # Re-scoring replaces whole days: the other cohorts' rows on them must already come from their champions,
    # or the re-score would silently change scores that are not being rolled back.
    if days:
        others = versions_in_window(warehouse, days[0], days[-1], cohort)
        # A cohort's canary version is re-published as it was: the re-score takes it into account.
        canaries = canary_versions(warehouse)
        drifted = [
            f"{c}: {v}" for c, v in others.iter_rows()
            if v not in versions_with_status(registry, c, ModelStatus.PRODUCTION) and v != canaries.get(c)
        ]
        if drifted:
            raise RollbackRefused(
                f"days {days[0]} .. {days[-1]} also hold scores of other cohorts' non-production versions "
                f"({', '.join(drifted)}); re-scoring them would change those too"
            )
    audit = transition(
        warehouse,
        [
            StatusChange(current, ModelStatus.PRODUCTION, ModelStatus.ARCHIVED, EventType.ROLLED_BACK, reason,
                         None, {"restored": previous, "rescore_days": [str(d) for d in days],
                               **({"guard": evidence} if evidence else {})}),
            StatusChange(previous, ModelStatus.ARCHIVED, ModelStatus.PRODUCTION, EventType.ROLLED_BACK, reason,
                         None, {"replaces": current}),
        ],
        actor,
    )
    rows = 0
    for start, end in day_ranges(days):
        # The registry now names the restored champion: the daily path scores with it.
        rows += publish_scores(warehouse, start, end, log).rows
    return Rollback(cohort, current, previous, days, rows, time.perf_counter() - started, audit)

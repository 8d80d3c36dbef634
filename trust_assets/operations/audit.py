"""``model_audit_trail``: the append-only record of every registry event.

Who did what to which model version, when, why, and the state before and after. Rows are only ever appended
(:func:`record`); no code path updates or deletes them, and a test pins that.
"""

from __future__ import annotations

import getpass
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import polars as pl

from trust_assets.config import SETTINGS

if TYPE_CHECKING:  # the resource imports Dagster; `trust models audit` reads without it
    from resources.read_only import WarehouseReader
    from resources.warehouse import WarehouseResource

AUDIT_TABLE = SETTINGS.operations.audit_table


class EventType(StrEnum):
    """The fixed vocabulary of registry events."""

    TRAINED = "trained"
    SHADOW_STARTED = "shadow_started"
    APPROVED = "approved"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    ARCHIVED = "archived"
    RULER_ISSUED = "ruler_issued"
    CANARY_STARTED = "canary_started"
    CANARY_STOPPED = "canary_stopped"


AUDIT_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "event_type": pl.String(),
    "model_version": pl.String(),
    "cohort": pl.String(),
    "actor": pl.String(),
    "occurred_at": pl.Datetime("us", "UTC"),
    "reason": pl.String(),
    "before_state": pl.String(),
    "after_state": pl.String(),
}

AUDIT_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "event_id": "Unique, time-ordered id of the event.",
    "event_type": "trained, shadow_started, approved, promoted, rolled_back, archived, ruler_issued, "
    "canary_started or canary_stopped.",
    "model_version": "The model version the event is about (NULL for ruler_issued).",
    "cohort": "Product cohort of the version (NULL for ruler_issued).",
    "actor": "Who did it: a named person, or the run that acted on their behalf.",
    "occurred_at": "When it happened (UTC).",
    "reason": "Why, in the actor's words.",
    "before_state": "JSON state before the event (status and related facts); NULL for a new version.",
    "after_state": "JSON state after the event.",
}


class ActorError(ValueError):
    """An operation was attempted without naming who does it."""


def resolve_actor(value: str | None) -> str:
    """The acting person: the value given, else the environment's user. A blank name is never accepted."""
    if value is not None:
        if not value.strip():
            raise ActorError("the actor is blank: name the person doing this (for example --actor alice)")
        return value.strip()
    env = os.environ.get("TRUST_ACTOR") or os.environ.get("USER") or os.environ.get("USERNAME")
    if not env:
        try:
            env = getpass.getuser()
        except Exception:  # no passwd entry: fall through to the refusal below
            env = ""
    if not env or not env.strip():
        raise ActorError("no actor given and the environment names no user: pass the actor explicitly")
    return env.strip()


@dataclass(frozen=True)
class AuditEvent:
    event_type: EventType
    model_version: str | None
    cohort: str | None
    actor: str
    reason: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] = field(default_factory=dict)


def _state(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def event_rows(events: list[AuditEvent], now: datetime | None = None) -> pl.DataFrame:
    """Rows for ``events``, in the given order: timestamps strictly increase within one batch."""
    start = now or datetime.now(UTC)
    rows = []
    for i, event in enumerate(events):
        if not event.actor or not event.actor.strip():
            raise ActorError(f"{event.event_type} event without an actor")
        at = start + timedelta(microseconds=i)
        rows.append(
            {
                "event_id": f"{at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}",
                "event_type": EventType(event.event_type).value,
                "model_version": event.model_version,
                "cohort": event.cohort,
                "actor": event.actor.strip(),
                "occurred_at": at,
                "reason": event.reason,
                "before_state": _state(event.before),
                "after_state": _state(event.after),
            }
        )
    return pl.DataFrame(rows, schema=AUDIT_SCHEMA)


def record(warehouse: WarehouseResource, events: list[AuditEvent]) -> pl.DataFrame:
    """Append ``events`` to the audit trail (the only write this table ever receives)."""
    if not events:
        return pl.DataFrame(schema=AUDIT_SCHEMA)
    rows = event_rows(events)
    warehouse.append(AUDIT_TABLE, rows)
    return rows


def record_ruler_issue(
    warehouse: WarehouseResource, ruler_version: str, fingerprint: str, rows: int, actor: str
) -> pl.DataFrame:
    """A ``ruler_issued`` event: issuing a ruler is an explicit, versioned, audited act (docs/architecture.md §5)."""
    event = AuditEvent(
        EventType.RULER_ISSUED, None, None, actor, f"issued ruler {ruler_version}", None,
        {"ruler_version": ruler_version, "fingerprint": fingerprint, "rows": rows},
    )
    return record(warehouse, [event])


def read_trail(
    warehouse: WarehouseReader, model_version: str | None = None, cohort: str | None = None
) -> pl.DataFrame:
    """The audit trail in the order events happened, optionally for one version or cohort."""
    if not warehouse.table_exists(AUDIT_TABLE):
        return pl.DataFrame(schema=AUDIT_SCHEMA)
    where, params = [], {}
    if model_version:
        where.append("model_version = $v")
        params["v"] = model_version
    if cohort:
        where.append("cohort = $c")
        params["c"] = cohort
    clause = f" where {' and '.join(where)}" if where else ""
    frame = warehouse.read(f"select * from {{analytics}}.{AUDIT_TABLE}{clause} order by occurred_at, event_id", params)
    return frame.select([pl.col(c).cast(t) for c, t in AUDIT_SCHEMA.items()])


def state(value: str | None) -> dict[str, Any]:
    """A before/after state column parsed back into a dict (empty for NULL)."""
    return json.loads(value) if value else {}

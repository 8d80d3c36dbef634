"""Writes to ``model_registry``: registering immutable versions and changing their status.

A version's row is written once. Every column but ``status`` is immutable: registering a version again with
different contents is refused. ``status`` is the one mutable column, so that ``model_registry`` keeps the spec's
columns and scoring keeps reading the production version from it; it changes only through :func:`transition`,
which checks the expected current statuses, enforces exactly one production version per cohort, writes all
changes of one act in a single UPDATE statement (atomic on DuckDB and BigQuery) and records each change in the
audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from trust_assets.operations.audit import AuditEvent, EventType, record
from trust_assets.scoring.registry import REGISTRY_SCHEMA, ModelStatus
from trust_assets.store.models import read_registry
from trust_assets.tables import MODEL_REGISTRY

if TYPE_CHECKING:  # the resource imports Dagster; `trust models list` reads without it
    from resources.warehouse import WarehouseResource

IMMUTABLE_COLUMNS: tuple[str, ...] = tuple(c for c in REGISTRY_SCHEMA if c != "status")


class RegistryError(RuntimeError):
    """A registry write that the rules refuse."""


class ImmutableVersionError(RegistryError):
    """A write that would change an existing version's immutable fields."""


@dataclass(frozen=True)
class StatusChange:
    model_version: str
    expected: ModelStatus
    new: ModelStatus
    event_type: EventType
    reason: str
    before_extra: dict[str, Any] | None = None
    after_extra: dict[str, Any] | None = None


def version_row(registry: pl.DataFrame, model_version: str) -> dict[str, Any]:
    rows = registry.filter(pl.col("model_version") == model_version)
    if rows.height == 0:
        raise RegistryError(f"model version {model_version!r} is not registered")
    if rows.height > 1:
        raise RegistryError(f"model version {model_version!r} has {rows.height} registry rows; expected one")
    return rows.row(0, named=True)


def versions_with_status(registry: pl.DataFrame, cohort: str, status: ModelStatus) -> list[str]:
    found = registry.filter((pl.col("cohort") == cohort) & (pl.col("status") == status.value))
    return found["model_version"].to_list()


def production_counts(registry: pl.DataFrame) -> dict[str, int]:
    """Production versions per cohort that has any registered version."""
    counts = {c: 0 for c in registry["cohort"].unique().to_list()}
    for cohort in registry.filter(pl.col("status") == ModelStatus.PRODUCTION.value)["cohort"].to_list():
        counts[cohort] += 1
    return counts


def check_one_production(registry: pl.DataFrame) -> None:
    """Raise unless every cohort with registered versions has exactly one production version."""
    bad = {c: n for c, n in production_counts(registry).items() if n != 1}
    if bad:
        raise RegistryError(f"exactly one production version per cohort is required; found {bad}")


def immutable_differences(existing: dict[str, Any], incoming: dict[str, Any]) -> list[str]:
    """Immutable columns whose values differ between a stored row and an incoming one."""
    return [c for c in IMMUTABLE_COLUMNS if existing.get(c) != incoming.get(c)]


def register_versions(
    warehouse: WarehouseResource,
    rows: pl.DataFrame,
    actor: str,
    reason: str,
    extra_after: dict[str, dict[str, Any]] | None = None,
) -> dict[str, str]:
    """Append new registry rows (status as given) and a ``trained`` event per new version.

    A version already registered with identical immutable fields is left alone ("already registered"); one
    registered with different fields is refused. A version registered directly as production (the first
    version of a cohort) also gets a ``promoted`` event, so the trail explains every production version.
    """
    rows = rows.select([pl.col(c).cast(t) for c, t in REGISTRY_SCHEMA.items()])
    registry = read_registry(warehouse)
    outcome: dict[str, str] = {}
    new: list[dict[str, Any]] = []
    for row in rows.iter_rows(named=True):
        stored = registry.filter(pl.col("model_version") == row["model_version"])
        if stored.height:
            diff = immutable_differences(stored.row(0, named=True), row)
            if diff:
                raise ImmutableVersionError(
                    f"model version {row['model_version']} is already registered; versions are immutable and "
                    f"these fields would change: {', '.join(diff)}. Train a new version instead."
                )
            outcome[row["model_version"]] = "already registered"
            continue
        new.append(row)
        outcome[row["model_version"]] = f"registered as {row['status']}"
    if not new:
        return outcome
    frame = pl.DataFrame(new, schema=REGISTRY_SCHEMA)
    check_one_production(pl.concat([registry, frame]).filter(pl.col("cohort").is_in(frame["cohort"].unique())))
    warehouse.append(MODEL_REGISTRY, frame)
    events: list[AuditEvent] = []
    for row in new:
        after = {
            "status": ModelStatus.DEVELOPMENT.value,
            "training_reference_date": str(row["training_reference_date"]),
            "data_fingerprint": row["data_fingerprint"],
            "code_version": row["code_version"],
            "ruler_version": row["ruler_version"],
            **(extra_after or {}).get(row["model_version"], {}),
        }
        events.append(AuditEvent(EventType.TRAINED, row["model_version"], row["cohort"], actor, reason, None, after))
        if row["status"] == ModelStatus.PRODUCTION.value:
            events.append(
                AuditEvent(
                    EventType.PROMOTED, row["model_version"], row["cohort"], actor,
                    "first version of the cohort: production from the start (no champion to replace)",
                    {"status": ModelStatus.DEVELOPMENT.value, "champion": None},
                    {"status": ModelStatus.PRODUCTION.value},
                )
            )
    record(warehouse, events)
    return outcome


def transition(warehouse: WarehouseResource, changes: list[StatusChange], actor: str) -> pl.DataFrame:
    """Apply status changes as one act; returns the audit rows written.

    Refused (nothing written) if a version is not in its expected status or if the result would leave a
    touched cohort without exactly one production version.
    """
    if not changes:
        raise RegistryError("no status change given")
    registry = read_registry(warehouse)
    for change in changes:
        current = version_row(registry, change.model_version)["status"]
        if current != change.expected.value:
            raise RegistryError(
                f"{change.model_version} is {current}, expected {change.expected.value} "
                f"before it can become {change.new.value}"
            )
    new_status = {c.model_version: c.new.value for c in changes}
    after = registry.with_columns(
        pl.col("model_version").replace_strict(new_status, default=pl.col("status")).alias("status")
    )
    cohorts = registry.filter(pl.col("model_version").is_in(list(new_status)))["cohort"].unique()
    touched = after.filter(pl.col("cohort").is_in(cohorts))
    if touched.filter(pl.col("status") == ModelStatus.PRODUCTION.value).height or any(
        c.expected is ModelStatus.PRODUCTION for c in changes
    ):
        check_one_production(touched)

    params: dict[str, Any] = {}
    cases = []
    for i, change in enumerate(changes):
        params[f"v{i}"], params[f"s{i}"] = change.model_version, change.new.value
        cases.append(f"when model_version = $v{i} then $s{i}")
    in_list = ", ".join(f"$v{i}" for i in range(len(changes)))
    # One statement: every change of the act lands together or not at all.
    warehouse.execute(
        f"update {{analytics}}.{MODEL_REGISTRY} set status = case {' '.join(cases)} else status end "
        f"where model_version in ({in_list})",
        params,
    )
    check_one_production(read_registry(warehouse).filter(pl.col("cohort").is_in(cohorts)))
    events = [
        AuditEvent(
            c.event_type,
            c.model_version,
            version_row(registry, c.model_version)["cohort"],
            actor,
            c.reason,
            {"status": c.expected.value, **(c.before_extra or {})},
            {"status": c.new.value, **(c.after_extra or {})},
        )
        for c in changes
    ]
    return record(warehouse, events)

"""Each daily partition's own figures and check results, also when one run covers several days.

A single-run backfill (the demo's seven days, the reference period, a backfill from the UI) materialises many
partitions in one step. Left to itself, Dagster records the step's metadata on every partition of the range and
records a check result without a partition, which the partition view shows as "Skipped" for every day. Here:

- :func:`add_daily_metadata` attaches each day's figures to that day's materialisation (Dagster's
  partition-scoped ``add_asset_metadata``), so the plots over partitions show per-day values;
- :func:`check_evaluations` turns per-day check outcomes into one ``AssetCheckEvaluation`` per partition, each
  pointing at that partition's latest materialisation, so every day shows its own Passed / Failed / Warning and
  a blocking failure on one day still fails the step.

The functions take plain values (dates, metadata dicts, per-day results) and a Dagster context; the decisions
(what a day's figures are, whether a day passed) stay with the assets and checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log.base import AssetRecordsFilter


def partition_key(day: date) -> str:
    """The daily partition key of a snapshot date (DailyPartitionsDefinition's ``%Y-%m-%d``)."""
    return day.isoformat()


def run_days(context: Any) -> list[date]:
    """The snapshot dates of the partitions a step covers, in order (one for a single-partition run)."""
    return [date.fromisoformat(key) for key in context.partition_keys]


def add_daily_metadata(
    context: dg.AssetExecutionContext,
    metadata_by_day: Mapping[date, Mapping[str, Any]],
    asset_key: dg.AssetKey | None = None,
) -> None:
    """Attach each day's metadata to that day's materialisation of ``asset_key``.

    Must be called before the asset's output (or ``MaterializeResult``) is yielded: Dagster merges these
    entries over the output's own metadata when it records each partition's materialisation.
    """
    for day, metadata in metadata_by_day.items():
        context.add_asset_metadata(dict(metadata), asset_key=asset_key, partition_key=partition_key(day))


@dataclass(frozen=True)
class DayCheckOutcome:
    """One day's result of one check."""

    passed: bool
    severity: dg.AssetCheckSeverity
    description: str
    metadata: Mapping[str, Any]


def _latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, keys: Iterable[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialisation of each partition key (absent keys were never materialised)."""
    wanted = set(keys)
    storage_ids = instance.event_log_storage.get_latest_storage_id_by_partition(
        asset_key, DagsterEventType.ASSET_MATERIALIZATION, wanted
    )
    if not storage_ids:
        return {}
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset_key, storage_ids=list(storage_ids.values())), limit=len(storage_ids)
    ).records
    by_id = {r.storage_id: r for r in records}
    out: dict[str, AssetCheckEvaluationTargetMaterializationData] = {}
    for key, storage_id in storage_ids.items():
        record = by_id.get(storage_id)
        if record is not None:
            out[key] = AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
            )
    return out


def check_evaluations(
    instance: dg.DagsterInstance,
    check_key: dg.AssetCheckKey,
    blocking: bool,
    outcomes: Mapping[date, DayCheckOutcome],
) -> Iterator[AssetCheckEvaluation]:
    """One evaluation per day, each targeting that day's latest materialisation of the checked asset.

    The target matters: the UI counts a partition's check result only when it belongs to the partition's
    current materialisation. Yield these after the asset's own materialisation events of the same step.
    """
    targets = _latest_materializations(instance, check_key.asset_key, (partition_key(d) for d in outcomes))
    for day in sorted(outcomes):
        outcome = outcomes[day]
        key = partition_key(day)
        yield AssetCheckEvaluation(
            asset_key=check_key.asset_key,
            check_name=check_key.name,
            passed=outcome.passed,
            metadata={**outcome.metadata, "partition": key},
            target_materialization_data=targets.get(key),
            severity=outcome.severity,
            description=outcome.description,
            blocking=blocking,
            partition=key,
        )


def outcome_of(result: dg.AssetCheckResult) -> DayCheckOutcome:
    """The day outcome carried by an ``AssetCheckResult`` built for that day."""
    return DayCheckOutcome(
        passed=result.passed,
        severity=result.severity,
        description=result.description or "",
        metadata=dict(result.metadata),
    )


__all__ = [
    "DayCheckOutcome",
    "add_daily_metadata",
    "check_evaluations",
    "outcome_of",
    "partition_key",
    "run_days",
]

"""Probation: the first days of a promotion, during which the previous champion keeps scoring beside the new one.

A cohort is in probation on day D when its production version became production by a promotion (not by a
rollback's restore) that replaced an earlier champion, and D lies in the ``ProbationSettings.days`` days from
the promotion's first published day (``effective_from`` in its audit event). The previous champion's scores of
those days go to their own table, so each day has a like-for-like comparison on the same customers; the gate's
shadow table is not touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS, Cohort, ProbationSettings, feature_names
from trust_assets.operations.audit import EventType, read_trail, state
from trust_assets.operations.guard_metrics import GUARD_SCHEMA, ReferenceRange, guard_metrics
from trust_assets.operations.registry_store import version_row
from trust_assets.operations.serving import Models, score_window
from trust_assets.scoring.registry import ModelLoadError, ModelStatus
from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA
from trust_assets.store.models import load_version, read_registry
from trust_assets.store.signal import signal_rows
from trust_assets.tables import MATURED_OUTCOME_PERFORMANCE

PROBATION = SETTINGS.probation
COMPARED_COLUMNS = ["snapshot_date", "cohort", "customer_id", "raw_score", "trust_score", "model_version",
                    "missing_features"]


@dataclass(frozen=True)
class Probation:
    """One promotion's probation: ``champion`` replaced ``previous``, first published on ``effective_from``."""

    cohort: str
    champion: str
    previous: str
    promotion_event_id: str
    effective_from: date
    last_day: date

    def covers(self, day: date) -> bool:
        return self.effective_from <= day <= self.last_day


def probation_of(trail: pl.DataFrame, champion: str, settings: ProbationSettings = PROBATION) -> Probation | None:
    """The probation of ``champion`` from its audit rows (in order), or None when it has none: it came to
    production by a rollback's restore, as a cohort's first version, or before anything was published."""
    made_production = [
        row for row in trail.filter(pl.col("model_version") == champion).iter_rows(named=True)
        if row["event_type"] in (EventType.PROMOTED.value, EventType.ROLLED_BACK.value)
        and state(row["after_state"]).get("status") == ModelStatus.PRODUCTION.value
    ]
    if not made_production:
        return None
    last = made_production[-1]
    if last["event_type"] != EventType.PROMOTED.value:
        return None
    previous = state(last["before_state"]).get("champion")
    effective = state(last["after_state"]).get("effective_from")
    if not previous or not effective:
        return None
    start = date.fromisoformat(effective)
    return Probation(last["cohort"], champion, previous, last["event_id"], start,
                     start + timedelta(days=settings.days - 1))


def probations(warehouse: WarehouseResource, settings: ProbationSettings = PROBATION) -> list[Probation]:
    """The probation of every cohort's current champion that has one (whether or not it is still running)."""
    registry = read_registry(warehouse).filter(pl.col("status") == ModelStatus.PRODUCTION.value)
    out = []
    for champion in sorted(registry["model_version"].to_list()):
        found = probation_of(read_trail(warehouse, model_version=champion), champion, settings)
        if found is not None:
            out.append(found)
    return out


def previous_champion_unavailable(warehouse: WarehouseResource, probation: Probation) -> str | None:
    """Why the previous champion cannot be restored (None when it can): a rollback to it must not be tried."""
    try:
        row = version_row(read_registry(warehouse), probation.previous)
    except Exception as exc:  # not registered any more
        return f"{probation.previous} is not in the registry: {exc}"
    if row["status"] != ModelStatus.ARCHIVED.value:
        return f"{probation.previous} is {row['status']}, not archived"
    try:
        load_version(warehouse, row)
    except ModelLoadError as exc:  # weights or ruler rows gone
        return f"{probation.previous} cannot score: {exc}"
    return None


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def score_previous_champions(
    warehouse: WarehouseResource, start: date, end: date, log: Callable[[str], None] = lambda _: None
) -> pl.DataFrame:
    """The previous champions' scores for the days of [start, end] that lie in their cohort's probation."""
    frames = [pl.DataFrame(schema=TRUST_SIGNAL_SCHEMA)]
    registry = read_registry(warehouse)
    for probation in probations(warehouse):
        days = [d for d in _days(start, end) if probation.covers(d)]
        if not days:
            continue
        if (why := previous_champion_unavailable(warehouse, probation)) is not None:
            log(f"{probation.cohort}: the previous champion does not score in probation: {why}")
            continue
        previous = load_version(warehouse, version_row(registry, probation.previous))
        models: Models = {Cohort(probation.cohort): previous.scoring_pair}
        frames.append(score_window(warehouse, models, days[0], days[-1]))
    return pl.concat(frames, how="diagonal_relaxed").select(list(TRUST_SIGNAL_SCHEMA))


def compute_guard_metrics(warehouse: WarehouseResource, start: date, end: date) -> pl.DataFrame:
    """Guard metrics for the probation days of [start, end]: the published champion rows against the previous
    champion's rows of the same customers."""
    table = PROBATION.previous_champion_table
    running = [p for p in probations(warehouse) if any(p.covers(d) for d in _days(start, end))]
    if not running or not warehouse.table_exists(table):
        return pl.DataFrame(schema=GUARD_SCHEMA)
    columns = ", ".join(COMPARED_COLUMNS)
    window = {"start": start, "end": end}
    champion = signal_rows(warehouse, start, end, COMPARED_COLUMNS)
    previous = warehouse.read(
        f"select {columns} from {{analytics}}.{table} where snapshot_date between $start and $end", window
    )
    registry = read_registry(warehouse)
    keep = pl.any_horizontal(
        [
            (pl.col("cohort") == p.cohort) & (pl.col("model_version") == p.champion)
            & pl.col("snapshot_date").cast(pl.Date).is_between(p.effective_from, p.last_day)
            for p in running
        ]
    )
    champion = champion.with_columns(pl.col("snapshot_date").cast(pl.Date)).filter(keep)
    keep_previous = pl.any_horizontal(
        [(pl.col("cohort") == p.cohort) & (pl.col("model_version") == p.previous) for p in running]
    )
    previous = previous.with_columns(pl.col("snapshot_date").cast(pl.Date)).filter(keep_previous)
    ranges = {
        r["model_version"]: ReferenceRange(float(r["raw_ref_mean"]), float(r["raw_ref_stddev"]))
        for r in registry.iter_rows(named=True)
    }
    matured = None
    if warehouse.table_exists(MATURED_OUTCOME_PERFORMANCE):
        matured = warehouse.read(
            f"select scoring_date as snapshot_date, cohort, model_version, roc_auc, heldout_roc_auc "
            f"from {{analytics}}.{MATURED_OUTCOME_PERFORMANCE} "
            "where model = 'churn' and scoring_date between $start and $end",
            window,
        ).with_columns(pl.col("snapshot_date").cast(pl.Date))
    counts = {c.value: len(feature_names(c)) for c in Cohort}
    return guard_metrics(champion, previous, counts, ranges, PROBATION.reference_range_sd, matured)

"""Drift events: a cohort with the configured share of its features drifted, for K consecutive days.

A feature has drifted on a day when its PSI is in the significant band and it moved further from the
reference than any reference month-end did (``drifted`` in feature_drift).

A single bad day is noise (a late load, a one-day outage); K consecutive days is a change the models and the
ruler should be looked at for. An event is identified by its cohort and the first day of its run of
drifting days (``since``): it is raised once, however long the run lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

DRIFT_EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "cohort": pl.String(),
    "since_date": pl.Date(),
    "detected_on": pl.Date(),
    "consecutive_days": pl.Int64(),
    "drifted_share": pl.Float64(),
    "drifted_features": pl.String(),
    "max_psi": pl.Float64(),
    "retrain_job": pl.String(),
    "run_key": pl.String(),
    "raised_at": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class DriftEvent:
    cohort: str
    since: date
    detected_on: date
    consecutive_days: int
    drifted_share: float
    max_psi: float

    @property
    def event_id(self) -> str:
        return f"feature-drift-{self.cohort}-{self.since.isoformat()}"


def drifting_run(counts: pl.DataFrame, cohort: str, min_share: float) -> tuple[date, date, int] | None:
    """The run of consecutive drifting days that ends on the cohort's latest day, as (since, latest, days).

    ``counts``: :func:`trust_assets.monitoring.drift.band_counts` rows. A day drifts when its
    ``drifted_share`` reaches ``min_share``; a missing day breaks the run. None if the latest day is calm.
    """
    days = (
        counts.filter(pl.col("cohort") == cohort)
        .sort("snapshot_date", descending=True)
        .select("snapshot_date", "drifted_share")
        .rows()
    )
    if not days or days[0][1] < min_share:
        return None
    latest = days[0][0]
    run = 0
    for offset, (day, share) in enumerate(days):
        if day != latest - timedelta(days=offset) or share < min_share:
            break
        run += 1
    return latest - timedelta(days=run - 1), latest, run


def find_drift_events(counts: pl.DataFrame, min_share: float, consecutive_days: int) -> list[DriftEvent]:
    """Every cohort whose current run of drifting days is at least ``consecutive_days`` long."""
    events: list[DriftEvent] = []
    for cohort in sorted(set(counts["cohort"].to_list())):
        run = drifting_run(counts, cohort, min_share)
        if run is None or run[2] < consecutive_days:
            continue
        since, latest, days = run
        today = counts.filter((pl.col("cohort") == cohort) & (pl.col("snapshot_date") == latest)).row(0, named=True)
        events.append(
            DriftEvent(cohort, since, latest, days, float(today["drifted_share"]), float(today["max_psi"]))
        )
    return events


def event_row(event: DriftEvent, features: list[str], retrain_job: str, run_key: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "event_id": event.event_id,
                "cohort": event.cohort,
                "since_date": event.since,
                "detected_on": event.detected_on,
                "consecutive_days": event.consecutive_days,
                "drifted_share": event.drifted_share,
                "drifted_features": ",".join(features),
                "max_psi": event.max_psi,
                "retrain_job": retrain_job,
                "run_key": run_key,
                "raised_at": datetime.now(UTC),
            }
        ],
        schema=DRIFT_EVENTS_SCHEMA,
    )

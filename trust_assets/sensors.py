"""Sensors of the code location.

``feature_drift_sensor``: raises a drift event when a cohort has, for K consecutive days, at least the
configured share of its features drifted (significant PSI band and beyond the reference period's own
variation; MonitoringSettings). A drift event is an alert
(log, JSON-lines file, webhook if configured), a row in ``drift_events`` and a request to run
``retrain_models_job`` for the cohort. Each event is raised once: it is keyed by cohort and first drifting day.

``automatic_rollback_sensor``: during a promotion's probation, requests ``rollback_model_job`` for the cohort
when a guard of ``probation_guard_metrics`` breached its threshold on K consecutive days (ProbationSettings),
and alerts; when the previous champion cannot be restored it alerts instead. One decision per promotion.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
from datetime import timedelta

import dagster as dg
import polars as pl

from resources import Target, current_target
from resources.warehouse import WarehouseResource
from trust_assets.assets.monitoring_drift import REPORT_ASSET
from trust_assets.config import SETTINGS, feature_names
from trust_assets.monitoring.alerts import AlertSink, default_sink, drift_alert
from trust_assets.monitoring.drift import band_counts
from trust_assets.monitoring.drift_events import DriftEvent, event_row, find_drift_events
from trust_assets.operations.auto_rollback import ROLLBACK_JOB, evaluate_probation
from trust_assets.operations.jobs import RETRAIN_JOB
from trust_assets.tables import DRIFT_EVENTS, FEATURE_DRIFT

MONITORING = SETTINGS.monitoring


def retrain_request(event: DriftEvent) -> dg.RunRequest:
    """The retraining a drift event asks for: the one place that knows the shape of retrain_models_job's config.

    The models are retrained on the configured reference date (the latest with matured outcomes is the
    operating loop's decision); the challenger is registered as development and promoted only by approval.
    """
    return dg.RunRequest(
        run_key=event.event_id,
        job_name=RETRAIN_JOB,
        run_config={
            "ops": {
                "retrain_models": {
                    "config": {
                        "cohorts": [event.cohort],
                        "reference_date": SETTINGS.model.reference_date.isoformat(),
                        "reason": f"feature drift in {event.cohort} since {event.since.isoformat()} "
                        f"({event.consecutive_days} consecutive days)",
                        "requested_by": "feature_drift_sensor",
                    }
                }
            }
        },
        tags={"trust/drift_event": event.event_id, "trust/cohort": event.cohort},
    )


def _raised(warehouse: WarehouseResource, event_ids: list[str]) -> set[str]:
    if not event_ids or not warehouse.table_exists(DRIFT_EVENTS):
        return set()
    found = warehouse.read(f"select event_id from {{analytics}}.{DRIFT_EVENTS}")
    return set(found["event_id"].to_list()) & set(event_ids)


def evaluate_drift(warehouse: WarehouseResource, sink: AlertSink) -> list[dg.RunRequest]:
    """New drift events: alert each, record it in drift_events and return its retraining request."""
    if not warehouse.table_exists(FEATURE_DRIFT):
        return []
    latest = warehouse.read(f"select max(snapshot_date) as d from {{analytics}}.{FEATURE_DRIFT}")["d"][0]
    if latest is None:
        return []
    start = latest - timedelta(days=MONITORING.drift_event_lookback_days - 1)
    drift = warehouse.read(
        f"select snapshot_date, cohort, feature, psi, wasserstein_sd, band, drifted, current_mean, reference_mean "
        f"from {{analytics}}.{FEATURE_DRIFT} where snapshot_date between $start and $end",
        {"start": start, "end": latest},
    ).with_columns(pl.col("snapshot_date").cast(pl.Date))
    events = find_drift_events(
        band_counts(drift), MONITORING.drift_event_feature_share, MONITORING.drift_event_consecutive_days
    )
    raised = _raised(warehouse, [e.event_id for e in events])
    requests: list[dg.RunRequest] = []
    for event in events:
        if event.event_id in raised:
            continue
        drifted = drift.filter(
            (pl.col("cohort") == event.cohort)
            & (pl.col("snapshot_date") == event.detected_on)
            & pl.col("drifted")
        )
        alert = drift_alert(
            event.cohort, event.since, event.detected_on, event.consecutive_days, drifted,
            len(feature_names(event.cohort)),
        )
        request = retrain_request(event)
        # Record first: a failing webhook must not make the next tick raise the same event again.
        warehouse.append(
            DRIFT_EVENTS,
            event_row(event, drifted["feature"].to_list(), RETRAIN_JOB, request.run_key or event.event_id),
        )
        try:
            sink.send(alert)
        finally:
            requests.append(request)
    return requests


@dg.sensor(
    name="feature_drift_sensor",
    job_name=RETRAIN_JOB,
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Raises a drift event when, for "
        f"{MONITORING.drift_event_consecutive_days} consecutive days, at least "
        f"{MONITORING.drift_event_feature_share:.0%} of a product's features have drifted (PSI >= "
        f"{MONITORING.psi_significant} and moved further than the reference period's own months did) against "
        "the reference period: an alert saying what drifted, since when "
        f"and what to look at ({REPORT_ASSET}), a row in {DRIFT_EVENTS}, and a run request of "
        f"{RETRAIN_JOB} for that product. Each event is raised once."
    ),
)
def feature_drift_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    requests = evaluate_drift(warehouse, default_sink(context.log))
    if not requests:
        return dg.SkipReason("no new drift event")
    return dg.SensorResult(run_requests=requests)


PROBATION = SETTINGS.probation


@dg.sensor(
    name="automatic_rollback_sensor",
    job_name=ROLLBACK_JOB,
    minimum_interval_seconds=600,
    # Production acts by itself; on the local demo file it is started by hand, like the daily schedule.
    default_status=dg.DefaultSensorStatus.RUNNING
    if current_target() is Target.BIGQUERY
    else dg.DefaultSensorStatus.STOPPED,
    description=(
        f"Rolls a product back to its previous model when, within the {PROBATION.days} days of probation after a "
        f"promotion, a guard of {PROBATION.guard_table} breached its threshold on {PROBATION.consecutive_days} "
        f"consecutive days: requests {ROLLBACK_JOB} as '{PROBATION.actor}' with the metric, values and days, "
        "and alerts. When the previous model cannot be restored it only alerts. One decision per promotion, "
        f"recorded in {PROBATION.events_table}; never outside probation."
    ),
)
def automatic_rollback_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    requests = evaluate_probation(warehouse, default_sink(context.log))
    if not requests:
        return dg.SkipReason("no promotion in probation needs a rollback")
    return dg.SensorResult(run_requests=requests)


SENSORS: list[dg.SensorDefinition] = [feature_drift_sensor, automatic_rollback_sensor]

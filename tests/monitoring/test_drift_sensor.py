"""feature_drift_sensor with the real definitions and a real instance: it fires after K drifting days, not before."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import duckdb
import pytest

from resources.warehouse import DuckDBWarehouse
from tests.support import query
from trust_assets.config import SETTINGS

K = SETTINGS.monitoring.drift_event_consecutive_days


def test_sensor_fires_after_k_consecutive_drifting_days(
    outage_warehouse, materialize_on, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trust_assets.definitions import defs

    outage_days = outage_warehouse.outage_days
    assert len(outage_days) > K, "the scenario must drift for more than K days"
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(outage_warehouse.path, path)
    # The state before the outage: the drift monitor has run up to the last quiet day.
    con = duckdb.connect(str(path))
    con.execute("delete from analytics.feature_drift where snapshot_date >= $d", {"d": outage_days[0]})
    con.execute("drop table if exists analytics.drift_events")
    con.close()
    alerts = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("TRUST_ALERTS_FILE", str(alerts))
    monkeypatch.delenv("TRUST_ALERT_WEBHOOK_URL", raising=False)

    # What the sensor targets is wiring (tests/test_definitions.py); here, when it fires and what it asks for.
    sensor = defs.resolve_sensor_def("feature_drift_sensor")

    def evaluate() -> list[dg.RunRequest]:
        # The warehouse resource has set-up and tear-down, so the context is opened as a context manager.
        with dg.DagsterInstance.get() as instance, dg.build_sensor_context(
            instance=instance, definitions=defs, resources={"warehouse": DuckDBWarehouse(path=str(path))}
        ) as context:
            result = sensor(context)
        if isinstance(result, dg.SkipReason):
            return []
        return list(result.run_requests or [])

    assert evaluate() == []
    fired_on: list = []
    for i, day in enumerate(outage_days):
        assert materialize_on(path, "feature_drift", day).success
        requests = evaluate()
        if i + 1 < K:
            assert requests == [], f"fired after {i + 1} day(s), before K={K}"
        elif i + 1 == K:
            assert len(requests) == 1, f"did not fire after K={K} days"
            fired_on.append(day)
            request = requests[0]
            config = request.run_config["ops"]["retrain_models"]["config"]
            assert config["cohorts"] == ["broadband"]
            assert config["requested_by"] == "feature_drift_sensor"
            assert outage_days[0].isoformat() in config["reason"]
            assert request.run_key == f"feature-drift-broadband-{outage_days[0].isoformat()}"
        else:
            assert requests == [], "the same drift event was raised twice"

    events = query(path, "select * from analytics.drift_events")
    assert events.height == 1
    event = events.row(0, named=True)
    assert event["cohort"] == "broadband" and event["since_date"] == outage_days[0]
    assert event["detected_on"] == fired_on[0] and event["consecutive_days"] == K
    assert "outage_minutes_28d" in event["drifted_features"].split(",")
    logged = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert len(logged) == 1 and logged[0]["since"] == outage_days[0].isoformat()
    assert "outage_minutes_28d" in logged[0]["message"] and "What to look at" in logged[0]["message"]

"""With TRUST_TARGET=bigquery the same code location loads on dagster-gcp's BigQuery resource and the dbt
BigQuery target, from environment values alone, without a network call and without exposing a credential."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FAKE_KEY = "FAKE-PRIVATE-KEY-3f9c2e71"
FAKE_KEY_FILE = "/run/secrets/fake-sa-key-8d41.json"
FAKE_CREDENTIALS_B64 = base64.b64encode(
    json.dumps({"type": "service_account", "private_key": FAKE_KEY, "client_email": "x@example.iam"}).encode()
).decode()
ENV = {
    "TRUST_TARGET": "bigquery",
    "TRUST_BQ_PROJECT": "fake-project-5521",
    "TRUST_BQ_DATASET": "trust_fake",
    "TRUST_RAW_SCHEMA": "landing_fake",
    "TRUST_BQ_LOCATION": "europe-west2",
    "TRUST_BQ_MAX_BYTES_BILLED": "123456789",
    "TRUST_BQ_GCP_CREDENTIALS": FAKE_CREDENTIALS_B64,
    "GOOGLE_APPLICATION_CREDENTIALS": FAKE_KEY_FILE,
    # Should anything bypass the socket guard, these send it nowhere.
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}
SECRETS = (FAKE_KEY, FAKE_CREDENTIALS_B64, FAKE_KEY_FILE)


@pytest.fixture(scope="module")
def bigquery_location(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("bigquery_location")
    out, snapshot = tmp / "location.json", tmp / "snapshot.txt"
    env = {**os.environ, **ENV, "DAGSTER_HOME": str(tmp), "TRUST_DUCKDB_PATH": str(tmp / "unused.duckdb")}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bigquery.load_bigquery_location", str(out), str(snapshot)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(out.read_text())
    result["_snapshot"] = snapshot.read_text()
    result["_logs"] = proc.stdout + proc.stderr
    result["_seconds"] = time.monotonic() - started
    return result


def test_loads_without_a_network_call(bigquery_location: dict[str, Any]) -> None:
    # The guard was live in that process (a connection attempt after the load was refused).
    assert bigquery_location["guard_active"] is True
    assert "NetworkCallAtLoad" not in bigquery_location["_logs"]
    assert bigquery_location["storage_client_imported"] is False


def test_the_storage_read_client_is_installed_for_large_reads() -> None:
    """The bigquery extra (requirements-bigquery.lock) carries google-cloud-bigquery-storage: BigQueryWarehouse.read
    streams through it."""
    from google.cloud import bigquery_storage

    assert bigquery_storage.BigQueryReadClient is not None


def test_wires_the_dagster_gcp_bigquery_resource_from_the_environment(bigquery_location: dict[str, Any]) -> None:
    loc = bigquery_location
    assert loc["warehouse_class"] == "resources.bigquery_warehouse.BigQueryWarehouse"
    assert loc["bigquery_class"] == "dagster_gcp.bigquery.resources.BigQueryResource"
    # Project and key are EnvVars (shown by name); the rest is plain configuration from the environment.
    assert loc["project_config"] == "EnvVar(TRUST_BQ_PROJECT)"
    assert loc["credentials_config"] == "EnvVar(TRUST_BQ_GCP_CREDENTIALS)"
    datasets = (loc["location"], loc["analytics_schema"], loc["raw_schema"])
    assert datasets == ("europe-west2", "trust_fake", "landing_fake")
    assert loc["maximum_bytes_billed"] == 123456789
    # Resolved as a run resolves them: queries go to the configured project and dataset, under the cost guard.
    assert loc["resolved_project"] == "fake-project-5521"
    assert loc["rendered"] == "SELECT COUNT(*) AS n FROM `fake-project-5521`.trust_fake.customer_trust_signal"
    assert loc["job_config"]["query"]["maximumBytesBilled"] == "123456789"
    assert loc["dbt_target"] == "bigquery"
    assert loc["executor"] == "multiprocess"
    assert loc["schedule_status"] == "RUNNING"


def test_the_asset_graph_is_the_same_as_on_duckdb(bigquery_location: dict[str, Any]) -> None:
    from trust_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    assert bigquery_location["asset_keys"] == sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    assert bigquery_location["check_keys"] == sorted(k.to_user_string() for k in graph.asset_check_keys)
    edges = sorted(f"{p.to_user_string()}->{k.to_user_string()}" for k in graph.get_all_asset_keys()
                   for p in graph.get(k).parent_keys)
    assert bigquery_location["edges"] == edges


@pytest.mark.parametrize("where", ["_snapshot", "resources_repr", "_logs"])
def test_credentials_are_not_in_config_metadata_or_logs(bigquery_location: dict[str, Any], where: str) -> None:
    text = bigquery_location[where]
    assert text, where
    for secret in SECRETS:
        assert secret not in text, f"{where} contains a credential"
    # The project id is read through an EnvVar too: the UI shows the variable's name.
    assert "fake-project-5521" not in text


def test_the_location_snapshot_carries_the_resource_and_asset_metadata(bigquery_location: dict[str, Any]) -> None:
    # What the webserver receives: the secret checks above are only meaningful if config and metadata are in it.
    snapshot = json.loads(bigquery_location["_snapshot"])
    resources = {r["name"]: r for r in snapshot["external_resource_data"]}
    warehouse = resources["warehouse"]
    assert warehouse["resource_type"] == "resources.bigquery_warehouse.BigQueryWarehouse"
    assert warehouse["configured_values"]["maximum_bytes_billed"] == "123456789"
    assert warehouse["nested_resources"]["bigquery"]["name"] == "BigQueryResource"
    assert resources["dbt"]["configured_values"]["target"] == '"bigquery"'
    # The UI lists the environment variables the resources read, by name.
    assert {"TRUST_BQ_PROJECT", "TRUST_BQ_GCP_CREDENTIALS"} <= set(snapshot["utilized_env_vars"])
    assert "dagster/column_schema" in bigquery_location["_snapshot"]

"""Load the code location with ``TRUST_TARGET=bigquery`` while every network connection raises.

Run as a script in a fresh interpreter by test_code_location.py: ``python -m tests.bigquery.load_bigquery_location
<out.json> <snapshot.txt>``. The guard is installed before anything else is imported, so any connection or DNS
lookup made while the definitions load (or while the resources are built) fails the load.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
from pathlib import Path
from typing import Any


class NetworkCallAtLoad(RuntimeError):
    pass


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise NetworkCallAtLoad(f"network call while loading the code location: {args[:2]!r}")


_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(address)
    return _connect(self, address)


def install_guard() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.create_connection = _refuse  # type: ignore[assignment]
    socket.getaddrinfo = _refuse  # type: ignore[assignment]


def _config_value(value: Any) -> Any:
    import dagster as dg

    return f"EnvVar({value.env_var_name})" if isinstance(value, dg.EnvVar) else value


def main(out: Path, snapshot: Path) -> None:
    install_guard()
    # Everything the libraries log while loading and building the resources, at their most talkative, goes to
    # stderr: the test searches it for credentials.
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    log = logging.getLogger("load_bigquery_location")
    import dagster as dg
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster._serdes import serialize_value

    from trust_assets.definitions import defs

    repository = defs.get_repository_def()
    snapshot.write_text(serialize_value(RepositorySnap.from_def(repository)))
    warehouse = defs.resources["warehouse"]
    dbt = defs.resources["dbt"]
    graph = defs.resolve_asset_graph()
    # Build the resources as a run would: EnvVar values resolved, still no connection.
    with dg.build_resources({"warehouse": warehouse}) as built:
        resolved = built.warehouse
        rendered = resolved.render("select count(*) as n from {analytics}.customer_trust_signal")
        job_config = resolved.query_job_config({"day": "2026-02-28"}).to_api_repr()
    try:
        socket.create_connection(("bigquery.googleapis.com", 443), timeout=1)
        guard_active = False
    except NetworkCallAtLoad:
        guard_active = True
    log.info("built the warehouse resource %s", type(resolved).__name__)
    schedule = defs.resolve_schedule_def("daily_trust_job_schedule")
    result = {
        "guard_active": guard_active,
        "warehouse_class": f"{type(warehouse).__module__}.{type(warehouse).__name__}",
        "bigquery_class": f"{type(warehouse.bigquery).__module__}.{type(warehouse.bigquery).__name__}",
        "project_config": _config_value(warehouse.bigquery.project),
        "credentials_config": _config_value(warehouse.bigquery.gcp_credentials),
        "location": warehouse.bigquery.location,
        "analytics_schema": warehouse.analytics_schema,
        "raw_schema": warehouse.raw_schema,
        "maximum_bytes_billed": warehouse.maximum_bytes_billed,
        "resolved_project": resolved.bigquery.project,
        "rendered": rendered,
        "job_config": job_config,
        "dbt_target": dbt.target,
        "executor": repository.get_all_jobs()[0].executor_def.name,
        "schedule_status": schedule.default_status.value,
        "asset_keys": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "check_keys": sorted(k.to_user_string() for k in graph.asset_check_keys),
        "edges": sorted(
            f"{p.to_user_string()}->{k.to_user_string()}" for k in graph.get_all_asset_keys()
            for p in graph.get(k).parent_keys
        ),
        "resources_repr": repr(dict(defs.resources or {})),
        # The Storage Read API client is imported by the first read, not by loading the location.
        "storage_client_imported": "google.cloud.bigquery_storage" in sys.modules,
    }
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

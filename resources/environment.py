"""The one place that decides which warehouse the code location talks to.

``TRUST_TARGET`` selects it: ``duckdb`` (default; the embedded file at ``$TRUST_DUCKDB_PATH``) or
``bigquery`` (production; project, dataset and location from ``TRUST_BQ_*`` environment variables). The dbt
target is named after the same environment, so Python assets and dbt models always see the same warehouse.
"""

from __future__ import annotations

import os
from enum import StrEnum

import dagster as dg

from resources.warehouse import BigQueryWarehouse, DuckDBWarehouse, WarehouseResource
from trust_assets.config import SETTINGS, duckdb_path


class Target(StrEnum):
    DUCKDB = "duckdb"
    BIGQUERY = "bigquery"


def current_target() -> Target:
    raw = os.environ.get("TRUST_TARGET", Target.DUCKDB.value).strip().lower()
    try:
        return Target(raw)
    except ValueError as exc:
        raise ValueError(f"TRUST_TARGET must be one of {[t.value for t in Target]}, got {raw!r}") from exc


def warehouse_resource(target: Target | None = None) -> WarehouseResource:
    target = target or current_target()
    if target is Target.BIGQUERY:
        return BigQueryWarehouse(
            project=dg.EnvVar("TRUST_BQ_PROJECT"),
            analytics_schema=os.environ.get("TRUST_BQ_DATASET", SETTINGS.analytics_schema),
            location=os.environ.get("TRUST_BQ_LOCATION", "EU"),
            maximum_bytes_billed=int(os.environ["TRUST_BQ_MAX_BYTES_BILLED"])
            if os.environ.get("TRUST_BQ_MAX_BYTES_BILLED")
            else None,
        )
    path = duckdb_path()
    # dbt runs as a child process with cwd dbt_project/: hand it the same absolute file.
    os.environ["TRUST_DUCKDB_PATH"] = str(path)
    return DuckDBWarehouse(path=str(path), analytics_schema=SETTINGS.analytics_schema)

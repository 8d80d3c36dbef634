"""The one place that decides which warehouse the code location talks to.

``TRUST_TARGET`` selects it: ``duckdb`` (default; the embedded file at ``$TRUST_DUCKDB_PATH``) or
``bigquery`` (production; project, datasets, location and credentials from the environment variables named in
``SETTINGS.bigquery``). The dbt target is named after the same environment, so Python assets and dbt models
always see the same warehouse.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING

from trust_assets.config import SETTINGS, duckdb_path

if TYPE_CHECKING:  # resources.warehouse pulls in Dagster: imported where used, so choosing a target stays cheap
    from resources.read_only import WarehouseReader
    from resources.warehouse import WarehouseResource


class Target(StrEnum):
    DUCKDB = "duckdb"
    BIGQUERY = "bigquery"


def current_target() -> Target:
    raw = os.environ.get("TRUST_TARGET", Target.DUCKDB.value).strip().lower()
    try:
        return Target(raw)
    except ValueError as exc:
        raise ValueError(f"TRUST_TARGET must be one of {[t.value for t in Target]}, got {raw!r}") from exc


def bigquery_warehouse() -> WarehouseResource:
    """The BigQuery warehouse on dagster-gcp's BigQueryResource, configured from the environment only.

    The project and the optional base64 service-account key are Dagster ``EnvVar`` values: resolved when a run
    starts, shown in the UI by variable name, never by value. Nothing here opens a connection.
    """
    import dagster as dg

    try:
        from dagster_gcp import BigQueryResource

        from resources.bigquery_warehouse import BigQueryWarehouse
    except ModuleNotFoundError as exc:
        # The Google stack is the `bigquery` extra, installed only where the BigQuery target runs.
        raise ModuleNotFoundError(
            f"TRUST_TARGET=bigquery needs the bigquery extra ({exc.name} is not installed): pip install -c "
            "requirements-bigquery.lock '.[bigquery]', or TRUST_TARGET=bigquery bash scripts/dev.sh setup",
            name=exc.name,
        ) from exc

    bq = SETTINGS.bigquery
    credentials = dg.EnvVar(bq.credentials_env) if os.environ.get(bq.credentials_env) else None
    return BigQueryWarehouse(
        bigquery=BigQueryResource(
            project=dg.EnvVar(bq.project_env),
            location=os.environ.get(bq.location_env, bq.default_location),
            gcp_credentials=credentials,
        ),
        analytics_schema=os.environ.get(bq.dataset_env, SETTINGS.analytics_schema),
        raw_schema=os.environ.get(bq.raw_dataset_env, SETTINGS.raw_schema),
        maximum_bytes_billed=int(os.environ.get(bq.maximum_bytes_billed_env) or bq.default_maximum_bytes_billed),
    )


def warehouse_resource(target: Target | None = None) -> WarehouseResource:
    from resources.warehouse import DuckDBWarehouse

    target = target or current_target()
    if target is Target.BIGQUERY:
        return bigquery_warehouse()
    # dbt is handed the same file by its own resource (trust_assets.dbt_project.TrustDbtCliResource).
    return DuckDBWarehouse(path=str(duckdb_path()), analytics_schema=SETTINGS.analytics_schema)


@contextmanager
def read_only_warehouse(target: Target | None = None) -> Iterator[WarehouseReader]:
    """The warehouse for commands that only read (``trust summary``, ``explain``, ``attribute``, ``models list``,
    ``models audit``), for the duration of the block. DuckDB: the file opened read-only, once, by a plain reader,
    without the Dagster resource whose import alone takes several seconds. BigQuery: its resource (it only reads
    here; the client's own start-up dominates anyway).
    """
    target = target or current_target()
    if target is Target.BIGQUERY:
        yield bigquery_warehouse()
        return
    from resources.read_only import ReadOnlyDuckDB

    reader = ReadOnlyDuckDB(
        path=str(duckdb_path()), analytics_schema=SETTINGS.analytics_schema, raw_schema=SETTINGS.raw_schema
    )
    with reader.held_open():
        yield reader

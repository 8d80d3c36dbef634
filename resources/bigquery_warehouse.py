"""The production warehouse: BigQuery through dagster-gcp, selected by ``TRUST_TARGET=bigquery``.

Imported only when that target is chosen (resources/environment.py), so the local code location does not load
the Google client libraries. Everything sent to BigQuery is built by pure methods (:meth:`query_job_config`,
:meth:`load_job_config`, :meth:`replace_partitions_script`, :meth:`render`) that tests check without credentials.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import polars as pl
from dagster_gcp import BigQueryResource
from pydantic import Field

from resources.sql_dialect import bigquery_sql
from resources.warehouse import WarehouseResource, check_frame_in_window
from trust_assets.config import SETTINGS


class BigQueryWarehouse(WarehouseResource):
    """Production: BigQuery through dagster-gcp's :class:`~dagster_gcp.BigQueryResource` (project, location and
    optional credentials, all from the environment). Frames travel as Arrow: query results are read with
    ``to_arrow()``, writes are loaded as Parquet written by Polars. Credentials are never logged.

    Tables written by the Python assets are partitioned by day on ``snapshot_date`` and clustered by cohort and
    customer_id (whichever of them they have); replacing partitions is one multi-statement transaction.
    """

    bigquery: BigQueryResource = Field(description="dagster-gcp BigQuery resource (project, location, credentials).")
    maximum_bytes_billed: int | None = Field(
        default=None, description="Cost guard: a query that would bill more bytes fails instead of running."
    )

    @property
    def engine(self) -> str:
        return "bigquery"

    @property
    def project(self) -> str:
        if not self.bigquery.project:
            raise ValueError("the BigQuery project is not set (TRUST_BQ_PROJECT)")
        return self.bigquery.project

    def qualified(self, table: str, schema: str | None = None) -> str:
        return f"`{self._table_id(table, schema)}`"

    def render(self, sql: str) -> str:
        return bigquery_sql(sql, self.project, self.analytics_schema, self.raw_schema)

    def _table_id(self, table: str, schema: str | None = None) -> str:
        return f"{self.project}.{schema or self.analytics_schema}.{table}"

    # --- what is sent (pure: built and tested without credentials) -------------------------------------------
    def query_job_config(self, params: Mapping[str, Any] | None = None) -> Any:
        """Named, typed query parameters, the bytes-billed guard and the job labels."""
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(
            query_parameters=[_query_parameter(k, v) for k, v in (params or {}).items()],
            maximum_bytes_billed=self.maximum_bytes_billed,
            labels=dict(SETTINGS.bigquery.job_labels),
        )

    def load_job_config(self, columns: Sequence[str], disposition: str, layout: bool = True) -> Any:
        """A Parquet load; with ``layout`` (a table the load creates) partitioned and clustered like every product
        table. An existing table keeps its own layout: BigQuery refuses a load that states a different one."""
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=disposition,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            labels=dict(SETTINGS.bigquery.job_labels),
        )
        parquet = bigquery.ParquetOptions()
        parquet.enable_list_inference = True  # list columns load as ARRAY, not as a nested record
        config.parquet_options = parquet
        partition_column, clustering = table_layout(columns) if layout else (None, [])
        if partition_column:
            config.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=partition_column
            )
        if clustering:
            config.clustering_fields = clustering
        return config

    def staging_table_id(self, table: str) -> str:
        # Unique per write, so two runs never share a staging table; dropped after the write.
        return self._table_id(f"{SETTINGS.bigquery.staging_prefix}{table}_{uuid.uuid4().hex[:12]}")

    def replace_partitions_script(
        self, table: str, staging_id: str, columns: Sequence[str], partition_column: str = "snapshot_date"
    ) -> str:
        """Create the table if needed (partitioned, clustered), then swap the window's rows in one transaction.

        A failing statement inside the transaction makes BigQuery roll it back when the script ends, so a reader
        sees the old rows of the window or the new ones, never a mix and never none.
        """
        target = self.qualified(table)
        partition, clustering = table_layout(columns, partition_column)
        names = ", ".join(f"`{c}`" for c in columns)
        layout = f"PARTITION BY {partition}\n" if partition else ""
        layout += f"CLUSTER BY {', '.join(clustering)}\n" if clustering else ""
        return (
            f"CREATE TABLE IF NOT EXISTS {target}\n{layout}AS SELECT {names} FROM `{staging_id}` WHERE FALSE;\n"
            "BEGIN TRANSACTION;\n"
            f"DELETE FROM {target} WHERE {partition_column} BETWEEN @start AND @end;\n"
            f"INSERT INTO {target} ({names}) SELECT {names} FROM `{staging_id}`;\n"
            "COMMIT TRANSACTION;"
        )

    def partition_metadata_sql(self, schema: str | None = None) -> str:
        """BigQuery SQL of a table's partitions (``@table_name``): their ids, row counts and last writes, from the
        dataset's INFORMATION_SCHEMA.PARTITIONS view, which reads metadata, not the table (billed at the 10 MB
        minimum of a query)."""
        return (
            "SELECT partition_id, total_rows, last_modified_time AS last_modified "
            f"FROM `{self.project}.{schema or self.raw_schema}.INFORMATION_SCHEMA.PARTITIONS` "
            "WHERE table_name = @table_name"
        )

    # --- client calls ----------------------------------------------------------------------------------------
    def partition_metadata(self, table: str, schema: str | None = None) -> pl.DataFrame:
        # BigQuery SQL as written (the DuckDB-to-BigQuery rendering of read() is for the engine-neutral queries).
        with self.bigquery.get_client() as client:
            job = client.query(self.partition_metadata_sql(schema),
                               job_config=self.query_job_config({"table_name": table}))
            arrow = job.to_arrow()
        return pl.from_arrow(arrow)  # type: ignore[return-value]

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        # The Storage Read API streams a large result (the day's 45 M feature rows) as Arrow in parallel; without
        # the package google-cloud-bigquery would fall back to paging through REST with only a warning, so a
        # missing install fails here instead. Imported on this path only: the DuckDB target never needs it.
        from google.cloud import bigquery_storage  # noqa: F401

        with self.bigquery.get_client() as client:
            job = client.query(self.render(sql), job_config=self.query_job_config(params))
            arrow = job.to_arrow(create_bqstorage_client=True)
        return pl.from_arrow(arrow)  # type: ignore[return-value]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self.bigquery.get_client() as client:
            client.query(self.render(sql), job_config=self.query_job_config(params)).result()

    def table_exists(self, table: str, schema: str | None = None) -> bool:
        from google.api_core.exceptions import NotFound

        with self.bigquery.get_client() as client:
            try:
                client.get_table(self._table_id(table, schema))
            except NotFound:
                return False
        return True

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        with self.bigquery.get_client() as client:
            return [f.name for f in client.get_table(self._table_id(table, schema)).schema]

    def column_types(self, table: str, schema: str | None = None) -> dict[str, str]:
        from google.api_core.exceptions import NotFound

        with self.bigquery.get_client() as client:
            try:
                fields = client.get_table(self._table_id(table, schema)).schema
            except NotFound:
                return {}
        # A REPEATED field is an array: not the scalar type the contract names.
        return {f.name: f.field_type if f.mode != "REPEATED" else f"ARRAY<{f.field_type}>" for f in fields}

    def _load(self, client: Any, table_id: str, frame: pl.DataFrame, disposition: str, layout: bool) -> None:
        # Polars writes the Parquet straight from its Arrow buffers: no pandas round trip, types kept
        # (Date -> DATE, Datetime UTC -> TIMESTAMP, Float64 -> FLOAT64).
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        buffer.seek(0)
        job_config = self.load_job_config(frame.columns, disposition, layout=layout)
        client.load_table_from_file(buffer, table_id, job_config=job_config).result()

    def replace_table(self, table: str, frame: pl.DataFrame) -> None:
        layout = not self.table_exists(table)
        with self.bigquery.get_client() as client:
            self._load(client, self._table_id(table), frame, "WRITE_TRUNCATE", layout)

    def append(self, table: str, frame: pl.DataFrame) -> None:
        layout = not self.table_exists(table)
        with self.bigquery.get_client() as client:
            self._load(client, self._table_id(table), frame, "WRITE_APPEND", layout)

    def replace_partitions(
        self,
        table: str,
        frame: pl.DataFrame,
        start: date,
        end: date,
        partition_column: str = "snapshot_date",
    ) -> None:
        check_frame_in_window(frame, start, end, partition_column)
        staging = self.staging_table_id(table)
        script = self.replace_partitions_script(table, staging, frame.columns, partition_column)
        with self.bigquery.get_client() as client:
            try:
                self._load(client, staging, frame, "WRITE_TRUNCATE", layout=False)
                client.query(script, job_config=self.query_job_config({"start": start, "end": end})).result()
            finally:
                client.delete_table(staging, not_found_ok=True)


def table_layout(columns: Sequence[str], partition_column: str = "snapshot_date") -> tuple[str | None, list[str]]:
    """BigQuery partitioning column and clustering columns of a product table with these columns."""
    partition = partition_column if partition_column in columns else None
    return partition, [c for c in SETTINGS.bigquery.cluster_columns if c in columns]


def _query_parameter(name: str, value: Any) -> Any:
    from google.cloud import bigquery

    # datetime before date: a datetime is a date too.
    if isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    elif isinstance(value, datetime):
        kind = "TIMESTAMP" if value.tzinfo else "DATETIME"
    elif isinstance(value, date):
        kind = "DATE"
    else:
        kind = "STRING"
    return bigquery.ScalarQueryParameter(name, kind, value)



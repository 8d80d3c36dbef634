"""The production warehouse: BigQuery through dagster-gcp, selected by ``TRUST_TARGET=bigquery``.

Imported only when that target is chosen (resources/environment.py), so the local code location does not load
the Google client libraries. Everything sent to BigQuery is built by pure methods (:meth:`query_job_config`,
:meth:`load_job_config`, :meth:`day_load`, :meth:`create_table_ddl`, :meth:`replace_partitions_script`,
:meth:`render`) that tests check without credentials.
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
    customer_id (whichever of them they have). Replacing one day is one load job into that day's partition;
    replacing a longer window is one multi-statement transaction (:meth:`replace_partitions`).
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

    def load_job_config(
        self, columns: Sequence[str], disposition: str, layout: bool = True, partition_column: str = "snapshot_date"
    ) -> Any:
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
        partition, clustering = table_layout(columns, partition_column) if layout else (None, [])
        if partition:
            config.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=partition
            )
        if clustering:
            config.clustering_fields = clustering
        return config

    def day_load(
        self, table: str, columns: Sequence[str], day: date, partition_column: str = "snapshot_date"
    ) -> tuple[str, Any]:
        """Destination and configuration of the one-day write: a Parquet load into the partition decorator
        ``table$YYYYMMDD`` with WRITE_TRUNCATE. BigQuery replaces exactly that partition, atomically, and bills
        nothing. The load states the product layout, which :meth:`replace_partitions` has made sure is the
        table's own (BigQuery refuses a load that states another)."""
        config = self.load_job_config(columns, "WRITE_TRUNCATE", layout=True, partition_column=partition_column)
        return f"{self._table_id(table)}${day:%Y%m%d}", config

    def create_table_ddl(
        self, table: str, schema: Mapping[str, pl.DataType], partition_column: str = "snapshot_date"
    ) -> str | None:
        """``CREATE TABLE IF NOT EXISTS`` with the frame's columns and the product layout: a DDL statement that
        reads no table, so it bills nothing. None when a column has no BigQuery type that a Parquet load of it is
        sure to match (the staging path then creates the table from what the load made of it)."""
        types = {name: _bigquery_type(dtype) for name, dtype in schema.items()}
        if any(t is None for t in types.values()):
            return None
        partition, clustering = table_layout(list(schema), partition_column)
        columns = ",\n  ".join(f"`{name}` {kind}" for name, kind in types.items())
        layout = f"\nPARTITION BY {partition}" if partition else ""
        layout += f"\nCLUSTER BY {', '.join(clustering)}" if clustering else ""
        return f"CREATE TABLE IF NOT EXISTS {self.qualified(table)} (\n  {columns}\n){layout}"

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

    def table_layout_of(self, table: str) -> tuple[str | None, list[str]] | None:
        """The existing table's day-partitioning column and clustering columns (table metadata, nothing billed);
        None when the table does not exist."""
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        with self.bigquery.get_client() as client:
            try:
                found = client.get_table(self._table_id(table))
            except NotFound:
                return None
        by_day = found.time_partitioning
        day = by_day.field if by_day is not None and by_day.type_ == bigquery.TimePartitioningType.DAY else None
        return day, list(found.clustering_fields or [])

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
        self._load_with(client, table_id, frame, self.load_job_config(frame.columns, disposition, layout=layout))

    @staticmethod
    def _load_with(client: Any, table_id: str, frame: pl.DataFrame, job_config: Any) -> None:
        # Polars writes the Parquet straight from its Arrow buffers: no pandas round trip, types kept
        # (Date -> DATE, Datetime UTC -> TIMESTAMP, Float64 -> FLOAT64).
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        buffer.seek(0)
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
        """Replace the window's rows by ``frame``: readers see the old rows of the window or the new ones, never
        a mix and never none; a failed write leaves the old rows; a re-run replaces, never duplicates.

        - One day (the scheduled daily run): one Parquet load job into ``table$YYYYMMDD`` with WRITE_TRUNCATE
          (:meth:`day_load`). BigQuery swaps that partition atomically; load jobs are not billed, so the write
          bills **nothing**. A missing table is first created by :meth:`create_table_ddl` (bills nothing).
        - A longer window (a backfill), and the cases a partition load cannot take (an empty frame, a frame
          without the partition column, an existing table laid out otherwise, a first write whose column types
          have no sure DDL): a load into a staging table (free), then one script that deletes the window's
          whole partitions (free: a metadata operation) and inserts from staging in one transaction
          (:meth:`replace_partitions_script`). The INSERT bills every column of the staging table, i.e. the
          window's rows as written; the window stays atomic as a whole.
        """
        check_frame_in_window(frame, start, end, partition_column)
        wanted = table_layout(frame.columns, partition_column)
        # An empty frame goes through the DELETE below: it must empty the day, which a load of no rows may not.
        if start == end and frame.height and wanted[0] is not None:
            existing = self.table_layout_of(table)
            ddl = self.create_table_ddl(table, frame.schema, partition_column) if existing is None else None
            if existing == wanted or ddl is not None:
                destination, job_config = self.day_load(table, frame.columns, start, partition_column)
                with self.bigquery.get_client() as client:
                    if ddl is not None:
                        client.query(ddl, job_config=self.query_job_config()).result()
                    self._load_with(client, destination, frame, job_config)
                return
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


def _bigquery_type(dtype: pl.DataType) -> str | None:
    """The BigQuery type a Parquet load makes of a Polars column, for the types where that is certain."""
    if dtype == pl.String:
        return "STRING"
    if dtype == pl.Date:
        return "DATE"
    if dtype == pl.Boolean:
        return "BOOL"
    if dtype in (pl.Float32, pl.Float64):
        return "FLOAT64"
    if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32):
        return "INT64"
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return "TIMESTAMP"
    return None  # naive datetimes, decimals, lists, structs, UInt64, NULL-typed columns: left to the load


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



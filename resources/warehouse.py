"""The warehouse the Python assets read from and write to.

Assets talk to a :class:`WarehouseResource` and never to an engine: DuckDB (an embedded file) locally and in
tests, BigQuery in production. Which one is decided in :mod:`resources.environment` and nowhere else.

Every write of a partition is one transaction (delete the partition's rows, insert the new ones), so a crash
half-way leaves the previous contents in place and a re-run replaces rather than duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
from pydantic import Field


class WarehouseResource(dg.ConfigurableResource):
    """Engine-neutral access to the analytics warehouse, as Polars frames."""

    analytics_schema: str = Field(default="analytics", description="Schema (dataset) of the published tables.")

    # --- reads -----------------------------------------------------------------------------------------
    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """Run a query written with ``$name`` parameters and ``{analytics}`` / ``{raw}`` schema placeholders."""
        raise NotImplementedError

    def table_exists(self, table: str) -> bool:
        raise NotImplementedError

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        raise NotImplementedError

    # --- writes (each one atomic) ----------------------------------------------------------------------
    def replace_table(self, table: str, frame: pl.DataFrame) -> None:
        raise NotImplementedError

    def append(self, table: str, frame: pl.DataFrame) -> None:
        raise NotImplementedError

    def replace_partitions(
        self,
        table: str,
        frame: pl.DataFrame,
        start: date,
        end: date,
        partition_column: str = "snapshot_date",
    ) -> None:
        """Replace the rows of ``table`` whose ``partition_column`` lies in [start, end] by ``frame``."""
        raise NotImplementedError

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        raise NotImplementedError

    # --- shared helpers --------------------------------------------------------------------------------
    def qualified(self, table: str, schema: str | None = None) -> str:
        return f"{schema or self.analytics_schema}.{table}"

    def render(self, sql: str) -> str:
        return sql.replace("{analytics}", self.analytics_schema).replace("{raw}", "raw")

    @property
    def engine(self) -> str:
        raise NotImplementedError


def _check_frame_in_window(frame: pl.DataFrame, start: date, end: date, column: str) -> None:
    # A frame carrying rows outside the window would leave them behind on the next replace: refuse it.
    if frame.height and column in frame.columns:
        lo, hi = frame[column].min(), frame[column].max()
        if lo < start or hi > end:  # type: ignore[operator]
            raise ValueError(f"rows for {column} {lo}..{hi} fall outside the partition window {start}..{end}")


class DuckDBWarehouse(WarehouseResource):
    """The embedded default: one DuckDB file. Connections are opened per operation and closed at once,
    because DuckDB allows one writer process per file and dbt opens its own connection in between."""

    path: str = Field(description="Absolute path of the DuckDB warehouse file.")

    @property
    def engine(self) -> str:
        return "duckdb"

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only and Path(self.path).exists())
        try:
            yield con
        finally:
            con.close()

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        with self.connect() as con:
            return con.execute(self.render(sql), dict(params or {})).pl()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self.connect() as con:
            con.execute(self.render(sql), dict(params or {}))

    def table_exists(self, table: str, schema: str | None = None) -> bool:
        with self.connect() as con:
            found = con.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema or self.analytics_schema, table],
            ).fetchone()
        return bool(found and found[0])

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        with self.connect() as con:
            rows = con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " order by ordinal_position",
                [schema or self.analytics_schema, table],
            ).fetchall()
        return [r[0] for r in rows]

    def _create_if_missing(self, con: duckdb.DuckDBPyConnection, target: str, frame: pl.DataFrame) -> None:
        con.execute(f"create schema if not exists {target.split('.')[0]}")
        con.register("_incoming", frame.head(0).to_arrow())
        con.execute(f"create table if not exists {target} as select * from _incoming")
        con.unregister("_incoming")

    def replace_table(self, table: str, frame: pl.DataFrame) -> None:
        target = self.qualified(table)
        with self.connect() as con:
            con.execute(f"create schema if not exists {self.analytics_schema}")
            con.register("_incoming", frame.to_arrow())
            con.execute(f"create or replace table {target} as select * from _incoming")

    def append(self, table: str, frame: pl.DataFrame) -> None:
        target = self.qualified(table)
        with self.connect() as con:
            con.execute("begin transaction")
            self._create_if_missing(con, target, frame)
            con.register("_incoming", frame.to_arrow())
            con.execute(f"insert into {target} by name select * from _incoming")
            con.execute("commit")

    def replace_partitions(
        self,
        table: str,
        frame: pl.DataFrame,
        start: date,
        end: date,
        partition_column: str = "snapshot_date",
    ) -> None:
        _check_frame_in_window(frame, start, end, partition_column)
        target = self.qualified(table)
        with self.connect() as con:
            con.execute("begin transaction")
            try:
                self._create_if_missing(con, target, frame)
                con.execute(f"delete from {target} where {partition_column} between ? and ?", [start, end])
                con.register("_incoming", frame.to_arrow())
                con.execute(f"insert into {target} by name select * from _incoming")
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class BigQueryWarehouse(WarehouseResource):
    """Production: BigQuery through dagster-gcp. Project, dataset and location come from the environment;
    credentials come from the default Google credential chain and are never logged."""

    project: str = Field(description="GCP project that owns the dataset.")
    location: str = Field(default="EU", description="BigQuery location of the dataset.")
    maximum_bytes_billed: int | None = Field(default=None, description="Cost guard for every query.")

    @property
    def engine(self) -> str:
        return "bigquery"

    def qualified(self, table: str, schema: str | None = None) -> str:
        return f"`{self.project}.{schema or self.analytics_schema}.{table}`"

    def render(self, sql: str) -> str:
        sql = sql.replace("{analytics}", f"`{self.project}.{self.analytics_schema}`")
        sql = sql.replace("{raw}", f"`{self.project}.raw`")
        return _PARAM.sub(r"@\1", sql)

    def _table_id(self, table: str, schema: str | None = None) -> str:
        return f"{self.project}.{schema or self.analytics_schema}.{table}"

    def _client(self) -> Any:
        from dagster_gcp import BigQueryResource

        return BigQueryResource(project=self.project, location=self.location)

    def _job_config(self, params: Mapping[str, Any] | None) -> Any:
        from google.cloud import bigquery

        def _param(name: str, value: Any) -> Any:
            kind = {bool: "BOOL", int: "INT64", float: "FLOAT64", date: "DATE"}.get(type(value), "STRING")
            return bigquery.ScalarQueryParameter(name, kind, value)

        return bigquery.QueryJobConfig(
            query_parameters=[_param(k, v) for k, v in (params or {}).items()],
            maximum_bytes_billed=self.maximum_bytes_billed,
        )

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        with self._client().get_client() as client:
            arrow = client.query(self.render(sql), job_config=self._job_config(params)).to_arrow()
        return pl.from_arrow(arrow)  # type: ignore[return-value]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self._client().get_client() as client:
            client.query(self.render(sql), job_config=self._job_config(params)).result()

    def table_exists(self, table: str, schema: str | None = None) -> bool:
        from google.api_core.exceptions import NotFound

        with self._client().get_client() as client:
            try:
                client.get_table(self._table_id(table, schema))
            except NotFound:
                return False
        return True

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        with self._client().get_client() as client:
            return [f.name for f in client.get_table(self._table_id(table, schema)).schema]

    def _load(self, client: Any, table_id: str, frame: pl.DataFrame, disposition: str) -> None:
        from google.cloud import bigquery

        job_config = bigquery.LoadJobConfig(write_disposition=disposition)
        client.load_table_from_dataframe(frame.to_pandas(), table_id, job_config=job_config).result()

    def replace_table(self, table: str, frame: pl.DataFrame) -> None:
        with self._client().get_client() as client:
            self._load(client, self._table_id(table), frame, "WRITE_TRUNCATE")

    def append(self, table: str, frame: pl.DataFrame) -> None:
        with self._client().get_client() as client:
            self._load(client, self._table_id(table), frame, "WRITE_APPEND")

    def replace_partitions(
        self,
        table: str,
        frame: pl.DataFrame,
        start: date,
        end: date,
        partition_column: str = "snapshot_date",
    ) -> None:
        _check_frame_in_window(frame, start, end, partition_column)
        staging = f"{self.project}.{self.analytics_schema}._incoming_{table}"
        target = self.qualified(table)
        with self._client().get_client() as client:
            self._load(client, staging, frame, "WRITE_TRUNCATE")
            # One multi-statement transaction: readers see the old partition or the new one, never a mix.
            script = (
                "BEGIN TRANSACTION;\n"
                f"DELETE FROM {target} WHERE {partition_column} BETWEEN @start AND @end;\n"
                f"INSERT INTO {target} SELECT * FROM `{staging}`;\n"
                "COMMIT TRANSACTION;"
            )
            client.query(script, job_config=self._job_config({"start": start, "end": end})).result()
            client.delete_table(staging, not_found_ok=True)


def sql_in_list(values: Sequence[str]) -> str:
    """A literal IN-list for trusted identifiers from configuration (never from user input)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)

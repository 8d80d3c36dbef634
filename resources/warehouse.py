"""The warehouse the Python assets read from and write to.

Assets talk to a :class:`WarehouseResource` and never to an engine: DuckDB (an embedded file) locally and in
tests, BigQuery in production (:mod:`resources.bigquery_warehouse`). Which one is decided in
:mod:`resources.environment` and nowhere else. SQL is written once, in the DuckDB dialect with ``{analytics}`` /
``{raw}`` placeholders and ``$name`` parameters; :mod:`resources.sql_dialect` renders it for each engine.

Every write of a partition is one transaction (delete the partition's rows, insert the new ones), so a crash
half-way leaves the previous contents in place and a re-run replaces rather than duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
from pydantic import Field, PrivateAttr

# apply_duckdb_settings lives with the plain reader (no Dagster) and is re-exported here for existing callers.
from resources.read_only import apply_duckdb_settings
from resources.sql_dialect import duckdb_sql
from resources.warehouse_file import (
    WarehouseFileError,
    WarehouseOwnerLock,
    diagnose,
    explain_open_error,
    require_usable,
)


class WarehouseResource(dg.ConfigurableResource):
    """Engine-neutral access to the analytics warehouse, as Polars frames."""

    analytics_schema: str = Field(default="analytics", description="Schema (dataset) of the published tables.")
    raw_schema: str = Field(default="raw", description="Schema (dataset) of the raw source tables.")

    # --- reads -----------------------------------------------------------------------------------------
    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """Run a query written with ``$name`` parameters and ``{analytics}`` / ``{raw}`` schema placeholders."""
        raise NotImplementedError

    def table_exists(self, table: str) -> bool:
        raise NotImplementedError

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        raise NotImplementedError

    def column_types(self, table: str, schema: str | None = None) -> dict[str, str]:
        """Column name -> the engine's type name, from the catalogue (no rows read); empty if the table is missing."""
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

    def partition_metadata(self, table: str, schema: str | None = None) -> pl.DataFrame | None:
        """The engine's own record of ``table``'s partitions, read without scanning a row: per partition id
        (``YYYYMMDD`` for a day, or the engine's special ids) ``total_rows`` and ``last_modified`` (UTC), where
        the engine keeps one (BigQuery's INFORMATION_SCHEMA.PARTITIONS); None where it does not (DuckDB has no
        partitions). The raw-contract gate uses it to skip the checksum of partitions untouched since validated
        (asset_checks/raw_loads.py)."""
        return None

    @contextmanager
    def held_open(self) -> Iterator[WarehouseResource]:
        """One connection for every statement inside the block where opening one costs (an embedded file); a
        no-op elsewhere. For callers that issue many small statements in a row (the raw-contract gate)."""
        yield self

    # --- shared helpers --------------------------------------------------------------------------------
    def qualified(self, table: str, schema: str | None = None) -> str:
        return f"{schema or self.analytics_schema}.{table}"

    def render(self, sql: str) -> str:
        """The statement in this engine's dialect (see resources/sql_dialect.py)."""
        return duckdb_sql(sql, self.analytics_schema, self.raw_schema)

    @property
    def engine(self) -> str:
        raise NotImplementedError


def check_frame_in_window(frame: pl.DataFrame, start: date, end: date, column: str) -> None:
    # A frame carrying rows outside the window would leave them behind on the next replace: refuse it.
    if frame.height and column in frame.columns:
        lo, hi = frame[column].min(), frame[column].max()
        if lo < start or hi > end:  # type: ignore[operator]
            raise ValueError(f"rows for {column} {lo}..{hi} fall outside the partition window {start}..{end}")


class DuckDBWarehouse(WarehouseResource):
    """The embedded default: one DuckDB file. Connections are opened per operation and closed at once,
    because DuckDB allows one writer process per file and dbt opens its own connection in between.

    Reads never create the file (a missing warehouse has no tables; reading rows from it is an error that says
    so), and every error DuckDB raises on opening the file becomes a one-line :class:`WarehouseFileError`.
    Inside a Dagster run the resource checks the file before the first step and holds the warehouse's owner
    lock for the whole run (resources/warehouse_file.py), so a second run is refused with the first one's id.
    """

    path: str = Field(description="Absolute path of the DuckDB warehouse file.")
    _owner_lock: WarehouseOwnerLock | None = PrivateAttr(default=None)
    _held: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    @property
    def engine(self) -> str:
        return "duckdb"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.dagster_run
        if run is None:  # sensors and schedules only read, between runs: no lock, no checks
            return
        path = Path(self.path)
        # Fail the run before its first step, with what is wrong with the file, rather than as "rules broken"
        # in the raw contract or as a DuckDB traceback half-way through.
        require_usable(path, for_write=True)
        lock = WarehouseOwnerLock(path, run_id=run.run_id, job=run.job_name)
        lock.acquire()
        try:
            # Another process (not a Dagster run: `trust generate`, a notebook) may hold DuckDB's own lock.
            with self.connect():
                pass
        except BaseException:
            lock.release()
            raise
        self._owner_lock = lock

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._owner_lock is not None:
            self._owner_lock.release()
            self._owner_lock = None

    @contextmanager
    def held_open(self) -> Iterator[WarehouseResource]:
        """Every statement inside the block on one connection (opening the file takes about 0.1 s, and the
        raw-contract gate issues over a hundred statements). Without the file each statement says so itself."""
        if self._held is not None or not Path(self.path).exists():
            yield self
            return
        with self._connect_existing() as con:
            self._held = con
            try:
                yield self
            finally:
                self._held = None

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is not None:
            yield self._held
            return
        path = Path(self.path)
        if not read_only:
            # Writes may create a new warehouse (tests and the generator start from nothing).
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as error:
            # The file's own problem (empty, truncated, foreign) says more than DuckDB's message about it.
            problem = diagnose(path) if path.exists() else None
            raise WarehouseFileError(str(problem or explain_open_error(path, error))) from None
        try:
            apply_duckdb_settings(con)
            yield con
        except duckdb.IOException:
            # A file cut short opens and fails on the first block it lacks: say so when that is the cause.
            problem = diagnose(path)
            if problem:
                raise WarehouseFileError(str(problem)) from None
            raise
        finally:
            con.close()

    @contextmanager
    def _connect_existing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for reading: the file must exist (reading never creates it)."""
        if not Path(self.path).exists():
            raise WarehouseFileError(str(diagnose(Path(self.path)) or f"warehouse file {self.path} does not exist"))
        with self.connect() as con:
            yield con

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        with self._connect_existing() as con:
            return con.execute(self.render(sql), dict(params or {})).pl()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self.connect() as con:
            con.execute(self.render(sql), dict(params or {}))

    def table_exists(self, table: str, schema: str | None = None) -> bool:
        if not Path(self.path).exists():
            return False
        with self.connect() as con:
            found = con.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema or self.analytics_schema, table],
            ).fetchone()
        return bool(found and found[0])

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        if not Path(self.path).exists():
            return []
        with self.connect() as con:
            rows = con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " order by ordinal_position",
                [schema or self.analytics_schema, table],
            ).fetchall()
        return [r[0] for r in rows]

    def column_types(self, table: str, schema: str | None = None) -> dict[str, str]:
        if not Path(self.path).exists():
            return {}
        with self.connect() as con:
            rows = con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position",
                [schema or self.analytics_schema, table],
            ).fetchall()
        return {r[0]: str(r[1]) for r in rows}

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
        check_frame_in_window(frame, start, end, partition_column)
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


def sql_in_list(values: Sequence[str]) -> str:
    """A literal IN-list for trusted identifiers from configuration (never from user input)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)

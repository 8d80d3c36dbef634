"""Reading the local warehouse without the code location: what the read-only ``trust`` commands use.

:class:`ReadOnlyDuckDB` answers the reads of :class:`resources.warehouse.WarehouseResource` (``read``,
``table_exists``, ``columns``, ``column_types``) with nothing but DuckDB and Polars. The Dagster resource gives the
same answers but importing it costs seconds, and a command that only prints a table should start at once. It opens
the file read-only, so a command that only reads can never change the warehouse, and several can read while no
run writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import polars as pl

from resources.sql_dialect import duckdb_sql
from trust_assets.config import duckdb_settings


class WarehouseReader(Protocol):
    """The reads every warehouse offers (the Dagster resources and :class:`ReadOnlyDuckDB`)."""

    analytics_schema: str
    raw_schema: str

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame: ...

    def table_exists(self, table: str, schema: str | None = None) -> bool: ...

    def columns(self, table: str, schema: str | None = None) -> list[str]: ...


def apply_duckdb_settings(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the warehouse's DuckDB settings (config.duckdb_settings: the memory limit dbt's connections use too).

    SET rather than connect(config=...): a file already open in this process (dbt-duckdb's, kept by the dbt
    metadata reads) refuses a second connection with a different connect-time configuration.
    """
    for name, value in duckdb_settings().items():
        con.execute(f"SET {name} = '{value.replace(chr(39), chr(39) * 2)}'")


@dataclass(frozen=True)
class ReadOnlyDuckDB:
    """The DuckDB warehouse file, opened read-only for each read and closed at once (a writer may come next)."""

    path: str
    analytics_schema: str = "analytics"
    raw_schema: str = "raw"

    @property
    def engine(self) -> str:
        return "duckdb"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(self.path, read_only=True)
        try:
            apply_duckdb_settings(con)
            yield con
        finally:
            con.close()

    def render(self, sql: str) -> str:
        return duckdb_sql(sql, self.analytics_schema, self.raw_schema)

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        with self.connect() as con:
            return con.execute(self.render(sql), dict(params or {})).pl()

    def table_exists(self, table: str, schema: str | None = None) -> bool:
        with self.connect() as con:
            found = con.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema or self.analytics_schema, table],
            ).fetchone()
        return bool(found and found[0])

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        return list(self.column_types(table, schema))

    def column_types(self, table: str, schema: str | None = None) -> dict[str, str]:
        with self.connect() as con:
            rows = con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position",
                [schema or self.analytics_schema, table],
            ).fetchall()
        return {r[0]: str(r[1]) for r in rows}

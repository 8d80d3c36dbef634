"""Reading the local warehouse without the code location: what the read-only ``trust`` commands use.

:class:`ReadOnlyDuckDB` answers the reads of :class:`resources.warehouse.WarehouseResource` (``read``,
``table_exists``, ``columns``, ``column_types``) with nothing but DuckDB and Polars. The Dagster resource gives the
same answers but importing it costs seconds, and a command that only prints a table should start at once. It opens
the file read-only, so a command that only reads can never change the warehouse, and several can read while no
run writes.

More start-up hides in DuckDB's Python client: binding any Python value as a query parameter imports pandas
(and pyarrow with it) to check whether the value is a pandas object, and ``.pl()`` converts through pyarrow. So
the reader writes each ``$name`` parameter into the statement as a typed SQL literal (:func:`sql_literal`: strings
quoted with their quotes doubled, the one escape a DuckDB string literal has) and hands the result to Polars
through the Arrow C stream interface, which needs neither library. The frames are identical to the resource's
(tests/cli/test_read_only.py compares them table by table).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import duckdb
import polars as pl

from resources.sql_dialect import PARAMETER, duckdb_sql
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


def sql_literal(value: object) -> str:
    """A Python parameter value as a DuckDB literal of the type DuckDB's client binds it as."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):  # the narrowest of the types the client picks
        kind = "INTEGER" if -(2**31) <= value < 2**31 else "BIGINT" if -(2**63) <= value < 2**63 else "HUGEINT"
        return f"CAST({value} AS {kind})"
    if isinstance(value, float):
        return f"CAST('{value!r}' AS DOUBLE)"
    if isinstance(value, datetime):  # before date: a datetime is a date
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return f"CAST('{value.isoformat()}' AS {kind})"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for a parameter of type {type(value).__name__}")


def bind_literals(sql: str, params: Mapping[str, Any]) -> str:
    """``sql`` with every ``$name`` replaced by the literal of ``params[name]`` (a name without a value is an error)."""

    def literal(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"the statement uses ${name} but no value was given for it")
        return sql_literal(params[name])

    return PARAMETER.sub(literal, sql)


@dataclass
class ReadOnlyDuckDB:
    """The DuckDB warehouse file opened read-only: for each read and closed at once (a writer may come next), or
    once for a whole command inside :meth:`held_open` (an explanation reads it a dozen times, and each opening
    costs time: docs/performance.md, "Figures behind choices in the code")."""

    path: str
    analytics_schema: str = "analytics"
    raw_schema: str = "raw"
    _held: duckdb.DuckDBPyConnection | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def engine(self) -> str:
        return "duckdb"

    @contextmanager
    def held_open(self) -> Iterator[ReadOnlyDuckDB]:
        """One connection for every read inside the block, closed when it ends."""
        with self._open() as con:
            self._held = con
            try:
                yield self
            finally:
                self._held = None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is not None:
            yield self._held
            return
        with self._open() as con:
            yield con

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
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
            return pl.DataFrame(con.sql(bind_literals(self.render(sql), params or {})))

    def table_exists(self, table: str, schema: str | None = None) -> bool:
        found = self.read(
            "select count(*) as n from information_schema.tables where table_schema = $schema and table_name = $table",
            {"schema": schema or self.analytics_schema, "table": table},
        )
        return bool(found["n"][0])

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        return list(self.column_types(table, schema))

    def column_types(self, table: str, schema: str | None = None) -> dict[str, str]:
        rows = self.read(
            "select column_name, data_type from information_schema.columns where table_schema = $schema "
            "and table_name = $table order by ordinal_position",
            {"schema": schema or self.analytics_schema, "table": table},
        )
        return {str(name): str(kind) for name, kind in rows.iter_rows()}

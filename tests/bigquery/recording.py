"""Every SQL statement the Python code issues, captured while it really runs on DuckDB.

:class:`RecordingDuckDBWarehouse` is the DuckDB warehouse plus a log of each ``read`` / ``execute`` call (the
engine-neutral SQL as written, its parameter names and the line of project code that issued it). Running the code
location's assets and checks on it collects the statements of every module that talks to the warehouse,
including modules added later, without a list to keep up to date.

:func:`statement_problems` says why a statement would not run on BigQuery: the dbt portability rules
(tests/dbt/portability.py) on the DuckDB text, then the BigQuery rendering of resources/sql_dialect.py and what
BigQuery would still refuse in it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from resources.sql_dialect import REWRITTEN_FUNCTIONS, bigquery_problems, bigquery_sql, duckdb_sql, parameter_names
from resources.warehouse import DuckDBWarehouse
from tests.dbt.portability import compiled_problems

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Code that issues statements on behalf of others (the warehouse itself, tests, benchmarks) is not the origin.
_NOT_ORIGINS = (PROJECT_ROOT / "resources", PROJECT_ROOT / "tests", PROJECT_ROOT / "benchmarks", PROJECT_ROOT / ".venv")


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[str, ...]
    origin: str
    # The parameter values, (name, value) pairs: the bytes BigQuery bills depend on the days bound
    # (benchmarks/bigquery_bytes.py); not part of a statement's identity.
    values: tuple[tuple[str, Any], ...] = field(default=(), compare=False)


RECORDED: list[Statement] = []


def _origin() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(PROJECT_ROOT) and not any(path.is_relative_to(p) for p in _NOT_ORIGINS):
            return f"{path.relative_to(PROJECT_ROOT)}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def record(sql: str, params: Mapping[str, Any] | None) -> None:
    """Log one statement, its parameters and the project code that issued it (called from a warehouse method)."""
    RECORDED.append(Statement(sql, tuple(sorted(params or {})), _origin(), tuple(sorted((params or {}).items()))))


class RecordingDuckDBWarehouse(DuckDBWarehouse):
    """DuckDB, plus a log of every statement the calling code issues (module-level: Dagster copies resources)."""

    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        record(sql, params)
        return super().read(sql, params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        record(sql, params)
        super().execute(sql, params)


BIGQUERY_PROJECT = "example-project"


def statement_problems(sql: str, params: tuple[str, ...] = (), origin: str = "<sql>") -> list[str]:
    """Why one engine-neutral statement (``{analytics}``, ``$name``) would not run on BigQuery; empty if it would."""
    # Functions the dialect layer rewrites for BigQuery are portable here (the rendered SQL is checked below).
    problems = [
        p
        for p in compiled_problems(duckdb_sql(sql, "analytics", "raw"), origin)
        if not any(p.endswith(f"engine-specific function {name}()") for name in REWRITTEN_FUNCTIONS)
    ]
    missing = parameter_names(sql) - set(params)
    if missing:
        problems.append(f"{origin}: parameters {sorted(missing)} are not passed")
    try:
        rendered = bigquery_sql(sql, BIGQUERY_PROJECT, "analytics", "raw")
    except Exception as error:  # sqlglot's ParseError / UnsupportedError, or the dialect layer's ValueError
        return [*problems, f"{origin}: cannot be rendered for BigQuery: {error}"]
    return problems + bigquery_problems(rendered, origin)

"""Formatting of Dagster asset metadata: Markdown tables and ``dagster/column_schema`` from a Polars schema."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import polars as pl

_SQL_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "varchar",
    pl.Float64: "double",
    pl.Int64: "bigint",
    pl.Int32: "integer",
    pl.Boolean: "boolean",
    pl.Date: "date",
    pl.Datetime: "timestamp with time zone",
}


def column_schema(schema: Mapping[str, pl.DataType], descriptions: Mapping[str, str]) -> dg.TableSchema:
    """``dagster/column_schema`` metadata from a table's Polars schema and column descriptions."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, _SQL_TYPES.get(type(dtype), str(dtype)).lower(), description=descriptions.get(name))
            for name, dtype in schema.items()
        ]
    )


def markdown_table(frame: pl.DataFrame, float_format: str = "{:.4f}") -> str:
    """A small frame (metadata-sized) as a Markdown table."""

    def _cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return float_format.format(value)
        return str(value)

    head = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([head, rule, *body])

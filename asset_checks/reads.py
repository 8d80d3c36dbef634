"""Reads of the product tables for the checks: only the partition window's rows, filtered in the warehouse."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

import pandera.polars as pa
import polars as pl

from asset_checks import rules
from asset_checks.violations import Violation
from resources.warehouse import WarehouseResource
from trust_assets.config import Cohort
from trust_assets.tables import CUSTOMER_360


def feature_table(cohort: Cohort | str) -> str:
    return f"{Cohort(cohort).value}_features"


# --- reads ---------------------------------------------------------------------------------------------------------
class MissingTable(Exception):
    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.violation = Violation(table, None, "table exists", 0, detail=f"{table} is not in the warehouse")


def read_window(warehouse: WarehouseResource, table: str, start: date, end: date, columns: str = "*") -> pl.DataFrame:
    """The rows of a daily table in [start, end]; the filter runs in the warehouse."""
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    return warehouse.read(
        f"select {columns} from {{analytics}}.{table} where snapshot_date between $start and $end",
        {"start": start, "end": end},
    )


# Catalogue types that reach Polars as this dtype, on DuckDB and through BigQuery's to_arrow() alike.
_READ_AS: dict[str, pl.DataType] = {"VARCHAR": pl.String(), "STRING": pl.String()}


def _schema_dtype(column: pa.Column) -> pl.DataType | None:
    want = column.dtype.type if column.dtype is not None else None
    return want() if isinstance(want, type) else want  # pandera keeps simple dtypes as classes


def schema_columns(
    schema: pa.DataFrameSchema, types: Mapping[str, str], type_only: Collection[str] = ()
) -> tuple[list[str], dict[str, pl.DataType]] | None:
    """What the schema check must read of a table whose catalogue says ``types`` (column -> engine type): the
    columns whose values a rule reads, in table order, and for each ``type_only`` column the dtype it would
    arrive as, to stand in as NULLs. A type-only column is left out only if it is nullable, has no value check,
    is in no unique key and its catalogue type reads as the schema's dtype.

    None when nothing would be left out, or when only the whole rows can answer: a schema column missing from the
    table, or a column the (strict) schema does not expect.
    """
    names = set(schema.columns)
    if not names <= set(types) or (schema.strict and set(types) - names):
        return None
    unique = {schema.unique} if isinstance(schema.unique, str) else set(schema.unique or ())
    fills: dict[str, pl.DataType] = {}
    for name in type_only:
        column = schema.columns.get(name)
        if column is None or not column.nullable or column.checks or column.unique or name in unique:
            continue
        if schema.coerce or column.coerce:
            continue
        arrives_as = _READ_AS.get(types[name].upper())
        if arrives_as is not None and arrives_as == _schema_dtype(column):
            fills[name] = arrives_as
    read = [c for c in types if c in names and c not in fills]
    if len(read) == len(types):
        return None
    return read, fills


def read_schema_columns(
    warehouse: WarehouseResource, table: str, start: date, end: date, schema: pa.DataFrameSchema,
    type_only: Collection[str] = (),
) -> pl.DataFrame | None:
    """The rows of [start, end] with only the columns :func:`schema_columns` says the schema's rules read, the
    type-only columns as NULLs of the dtype they would arrive as; None when the whole rows must be read."""
    types = warehouse.column_types(table)  # the catalogue: no rows read, nothing billed
    if not types:
        raise MissingTable(table)
    plan = schema_columns(schema, types, type_only)
    if plan is None:
        return None
    read, fills = plan
    frame = read_window(warehouse, table, start, end, ", ".join(read))
    return frame.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in fills.items())


def read_table(warehouse: WarehouseResource, table: str) -> pl.DataFrame:
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    return warehouse.read(f"select * from {{analytics}}.{table}")


def read_holders(
    warehouse: WarehouseResource, start: date, end: date, cohorts: list[str] | None = None
) -> pl.DataFrame:
    flags = ", ".join(rules.HOLDING_COLUMNS.values())
    people = read_window(warehouse, CUSTOMER_360, start, end, f"snapshot_date, customer_id, {flags}")
    return rules.holders(people, cohorts)

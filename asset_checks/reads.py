"""Reads of the product tables for the checks: only the partition window's rows, filtered in the warehouse."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta

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


def read_daily_counts(warehouse: WarehouseResource, table: str, start: date, end: date) -> pl.DataFrame:
    """``day, rows`` of [start - 1, end] in one query; the checks count the window's days from their shared rows
    (asset_checks/window_reads.py daily_counts) and this stays the reference for them."""
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    return warehouse.read(
        f"select snapshot_date as day, count(*) as rows from {{analytics}}.{table} "
        "where snapshot_date between $start and $end group by snapshot_date",
        {"start": start - timedelta(days=1), "end": end},
    )


def read_holders(
    warehouse: WarehouseResource, start: date, end: date, cohorts: list[str] | None = None
) -> pl.DataFrame:
    flags = ", ".join(rules.HOLDING_COLUMNS.values())
    people = read_window(warehouse, CUSTOMER_360, start, end, f"snapshot_date, customer_id, {flags}")
    return rules.holders(people, cohorts)




# --- aggregates computed in the warehouse: one row per day, or only the broken keys, come back ----------------------
# The daily checks take the same figures from the rows their step read already (asset_checks/window_reads.py):
# these per-check reads are what that path is held to (tests/guards/test_shared_check_reads.py).
# A value is missing when NULL or not finite; NaN and +-inf fall outside every finite range on DuckDB and BigQuery.
_FINITE = "between -1.7976931348623157e308 and 1.7976931348623157e308"


def read_missing_shares(
    warehouse: WarehouseResource, table: str, start: date, end: date, features: list[str]
) -> pl.DataFrame:
    """Per day of [start, end]: ``snapshot_date, rows`` and each feature's share of missing values."""
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    present = set(warehouse.columns(table))
    shares = ", ".join(
        f"avg(case when {f} {_FINITE} then 0.0 else 1.0 end) as {f}" for f in features if f in present
    )
    return warehouse.read(
        f"select snapshot_date, count(*) as rows{', ' + shares if shares else ''} from {{analytics}}.{table} "
        "where snapshot_date between $start and $end group by snapshot_date",
        {"start": start, "end": end},
    )


def read_coverage_problems(
    warehouse: WarehouseResource, table: str, start: date, end: date, cohorts: list[str]
) -> pl.DataFrame:
    """Keys of [start, end] where ``table`` (with a ``cohort`` column, or one cohort's table) and the holders in
    customer_360_definition disagree: ``snapshot_date, cohort, customer_id, rows, expected``, broken keys only
    (a holder without exactly one row, or a row of a non-holder). Empty when the coverage is complete."""
    for name in (table, CUSTOMER_360):
        if not warehouse.table_exists(name):
            raise MissingTable(name)
    cohort_column = "cohort" if "cohort" in warehouse.columns(table) else f"'{cohorts[0]}'"
    wanted = " union all ".join(
        f"select snapshot_date, '{c}' as cohort, customer_id from {{analytics}}.{CUSTOMER_360} "
        f"where snapshot_date between $start and $end and {rules.HOLDING_COLUMNS[c]}"
        for c in cohorts
    )
    chosen = ", ".join(f"'{c}'" for c in cohorts)
    return warehouse.read(
        f"""
        with got as (
            select snapshot_date, {cohort_column} as cohort, customer_id, count(*) as rows
            from {{analytics}}.{table}
            where snapshot_date between $start and $end and {cohort_column} in ({chosen})
            group by 1, 2, 3
        ),
        want as (select distinct snapshot_date, cohort, customer_id, true as expected from ({wanted}) as holders)
        select coalesce(w.snapshot_date, g.snapshot_date) as snapshot_date, coalesce(w.cohort, g.cohort) as cohort,
            coalesce(w.customer_id, g.customer_id) as customer_id, coalesce(g.rows, 0) as rows,
            coalesce(w.expected, false) as expected
        from want as w
        full outer join got as g
            on g.snapshot_date = w.snapshot_date and g.cohort = w.cohort and g.customer_id = w.customer_id
        where w.customer_id is null or g.customer_id is null or g.rows <> 1
        """,
        {"start": start, "end": end},
    ).with_columns(pl.col("snapshot_date").cast(pl.Date), pl.col("customer_id").cast(pl.String))

"""The raw contract's warehouse side: what the gate checks with catalogue look-ups and SQL aggregates.

The gate (:mod:`asset_checks.raw_contract`) runs Pandera only over the raw rows that are new for the partition
(landed on or after the window start, less a margin). Everything else is answered by the warehouse, which sends
back counts and at most :data:`EXAMPLE_ROWS` example rows per broken rule:

- the column set and types, from the catalogue (information_schema / the BigQuery table schema): no rows read;
- the grain's uniqueness (grain + ``loaded_at``) over the whole window, so a copy written into an old load after
  it passed is caught too;
- the per-row rules that can be written as a SQL predicate (NOT NULL, enumerations, ranges) over the window's
  older rows, so a row corrupted after it passed an earlier day's gate is still caught.

The cross-column row relations (``RAW_ROW_RULES``) stay with Pandera on the new rows: they describe a delivered
row, which is re-delivered (a new ``loaded_at``) when it changes. Rule names match Pandera's, so a rule broken by
new and older rows at once is reported once with the rows of both (:func:`merge`).

Statements are written in the DuckDB dialect with ``{raw}`` and ``$name`` placeholders and go through
``WarehouseResource.read`` (resources/sql_dialect.py renders them for BigQuery).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandera.polars as pa
import polars as pl

from asset_checks.schemas import FINITE
from asset_checks.violations import EXAMPLE_ROWS, Violation
from resources.warehouse import WarehouseResource, sql_in_list
from source_contract.raw_tables import RawTable

# --- the catalogue ------------------------------------------------------------------------------------------------
# Contract types (raw_tables.py) and the engine type names of the same family. Integer widths and timestamp time
# zones differ between engines (validation.normalise_families); DECIMAL amounts are a type change worth reporting.
_FAMILIES: dict[str, tuple[str, ...]] = {
    "VARCHAR": ("VARCHAR", "STRING", "TEXT", "CHAR", "BPCHAR"),
    "DATE": ("DATE",),
    "TIMESTAMP": ("TIMESTAMP", "DATETIME"),
    "DOUBLE": ("DOUBLE", "FLOAT", "FLOAT64", "FLOAT8", "REAL", "FLOAT4"),
    "INTEGER": ("INTEGER", "INT", "INT64", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UINTEGER", "UBIGINT",
                "USMALLINT", "UTINYINT", "INT2", "INT4", "INT8"),
    "BOOLEAN": ("BOOLEAN", "BOOL"),
}


def type_family(engine_type: str) -> str | None:
    """The contract type whose family ``engine_type`` belongs to (``TIMESTAMP WITH TIME ZONE`` -> TIMESTAMP)."""
    name = engine_type.strip().upper()
    base = name.split("(")[0].split(" ")[0]
    for family, names in _FAMILIES.items():
        if base in names:
            return family
    return None


@dataclass(frozen=True)
class Catalogue:
    """One raw table as the warehouse catalogue describes it: column name -> engine type name."""

    types: dict[str, str]

    @property
    def exists(self) -> bool:
        return bool(self.types)

    def family(self, column: str) -> str | None:
        found = self.types.get(column)
        return None if found is None else type_family(found)

    def has(self, *columns: str) -> bool:
        return set(columns) <= set(self.types)

    def is_date(self, column: str) -> bool:
        return self.family(column) == "DATE"

    def is_temporal(self, column: str) -> bool:
        return self.family(column) in ("DATE", "TIMESTAMP")


def read_catalogue(warehouse: WarehouseResource, table: RawTable) -> Catalogue:
    return Catalogue(warehouse.column_types(table.name, warehouse.raw_schema))


def structure_violations(table: RawTable, catalogue: Catalogue, schema: pa.DataFrameSchema) -> list[Violation]:
    """Contract columns missing from the table or of another type family. Extra columns are allowed
    (docs/source_contract.md). Rule names and details are the ones Pandera gives for a frame."""
    out: list[Violation] = []
    for column in table.columns:
        expected = schema.columns[column.name].dtype
        found = catalogue.types.get(column.name)
        if found is None:
            out.append(Violation(f"raw.{table.name}", column.name, "required column present", 0,
                                 detail=f"expected type {expected}"))
        elif type_family(found) != column.type:
            out.append(Violation(f"raw.{table.name}", column.name, f"type is {expected}", 0,
                                 detail=f"expected {expected}, found {found}"))
    return out


def broken_columns(structural: Sequence[Violation]) -> set[str]:
    return {v.column for v in structural if v.column}


# --- which rows are new ---------------------------------------------------------------------------------------------
def new_rows_since(start: date, margin_days: int) -> date:
    """Rows that landed on or after this day are new for a window starting on ``start``."""
    return start - timedelta(days=margin_days)


def new_rows_predicate(catalogue: Catalogue) -> str:
    """SQL: the row landed on or after ``$new_since`` (or we cannot tell when it landed, so it counts as new).

    Without a usable ``loaded_at`` nothing can be called old: every row of the window is then checked in SQL
    and the table's structural violation says why.
    """
    if not catalogue.is_temporal("loaded_at"):
        return "false"
    return "(loaded_at is null or cast(loaded_at as date) >= $new_since)"


# --- per-row rules as SQL predicates ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowRule:
    """A per-row rule of the Pandera schema as a SQL predicate that is true for an offending row."""

    column: str
    rule: str  # Pandera's name for the rule, so both sides report it under one name
    offending: str


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return sql_in_list([str(value)])


_COMPARISONS: dict[str, tuple[str, str]] = {
    # Pandera builtin check -> (statistic, SQL operator of an offending value)
    "greater_than_or_equal_to": ("min_value", "<"),
    "greater_than": ("min_value", "<="),
    "less_than_or_equal_to": ("max_value", ">"),
    "less_than": ("max_value", ">="),
}


def _not_finite(column: str) -> str:
    return f"(isnan({column}) or isinf({column}))"


def _check_predicate(column: str, check: pa.Check) -> str | None:
    if check.name == FINITE:
        return _not_finite(column)
    if check.name in _COMPARISONS:
        statistic, operator = _COMPARISONS[check.name]
        return f"{column} {operator} {_literal(check.statistics[statistic])}"
    if check.name == "isin":
        values = list(check.statistics["allowed_values"])
        return f"{column} not in ({', '.join(_literal(v) for v in values)})"
    return None  # not expressible here: Pandera checks it on the new rows


def row_rules(schema: pa.DataFrameSchema, skip: set[str]) -> list[RowRule]:
    """NOT NULL and the value checks of every schema column not in ``skip`` (missing or mistyped columns).

    A NULL value breaks only the NOT NULL rule: ``x < 0`` is not true for NULL, as Pandera ignores nulls in checks.
    """
    out: list[RowRule] = []
    for name, column in schema.columns.items():
        if name in skip:
            continue
        if not column.nullable:
            out.append(RowRule(name, "not null", f"{name} is null"))
        finite = any(check.name == FINITE for check in column.checks)
        for check in column.checks:
            predicate = _check_predicate(name, check)
            if predicate is not None and finite and check.name != FINITE:
                # NaN and infinities break the finite rule only, as on the Pandera side.
                predicate = f"not {_not_finite(name)} and ({predicate})"
            if predicate is not None:
                out.append(RowRule(name, str(check.error or check.name), predicate))
    return out


# --- the window's aggregates ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WindowCounts:
    window_rows: int
    new_rows: int
    broken: dict[RowRule, int]


def window_counts(
    warehouse: WarehouseResource, table: RawTable, window: str, new: str, params: dict[str, Any],
    rules: Sequence[RowRule],
) -> WindowCounts:
    """One scan of the window: its rows, its new rows, and per rule the older rows that break it."""
    sums = "".join(
        f", sum(case when not gate_row_is_new and ({r.offending}) then 1 else 0 end) as r{i}"
        for i, r in enumerate(rules)
    )
    # The new-row test is computed once per row, not once per rule.
    found = warehouse.read(
        f"select count(*) as window_rows, sum(case when gate_row_is_new then 1 else 0 end) as new_rows{sums} "
        f"from (select *, {new} as gate_row_is_new from {{raw}}.{table.name} where ({window})) as w",
        used_params(params, window, new),
    ).row(0, named=True)
    return WindowCounts(
        int(found["window_rows"] or 0), int(found["new_rows"] or 0),
        {r: int(found[f"r{i}"] or 0) for i, r in enumerate(rules)},
    )


def older_row_violations(
    warehouse: WarehouseResource, table: RawTable, window: str, new: str, params: dict[str, Any],
    counts: WindowCounts,
) -> list[Violation]:
    """A violation per rule the window's older rows break, with the first offending rows as examples."""
    order = ", ".join(table.grain)
    out: list[Violation] = []
    for rule, n in counts.broken.items():
        if not n:
            continue
        where = f"({window}) and not {new} and ({rule.offending})"
        examples = warehouse.read(
            f"select * from {{raw}}.{table.name} where {where} order by {order} limit {EXAMPLE_ROWS}",
            used_params(params, where),
        )
        out.append(Violation(f"raw.{table.name}", rule.column, rule.rule, n, examples))
    return out


def duplicate_violations(
    warehouse: WarehouseResource, table: RawTable, window: str, params: dict[str, Any]
) -> list[Violation]:
    """Rows of the window sharing grain + ``loaded_at`` (a delivery holds each key once); NULL keys are the
    NOT NULL rule's. Reported like Pandera's ``unique`` rule: column ``<grain>+loaded_at``, every duplicated row."""
    keys = [*table.grain, "loaded_at"]
    columns = ", ".join(keys)
    duplicated = (
        f"select {columns}, count(*) as copies from {{raw}}.{table.name} where ({window}) "
        f"group by {columns} having count(*) > 1"
    )
    used = used_params(params, window)
    found = warehouse.read(f"select count(*) as keys, sum(copies) as n from ({duplicated}) as d", used)
    n = int(found["n"][0] or 0)
    if not n:
        return []
    on = " and ".join(f"t.{k} = d.{k}" for k in keys)
    examples = warehouse.read(
        f"select t.* from (select * from {{raw}}.{table.name} where ({window})) as t join ({duplicated}) as d on {on} "
        f"order by {', '.join(f't.{k}' for k in keys)} limit {EXAMPLE_ROWS}",
        used,
    )
    return [Violation(f"raw.{table.name}", "+".join(keys), "unique", n, examples)]


def used_params(params: dict[str, Any], *sql: str) -> dict[str, Any]:
    # DuckDB refuses parameters a statement does not use.
    text = " ".join(sql)
    return {k: v for k, v in params.items() if f"${k}" in text}


# --- one report from both sides ----------------------------------------------------------------------------------
def merge(violations: Sequence[Violation]) -> list[Violation]:
    """One violation per (table, column, rule): rows added up, examples from the first findings, first detail."""
    merged: dict[tuple[str, str | None, str], Violation] = {}
    for v in violations:
        key = (v.table, v.column, v.rule)
        seen = merged.get(key)
        if seen is None:
            merged[key] = v
            continue
        examples = seen.examples
        if examples.height < EXAMPLE_ROWS and v.examples.height:
            # Columns of incompatible types on the two sides: the first side's rows are enough.
            with suppress(pl.exceptions.PolarsError, TypeError):
                examples = pl.concat([examples, v.examples], how="diagonal_relaxed").head(EXAMPLE_ROWS)
        merged[key] = Violation(v.table, v.column, v.rule, seen.failing_rows + v.failing_rows, examples,
                                detail=seen.detail or v.detail)
    return list(merged.values())

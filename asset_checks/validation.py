"""Run a Pandera schema over a Polars frame and report every failure as a :class:`Violation`.

Pandera answers with one line per failing value and a row index; the on-call engineer needs one line per rule
with whole example rows, so the failure cases are grouped by (column, rule) and joined back to the frame.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from asset_checks.violations import EXAMPLE_ROWS, Violation

# The name of asset_checks.schemas.finite_check (not imported: the schemas module is heavier than this one).
FINITE = "finite"

# Integer widths and timestamp time zones differ between engines (DuckDB INTEGER is Int32, BigQuery INT64 is
# Int64; BigQuery TIMESTAMP arrives tz-aware): the contract is about the family, not the width.
_INT_TYPES = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
_FLOAT_TYPES = (pl.Float32, pl.Float64)


def normalise_families(frame: pl.DataFrame, schema: pa.DataFrameSchema) -> pl.DataFrame:
    """Widen engine-specific dtypes to the schema's dtype where they are of the same family.

    A value of another family (a VARCHAR where a DOUBLE belongs, say) is left alone, so the dtype rule
    still reports it.
    """
    casts: list[pl.Expr] = []
    for name, column in schema.columns.items():
        if name not in frame.columns:
            continue
        have = frame.schema[name]
        want = column.dtype.type if column.dtype is not None else None
        if isinstance(want, type):  # pandera keeps simple dtypes as classes (pl.Int64), parametric ones as instances
            want = want()
        if want is None or have == want:
            continue
        if isinstance(want, pl.Int64) and isinstance(have, _INT_TYPES):
            casts.append(pl.col(name).cast(pl.Int64))
        elif isinstance(want, pl.Float64) and isinstance(have, (*_FLOAT_TYPES, pl.Decimal)):
            # DECIMAL amounts are a type change worth reporting, so only widen Float32.
            if isinstance(have, pl.Float32):
                casts.append(pl.col(name).cast(pl.Float64))
        elif isinstance(want, pl.Datetime) and isinstance(have, pl.Datetime):
            col = pl.col(name)
            if have.time_zone is not None:
                col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            casts.append(col.dt.cast_time_unit("us"))
    return frame.with_columns(casts) if casts else frame


def _rule_name(check: str, schema_context: str) -> str:
    if check == "column_in_dataframe":
        return "required column present"
    if check == "column_in_schema":
        return "no unexpected column"
    if check.startswith("dtype("):
        return f"type is {check[len('dtype('):-1].strip(chr(39))}"
    if check == "not_nullable":
        return "not null"
    if check in ("field_uniqueness", "multiple_fields_uniqueness"):
        return "unique"
    return check


def validate_frame(frame: pl.DataFrame, schema: pa.DataFrameSchema, table: str) -> list[Violation]:
    """All rules of ``schema`` that ``frame`` breaks, one :class:`Violation` per (column, rule)."""
    frame = normalise_families(frame, schema)
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return _violations(frame, errors.failure_cases, schema, table)
    except SchemaError as error:  # raised instead of SchemaErrors for some frame-level problems
        return [Violation(table, None, "schema", 0, detail=str(error)[:300])]
    return []


def _has_finite_rule(schema: pa.DataFrameSchema, column: str) -> bool:
    found = schema.columns.get(column)
    return found is not None and any(check.name == FINITE for check in found.checks)


def _violations(frame: pl.DataFrame, cases: pl.DataFrame, schema: pa.DataFrameSchema, table: str) -> list[Violation]:
    cases = pl.DataFrame(cases).with_columns(pl.col("failure_case").cast(pl.String))
    unique_cols = list(schema.unique or [])
    dtype_broken = set(
        cases.filter(pl.col("check").str.starts_with("dtype(")).get_column("column").to_list()
    )
    structural = bool(dtype_broken) or cases.filter(pl.col("check") == "column_in_dataframe").height > 0
    out: list[Violation] = []
    for (column, check, context), group in cases.group_by(
        ["column", "check", "schema_context"], maintain_order=True
    ):
        column, check, context = str(column), str(check), str(context)
        rule = _rule_name(check, context)
        if context == "DataFrameSchema" and check in ("column_in_dataframe", "column_in_schema"):
            # Structure: the failure case is the column name; no rows to show.
            for name in group.get_column("failure_case").to_list():
                expected = schema.columns.get(name)
                detail = (
                    f"expected type {expected.dtype}" if check == "column_in_dataframe" and expected is not None
                    else f"found type {frame.schema[name]}" if name in frame.columns else ""
                )
                out.append(Violation(table, name, rule, 0, detail=detail))
            continue
        if context == "DataFrameSchema" and check == "multiple_fields_uniqueness":
            column = "+".join(unique_cols) or column
        elif context == "DataFrameSchema":
            column = ""  # a rule over several columns of the row; the rule's name says which
        if column in dtype_broken and not check.startswith("dtype("):
            # A column of the wrong type makes its value checks error out: the type rule already says it.
            continue
        if check.startswith("dtype("):
            expected = schema.columns[column].dtype if column in schema.columns else check
            found = group.get_column("failure_case").first()
            out.append(Violation(table, column, rule, 0, detail=f"expected {expected}, found {found}"))
            continue
        indices = [int(i) for i in group.get_column("index").drop_nulls().unique(maintain_order=True).to_list()]
        if indices and rule != FINITE and _has_finite_rule(schema, column):
            # NaN and infinities are the finite rule's: Pandera also counts NaN as null and as above a bound.
            finite = frame.get_column(column).is_finite().fill_null(True)
            indices = [i for i in indices if finite[i]]
            if not indices:
                continue
        if not indices:
            if structural:
                # A rule over a missing or mistyped column errors out; the structural violation says why.
                continue
            message = group.get_column("failure_case").first()
            out.append(Violation(table, column or None, rule, 0, detail=str(message)[:300]))
            continue
        examples = frame[indices[:EXAMPLE_ROWS]] if frame.height else frame
        out.append(Violation(table, column or None, rule, len(indices), examples=examples))
    return out

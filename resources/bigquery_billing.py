"""What a query bills on BigQuery's on-demand pricing, decided from its SQL and measured on a DuckDB copy.

The rule (BigQuery's "data size calculation"): a query bills, for each table it references (a CTE or a view is
not a table: a view is inlined, a CTE is read through), the logical size of the columns the query references of
that table, over the partitions it does not prune; at least 10 MB per referenced table. Logical sizes: INT64,
FLOAT64, DATE, TIMESTAMP, DATETIME, TIME 8 bytes; BOOL 1; STRING and BYTES 2 + their length in bytes; NUMERIC
16; NULL 0; ARRAY and STRUCT the sum of their elements. ``count(*)`` alone references no column, ``select *``
every column; a column referenced only in a WHERE (the partition column's bound too) is billed as well.
INFORMATION_SCHEMA views bill 10 MB; load and copy jobs, and a DELETE of whole partitions, 0. A DELETE or UPDATE
of some rows bills every column of the partitions it scans (BigQuery's DML pricing).

A partition is pruned only by a constant bound on the partition column among the AND-ed conditions of the WHERE
of the SELECT that scans the table: a bound in a join condition, under an OR, against another column, or above
the subquery that scans the table leaves every partition to be read (tests/dbt/pruning.py holds the daily models
to it). A timestamp-partitioned table is partitioned by the timestamp's day.

A table referenced twice in one query (a self-join, a UNION ALL of two reads) is billed once, for the union of
the columns and of the partitions its references read: BigQuery reads each column of a table once per query (a
public measurement: a UNION ALL of two filtered scans of one table processed as many bytes as a single scan
through a CTE).

:func:`query_reads` turns one BigQuery statement into the reads it bills (:class:`TableRead`); :func:`scan_sql`
is the DuckDB query that measures one read on a warehouse holding the same data; :func:`billed` applies the 10 MB
minimum at a scale. Pure: no connection is opened here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.pushdown_projections import pushdown_projections
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

MIB = 2**20
# BigQuery's MB are binary (its TB is 2**40 bytes).
MIN_TABLE_BYTES = 10 * MIB
INFORMATION_SCHEMA_BYTES = 10 * MIB
# Logical bytes of one non-NULL value, by sqlglot type (BigQuery's data size calculation).
_FIXED_SIZES: dict[exp.DataType.Type, int] = {
    **dict.fromkeys(
        (exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
         exp.DataType.Type.UTINYINT, exp.DataType.Type.USMALLINT, exp.DataType.Type.UINT,
         exp.DataType.Type.UBIGINT, exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE, exp.DataType.Type.DATE,
         exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMPNTZ,
         exp.DataType.Type.TIMESTAMP_S, exp.DataType.Type.TIMESTAMP_MS, exp.DataType.Type.TIMESTAMP_NS,
         exp.DataType.Type.TIMESTAMPLTZ,
         exp.DataType.Type.DATETIME, exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ),
        8,
    ),
    exp.DataType.Type.BOOLEAN: 1,
    exp.DataType.Type.DECIMAL: 16,
    exp.DataType.Type.INTERVAL: 16,
    exp.DataType.Type.INT128: 16,  # a NUMERIC on BigQuery
    exp.DataType.Type.UUID: 2 + 36,  # a STRING on BigQuery
}
_LOWER = (exp.GT, exp.GTE)
_UPPER = (exp.LT, exp.LTE)
_NOT_CONSTANT = (exp.Column, exp.Select, exp.Subquery, exp.Parameter, exp.Placeholder, exp.CurrentDate,
                 exp.CurrentTimestamp, exp.CurrentDatetime, exp.Anonymous)


# --- what a statement reads ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Partitioning:
    """A table's day partitioning: its column, and whether that is a TIMESTAMP (partitioned by its day)."""

    column: str
    timestamp: bool = False


@dataclass(frozen=True)
class Days:
    """Partitions read: the days ``first``..``last`` (None: unbounded on that side), and/or the NULL partition."""

    first: date | None = None
    last: date | None = None
    days: bool = True
    null: bool = False

    @property
    def everything(self) -> bool:
        return self.days and self.first is None and self.last is None


EVERY_PARTITION = Days(null=True)


@dataclass(frozen=True)
class TableRead:
    """The columns of one table a query bills, over ``days`` (every partition when the table is unpartitioned)."""

    schema: str
    table: str
    columns: frozenset[str]
    days: tuple[Days, ...] = (EVERY_PARTITION,)

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class Query:
    """One billed statement: the tables it reads, plus fixed bytes (INFORMATION_SCHEMA views)."""

    reads: tuple[TableRead, ...] = ()
    fixed_bytes: int = 0
    kind: str = "query"


@dataclass
class Catalogue:
    """What the analysis knows of the warehouse: columns (name -> DuckDB type) per (schema, table), the partitioned
    tables, and the views (their BigQuery SQL), all keyed by lower-case (schema, table)."""

    columns: dict[tuple[str, str], dict[str, str]]
    partitioning: dict[tuple[str, str], Partitioning] = field(default_factory=dict)
    views: dict[tuple[str, str], str] = field(default_factory=dict)

    def sqlglot_schema(self) -> dict[str, dict[str, dict[str, str]]]:
        out: dict[str, dict[str, dict[str, str]]] = {}
        for (schema, table), columns in self.columns.items():
            out.setdefault(schema, {})[table] = {name: "STRING" for name in columns}
        return out


def _key(table: exp.Table) -> tuple[str, str]:
    return table.db.lower(), table.name.lower()


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    """The AND-ed conditions of a WHERE (parentheses unwrapped); an OR is one condition."""
    if node is None:
        return []
    if isinstance(node, exp.Where):
        return _conjuncts(node.this)
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _is_constant(node: exp.Expression) -> bool:
    return not any(isinstance(n, _NOT_CONSTANT) for n in node.walk())


def constant_value(node: exp.Expression) -> datetime | None:
    """The instant of a constant date or timestamp: a string literal or a cast of one, else None."""
    if isinstance(node, exp.Cast | exp.TryCast):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string:
        try:
            return datetime.fromisoformat(node.this.replace(" UTC", "").strip())
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Bound:
    """One condition on the partition column: 'lower' or 'upper' (``strict``: > or <), or 'null' (IS NULL).
    ``constant``: bounded by an expression of no column, parameter or clock; ``value``: that constant's instant
    when it is a date or timestamp literal (None otherwise)."""

    kind: str
    value: datetime | None = None
    strict: bool = False
    constant: bool = False


def _bound(kind: str, other: exp.Expression, strict: bool = False) -> Bound:
    constant = _is_constant(other)
    return Bound(kind, constant_value(other) if constant else None, strict, constant)


def _is_partition_column(node: exp.Expression, column: str, alias: str | None) -> bool:
    if not isinstance(node, exp.Column) or node.name.lower() != column.lower():
        return False
    return alias is None or not node.table or node.table.lower() == alias.lower()


def _bound_of(term: exp.Expression, column: str, alias: str | None) -> list[Bound]:
    """The bounds one AND-ed condition puts on the partition column (none for any other condition)."""
    if isinstance(term, exp.Is) and _is_partition_column(term.this, column, alias):
        return [Bound("null")] if isinstance(term.expression, exp.Null) else []
    if isinstance(term, exp.Between) and _is_partition_column(term.this, column, alias):
        low, high = term.args["low"], term.args["high"]
        return [_bound("lower", low), _bound("upper", high)]
    if isinstance(term, exp.EQ | exp.In):
        return _equal_bounds(term, column, alias)
    if not isinstance(term, _LOWER + _UPPER):
        return []
    for side, other, flipped in ((term.this, term.expression, False), (term.expression, term.this, True)):
        if _is_partition_column(side, column, alias):
            lower = isinstance(term, _LOWER) != flipped
            return [_bound("lower" if lower else "upper", other, isinstance(term, exp.GT | exp.LT))]
    return []


def _equal_bounds(term: exp.EQ | exp.In, column: str, alias: str | None) -> list[Bound]:
    if isinstance(term, exp.In):
        if not _is_partition_column(term.this, column, alias) or term.args.get("query"):
            return []
        values = [constant_value(v) if _is_constant(v) else None for v in term.expressions]
        if not values or None in values:
            return []
        # A list of days prunes to exactly those days; counted as the range from the first to the last.
        first, last = min(values), max(values)  # type: ignore[type-var]
        return [Bound("lower", first, constant=True), Bound("upper", last, constant=True)]
    for side, other in ((term.this, term.expression), (term.expression, term.this)):
        if _is_partition_column(side, column, alias):
            return [_bound("lower", other), _bound("upper", other)]
    return []


def where_bounds(where: exp.Expression | None, column: str, alias: str | None = None) -> list[Bound]:
    """Every bound the top-level AND-ed conditions of a WHERE put on ``column`` (of the table ``alias``)."""
    return [b for term in _conjuncts(where) for b in _bound_of(term, column, alias)]


def partition_bounds(
    sql: str, table: str, column: str, dataset: str
) -> list[tuple[date | None, date | None, bool]]:
    """Per read of ``dataset.table`` in a BigQuery statement: (constant lower bound, constant upper bound, IS NULL)
    on ``column`` among the top-level conjuncts of the WHERE of the SELECT that reads the table; each bound is
    the day of the constant as written (a timestamp's exclusive upper bound is the next day's midnight)."""
    out = []
    for tree in sqlglot.parse(sql, read="bigquery"):
        if tree is None:
            continue
        for node in tree.find_all(exp.Table):
            if node.db != dataset or node.name != table:
                continue
            select = node.find_ancestor(exp.Select)
            lower = upper = None
            is_null = False
            for bound in where_bounds(select.args.get("where") if select else None, column):
                day = bound.value.date() if bound.value else None
                if bound.kind == "null":
                    is_null = True
                elif bound.kind == "lower":
                    lower = day
                elif bound.kind == "upper":
                    upper = day
            out.append((lower, upper, is_null))
    return out


def days_read(bounds: Sequence[Bound], partitioning: Partitioning) -> Days:
    """The partitions a scan with these bounds reads: the latest lower and earliest upper constant bound, each
    turned into the first / last day it lets through (> a date: the next day; < midnight: the day before)."""
    if any(b.kind == "null" for b in bounds):
        return Days(days=False, null=True)
    first = last = None
    if not any(b.value is not None for b in bounds if b.kind in ("lower", "upper")):
        return EVERY_PARTITION
    for bound in bounds:
        if bound.value is None:
            continue
        day = bound.value.date()
        if bound.kind == "lower":
            if bound.strict and not partitioning.timestamp:
                day += timedelta(days=1)
            first = day if first is None else max(first, day)
        elif bound.kind == "upper":
            midnight = bound.value.time() == datetime.min.time()
            if bound.strict and (not partitioning.timestamp or midnight):
                day -= timedelta(days=1)
            last = day if last is None else min(last, day)
    return Days(first, last)


# --- from SQL to reads ---------------------------------------------------------------------------------------
def _strip_catalog(tree: exp.Expression) -> exp.Expression:
    """Tables keyed by dataset and name only: the project is the same for every table of the product."""
    for table in tree.find_all(exp.Table):
        table.set("catalog", None)
    return tree


def _inline_views(tree: exp.Expression, catalogue: Catalogue, depth: int = 0) -> exp.Expression:
    """Each reference to a view replaced by its query (BigQuery inlines views): its tables are what is read."""
    if depth > 10:
        raise ValueError("views nested more than 10 deep")
    for table in list(tree.find_all(exp.Table)):
        view = catalogue.views.get(_key(table))
        if view is None:
            continue
        body = _inline_views(_strip_catalog(sqlglot.parse_one(view, read="bigquery")), catalogue, depth + 1)
        table.replace(exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name))))
    return tree


def _source_of(scope: Scope, alias: str) -> tuple[Scope, Any] | None:
    """The source named ``alias`` as seen from ``scope``: its own, or an outer query's (a correlated column)."""
    current: Scope | None = scope
    while current is not None:
        if alias in current.sources:
            return current, current.sources[alias]
        current = current.parent
    return None


def _columns_by_reference(tree: exp.Expression, catalogue: Catalogue) -> dict[int, tuple[exp.Table, set[str]]]:
    """Every reference to a table (keyed by the Table node's id), with the columns the query uses of it."""
    refs: dict[int, tuple[exp.Table, set[str]]] = {}
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                refs.setdefault(id(source), (source, set()))
        for column in scope.columns:
            for source in _sources_of_column(scope, column, catalogue):
                refs.setdefault(id(source), (source, set()))[1].add(column.name.lower())
    return refs


def _sources_of_column(scope: Scope, column: exp.Column, catalogue: Catalogue) -> list[exp.Table]:
    if column.table:
        found = _source_of(scope, column.table)
        return [found[1]] if found and isinstance(found[1], exp.Table) else []
    # Not resolved by qualify (a name of several sources): billed on each table that has such a column.
    tables = [s for s in scope.sources.values() if isinstance(s, exp.Table)]
    return [t for t in tables if column.name.lower() in catalogue.columns.get(_key(t), {})]


def _reference_days(table: exp.Table, catalogue: Catalogue) -> Days:
    partitioning = catalogue.partitioning.get(_key(table))
    if partitioning is None:
        return EVERY_PARTITION
    select = table.parent.parent if isinstance(table.parent, exp.From | exp.Join) else None
    if not isinstance(select, exp.Select):
        return EVERY_PARTITION
    return days_read(where_bounds(select.args.get("where"), partitioning.column, table.alias_or_name),
                     partitioning)


def _merge(reads: Iterable[TableRead]) -> tuple[TableRead, ...]:
    """One read per table: the union of the columns and of the partitions of its references."""
    merged: dict[tuple[str, str], TableRead] = {}
    for read in reads:
        key = (read.schema, read.table)
        if key not in merged:
            merged[key] = read
            continue
        old = merged[key]
        days = old.days + tuple(d for d in read.days if d not in old.days)
        if any(d.everything for d in days):
            days = (EVERY_PARTITION,)
        merged[key] = replace(old, columns=old.columns | read.columns, days=days)
    return tuple(merged.values())


def _select_reads(tree: exp.Expression, catalogue: Catalogue) -> tuple[TableRead, ...]:
    tree = _inline_views(_strip_catalog(tree), catalogue)
    tree = qualify(tree, schema=catalogue.sqlglot_schema(), dialect="bigquery", validate_qualify_columns=False,
                   quote_identifiers=False, identify=False)
    # A column a CTE or subquery selects but nobody uses is not read (BigQuery prunes it too).
    tree = pushdown_projections(tree)
    reads = []
    for table, columns in _columns_by_reference(tree, catalogue).values():
        schema, name = _key(table)
        known = catalogue.columns.get((schema, name))
        if known is None:
            raise ValueError(f"{schema}.{name} is not in the warehouse")
        reads.append(TableRead(schema, name, frozenset(c for c in columns if c in known),
                               (_reference_days(table, catalogue),)))
    return _merge(reads)


def _whole_partition_delete(tree: exp.Delete, catalogue: Catalogue) -> bool:
    """A DELETE whose WHERE only bounds the partition column: BigQuery drops the partitions, billing nothing."""
    table = tree.this if isinstance(tree.this, exp.Table) else tree.find(exp.Table)
    partitioning = catalogue.partitioning.get(_key(table)) if table is not None else None
    where = tree.args.get("where")
    if partitioning is None or where is None:
        return False
    columns = {c.name.lower() for c in where.find_all(exp.Column)}
    return columns == {partitioning.column.lower()} and all(
        b.value is not None for b in where_bounds(where, partitioning.column)
    )


def _dml_reads(tree: exp.Delete | exp.Update, catalogue: Catalogue) -> tuple[TableRead, ...]:
    """A DELETE or UPDATE bills every column of the target in the partitions it scans, plus what it reads."""
    target = tree.this if isinstance(tree.this, exp.Table) else tree.find(exp.Table)
    where = tree.args.get("where")
    scan = exp.select("*").from_(target.copy())
    if where is not None:
        scan = scan.where(where.this.copy())
    subqueries = [s for s in (where.find_all(exp.Select) if where is not None else [])]
    return _merge([*_select_reads(scan, catalogue), *(r for s in subqueries for r in _select_reads(s, catalogue))])


def query_reads(sql: str, catalogue: Catalogue) -> list[Query]:
    """The billed statements of BigQuery ``sql`` (a script bills each statement), with what each reads."""
    queries = []
    for tree in sqlglot.parse(sql, read="bigquery"):
        if tree is None:
            continue
        queries.append(statement_reads(tree, catalogue))
    return queries


def statement_reads(tree: exp.Expression, catalogue: Catalogue) -> Query:
    if any(t.db.upper() == "INFORMATION_SCHEMA" or t.name.upper() == "INFORMATION_SCHEMA"
           or "INFORMATION_SCHEMA" in t.sql().upper() for t in tree.find_all(exp.Table)):
        return Query(fixed_bytes=INFORMATION_SCHEMA_BYTES, kind="information_schema")
    if isinstance(tree, exp.Delete):
        if _whole_partition_delete(tree, catalogue):
            return Query(kind="partition delete")
        return Query(_dml_reads(tree, catalogue), kind="delete")
    if isinstance(tree, exp.Update):
        return Query(_dml_reads(tree, catalogue), kind="update")
    if isinstance(tree, exp.Insert | exp.Create):
        body = tree.expression
        if body is None or not isinstance(body, exp.Query):
            return Query(kind="ddl")
        return Query(_select_reads(body.copy(), catalogue), kind=tree.key)
    if isinstance(tree, exp.Query):
        return Query(_select_reads(tree.copy(), catalogue))
    return Query(kind=tree.key)


def bind_parameters(sql: str, values: Mapping[str, Any]) -> str:
    """BigQuery ``sql`` with each ``@name`` replaced by its value as a literal: BigQuery prunes partitions on a
    query parameter as on a constant, and the analysis needs the day."""
    tree_list = sqlglot.parse(sql, read="bigquery")

    def literal(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Parameter) and node.name in values:
            return _literal(values[node.name])
        return node

    return ";\n".join(t.transform(literal).sql(dialect="bigquery") for t in tree_list if t is not None)


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.convert(value)


# --- measuring a read on DuckDB ---------------------------------------------------------------------------
def value_size_sql(expression: str, duckdb_type: str | exp.DataType) -> str:
    """DuckDB SQL of the logical bytes of one value of ``expression`` (NULL: 0)."""
    kind = duckdb_type if isinstance(duckdb_type, exp.DataType) else exp.DataType.build(duckdb_type, dialect="duckdb")
    fixed = _FIXED_SIZES.get(kind.this)
    if fixed is not None:
        return f"(case when {expression} is null then 0 else {fixed} end)"
    if kind.this in exp.DataType.TEXT_TYPES or kind.this == exp.DataType.Type.JSON:
        # strlen: the length in bytes of the UTF-8 text (length() counts characters).
        return f"coalesce(2 + strlen(cast({expression} as varchar)), 0)"
    if kind.this in (exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY, exp.DataType.Type.BLOB):
        return f"coalesce(2 + octet_length({expression}), 0)"
    if kind.this in (exp.DataType.Type.ARRAY, exp.DataType.Type.LIST):
        element = value_size_sql("x", kind.expressions[0])
        return f"coalesce(list_sum(list_transform({expression}, x -> {element})), 0)"
    if kind.this == exp.DataType.Type.STRUCT:
        fields = [f for f in kind.expressions if isinstance(f, exp.ColumnDef)]
        parts = [value_size_sql(f"struct_extract({expression}, '{f.name}')", f.args["kind"]) for f in fields]
        return "(" + " + ".join(parts or ["0"]) + ")"
    raise ValueError(f"no BigQuery logical size for DuckDB type {kind.sql(dialect='duckdb')}")


def column_bytes_sql(column: str, duckdb_type: str) -> str:
    """DuckDB SQL of the logical bytes of a whole column (an aggregate)."""
    quoted = f'"{column}"'
    kind = exp.DataType.build(duckdb_type, dialect="duckdb")
    fixed = _FIXED_SIZES.get(kind.this)
    if fixed is not None:  # count() skips the NULLs, which are free
        return f"{fixed} * count({quoted})"
    return f"coalesce(sum({value_size_sql(quoted, kind)}), 0)"


def _days_sql(days: Days, partitioning: Partitioning) -> str:
    column = f'"{partitioning.column}"'
    day = f"cast({column} as date)" if partitioning.timestamp else column
    terms = []
    if days.days:
        bounds = [f"{day} >= date '{days.first}'" if days.first else "",
                  f"{day} <= date '{days.last}'" if days.last else ""]
        terms.append(" and ".join(b for b in bounds if b) or f"{column} is not null")
    if days.null:
        terms.append(f"{column} is null")
    return " or ".join(f"({t})" for t in terms) or "false"


def scan_sql(read: TableRead, catalogue: Catalogue) -> str | None:
    """The DuckDB query whose one value is the logical bytes ``read`` bills (before the minimum); None when it
    references no column (nothing is read)."""
    types = catalogue.columns[(read.schema, read.table)]
    if not read.columns:
        return None
    total = " + ".join(column_bytes_sql(c, types[c]) for c in sorted(read.columns))
    partitioning = catalogue.partitioning.get((read.schema, read.table))
    where = ""
    if partitioning is not None and not any(d.everything and d.null for d in read.days):
        where = " where " + " or ".join(f"({_days_sql(d, partitioning)})" for d in read.days)
    return f'select {total} from "{read.schema}"."{read.table}"{where}'


# --- the bill ------------------------------------------------------------------------------------------------
def billed(query: Query, read_bytes: Callable[[TableRead], int], scale: float = 1.0) -> int:
    """Bytes BigQuery bills for ``query`` when each table's data is ``scale`` times what ``read_bytes`` finds:
    the logical bytes of each read, at least 10 MB a referenced table. (BigQuery then rounds a query's bill up to
    a whole MB, left out here: under 1 MB a query, and the bill of a query then splits exactly by table.)"""
    return query.fixed_bytes + sum(max(round(read_bytes(r) * scale), MIN_TABLE_BYTES) for r in query.reads)

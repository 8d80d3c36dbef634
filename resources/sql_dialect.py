"""The one place where the SQL the Python assets issue is turned into each engine's dialect.

Python code writes one statement, in the DuckDB dialect, with ``{analytics}`` / ``{raw}`` schema placeholders
and ``$name`` parameters. DuckDB runs it as written. For BigQuery, sqlglot transpiles it (``$name`` becomes
``@name``, reserved words used as names are quoted, type names are translated) and the few constructs sqlglot
maps to something BigQuery rejects are rewritten here:

- an aggregate ``quantile_cont(x, q)`` (``percentile_cont`` on BigQuery is an analytic function only) becomes
  ``approx_quantiles(x, 100)[offset(q * 100)]``: BigQuery's approximate quantile at 1% resolution, which is
  what a summary of hundreds of millions of scores should pay for.
- a row hash ``hash(x)`` of a struct or a table alias (the raw-contract gate's load checksum,
  ``bit_xor(hash({...}))``) becomes ``FARM_FINGERPRINT(TO_JSON_STRING(x))``: a 64-bit fingerprint of the row.
- a timestamp literal ``cast('2026-02-28 00:00:00' as timestamp)`` stays a BigQuery ``TIMESTAMP`` (sqlglot would
  make it a ``DATETIME``): the raw tables' TIMESTAMP columns are BigQuery TIMESTAMPs in UTC (the source
  contract), and a DATETIME does not compare with them.

:func:`bigquery_problems` names what BigQuery would still refuse; the tests run it over every statement the
Python code issues during a real materialisation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlglot is imported on first use: the DuckDB path of the code location never needs it
    from sqlglot import exp

# Identifiers that survive DuckDB parsing and are swapped for the real datasets after transpilation.
_ANALYTICS = "__trust_analytics__"
_RAW = "__trust_raw__"
# Percentile resolution of the BigQuery rewrite (approx_quantiles buckets).
_QUANTILE_BUCKETS = 100
PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# DuckDB functions sqlglot does not model that bigquery_sql rewrites (below): portable through this layer.
REWRITTEN_FUNCTIONS: frozenset[str] = frozenset({"hash"})


def date_list_sql(days: Sequence[date]) -> str:
    """A literal list of DATEs from configuration (trusted values), readable by DuckDB and BigQuery alike."""
    return ", ".join(f"DATE '{d.isoformat()}'" for d in days)


def duckdb_sql(sql: str, analytics: str, raw: str) -> str:
    """The statement for DuckDB: the schema placeholders filled in, ``$name`` parameters kept."""
    return sql.replace("{analytics}", analytics).replace("{raw}", raw)


def parameter_names(sql: str) -> set[str]:
    return set(PARAMETER.findall(sql))


def _aggregate_quantile(node: exp.Expression) -> exp.Expression:
    """``percentile_cont(x, q)`` outside a window -> ``approx_quantiles(x, 100)[offset(round(q * 100))]``."""
    import sqlglot
    from sqlglot import exp
    if not isinstance(node, exp.PercentileCont) or isinstance(node.parent, exp.Window | exp.WithinGroup):
        return node
    quantile = node.expression
    if not isinstance(quantile, exp.Literal) or quantile.is_string:
        raise ValueError(f"quantile must be a numeric literal to run on BigQuery: {node.sql('duckdb')}")
    offset = round(float(quantile.this) * _QUANTILE_BUCKETS)
    value = node.this.sql(dialect="bigquery")
    return sqlglot.parse_one(
        f"approx_quantiles({value}, {_QUANTILE_BUCKETS})[offset({offset})]", read="bigquery"
    )


def _row_hash(node: exp.Expression) -> exp.Expression:
    """``hash(x)`` (DuckDB's hash of a row or value) -> ``farm_fingerprint(to_json_string(x))``."""
    import sqlglot
    from sqlglot import exp
    if not isinstance(node, exp.Anonymous) or str(node.this).lower() != "hash" or len(node.expressions) != 1:
        return node
    value = node.expressions[0].sql(dialect="bigquery")
    return sqlglot.parse_one(f"farm_fingerprint(to_json_string({value}))", read="bigquery")


def _timestamp_literal(node: exp.Expression) -> exp.Expression:
    """``cast('<text>' as timestamp)`` -> a cast to BigQuery's TIMESTAMP (a UTC instant), not to DATETIME."""
    from sqlglot import exp
    if (isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string
            and node.to.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)):
        node.set("to", exp.DataType.build("TIMESTAMPTZ"))
    return node


def _qualify_tables(node: exp.Expression, project: str, analytics: str, raw: str) -> exp.Expression:
    from sqlglot import exp
    if isinstance(node, exp.Table) and node.args.get("db") is not None:
        dataset = {_ANALYTICS: analytics, _RAW: raw}.get(node.db)
        if dataset is not None:
            node.set("db", exp.to_identifier(dataset))
            node.set("catalog", exp.to_identifier(project, quoted=True))
    return node


@lru_cache(maxsize=1024)
def bigquery_sql(sql: str, project: str, analytics: str, raw: str) -> str:
    """The statement for BigQuery: transpiled from DuckDB, tables qualified as `project`.dataset.table.

    Raises ``sqlglot.errors.UnsupportedError`` (or ``ParseError``) rather than sending SQL BigQuery would refuse.
    """
    import sqlglot
    from sqlglot.errors import ErrorLevel
    statements = sqlglot.parse(duckdb_sql(sql, _ANALYTICS, _RAW), read="duckdb", error_level=ErrorLevel.RAISE)
    out = []
    for tree in statements:
        if tree is None:
            continue
        tree = tree.transform(_aggregate_quantile)
        tree = tree.transform(_row_hash)
        tree = tree.transform(_timestamp_literal)
        tree = tree.transform(lambda n: _qualify_tables(n, project, analytics, raw))
        out.append(tree.sql(dialect="bigquery", unsupported_level=ErrorLevel.RAISE))
    return ";\n".join(out)


def bigquery_problems(sql: str, origin: str = "<sql>") -> list[str]:
    """What BigQuery would refuse in a statement already in its dialect (e.g. from :func:`bigquery_sql`)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel

    # Aggregates BigQuery has only as analytic (OVER ...) functions, or not at all.
    analytic_only = (exp.PercentileCont, exp.PercentileDisc, exp.Median, exp.Quantile)
    try:
        statements = sqlglot.parse(sql, read="bigquery", error_level=ErrorLevel.RAISE)
    except sqlglot.errors.ParseError as error:
        return [f"{origin}: does not parse as BigQuery SQL: {error}"]
    problems: list[str] = []
    for tree in statements:
        if tree is None:
            continue
        for node in tree.walk():
            if isinstance(node, exp.Anonymous):
                problems.append(f"{origin}: function {node.name}() is unknown to BigQuery")
            elif isinstance(node, analytic_only) and not isinstance(node.parent, exp.Window):
                problems.append(f"{origin}: aggregate {node.key} (BigQuery has it only with OVER)")
            elif isinstance(node, exp.Filter):
                problems.append(f"{origin}: aggregate FILTER clause")
            elif isinstance(node, exp.Placeholder) and not node.name:
                problems.append(f"{origin}: positional parameter (BigQuery scripts take @name parameters)")
    if "$" in re.sub(r"'(?:[^']|'')*'|`[^`]*`", "", sql):
        problems.append(f"{origin}: '$' parameter left in BigQuery SQL")
    return problems

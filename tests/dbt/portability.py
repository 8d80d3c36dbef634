"""Portability guard: the dbt SQL must run on BigQuery as well as on DuckDB.

dbt cannot compile for BigQuery without credentials (it opens a connection), so the guard works on what we
have: the model and macro sources, and the SQL compiled for DuckDB.

1. ``source_problems``: the SQL we write (models, and macros other than ``duckdb__*`` implementations) may not
   use DuckDB-only syntax: ``::`` casts, interval arithmetic, ``date +/- integer``, QUALIFY, FILTER, DuckDB-only
   functions or type names (types go through the type_* macros).
2. ``dispatch_problems``: every ``duckdb__x`` macro has a ``bigquery__x`` sibling.
3. ``compiled_problems``: each compiled model parses as DuckDB with sqlglot, contains no construct sqlglot sees
   as engine-specific (unknown functions, interval arithmetic, QUALIFY, FILTER, ``::``), transpiles to BigQuery
   without unsupported features, and the BigQuery text parses back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

# (what, pattern) on comment- and string-free source text, lower-cased.
_SOURCE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (what, re.compile(pattern))
    for what, pattern in (
        ("'::' cast", r"::"),
        ("interval arithmetic (+/- interval)", r"[-+]\s*interval\b"),
        ("interval literal with a bare number (use date_add / the add_days macro)", r"\binterval\s+'?-?\d"),
        ("date +/- integer", r"\b(current_date|[a-z_.]*date)\s*[-+]\s*\d"),
        ("QUALIFY", r"\bqualify\b"),
        ("aggregate FILTER (WHERE ...)", r"\bfilter\s*\(\s*where\b"),
        ("SELECT * EXCLUDE / REPLACE", r"\*\s*(exclude|replace)\s*\("),
        ("'//' integer division", r"//"),
        ("ILIKE", r"\bilike\b"),
        ("date_diff / date_trunc with the part first (DuckDB argument order)", r"\bdate_(diff|trunc)\s*\(\s*'"),
        (
            "DuckDB-only function",
            r"\b(strftime|strptime|epoch|epoch_ms|list_[a-z_]+|list|struct_pack|generate_series|range|date_part"
            r"|datediff|date_sub|regexp_matches|string_split|arg_max|arg_min|count_if|today|make_date|to_days"
            r"|to_months|try_cast|printf|read_csv|read_csv_auto|read_parquet|median|quantile_cont|list_value)\s*\(",
        ),
        (
            "engine-specific type name (use the type_* macros)",
            r"\bas\s+(double|varchar|hugeint|ubigint|uinteger|usmallint|utinyint|float8|float4|real|text|boolean"
            r"|float64|int64|string|bool)\b",
        ),
    )
)

# Functions sqlglot does not model but that exist with the same meaning on both engines.
_PORTABLE_UNKNOWN_FUNCTIONS: frozenset[str] = frozenset()


def _strip_comments_and_strings(sql: str) -> str:
    sql = re.sub(r"\{#.*?#\}", " ", sql, flags=re.S)
    # Jinja is not SQL: statements go, expressions become a neutral identifier.
    sql = re.sub(r"\{%.*?%\}", " ", sql, flags=re.S)
    sql = re.sub(r"\{\{.*?\}\}", " jinja_expression ", sql, flags=re.S)
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    sql = re.sub(r"--[^\n]*", " ", sql)
    # Keep the quotes so patterns can still see "a string literal starts here".
    return re.sub(r"'(?:[^']|'')*'", "''", sql).lower()


def _drop_duckdb_macros(source: str) -> str:
    # duckdb__* macros are the DuckDB side of adapter dispatch: engine-specific by design.
    return re.sub(r"\{%-?\s*macro\s+duckdb__.*?\{%-?\s*endmacro\s*-?%\}", " ", source, flags=re.S)


def source_problems(sql: str, origin: str = "<sql>") -> list[str]:
    """DuckDB-only constructs in hand-written (not yet compiled) model or macro SQL."""
    # Macro names are read before Jinja is stripped; here only the SQL text matters.
    text = _strip_comments_and_strings(_drop_duckdb_macros(sql))
    problems = []
    for what, pattern in _SOURCE_RULES:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            problems.append(f"{origin}:{line}: {what}: {match.group(0)!r}")
    return problems


def dispatch_problems(macro_sources: Iterable[str]) -> list[str]:
    """duckdb__x implementations without a bigquery__x sibling."""
    names: set[str] = set()
    for source in macro_sources:
        names.update(re.findall(r"\{%-?\s*macro\s+([a-z0-9_]+)\s*\(", source))
    return [
        f"macro {name} has no bigquery__{name[len('duckdb__'):]}"
        for name in sorted(names)
        if name.startswith("duckdb__") and f"bigquery__{name[len('duckdb__'):]}" not in names
    ]


def compiled_problems(sql: str, origin: str = "<compiled>") -> list[str]:
    """Problems of one compiled (DuckDB) model for BigQuery; empty when it is portable."""
    problems: list[str] = []
    if "::" in _strip_comments_and_strings(sql):
        problems.append(f"{origin}: '::' cast")
    try:
        tree = sqlglot.parse_one(sql, read="duckdb", error_level=ErrorLevel.RAISE)
    except sqlglot.errors.ParseError as error:
        return [*problems, f"{origin}: does not parse as DuckDB SQL: {error}"]
    for node in tree.walk():
        if isinstance(node, exp.Anonymous) and node.name.lower() not in _PORTABLE_UNKNOWN_FUNCTIONS:
            problems.append(f"{origin}: engine-specific function {node.name}()")
        elif isinstance(node, exp.Qualify):
            problems.append(f"{origin}: QUALIFY")
        elif isinstance(node, exp.Filter):
            problems.append(f"{origin}: aggregate FILTER clause")
        elif isinstance(node, exp.Add | exp.Sub) and any(
            isinstance(side, exp.Interval) for side in (node.left, node.right)
        ):
            problems.append(f"{origin}: interval arithmetic {node.sql(dialect='duckdb')[:60]}")
        elif isinstance(node, exp.Explode | exp.GenerateSeries | exp.ToDays):
            problems.append(f"{origin}: DuckDB-only construct {node.key}")
    try:
        bigquery_sql = tree.sql(dialect="bigquery", unsupported_level=ErrorLevel.RAISE)
        sqlglot.parse_one(bigquery_sql, read="bigquery", error_level=ErrorLevel.RAISE)
    except (sqlglot.errors.UnsupportedError, sqlglot.errors.ParseError) as error:
        problems.append(f"{origin}: does not transpile to BigQuery: {error}")
    return problems


def project_source_problems(project_dir: Path) -> list[str]:
    """source_problems over every model and macro of the dbt project, plus the dispatch rule."""
    problems: list[str] = []
    macro_texts = []
    for path in sorted([*project_dir.glob("models/**/*.sql"), *project_dir.glob("macros/**/*.sql")]):
        text = path.read_text()
        if path.is_relative_to(project_dir / "macros"):
            macro_texts.append(text)
        problems.extend(source_problems(text, str(path.relative_to(project_dir))))
    problems.extend(dispatch_problems(macro_texts))
    return problems

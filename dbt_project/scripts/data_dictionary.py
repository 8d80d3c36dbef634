"""Write docs/data_dictionary.md from the dbt project's YAML (models, columns, types, tests, sources).

Usage: ``python dbt_project/scripts/data_dictionary.py [--check]``. ``--check`` exits 1 when the page is stale.
The page is generated: edit the YAML next to the models, then run this script. No warehouse and no dbt run
are needed (the YAML is the source of truth the dbt docs site is built from as well).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DBT_DIR = Path(__file__).resolve().parent.parent
DOC_PATH = DBT_DIR.parent / "docs" / "data_dictionary.md"

# (folder under models/, section title, schema, materialisation) in the order the page presents them.
LAYERS: tuple[tuple[str, str, str, str], ...] = (
    ("marts/customer_360", "Business layer: who the customer is", "analytics", "incremental by snapshot_date"),
    ("marts/features", "Business layer: cohort features", "analytics", "incremental by snapshot_date"),
    ("intermediate/daily", "Shared feature families (daily)", "intermediate", "incremental by snapshot_date"),
    ("marts/outcomes", "Business layer: outcome labels", "analytics", "table"),
    ("intermediate", "Intermediate building blocks", "intermediate", "view"),
    ("staging", "Staging (one view per raw table)", "staging", "view"),
)
_TYPE_BY_TARGET = re.compile(r"\{\{\s*'(\w+)'\s+if\s+target\.type\s*==\s*'bigquery'\s+else\s+'(\w+)'\s*\}\}")


@dataclass(frozen=True)
class Documented:
    name: str
    description: str
    columns: list[dict[str, Any]]
    tests: list[Any]


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _type(data_type: str | None) -> str:
    """``double`` / ``DOUBLE (BigQuery FLOAT64)`` from a plain or per-target data_type."""
    if not data_type:
        return ""
    match = _TYPE_BY_TARGET.fullmatch(data_type.strip())
    if match:
        bigquery, duckdb = match.groups()
        return f"{duckdb.upper()} (BigQuery {bigquery.upper()})"
    return data_type.upper()


def _test_name(test: Any) -> str:
    name = test if isinstance(test, str) else next(iter(test))
    short = name.split(".")[-1]
    if isinstance(test, dict):
        body = test[name] or {}
        arguments = body.get("arguments") or {}
        if short == "accepted_values":
            return f"accepted_values {arguments.get('values')}"
        if short == "relationships":
            return f"relationships -> {arguments.get('to')}.{arguments.get('field')}"
        if short == "unique_combination_of_columns":
            return f"unique ({', '.join(arguments.get('combination_of_columns', []))})"
        if short == "relationships_on_columns":
            return f"relationships ({', '.join(arguments.get('columns', []))}) -> {arguments.get('to')}"
        if short == "expression_is_true":
            return f"expression_is_true: {_one_line(arguments.get('expression'))}"
        if short == "not_null_columns":
            return f"not_null on {len(arguments.get('columns', []))} columns (one query; marked in the column table)"
        severity = (body.get("config") or {}).get("severity")
        if severity:
            return f"{short} ({severity})"
    return short


def _models_in(folder: str) -> list[Documented]:
    found: dict[str, Documented] = {}
    for path in sorted((DBT_DIR / "models" / folder).glob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            found[model["name"]] = Documented(
                name=model["name"],
                description=model.get("description", ""),
                columns=model.get("columns") or [],
                tests=model.get("data_tests") or [],
            )
    order = [p.stem for p in sorted((DBT_DIR / "models" / folder).glob("*.sql"))]
    # Business tables in lineage order; the rest alphabetically.
    preferred = ["customer_360_definition", "mobile_features", "tv_features", "broadband_features"]
    order.sort(key=lambda name: (preferred.index(name) if name in preferred else len(preferred), name))
    return [found[name] for name in order if name in found]


def _not_null_columns(tests: list[Any]) -> set[str]:
    """The columns a table-level not_null_columns test covers: shown as not_null next to each column."""
    covered: set[str] = set()
    for test in tests:
        if isinstance(test, dict) and next(iter(test)).split(".")[-1] == "not_null_columns":
            covered |= set(((test[next(iter(test))] or {}).get("arguments") or {}).get("columns", []))
    return covered


def _column_table(columns: list[dict[str, Any]], with_window: bool, not_null: set[str] | None = None) -> list[str]:
    header = "| column | type | meaning |" + (" unit | window |" if with_window else "") + " tests |"
    rule = "| --- | --- | --- |" + (" --- | --- |" if with_window else "") + " --- |"
    lines = [header, rule]
    for column in columns:
        meta = column.get("meta") or {}
        cells = [f"`{column['name']}`", _type(column.get("data_type")), _one_line(column.get("description"))]
        if with_window:
            cells += [meta.get("unit", ""), meta.get("window", "")]
        names = [_test_name(t) for t in column.get("data_tests") or []]
        if column["name"] in (not_null or set()):
            names.insert(0, "not_null")
        cells.append(", ".join(names))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render() -> str:
    lines = [
        "# Data dictionary",
        "",
        "Every table the dbt project builds and every raw source it reads, with column types, meanings and the",
        "data tests that guard them. Generated from the YAML next to the dbt models by",
        "`python dbt_project/scripts/data_dictionary.py`; edit the YAML, not this page.",
        "",
        "Types are given for DuckDB (local) with the BigQuery spelling where it differs; the business-layer",
        "tables enforce them as dbt contracts. `D` is a table's `snapshot_date`. The daily tables are built",
        "incrementally: a run replaces exactly the snapshot dates of its window (dbt vars `start_date` ..",
        "`end_date`), and their data tests look at that window only.",
        "",
    ]
    for folder, title, schema, materialisation in LAYERS:
        lines += [f"## {title}", ""]
        for model in _models_in(folder):
            lines += [f"### `{schema}.{model.name}`", "", _one_line(model.description), ""]
            lines.append(f"Materialisation: {materialisation}.")
            if model.tests:
                lines.append("Table tests: " + "; ".join(_test_name(t) for t in model.tests) + ".")
            lines.append("")
            with_window = any((c.get("meta") or {}).get("window") for c in model.columns)
            lines += [*_column_table(model.columns, with_window, _not_null_columns(model.tests)), ""]
    (source,) = yaml.safe_load((DBT_DIR / "models" / "staging" / "_sources.yml").read_text())["sources"]
    freshness = source.get("config", {}).get("freshness", {})
    warn, error = freshness.get("warn_after", {}), freshness.get("error_after", {})
    lines += [
        "## Raw sources (schema `raw`)",
        "",
        _one_line(source.get("description")),
        "",
        f"Freshness on `{source.get('loaded_at_field')}`: warn after {warn.get('count')} {warn.get('period')}s,"
        f" error after {error.get('count')} {error.get('period')}s (tables that override it say so).",
        "",
    ]
    for table in source["tables"]:
        lines += [f"### `raw.{table['name']}`", "", _one_line(table.get("description")), ""]
        if "freshness" in (table.get("config") or {}) and table["config"]["freshness"] is None:
            lines += ["No freshness check (sparse events).", ""]
        if table.get("data_tests"):
            lines += ["Table tests: " + "; ".join(_test_name(t) for t in table["data_tests"]) + ".", ""]
        lines += [*_column_table(table.get("columns") or [], with_window=False), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/data_dictionary.md is stale")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        current = DOC_PATH.read_text() if DOC_PATH.exists() else ""
        if current != page:
            print(f"{DOC_PATH} is stale: run python dbt_project/scripts/data_dictionary.py", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(page)
    print(DOC_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The SQL is portable to BigQuery: checked on the sources, on the SQL compiled for DuckDB, and by parsing the
project for the BigQuery target (dbt cannot compile for BigQuery without credentials: it opens a connection)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dbt.conftest import DbtSandbox
from tests.dbt.portability import compiled_problems, dispatch_problems, project_source_problems, source_problems
from trust_assets.dbt_project import DBT_PROJECT_DIR

DUCKDB_ONLY_SNIPPETS = {
    "cast": "select snapshot_date::date from t",
    "interval arithmetic": "select snapshot_date + interval 3 day from t",
    "date minus integer": "select snapshot_date - 1 as yesterday from t",
    "qualify": "select * from t qualify row_number() over (partition by a order by b) = 1",
    "filter": "select count(*) filter (where is_complaint) from t",
    "function": "select strftime(snapshot_date, '%Y-%m') from t",
    "date_diff order": "select date_diff('day', start_date, end_date) from t",
    "type": "select cast(x as double) from t",
}


def _compiled_models(sandbox: DbtSandbox) -> dict[str, str]:
    root = sandbox.target_path / "compiled" / "trust_index" / "models"
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*.sql") if ".yml" not in str(p)}


def _compiled_data_tests(sandbox: DbtSandbox) -> dict[str, str]:
    # Generic tests compile under models/<file>.yml/; unit tests carry DuckDB-typed fixtures and run in CI only.
    root = sandbox.target_path / "compiled" / "trust_index"
    return {
        str(p.relative_to(root)): p.read_text()
        for p in root.rglob("*.sql")
        if ".yml" in str(p) and "unit_tests" not in str(p)
    }


def test_model_and_macro_sources_are_portable() -> None:
    assert project_source_problems(DBT_PROJECT_DIR) == []


@pytest.mark.parametrize("construct", sorted(DUCKDB_ONLY_SNIPPETS))
def test_source_check_rejects_duckdb_only_sql(construct: str) -> None:
    assert source_problems(DUCKDB_ONLY_SNIPPETS[construct]), construct


def test_dispatch_check_requires_a_bigquery_implementation() -> None:
    macros = ["{% macro duckdb__thing(x) %}x{% endmacro %}", "{% macro default__thing(x) %}x{% endmacro %}"]
    assert dispatch_problems(macros) == ["macro duckdb__thing has no bigquery__thing"]
    assert dispatch_problems([*macros, "{% macro bigquery__thing(x) %}x{% endmacro %}"]) == []


def test_compiled_models_transpile_to_bigquery(built_warehouse: Path, dbt_sandbox: DbtSandbox) -> None:
    compiled = _compiled_models(dbt_sandbox)
    models = {p.stem for p in DBT_PROJECT_DIR.glob("models/**/*.sql")}
    assert {Path(name).stem for name in compiled} == models
    problems = [problem for name, sql in compiled.items() for problem in compiled_problems(sql, name)]
    assert problems == []


def test_compiled_data_tests_transpile_to_bigquery(built_warehouse: Path, dbt_sandbox: DbtSandbox) -> None:
    compiled = _compiled_data_tests(dbt_sandbox)
    assert len(compiled) > 200
    problems = [problem for name, sql in compiled.items() for problem in compiled_problems(sql, name)]
    assert problems == []


def test_compiled_check_rejects_a_duckdb_only_construct(built_warehouse: Path, dbt_sandbox: DbtSandbox) -> None:
    sql = _compiled_models(dbt_sandbox)["marts/customer_360/customer_360_definition.sql"]
    assert compiled_problems(sql) == []
    broken = sql.replace("p.snapshot_date,", "p.snapshot_date::date as snapshot_date,", 1)
    assert broken != sql and compiled_problems(broken)
    assert compiled_problems(sql.replace("p.snapshot_date,", "p.snapshot_date + interval 1 day,", 1))
    mobile = "max(case when product = 'mobile' then 1 else 0 end)"
    assert mobile in sql
    assert compiled_problems(sql.replace(mobile, f"list_sum(list({mobile[4:-1]}))", 1))
    for snippet in ("select x::date from t", "select count(*) filter (where a) from t",
                    "select * from t qualify row_number() over (order by a) = 1"):
        assert compiled_problems(snippet), snippet


def test_project_parses_for_the_bigquery_target(dbt_sandbox: DbtSandbox, tmp_path: Path) -> None:
    """The BigQuery profile renders from the environment alone, and the daily models get BigQuery's strategy:
    dynamic insert_overwrite whose partitions are copied from the temporary table (copy jobs bill nothing)."""
    sandbox = DbtSandbox(tmp_path)
    env = {"TRUST_BQ_PROJECT": "example-project", "TRUST_BQ_DATASET": "analytics", "TRUST_BQ_LOCATION": "EU",
           "GOOGLE_APPLICATION_CREDENTIALS": ""}
    sandbox.run(tmp_path / "unused.duckdb", ["parse"], target="bigquery", extra_env=env)
    manifest = json.loads((sandbox.target_path / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "bigquery"
    incremental = {
        node["name"] for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }
    assert incremental == {
        "customer_360_definition", "int_common_features", "mobile_features", "tv_features", "broadband_features",
    }
    for model in sorted(incremental):
        daily = manifest["nodes"][f"model.trust_index.{model}"]["config"]
        # Atomic per partition: insert_overwrite replaces whole snapshot_date partitions, one copy job each.
        assert daily["incremental_strategy"] == "insert_overwrite", model
        assert daily["partition_by"] == {"field": "snapshot_date", "data_type": "date", "granularity": "day",
                                         "copy_partitions": True}, model
        assert daily["cluster_by"] == ["customer_id"], model
        # Dynamic: the partitions come from the temporary table, which on_schema_change 'fail' (the enforced
        # contract's requirement) makes dbt create; its contract columns make its schema the target's.
        assert daily.get("partitions") is None, model
        assert (daily["on_schema_change"], daily["contract"]["enforced"]) == ("fail", True), model
    columns = manifest["nodes"]["model.trust_index.mobile_features"]["columns"]
    assert columns["data_gb_28d"]["data_type"] == "float64" and columns["customer_id"]["data_type"] == "string"

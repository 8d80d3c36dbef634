"""Every daily model reads each partitioned raw table only within constant bounds on its partition column.

The SQL is the one dbt compiled for the session's build of the tiny telco (window: the snapshot date), rendered
as BigQuery SQL by sqlglot the way tests/dbt/test_portability.py checks it; the checks work on the AST
(tests/dbt/pruning.py). The partition columns come from the source contract (RAW_TABLES).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot

from source_contract.contract_doc import bigquery_ddl
from source_contract.raw_tables import RAW_TABLES, RawTable
from tests.dbt.conftest import DbtSandbox
from tests.dbt.pruning import pruning_problems, raw_tables_read

PARTITIONED = {t.name: t.partition_by for t in RAW_TABLES if t.partition_by}
DAILY_MODELS = ("customer_360_definition", "int_common_features", "mobile_features", "tv_features",
                "broadband_features")


def _manifest(sandbox: DbtSandbox) -> dict:
    return json.loads((sandbox.target_path / "manifest.json").read_text())


def _compiled_bigquery(sandbox: DbtSandbox, model: str) -> str:
    node = _manifest(sandbox)["nodes"][f"model.trust_index.{model}"]
    compiled = (sandbox.target_path / "compiled" / "trust_index" / node["original_file_path"]).read_text()
    return sqlglot.transpile(compiled, read="duckdb", write="bigquery")[0]


@pytest.mark.parametrize("model", DAILY_MODELS)
def test_each_raw_read_of_a_daily_model_is_bounded_by_constants(
    built_warehouse: Path, dbt_sandbox: DbtSandbox, model: str
) -> None:
    assert pruning_problems(_compiled_bigquery(dbt_sandbox, model), PARTITIONED, origin=model) == []


def test_the_daily_models_read_every_partitioned_raw_table(built_warehouse: Path, dbt_sandbox: DbtSandbox) -> None:
    """Not vacuous: between them the daily models read each partitioned table (and the usage only where needed)."""
    read = {model: raw_tables_read(_compiled_bigquery(dbt_sandbox, model)) & set(PARTITIONED)
            for model in DAILY_MODELS}
    assert set().union(*read.values()) == set(PARTITIONED)
    assert read["mobile_features"] == {"mobile_usage_weekly"}
    assert read["customer_360_definition"] == set()


def test_no_daily_model_reads_a_partitioned_table_through_a_view(
    built_warehouse: Path, dbt_sandbox: DbtSandbox
) -> None:
    """A view over a raw table (the staging views) reads all its partitions: no bound of the caller reaches it."""
    nodes = _manifest(dbt_sandbox)["nodes"]
    partitioned_sources = {f"source.trust_index.raw.{name}" for name in PARTITIONED}
    problems = []
    for model in DAILY_MODELS:
        pending = [p for p in nodes[f"model.trust_index.{model}"]["depends_on"]["nodes"] if p.startswith("model.")]
        while pending:
            node = nodes[pending.pop()]
            if node["name"] in DAILY_MODELS:
                continue  # partitioned by snapshot_date and read within the window
            parents = node["depends_on"]["nodes"]
            problems += [f"{model} <- {node['name']} <- {p}" for p in parents if p in partitioned_sources]
            pending += [p for p in parents if p.startswith("model.")]
    assert problems == []


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("select * from t join raw.bills as b on b.bill_date > t.d and b.bill_date <= date '2025-01-01'", "joined"),
        ("select * from raw.bills where bill_date > date '2024-01-01'", "no constant upper"),
        ("select * from (select * from raw.bills)"
         " where bill_date > date '2024-01-01' and bill_date < date '2025-01-01'", "no constant lower"),
        ("select * from raw.bills as b where b.bill_date > (select max(d) from t) and b.bill_date < current_date()",
         "no constant lower and no upper"),
        ("select (select count(*) from raw.bills as b where b.bill_date > t.d and b.bill_date < date '2025-01-01')"
         " from t", "no constant lower"),
    ],
    ids=["bound-in-join", "lower-only", "bound-above-the-scan", "subquery-and-clock", "correlated"],
)
def test_the_check_rejects_reads_bigquery_cannot_prune(sql: str, reason: str) -> None:
    (problem,) = pruning_problems(sql, PARTITIONED)
    assert reason in problem


def test_the_check_accepts_bounds_below_a_deduplication() -> None:
    sql = """select * from (
        select *, row_number() over (partition by bill_id order by loaded_at desc) as load_rank
        from raw.bills where bill_date >= cast('2024-08-01' as date) and cast('2025-07-31' as date) >= bill_date
    ) where load_rank = 1"""
    assert pruning_problems(sql, PARTITIONED) == []


@pytest.mark.parametrize("table", [t for t in RAW_TABLES if t.partition_by], ids=lambda t: t.name)
def test_the_operator_ddl_is_bigquery_and_partitions_on_the_contract_column(table: RawTable) -> None:
    ddl = sqlglot.parse_one(bigquery_ddl(table), read="bigquery")
    partition = ddl.find(sqlglot.exp.PartitionedByProperty)
    assert partition is not None and table.partition_by in partition.sql(dialect="bigquery")
    assert ddl.find(sqlglot.exp.ClusterProperty) is not None

"""Every daily model reads each partitioned table only within constant bounds on its partition column: the raw
event tables and the daily tables themselves (partitioned by snapshot_date on BigQuery).

The SQL is the one dbt compiled for the session's build of the tiny telco (window: the snapshot date), rendered
as BigQuery SQL by sqlglot the way tests/dbt/test_portability.py checks it; the checks work on the AST
(tests/dbt/pruning.py). The raw partition columns come from the source contract (RAW_TABLES); the daily tables
are the incremental models of the manifest (macro daily_model_config partitions each by snapshot_date).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot

from source_contract.contract_doc import bigquery_ddl
from source_contract.raw_tables import RAW_TABLES, RawTable
from tests.dbt.conftest import DbtSandbox
from tests.dbt.pruning import pruning_problems, raw_tables_read, tables_read

# The event tables; those partitioned by load day are read whole by design (RawTable.read_whole).
PARTITIONED = {t.name: t.partition_by for t in RAW_TABLES if t.partition_by and not t.read_whole}
DAILY_MODELS = ("customer_360_definition", "int_common_features", "mobile_features", "tv_features",
                "broadband_features")
# The daily tables by BigQuery name, as the compiled SQL of a model reads them (tests below check the manifest).
SNAPSHOT_PARTITIONED = {
    "analytics.customer_360_definition": "snapshot_date",
    "intermediate.int_common_features": "snapshot_date",
    "analytics.mobile_features": "snapshot_date",
    "analytics.tv_features": "snapshot_date",
    "analytics.broadband_features": "snapshot_date",
}


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


def test_the_snapshot_partitioned_tables_are_the_incremental_models(
    built_warehouse: Path, dbt_sandbox: DbtSandbox
) -> None:
    """Every incremental model is a daily table partitioned by snapshot_date on BigQuery, and one of the checked."""
    nodes = _manifest(dbt_sandbox)["nodes"].values()
    incremental = {f"{n['schema']}.{n['name']}" for n in nodes
                   if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"}
    assert incremental == set(SNAPSHOT_PARTITIONED)
    assert {name.split(".")[1] for name in incremental} == set(DAILY_MODELS)


@pytest.mark.parametrize("model", DAILY_MODELS)
def test_each_daily_table_read_of_a_daily_model_is_bounded_by_constants(
    built_warehouse: Path, dbt_sandbox: DbtSandbox, model: str
) -> None:
    """A daily table is read for the window's snapshot dates only, by a constant bound BigQuery prunes on; a bound
    in a join condition would read every day of its history."""
    sql = _compiled_bigquery(dbt_sandbox, model)
    assert pruning_problems(sql, SNAPSHOT_PARTITIONED, schema=None, origin=model) == []


def test_the_daily_models_read_the_daily_tables_they_build_on(built_warehouse: Path, dbt_sandbox: DbtSandbox) -> None:
    """Not vacuous: the common features read customer_360_definition, the cohort features it and the common ones."""
    read = {model: tables_read(_compiled_bigquery(dbt_sandbox, model)) & set(SNAPSHOT_PARTITIONED)
            for model in DAILY_MODELS}
    assert read["customer_360_definition"] == set()
    assert read["int_common_features"] == {"analytics.customer_360_definition"}
    for cohort in ("mobile", "tv", "broadband"):
        assert read[f"{cohort}_features"] == {"analytics.customer_360_definition", "intermediate.int_common_features"}


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
                continue  # partitioned by snapshot_date and read within the window (checked above)
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


# The shared features as the cohort models used to join them (macro common_feature_join): the window bound in the
# LEFT JOIN's condition, which BigQuery does not prune on, so every day of int_common_features was read.
_JOIN_BOUND = """select population.snapshot_date, common.arpu_3m
    from (select snapshot_date, customer_id from analytics.customer_360_definition
          where has_mobile and snapshot_date between cast('2026-02-28' as date) and cast('2026-02-28' as date))
        as population
    left join intermediate.int_common_features as common
        on common.snapshot_date = population.snapshot_date
        and common.customer_id = population.customer_id
        and common.product = 'mobile'
        and common.snapshot_date between cast('2026-02-28' as date) and cast('2026-02-28' as date)"""


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (_JOIN_BOUND, "intermediate.int_common_features is joined"),
        ("select * from (select * from analytics.mobile_features)"
         " where snapshot_date between cast('2026-02-01' as date) and cast('2026-02-28' as date)",
         "no constant lower and no upper"),
        ("select * from analytics.customer_360_definition as c"
         " where c.snapshot_date <= cast('2026-02-28' as date)", "no constant lower"),
    ],
    ids=["bound-in-join", "bound-above-the-scan", "upper-only"],
)
def test_the_check_rejects_daily_table_reads_bigquery_cannot_prune(sql: str, reason: str) -> None:
    (problem,) = pruning_problems(sql, SNAPSHOT_PARTITIONED, schema=None)
    assert reason in problem


def test_the_check_accepts_a_daily_table_scanned_within_the_window_then_joined() -> None:
    """The shape common_feature_join compiles to: the bounds in the WHERE of the subquery that scans the table."""
    sql = """select population.snapshot_date, common.arpu_3m
    from (select snapshot_date, customer_id from analytics.customer_360_definition
          where has_mobile and snapshot_date between cast('2026-02-28' as date) and cast('2026-02-28' as date))
        as population
    left join (
        select snapshot_date, customer_id, arpu_3m from intermediate.int_common_features
        where snapshot_date between cast('2026-02-28' as date) and cast('2026-02-28' as date)
            and product = 'mobile'
    ) as common
        on common.snapshot_date = population.snapshot_date
        and common.customer_id = population.customer_id"""
    assert pruning_problems(sql, SNAPSHOT_PARTITIONED, schema=None) == []


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

"""What BigQueryWarehouse sends, built without credentials: the google-cloud-bigquery job configurations and
the partition-replace script (atomic per partition, partitioned by snapshot_date, clustered, cost-guarded)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
import sqlglot
from dagster_gcp import BigQueryResource
from google.cloud import bigquery
from sqlglot import exp

from resources.bigquery_warehouse import BigQueryWarehouse, table_layout
from resources.sql_dialect import bigquery_problems
from trust_assets.config import SETTINGS
from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA


@pytest.fixture
def warehouse() -> BigQueryWarehouse:
    return BigQueryWarehouse(
        bigquery=BigQueryResource(project="acme-analytics", location="EU"),
        analytics_schema="trust",
        raw_schema="landing",
        maximum_bytes_billed=50_000_000_000,
    )


def test_query_jobs_carry_typed_named_parameters_the_cost_guard_and_labels(warehouse: BigQueryWarehouse) -> None:
    params = {"d": date(2026, 2, 28), "ts": datetime(2026, 2, 28, 6, tzinfo=UTC), "v": "ruler-v1", "n": 3,
              "x": 0.5, "flag": True}
    config = warehouse.query_job_config(params)
    assert isinstance(config, bigquery.QueryJobConfig)
    types = {p.name: p.type_ for p in config.query_parameters}
    assert types == {"d": "DATE", "ts": "TIMESTAMP", "v": "STRING", "n": "INT64", "x": "FLOAT64", "flag": "BOOL"}
    api = config.to_api_repr()
    assert api["query"]["maximumBytesBilled"] == "50000000000"
    assert api["query"]["parameterMode"] == "NAMED"
    assert config.labels == dict(SETTINGS.bigquery.job_labels)


def test_statements_are_rendered_for_the_configured_project_and_datasets(warehouse: BigQueryWarehouse) -> None:
    sql = warehouse.render("select count(*) as rows from {analytics}.customer_trust_signal where snapshot_date = $d")
    assert sql == "SELECT COUNT(*) AS `rows` FROM `acme-analytics`.trust.customer_trust_signal WHERE snapshot_date = @d"
    raw = warehouse.render("select * from {raw}.bills limit 0")
    assert raw == "SELECT * FROM `acme-analytics`.landing.bills LIMIT 0"


def test_loads_are_parquet_and_create_day_partitioned_clustered_tables(warehouse: BigQueryWarehouse) -> None:
    config = warehouse.load_job_config(list(TRUST_SIGNAL_SCHEMA), "WRITE_APPEND")
    assert isinstance(config, bigquery.LoadJobConfig)
    assert config.source_format == bigquery.SourceFormat.PARQUET
    assert config.write_disposition == "WRITE_APPEND"
    assert config.time_partitioning.type_ == bigquery.TimePartitioningType.DAY
    assert config.time_partitioning.field == "snapshot_date"
    assert config.clustering_fields == ["cohort", "customer_id"]
    # An existing table keeps its layout; tables without snapshot_date or cohort get only what applies.
    plain = warehouse.load_job_config(list(TRUST_SIGNAL_SCHEMA), "WRITE_TRUNCATE", layout=False)
    assert plain.time_partitioning is None and plain.clustering_fields is None
    registry = warehouse.load_job_config(["model_version", "cohort", "status"], "WRITE_APPEND")
    assert registry.time_partitioning is None and registry.clustering_fields == ["cohort"]
    assert table_layout(["snapshot_date", "customer_id", "segment"]) == ("snapshot_date", ["customer_id"])


def test_partition_replace_is_one_transaction_over_whole_days(warehouse: BigQueryWarehouse) -> None:
    staging = warehouse.staging_table_id("customer_trust_signal")
    assert staging.startswith(f"acme-analytics.trust.{SETTINGS.bigquery.staging_prefix}customer_trust_signal_")
    assert staging != warehouse.staging_table_id("customer_trust_signal")  # unique per write
    columns = list(TRUST_SIGNAL_SCHEMA)
    script = warehouse.replace_partitions_script("customer_trust_signal", staging, columns)
    assert bigquery_problems(script) == []
    statements = sqlglot.parse(script, read="bigquery")
    kinds = [type(s) for s in statements]
    assert kinds == [exp.Create, exp.Transaction, exp.Delete, exp.Insert, exp.Commit]
    create, _, delete, insert, _ = statements
    # Created (if missing) with the product layout, never inside the transaction (BigQuery refuses DDL there).
    assert create.args.get("exists") is True
    properties = create.sql(dialect="bigquery")
    assert "PARTITION BY snapshot_date" in properties and "CLUSTER BY cohort, customer_id" in properties
    # The window's days go and the new rows arrive in the same transaction, by explicit column names.
    where = delete.args["where"].this
    assert isinstance(where, exp.Between) and where.this.name == "snapshot_date"
    assert {where.args["low"].name, where.args["high"].name} == {"start", "end"}
    assert [c.name for c in insert.this.expressions] == columns
    assert insert.expression.find(exp.Table).name == staging.split(".")[-1]


def test_a_frame_outside_the_window_is_refused_before_anything_is_sent(warehouse: BigQueryWarehouse) -> None:
    frame = pl.DataFrame({"snapshot_date": [date(2026, 2, 27)], "customer_id": ["C00000001"]})
    # The check runs before the client is created: no credentials, no network needed to refuse.
    with pytest.raises(ValueError, match="outside the partition window"):
        warehouse.replace_partitions("customer_trust_signal", frame, date(2026, 2, 28), date(2026, 2, 28))


def test_partition_metadata_reads_the_raw_datasets_information_schema(warehouse: BigQueryWarehouse) -> None:
    """The raw-contract gate's partition metadata: one INFORMATION_SCHEMA.PARTITIONS query of the raw dataset,
    the table a typed parameter, under the same bytes-billed guard and labels as every query."""
    sql = warehouse.partition_metadata_sql()
    tree = sqlglot.parse_one(sql, read="bigquery")
    (table,) = list(tree.find_all(sqlglot.exp.Table))
    assert (table.catalog, table.db, table.name.upper()) == (
        "acme-analytics", "landing", "INFORMATION_SCHEMA.PARTITIONS"
    )
    assert [c.alias_or_name for c in tree.expressions] == ["partition_id", "total_rows", "last_modified"]
    config = warehouse.query_job_config({"table_name": "bills"})
    (parameter,) = config.query_parameters
    assert (parameter.name, parameter.type_, parameter.value) == ("table_name", "STRING", "bills")
    assert config.maximum_bytes_billed == 50_000_000_000

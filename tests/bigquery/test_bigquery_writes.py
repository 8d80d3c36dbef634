"""What BigQueryWarehouse sends, built without credentials: the google-cloud-bigquery job configurations and
the partition-replace script (atomic per partition, partitioned by snapshot_date, clustered, cost-guarded).

The writes themselves run against :class:`FakeClient`, which records every call dagster-gcp's client would get
instead of sending it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
import sqlglot
from dagster_gcp import BigQueryResource
from google.api_core.exceptions import NotFound
from google.cloud import bigquery
from sqlglot import exp

from resources.bigquery_warehouse import BigQueryWarehouse, table_layout
from resources.sql_dialect import bigquery_problems
from trust_assets.config import SETTINGS
from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA


@dataclass
class FakeJob:
    def result(self) -> None:
        return None


@dataclass
class FakeClient:
    """Records the calls BigQueryWarehouse makes; ``tables`` holds the tables that exist, with their layout."""

    tables: dict[str, bigquery.Table] = field(default_factory=dict)
    calls: list[tuple[str, Any, Any]] = field(default_factory=list)
    loaded: list[pl.DataFrame] = field(default_factory=list)

    def get_table(self, table_id: str) -> bigquery.Table:
        self.calls.append(("get_table", table_id, None))
        if table_id not in self.tables:
            raise NotFound(table_id)
        return self.tables[table_id]

    def query(self, sql: str, job_config: bigquery.QueryJobConfig) -> FakeJob:
        self.calls.append(("query", sql, job_config))
        return FakeJob()

    def load_table_from_file(self, file: Any, table_id: str, job_config: bigquery.LoadJobConfig) -> FakeJob:
        self.calls.append(("load", table_id, job_config))
        self.loaded.append(pl.read_parquet(file))
        return FakeJob()

    def delete_table(self, table_id: str, not_found_ok: bool = False) -> None:
        self.calls.append(("delete_table", table_id, None))

    def jobs(self) -> list[str]:
        return [kind for kind, _, _ in self.calls if kind in ("query", "load")]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    fake = FakeClient()

    @contextmanager
    def get_client(self: BigQueryResource) -> Iterator[FakeClient]:
        yield fake

    monkeypatch.setattr(BigQueryResource, "get_client", get_client)
    return fake


def existing_table(table_id: str, partition: str | None, clustering: list[str] | None) -> bigquery.Table:
    table = bigquery.Table(table_id)
    if partition:
        table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY, field=partition)
    table.clustering_fields = clustering
    return table


def signal_frame(*days: date) -> pl.DataFrame:
    """Rows of customer_trust_signal, two per day, with its columns and dtypes."""
    rows = [
        {"snapshot_date": d, "cohort": cohort, "customer_id": f"C{i:08d}", "segment": "s", "raw_score": 0.1,
         "trust_score": 0.1, "model_version": "m", "ruler_version": "r", "missing_features": 0}
        for d in days for i, cohort in enumerate(["mobile", "tv"])
    ]
    return pl.DataFrame(rows).with_columns(
        pl.lit(None, pl.String).alias(c) for c in ("msisdn", "icoms_account_uid", "region", "top_drivers")
    ).select(pl.col(c).cast(t) for c, t in TRUST_SIGNAL_SCHEMA.items())


SIGNAL_ID = "acme-analytics.trust.customer_trust_signal"
DAY = date(2026, 11, 30)


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


def test_one_day_is_one_free_load_into_its_partition(warehouse: BigQueryWarehouse, client: FakeClient) -> None:
    """The scheduled daily write: a single Parquet load job into table$YYYYMMDD with WRITE_TRUNCATE (BigQuery
    replaces exactly that partition, atomically; load jobs are not billed), and no query job at all."""
    client.tables[SIGNAL_ID] = existing_table(SIGNAL_ID, "snapshot_date", ["cohort", "customer_id"])
    frame = signal_frame(DAY)
    warehouse.replace_partitions("customer_trust_signal", frame, DAY, DAY)
    assert client.jobs() == ["load"]
    (load,) = [c for c in client.calls if c[0] == "load"]
    _, destination, config = load
    assert destination == f"{SIGNAL_ID}$20261130"
    assert config.write_disposition == bigquery.WriteDisposition.WRITE_TRUNCATE
    assert config.source_format == bigquery.SourceFormat.PARQUET
    assert config.time_partitioning.type_ == bigquery.TimePartitioningType.DAY
    assert config.time_partitioning.field == "snapshot_date"
    assert config.clustering_fields == ["cohort", "customer_id"]
    assert config.labels == dict(SETTINGS.bigquery.job_labels)
    assert client.loaded[0].equals(frame)  # every row and column, as Parquet
    # The pure method the write uses says the same.
    assert warehouse.day_load("customer_trust_signal", frame.columns, DAY)[0] == f"{SIGNAL_ID}$20261130"


def test_one_day_into_a_missing_table_creates_it_first_with_ddl_that_reads_nothing(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    frame = signal_frame(DAY)
    warehouse.replace_partitions("customer_trust_signal", frame, DAY, DAY)
    assert client.jobs() == ["query", "load"]
    (ddl,) = [sql for kind, sql, _ in client.calls if kind == "query"]
    assert ddl == warehouse.create_table_ddl("customer_trust_signal", frame.schema)
    assert bigquery_problems(ddl) == []
    create = sqlglot.parse_one(ddl, read="bigquery")
    assert isinstance(create, exp.Create) and create.args.get("exists") is True
    # Columns and types stated, no query: the statement reads no table, so it bills nothing.
    assert create.find(exp.Select) is None
    columns = {c.name: c.args["kind"].sql(dialect="bigquery") for c in create.find_all(exp.ColumnDef)}
    assert columns == {
        "snapshot_date": "DATE", "cohort": "STRING", "customer_id": "STRING", "msisdn": "STRING",
        "icoms_account_uid": "STRING", "segment": "STRING", "region": "STRING", "raw_score": "FLOAT64",
        "trust_score": "FLOAT64", "model_version": "STRING", "ruler_version": "STRING",
        "missing_features": "INT64", "top_drivers": "STRING",
    }
    assert "PARTITION BY snapshot_date" in ddl and "CLUSTER BY cohort, customer_id" in ddl
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS `acme-analytics.trust.customer_trust_signal`")
    (load,) = [c for c in client.calls if c[0] == "load"]
    assert load[1] == f"{SIGNAL_ID}$20261130"


def test_multi_day_window_stays_one_transaction_over_a_staging_table(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    """A backfill's window is replaced as a whole: staging load, then the transaction script, then the staging
    table is dropped."""
    client.tables[SIGNAL_ID] = existing_table(SIGNAL_ID, "snapshot_date", ["cohort", "customer_id"])
    start = date(2026, 11, 29)
    warehouse.replace_partitions("customer_trust_signal", signal_frame(start, DAY), start, DAY)
    assert client.jobs() == ["load", "query"]
    (_, staging, load_config), (_, script, query_config) = [c for c in client.calls if c[0] in ("load", "query")]
    assert staging.startswith(f"acme-analytics.trust.{SETTINGS.bigquery.staging_prefix}customer_trust_signal_")
    assert "$" not in staging
    assert load_config.time_partitioning is None  # the staging table is a plain table
    kinds = [type(s) for s in sqlglot.parse(script, read="bigquery")]
    assert kinds == [exp.Create, exp.Transaction, exp.Delete, exp.Insert, exp.Commit]
    assert {(p.name, p.value) for p in query_config.query_parameters} == {("start", start), ("end", DAY)}
    assert client.calls[-1] == ("delete_table", staging, None)


@pytest.mark.parametrize(
    ("case", "frame", "layout"),
    [
        ("an empty frame must empty the day", signal_frame(DAY).head(0), ("snapshot_date", ["cohort", "customer_id"])),
        ("a table partitioned otherwise", signal_frame(DAY), (None, None)),
        ("a table clustered otherwise", signal_frame(DAY), ("snapshot_date", ["customer_id"])),
        ("a frame without the partition column", signal_frame(DAY).drop("snapshot_date"),
         ("snapshot_date", ["cohort", "customer_id"])),
    ],
)
def test_one_day_that_a_partition_load_cannot_take_goes_through_the_transaction(
    warehouse: BigQueryWarehouse, client: FakeClient, case: str, frame: pl.DataFrame,
    layout: tuple[str | None, list[str] | None],
) -> None:
    client.tables[SIGNAL_ID] = existing_table(SIGNAL_ID, *layout)
    warehouse.replace_partitions("customer_trust_signal", frame, DAY, DAY)
    assert client.jobs() == ["load", "query"], case
    assert all("$" not in target for kind, target, _ in client.calls if kind == "load"), case


def test_a_first_write_whose_types_have_no_sure_ddl_is_created_by_the_staging_script(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    frame = pl.DataFrame({"snapshot_date": [DAY], "cohort": ["mobile"], "ids": [["a", "b"]]})
    assert warehouse.create_table_ddl("shadow", frame.schema) is None
    warehouse.replace_partitions("shadow", frame, DAY, DAY)
    assert client.jobs() == ["load", "query"]
    script = next(sql for kind, sql, _ in client.calls if kind == "query")
    assert script.startswith("CREATE TABLE IF NOT EXISTS `acme-analytics.trust.shadow`")


def test_a_one_day_write_partitions_on_the_column_it_is_given(
    warehouse: BigQueryWarehouse, client: FakeClient
) -> None:
    """Tables partitioned on another date column (the outcome monitors' scoring_date) load into that column's
    partition."""
    frame = pl.DataFrame({"scoring_date": [DAY], "snapshot_date": [date(2026, 8, 1)], "cohort": ["tv"],
                          "roc_auc": [0.7]})
    table_id = "acme-analytics.trust.matured_outcome_performance"
    client.tables[table_id] = existing_table(table_id, "scoring_date", ["cohort"])
    warehouse.replace_partitions("matured_outcome_performance", frame, DAY, DAY, "scoring_date")
    assert client.jobs() == ["load"]
    (_, destination, config) = next(c for c in client.calls if c[0] == "load")
    assert destination == f"{table_id}$20261130"
    assert config.time_partitioning.field == "scoring_date" and config.clustering_fields == ["cohort"]

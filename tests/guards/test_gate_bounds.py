"""The raw-contract gate reads what arrived since the last validated load, by constant partition bounds.

- Every statement the gate and its guards send to a partitioned raw table, rendered for BigQuery, filters the
  table's partition column by constants at the top level of the WHERE of the SELECT that reads it (sqlglot AST),
  so BigQuery prunes partitions; a normal day re-checks only the new day's partitions.
- A row altered in a load the gate validated before, even one older than the old look-back, fails the gate
  with the load named; so does a load that vanished.
- Consecutive normal days pass, each recording what it validated.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from asset_checks import raw_loads
from asset_checks.raw_contract import evaluate_raw_contract, partition_columns, table_check_name
from resources import bigquery_billing
from resources.sql_dialect import bigquery_sql
from source_contract.raw_tables import RAW_TABLES_BY_NAME
from tests.bigquery.recording import RECORDED, RecordingDuckDBWarehouse
from trust_assets.config import SETTINGS

DAY = date(2026, 2, 28)
NEW_SINCE = DAY - timedelta(days=SETTINGS.monitoring.raw_new_rows_margin_days)
GATE_MODULES = (
    "asset_checks/raw_contract.py",
    "asset_checks/raw_window.py",
    "asset_checks/raw_guards.py",
    "asset_checks/raw_loads.py",
)
RAW = "raw_dataset"


def partition_bounds(sql: str, table: str, column: str) -> list[tuple[date | None, date | None, bool]]:
    """Per read of ``raw.<table>`` in a BigQuery statement: (constant lower bound, constant upper bound, IS NULL)
    on ``column`` found among the top-level conjuncts of the WHERE of the SELECT that reads the table."""
    return bigquery_billing.partition_bounds(sql, table, column, RAW)


def gate_statements() -> list[str]:
    statements = {s.sql for s in RECORDED if s.origin.startswith(GATE_MODULES)}
    return [bigquery_sql(sql, "project", "analytics_dataset", RAW) for sql in sorted(statements)]


def without_record_since(path: Path, day: date) -> None:
    """The record as the gate of the day before ``day`` left it: loads of ``day`` and later not validated yet."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"delete from analytics.{raw_loads.STATE_TABLE} where partition_day >= ? or load_day > ?", [day, day]
        )


@pytest.fixture(scope="module")
def normal_day(pipeline_warehouse, tmp_path_factory) -> dict[str, object]:
    """The gate of DAY on a copy whose record ends with the day before: the statements it issues."""
    path: Path = pipeline_warehouse.copy_to(tmp_path_factory.mktemp("gate_bounds"))
    without_record_since(path, DAY)
    RECORDED.clear()
    report = evaluate_raw_contract(RecordingDuckDBWarehouse(path=str(path)), DAY, DAY)
    return {"path": path, "report": report, "statements": gate_statements()}


def test_every_read_of_a_partitioned_raw_table_is_bounded_by_constants(normal_day) -> None:
    assert normal_day["report"].failed == {}
    partitioned = partition_columns()
    assert set(partitioned) == {
        "customers",
        "mobile_subscriptions",
        "fixed_subscriptions",
        "contract_events",
        "mobile_usage_weekly",
        "tv_viewing_weekly",
        "broadband_usage_weekly",
        "bills",
        "payments",
        "care_contacts",
        "fault_tickets",
        "network_outages",
    }
    unbounded: list[str] = []
    whole: list[str] = []
    reads = 0
    for sql in normal_day["statements"]:
        for table, partition in partitioned.items():
            for lower, upper, is_null in partition_bounds(sql, table, partition.column):
                reads += 1
                # A range [lower, upper]; the NULL partition alone; or only the partitions after the as-of date.
                if is_null or (lower is not None and (upper is not None or lower >= DAY)):
                    continue
                if RAW_TABLES_BY_NAME[table].read_whole:
                    whole.append(sql)
                    continue
                unbounded.append(f"{table}: {sql}")
    assert reads > 50
    assert unbounded == []
    # The tables partitioned by load day (customers, subscriptions, contract events) are read whole only by the
    # rules over all their current rows (one customer per account, one live line, the live volumes and cohorts,
    # the keys the events must match), for the columns those name; their rows are re-checked only in the
    # partitions written since (the next test).
    assert whole and not [sql for sql in whole if "SELECT *" in sql], whole
    # The check sees a bound that does not prune: one inside an OR, or none at all.
    unpruned = f"SELECT * FROM `project`.{RAW}.bills WHERE bill_date >= CAST('2026-01-01' AS DATE) OR bill_date IS NULL"
    assert partition_bounds(unpruned, "bills", "bill_date") == [(None, None, False)]
    assert partition_bounds(f"SELECT MAX(loaded_at) FROM `project`.{RAW}.bills", "bills", "bill_date") == [
        (None, None, False)
    ]


def test_a_normal_day_re_checks_only_the_new_partitions(normal_day) -> None:
    report = normal_day["report"]
    path = normal_day["path"]
    # The statements that select rows to re-check (Pandera's read, the SQL rules) bound bills and payments to
    # the day's own partition: the loads that arrived since the last validated one.
    for table, column in (("bills", "bill_date"), ("payments", "paid_date")):
        rechecks = [
            s
            for s in normal_day["statements"]
            if f"FROM `project`.{RAW}.{table}" in s and "load_day" not in s and "CAST(loaded_at AS DATE) IN" in s
        ]
        assert rechecks, table
        for sql in rechecks:
            assert partition_bounds(sql, table, column)[0][:2] == (DAY, DAY), sql
    # Pandera saw exactly the rows of the loads not validated yet that landed since the window start.
    with duckdb.connect(str(path), read_only=True) as con:
        for table, partition in partition_columns().items():
            day = f"cast({partition.column} as date)"
            lookback, last = report.loads[table].first, report.loads[table].last
            new = con.execute(
                f"select count(*) from raw.{table} where {day} between ? and ? "
                f"and ({day} >= ? or cast(loaded_at as date) > ?) and cast(loaded_at as date) >= ?",
                [lookback, last, DAY, DAY, NEW_SINCE],
            ).fetchone()[0]
            assert report.rows_validated[table] == new, table
    assert sum(report.rows_validated.values()) < 0.02 * sum(report.rows_in_window.values())


def alter_one_bill(con: duckdb.DuckDBPyConnection, day: date) -> date:
    """Raise the amount of the first bill dated ``day`` (a value that keeps every rule: only the record can tell
    the row was changed); returns the day that bill was loaded."""
    bill, loaded = con.execute(
        "select bill_id, cast(loaded_at as date) from raw.bills where bill_date = ? order by bill_id limit 1", [day]
    ).fetchone()
    con.execute("update raw.bills set amount = amount + 1 where bill_id = ?", [bill])
    return loaded


def test_a_row_altered_in_an_old_load_fails_the_gate(pipeline_warehouse, tmp_path) -> None:
    path = pipeline_warehouse.copy_to(tmp_path)
    old = DAY - timedelta(days=300)  # older than the gate's look-back of bills before the record (190 days)
    with duckdb.connect(str(path)) as con:
        loaded = alter_one_bill(con, old)
        # Payments are read for 240 days (the late-payment window and the longest due date after issue).
        con.execute(
            "delete from raw.payments where payment_id = "
            "(select min(payment_id) from raw.payments where paid_date = ?)",
            [DAY - timedelta(days=220)],
        )
    report = evaluate_raw_contract(RecordingDuckDBWarehouse(path=str(path)), DAY, DAY)
    assert set(report.failed) == {table_check_name("bills"), table_check_name("payments")}
    (changed,) = report.failed[table_check_name("bills")]
    assert (changed.where, changed.rule) == ("raw.bills", raw_loads.CHANGED_RULE)
    assert f"partition day {old}, loaded {loaded}" in changed.detail and "another checksum" in changed.detail
    assert changed.examples.select("partition_day", "load_day").rows() == [(old, loaded)]
    (removed,) = report.failed[table_check_name("payments")]
    assert removed.rule == raw_loads.CHANGED_RULE and "rows now" in removed.detail
    shown = removed.examples.row(0, named=True)
    assert shown["rows_now"] == shown["recorded_rows"] - 1


def test_consecutive_normal_days_pass_and_record_what_they_validated(pipeline_warehouse, tmp_path) -> None:
    path = pipeline_warehouse.copy_to(tmp_path)
    first = DAY - timedelta(days=2)
    without_record_since(path, first)
    warehouse = RecordingDuckDBWarehouse(path=str(path))
    for day in (first, first + timedelta(days=1), DAY):
        report = evaluate_raw_contract(warehouse, day, day)
        assert report.failed == {}, (day, {k: [v.headline() for v in vs] for k, vs in report.failed.items()})
        raw_loads.record_validated(warehouse, report.loads, day)
    # Nothing arrived since: a re-run re-checks no row of a partitioned table.
    again = evaluate_raw_contract(warehouse, DAY, DAY)
    assert again.failed == {}
    assert {t: again.rows_validated[t] for t in partition_columns()} == dict.fromkeys(partition_columns(), 0)
    with duckdb.connect(str(path), read_only=True) as con:
        state = con.execute(f"select * from analytics.{raw_loads.STATE_TABLE} where table_name = 'bills'").pl()
    assert state["validated_for"].max() == DAY and state["partition_day"].max() == DAY

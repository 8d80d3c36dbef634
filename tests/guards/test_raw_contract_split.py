"""The raw-contract gate reads only the partition's new rows into Python; the warehouse answers the rest.

- The column set and types come from the catalogue, with DuckDB and BigQuery type names alike.
- Pandera sees exactly the window's rows that landed since the window start (less the configured margin), and
  the window's other rows are counted in SQL: Python reads a small share of the window.
- A rule broken by an older row (corrupted after it passed an earlier day's gate) and by a new row is one
  violation with the rows of both; a cross-column relation broken by a new row is Pandera's finding.
- Every statement the gate issues renders for BigQuery (resources/sql_dialect.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from asset_checks.raw_contract import RAW_WINDOWS, evaluate_raw_contract, partition_columns, table_check_name
from asset_checks.raw_loads import CHANGED_RULE
from asset_checks.raw_window import Catalogue, structure_violations, type_family
from asset_checks.schemas import raw_schema
from resources.warehouse import DuckDBWarehouse
from source_contract.raw_tables import RAW_TABLES_BY_NAME
from tests.bigquery.recording import RECORDED, RecordingDuckDBWarehouse, statement_problems
from trust_assets.config import SETTINGS

DAY = date(2026, 2, 28)
NEW_SINCE = DAY - timedelta(days=SETTINGS.monitoring.raw_new_rows_margin_days)
GATE_MODULES = ("asset_checks/raw_contract.py", "asset_checks/raw_window.py", "asset_checks/raw_guards.py",
                "asset_checks/raw_loads.py")


def test_column_set_and_types_come_from_the_catalogue_for_either_engine() -> None:
    bills = RAW_TABLES_BY_NAME["bills"]
    schema = raw_schema("bills")
    duck = {c.name: {"VARCHAR": "VARCHAR", "DATE": "DATE", "DOUBLE": "DOUBLE", "TIMESTAMP": "TIMESTAMP"}[c.type]
            for c in bills.columns}
    bigquery = {c.name: {"VARCHAR": "STRING", "DATE": "DATE", "DOUBLE": "FLOAT64", "TIMESTAMP": "TIMESTAMP"}[c.type]
                for c in bills.columns}
    assert structure_violations(bills, Catalogue({**duck, "extra_column": "VARCHAR"}), schema) == []
    assert structure_violations(bills, Catalogue(bigquery), schema) == []
    assert type_family("TIMESTAMP WITH TIME ZONE") == "TIMESTAMP" and type_family("INT64") == "INTEGER"

    changed = {k: v for k, v in duck.items() if k != "due_date"} | {"amount": "DECIMAL(18,2)"}
    found = {(v.where, v.rule, v.detail) for v in structure_violations(bills, Catalogue(changed), schema)}
    assert found == {
        ("raw.bills.due_date", "required column present", "expected type Date"),
        ("raw.bills.amount", "type is Float64", "expected Float64, found DECIMAL(18,2)"),
    }


@pytest.fixture(scope="module")
def damaged(pipeline_warehouse, tmp_path_factory) -> dict[str, object]:
    """A copy with a negative bill amount on one older and one new row of the window, and a fault ticket
    resolved before it was opened on one new row."""
    path: Path = pipeline_warehouse.copy_to(tmp_path_factory.mktemp("raw_split"))
    with duckdb.connect(str(path)) as con:
        old_bill, new_bill = (
            con.execute(
                f"select min(bill_id) from raw.bills where cast(loaded_at as date) {op} ? "
                "and bill_date between ? and ?",
                [NEW_SINCE, DAY - timedelta(days=60), DAY],
            ).fetchone()[0]
            for op in ("<", ">=")
        )
        con.execute("update raw.bills set amount = -7.25 where bill_id in (?, ?)", [old_bill, new_bill])
        ticket = con.execute(
            "select min(ticket_id) from raw.fault_tickets where cast(loaded_at as date) >= ? and opened_ts <= ?",
            [NEW_SINCE, DAY],
        ).fetchone()[0]
        con.execute("update raw.fault_tickets set resolved_ts = opened_ts - interval 1 hour where ticket_id = ?",
                    [ticket])
    RECORDED.clear()
    report = evaluate_raw_contract(RecordingDuckDBWarehouse(path=str(path)), DAY, DAY)
    return {"path": path, "report": report, "old_bill": old_bill, "new_bill": new_bill, "ticket": ticket,
            "statements": list(RECORDED)}


def test_pandera_reads_only_the_new_rows_of_the_window(damaged) -> None:
    report = damaged["report"]
    partitioned = partition_columns()
    with duckdb.connect(str(damaged["path"]), read_only=True) as con:
        for table, rule in RAW_WINDOWS.items():
            # Every raw table is partitioned: the window is its constant bounds on the partition column, the
            # look-back of an event table or every load of one partitioned by load day (gate_bounds).
            assert table in partitioned, table
            column = partitioned[table].column
            loads = report.loads[table]
            window = con.execute(
                f"select count(*) from raw.{table} where cast({column} as date) between ? and ?",
                [loads.first, loads.last],
            ).fetchone()[0]
            assert report.rows_in_window[table] == window, table
            if not RAW_TABLES_BY_NAME[table].read_whole:
                assert loads.first == DAY - timedelta(days=rule.lookback_days), table
    # The record of validated loads guards the partitioned tables' windows: only the altered loads are
    # re-checked, and Pandera reads those of their rows that landed since the window start.
    assert {t for t, n in report.rows_validated.items() if n and t in partitioned} == {"bills", "fault_tickets"}
    assert sum(report.rows_validated.values()) < 0.01 * sum(report.rows_in_window.values())


def test_older_and_new_rows_breaking_one_rule_are_one_violation(damaged) -> None:
    found = damaged["report"].violations[table_check_name("bills")]
    amount = [v for v in found if v.where == "raw.bills.amount"]
    assert [(v.rule, v.failing_rows) for v in amount] == [("greater_than_or_equal_to(0)", 2)]
    assert set(amount[0].examples["bill_id"].to_list()) == {damaged["old_bill"], damaged["new_bill"]}


def test_a_relation_broken_on_a_new_row_is_found_by_pandera(damaged) -> None:
    found = damaged["report"].violations[table_check_name("fault_tickets")]
    # The ticket's load was validated before: the gate also says it was altered since.
    assert sorted((v.rule, v.failing_rows) for v in found if v.rule != CHANGED_RULE) == [
        ("resolved_ts on or after opened_ts", 1)
    ]
    assert [v.where for v in found if v.rule == CHANGED_RULE] == ["raw.fault_tickets"]
    relation = next(v for v in found if v.rule != CHANGED_RULE)
    assert relation.examples["ticket_id"].to_list() == [damaged["ticket"]]
    # Nothing else in the report: the damage is all it finds.
    others = {k: v for k, v in damaged["report"].failed.items()
              if k not in (table_check_name("bills"), table_check_name("fault_tickets"))}
    assert others == {}


def test_every_gate_statement_renders_for_bigquery(damaged) -> None:
    statements = [s for s in damaged["statements"] if s.origin.startswith(GATE_MODULES)]
    assert {s.origin.split(":")[0] for s in statements} == set(GATE_MODULES)
    problems = [p for s in {(s.sql, s.params, s.origin.split(":")[0]): s for s in statements}.values()
                for p in statement_problems(s.sql, s.params, s.origin)]
    assert problems == []


def test_the_clean_warehouse_passes(pipeline_warehouse) -> None:
    report = evaluate_raw_contract(DuckDBWarehouse(path=str(pipeline_warehouse.duckdb_path)), DAY, DAY)
    assert report.failed == {}, {k: [v.headline() for v in vs] for k, vs in report.failed.items()}

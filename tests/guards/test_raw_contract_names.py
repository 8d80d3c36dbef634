"""The raw-contract gate's own SQL reads raw columns by name: an extra column cannot stand in for one it defines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from asset_checks.raw_contract import _one_live_line_per_customer
from asset_checks.raw_window import read_catalogue
from resources.warehouse import DuckDBWarehouse
from source_contract.raw_tables import RAW_TABLES_BY_NAME, create_table_sql

DAY = date(2026, 2, 28)


def test_an_extra_load_rank_column_does_not_hide_two_live_lines(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw")
        con.execute(create_table_sql(RAW_TABLES_BY_NAME["mobile_subscriptions"], "raw"))
        # The extra column holds 2 on every row: bound in place of the rank, `load_rank = 1` would keep nothing.
        con.execute("alter table raw.mobile_subscriptions add column load_rank integer default 2")
        con.execute(
            "insert into raw.mobile_subscriptions (msisdn, customer_id, plan_type, monthly_fee, start_date, "
            "contract_end_date, end_date, loaded_at) values "
            "('447700000001', 'C0000001', 'postpaid', 20, DATE '2025-01-01', null, null, TIMESTAMP '2025-01-02'), "
            "('447700000002', 'C0000001', 'prepaid', 10, DATE '2025-06-01', null, null, TIMESTAMP '2025-06-02')"
        )
    finally:
        con.close()
    warehouse = DuckDBWarehouse(path=str(path))
    catalogue = read_catalogue(warehouse, RAW_TABLES_BY_NAME["mobile_subscriptions"])

    (violation,) = _one_live_line_per_customer(warehouse, catalogue, DAY)
    assert violation.failing_rows == 1
    assert violation.rule.startswith("at most one live mobile line per customer")

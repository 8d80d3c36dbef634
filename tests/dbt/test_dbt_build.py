"""Real dbt builds of the tiny telco: the snapshot's content, idempotency, windows and point-in-time."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import yaml

from tests.dbt.conftest import DbtSandbox
from tests.dbt.raw_fixture import SNAPSHOT, append_after_snapshot, table_rows
from trust_assets import config
from trust_assets.dbt_project import DBT_PROJECT_DIR, PARSE_ARGUMENTS
from trust_assets.partitions import dbt_window_env, fixed_dbt_vars

DAILY_TABLES = ("customer_360_definition", "mobile_features", "tv_features", "broadband_features")
DAILY_SELECT = "config.materialized:incremental"


def _day(path: Path, table: str, day: date) -> list[tuple[Any, ...]]:
    return table_rows(path, f"select * from analytics.{table} where snapshot_date = ? order by customer_id", [day])


def _dates(path: Path, table: str) -> list[date]:
    rows = table_rows(path, f"select distinct snapshot_date from analytics.{table} order by 1")
    return [r[0] for r in rows]


def _duplicates(path: Path, table: str) -> int:
    sql = f"select count(*) - count(distinct (snapshot_date, customer_id)) from analytics.{table}"
    return table_rows(path, sql)[0][0]


def test_customer_360_on_the_snapshot_date(built_warehouse: Path) -> None:
    rows = table_rows(built_warehouse, """
        select customer_id, region, has_mobile, has_tv, has_broadband, msisdn, mobile_contract_end_date,
               icoms_account_uid, tv_contract_end_date, broadband_speed_tier, monthly_revenue
        from analytics.customer_360_definition where snapshot_date = ? order by customer_id""", [SNAPSHOT])
    assert rows == [
        # Recontract 2024-12-20 moved the mobile contract end; fees 27 + 16 + 35 after the price changes;
        # the stale earlier delivery of this customer (region south) lost to the latest load.
        ("C0000001", "north", True, True, True, "447700000001", date(2026, 12, 20), "A0000001", date(2025, 3, 1),
         "bb_500", 78.0),
        ("C0000002", "south", True, False, False, "447700000002", None, None, None, None, 10.0),
        # C0000003's broadband ceased on the snapshot date: not held any more. C0000004 joins later.
        ("C0000005", "west", False, True, False, None, None, "A0000005", date(2025, 11, 20), None, 30.0),
    ]


def test_feature_tables_have_the_config_columns_as_doubles(built_warehouse: Path) -> None:
    for cohort in config.COHORTS:
        columns = table_rows(built_warehouse, """
            select column_name, data_type from information_schema.columns
            where table_schema = 'analytics' and table_name = ? order by ordinal_position""",
            [f"{cohort.value}_features"])
        assert columns == [("snapshot_date", "DATE"), ("customer_id", "VARCHAR"), ("segment", "VARCHAR")] + [
            (name, "DOUBLE") for name in config.feature_names(cohort)
        ]
    counts = {t: len(_day(built_warehouse, t, SNAPSHOT)) for t in DAILY_TABLES}
    assert counts == {"customer_360_definition": 3, "mobile_features": 2, "tv_features": 2, "broadband_features": 1}


def test_mobile_features_of_the_tiny_telco(built_warehouse: Path) -> None:
    (row,) = table_rows(built_warehouse, """
        select data_gb_28d, voice_minutes_28d, outage_minutes_28d, care_contacts_90d, complaints_90d,
               late_payments_180d, bill_shocks_180d, tenure_months, months_to_contract_end, arpu_3m,
               round(arpu_change_3m, 4)
        from analytics.mobile_features where snapshot_date = ? and customer_id = 'C0000001'""", [SNAPSHOT])
    # Weeks 48..51 of the series (data 2+i%3 GB), the re-sent week with 99999 MB ignored; the region-wide north
    # mobile outage of 07-20 (not the 500 minutes of area north-002 on 07-21); the June roaming bill of 60 is a
    # shock; ARPU (27 + 60 + 27) / 3 vs (25 + 25 + 27) / 3.
    assert row == (11.0, 598.0, 120.0, 1.0, 1.0, 0.0, 1.0, 30.49, 16.66, 38.0, round(37 / 3, 4))


def test_outcome_labels_population(built_warehouse: Path) -> None:
    rows = table_rows(built_warehouse, "select cohort, customer_id from analytics.outcome_labels order by 1, 2")
    assert rows == [("broadband", "C0000001"), ("mobile", "C0000001"), ("mobile", "C0000002"),
                    ("tv", "C0000001"), ("tv", "C0000005")]


def test_rebuilding_a_day_is_idempotent_and_a_window_builds_every_day(
    dbt_sandbox: DbtSandbox, warehouse_copy: Path
) -> None:
    before = {t: _day(warehouse_copy, t, SNAPSHOT) for t in DAILY_TABLES}
    dbt_sandbox.build_window(warehouse_copy, SNAPSHOT, SNAPSHOT, select=DAILY_SELECT)
    for table in DAILY_TABLES:
        assert _day(warehouse_copy, table, SNAPSHOT) == before[table], table
        assert _dates(warehouse_copy, table) == [SNAPSHOT]
        assert _duplicates(warehouse_copy, table) == 0

    first = date(2025, 7, 29)
    dbt_sandbox.build_window(warehouse_copy, first, SNAPSHOT, select=DAILY_SELECT)
    for table in DAILY_TABLES:
        assert _dates(warehouse_copy, table) == [date(2025, 7, 29), date(2025, 7, 30), SNAPSHOT], table
        assert _day(warehouse_copy, table, SNAPSHOT) == before[table], table
        assert _duplicates(warehouse_copy, table) == 0
    broadband_holders = table_rows(warehouse_copy, """
        select snapshot_date, count(*) from analytics.broadband_features group by 1 order by 1""")
    # C0000003's broadband is held up to the day before its cease date.
    assert broadband_holders == [(date(2025, 7, 29), 2), (date(2025, 7, 30), 2), (SNAPSHOT, 1)]

    # Re-running a day replaces exactly that day, even when it now has no rows at all.
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("delete from raw.fixed_subscriptions")
        con.execute("delete from raw.mobile_subscriptions")
    dbt_sandbox.build_window(warehouse_copy, first, first, select=DAILY_SELECT)
    for table in DAILY_TABLES:
        assert _dates(warehouse_copy, table) == [date(2025, 7, 30), SNAPSHOT], table
        assert _day(warehouse_copy, table, SNAPSHOT) == before[table], table


def test_features_ignore_data_dated_after_the_snapshot(dbt_sandbox: DbtSandbox, warehouse_copy: Path) -> None:
    before = {t: _day(warehouse_copy, t, SNAPSHOT) for t in DAILY_TABLES}
    append_after_snapshot(warehouse_copy)
    later = date(2025, 8, 20)
    # One statement rebuilds D and builds the later days from the changed sources.
    dbt_sandbox.build_window(warehouse_copy, SNAPSHOT, later, select=f"{DAILY_SELECT} outcome_labels")

    for table in DAILY_TABLES:
        assert _day(warehouse_copy, table, SNAPSHOT) == before[table], f"{table} on D changed with later data"
    # The later data is really there: the later snapshot sees the recontract of 2025-08-15 and the new customer.
    assert table_rows(warehouse_copy, """
        select customer_id, mobile_contract_end_date from analytics.customer_360_definition
        where snapshot_date = ? and has_mobile order by 1""", [later]) == [
        ("C0000001", date(2027, 8, 15)), ("C0000002", None), ("C0000004", date(2026, 8, 10))]
    # Outcomes come from the raw events after the reference date: C0000002 terminated, C0000001 recontracted.
    # Bills run Aug-Oct only (3 of the 6 window months); the baseline is the mean bill of May-Jul.
    labels = table_rows(warehouse_copy, """
        select cohort, customer_id, is_churn, is_recontract, revenue_change
        from analytics.outcome_labels order by 1, 2""")
    assert labels == [
        ("broadband", "C0000001", False, False, 35 * 3 / 6 - 35.0),
        ("mobile", "C0000001", False, True, 27 * 3 / 6 - (27 + 60 + 27) / 3),
        ("mobile", "C0000002", True, False, 10 * 3 / 6 - 10.0),
        ("tv", "C0000001", False, False, 16 * 3 / 6 - 16.0),
        ("tv", "C0000005", False, False, 30 * 3 / 6 - 30.0),
    ]


def test_dbt_unit_tests_pass(dbt_sandbox: DbtSandbox, built_warehouse: Path) -> None:
    expected = set()
    for path in DBT_PROJECT_DIR.glob("models/**/*.yml"):
        expected |= {t["name"] for t in (yaml.safe_load(path.read_text()).get("unit_tests") or [])}
    assert len(expected) >= 8
    result = dbt_sandbox.run(built_warehouse, ["test", "--select", "test_type:unit"])
    passed = set(re.findall(r"PASS [a-z0-9_]+::([a-z0-9_]+)", result.stdout))
    assert passed == expected, result.stdout[-3000:]
    assert re.search(rf"Done\. PASS={len(expected)} WARN=0 ERROR=0", result.stdout), result.stdout[-3000:]


def test_a_new_window_keeps_dbt_partial_parsing(built_warehouse: Path, tmp_path: Path) -> None:
    """Runs hand dbt the prepared parse; a window of other dates must neither re-parse the project nor be lost."""
    sandbox = DbtSandbox(tmp_path)
    sandbox.run(built_warehouse, PARSE_ARGUMENTS)
    log = tmp_path / "logs" / "dbt.log"
    compiled = next(iter(sandbox.target_path.glob("**/customer_360_definition.sql")), None)
    assert compiled is None  # nothing compiled yet
    for first, last in ((date(2025, 7, 29), date(2025, 7, 30)), (SNAPSHOT, SNAPSHOT)):
        logged_before = log.stat().st_size
        sandbox.run(built_warehouse, ["compile", "--select", "customer_360_definition"], fixed_dbt_vars(),
                    extra_env=dbt_window_env(first, last))
        this_run = log.read_text()[logged_before:]
        assert "Unable to do partial parsing" not in this_run
        assert "Nothing changed, skipping partial parsing" in this_run
        sql = next(sandbox.target_path.glob("compiled/**/customer_360_definition.sql")).read_text()
        assert f"cast('{first.isoformat()}' as date)" in sql
        assert f"day_offset <= {(last - first).days}" in sql  # the spine's last day
        other_day = date(2025, 7, 31) if first != SNAPSHOT else date(2025, 7, 29)
        assert other_day.isoformat() not in sql

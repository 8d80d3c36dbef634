"""Rules of the hand-written baseline SQL (benchmarks/daily/baseline_features_sql.py) that the session
warehouse does not exercise: re-delivered rows (the generator loads every row once) and outages of one
network area against outages of a whole region. Each runs the real SQL on a small in-memory DuckDB with the
raw tables of the source contract."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from benchmarks.daily import baseline_features_sql as sql
from source_contract.raw_tables import RAW_TABLES, create_table_sql

DAY = date(2025, 7, 31)


@pytest.fixture()
def con():
    with duckdb.connect() as c:
        c.execute("create schema raw")
        for table in RAW_TABLES:
            c.execute(create_table_sql(table))
        yield c


def _care(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, date, bool, datetime]]) -> None:
    con.executemany(
        "insert into raw.care_contacts values (?, 'C1', 'tv', ?, 'phone', 'billing', ?, ?)",
        [(cid, datetime(d.year, d.month, d.day, 9), complaint, loaded) for cid, d, complaint, loaded in rows],
    )


@pytest.mark.parametrize("how", ["verify", "dedup"])
def test_latest_load_decides_whether_a_row_is_in_the_window(con, how: str) -> None:
    early, late = datetime(2025, 7, 1), datetime(2025, 8, 1)
    _care(con, [
        ("moved_out", date(2025, 7, 20), False, early), ("moved_out", date(2025, 3, 1), False, late),
        ("moved_in", date(2025, 3, 1), False, early), ("moved_in", date(2025, 7, 20), True, late),
        ("corrected", date(2025, 7, 10), False, early), ("corrected", date(2025, 7, 11), True, late),
        ("old", date(2025, 1, 5), False, early),
    ])
    window = sql._trailing("cast(contact_ts as date)", DAY, 90)
    rows = con.execute(
        f"select contact_id, is_complaint from {sql.latest_loads('care_contacts', ['contact_id'], window, how)} "
        "order by contact_id"
    ).fetchall()
    # moved_out's latest load lies outside the window although an older one lies inside; moved_in the reverse.
    assert rows == [("corrected", True), ("moved_in", True)]


def test_latest_load_of_a_usage_week(con) -> None:
    con.executemany(
        "insert into raw.tv_viewing_weekly values ('A1', ?, ?, 5, 0, ?)",
        [(date(2025, 7, 27), 100.0, datetime(2025, 7, 28)), (date(2025, 7, 27), 160.0, datetime(2025, 7, 30)),
         (date(2025, 7, 20), 90.0, datetime(2025, 7, 21)), (date(2025, 3, 2), 50.0, datetime(2025, 3, 3))],
    )
    window = sql._trailing("week_ending", DAY, 28)
    rows = con.execute(
        f"select week_ending, viewing_minutes from "
        f"{sql.latest_loads('tv_viewing_weekly', ['icoms_account_uid', 'week_ending'], window, 'grain')} order by 1"
    ).fetchall()
    assert rows == [(date(2025, 7, 20), 90.0), (date(2025, 7, 27), 160.0)]


def test_unknown_plan_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown plan"):
        sql.latest_loads("bills", ["bill_id"], "true", "guess")


def test_outages_reach_their_network_area_and_region_wide_ones_everyone(con) -> None:
    # The product's dbt unit test outage_features_by_network_area, on the hand-written SQL.
    con.execute(f"""create temp table {sql.CUSTOMER_360_TABLE} as
        select * from (values ('C1', 'north', 'north-001'), ('C2', 'north', 'north-002'),
                              ('C3', 'south', 'south-001'), ('C4', 'south', 'south-002'))
            as t(customer_id, region, network_area),
        (select true as has_mobile, false as has_tv, false as has_broadband)""")
    loaded = datetime(2025, 8, 1)
    con.executemany(
        "insert into raw.network_outages values (?, ?, ?, ?, ?, ?, ?)",
        [("A1", "north", "north-001", "mobile", datetime(2025, 7, 25, 3), 40.0, loaded),
         ("R1", "North ", None, "mobile", datetime(2025, 7, 20, 3), 100.0, loaded),
         ("A2", "south", "south-001", "mobile", datetime(2025, 7, 30, 3), 7.0, loaded),
         ("A3", "north", "north-001", "tv", datetime(2025, 7, 25, 3), 500.0, loaded),
         ("OLD", "north", None, "mobile", datetime(2025, 6, 1, 3), 1000.0, loaded)],
    )
    rows = con.execute(
        f"select customer_id, cast(outage_minutes_28d as double) from ({sql.product_events_sql(DAY)}) "
        "order by customer_id"
    ).fetchall()
    assert rows == [("C1", 140.0), ("C2", 100.0), ("C3", 7.0), ("C4", None)]

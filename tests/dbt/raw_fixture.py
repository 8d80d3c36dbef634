"""A tiny hand-made telco in the raw source contract, for building real dbt partitions in tests.

Five customers around the snapshot date D = 2025-07-31 (a Thursday):
- C0000001 (north, network area north-001): Mobile postpaid (recontracted 2024-12-20 to 2026-12-20, price
  change to 27 on 2025-04-01), TV basic (price change to 16 on 2025-05-01) and Broadband bb_500 on ICOMS account
  A0000001. Its customer row was delivered twice; the later load (region north) wins. It is exposed to the
  region-wide north mobile outage O1, not to the local one of area north-002 (O3).
- C0000002 (south): Mobile prepaid since 2024-06-01, no contract.
- C0000003 (capital): Broadband bb_100 ceased on D: held on D-1, not on D.
- C0000005 (west): TV premium since 2024-11-20.
- C0000004 (east) joins after D and exists only in ``append_after_snapshot``.

``append_after_snapshot`` adds and changes only data dated after D (the leakage guard): it must not change any
row of the snapshot D.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from source_contract.raw_tables import RAW_TABLES, RAW_TABLES_BY_NAME, create_table_sql

SNAPSHOT = date(2025, 7, 31)
HISTORY_START = date(2024, 8, 1)
LOADED = datetime(2025, 8, 1, 2, 0)
LATE_LOAD = datetime(2025, 9, 30, 2, 0)

Row = dict[str, Any]


def _sundays(first: date, last: date) -> list[date]:
    day = first + timedelta(days=(6 - first.weekday()) % 7)
    out: list[date] = []
    while day <= last:
        out.append(day)
        day += timedelta(days=7)
    return out


def _month_starts(first: date, last: date) -> list[date]:
    out: list[date] = []
    day = date(first.year, first.month, 1)
    while day <= last:
        if day >= first:
            out.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return out


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Row]) -> None:
    columns = RAW_TABLES_BY_NAME[table].column_names
    values = [[row.get(c) for c in columns] for row in rows]
    if values:
        placeholders = ", ".join("?" for _ in columns)
        con.executemany(f"insert into raw.{table} ({', '.join(columns)}) values ({placeholders})", values)


def _usage_rows(first: date, last: date, loaded: datetime) -> dict[str, list[Row]]:
    mobile, tv, broadband = [], [], []
    for i, week in enumerate(_sundays(first, last)):
        mobile.append({"msisdn": "447700000001", "week_ending": week, "data_mb": 1024.0 * (2 + i % 3),
                       "voice_minutes": 100.0 + i, "calls": 50, "dropped_calls": i % 4, "loaded_at": loaded})
        if week >= date(2024, 6, 2):
            mobile.append({"msisdn": "447700000002", "week_ending": week, "data_mb": 512.0, "voice_minutes": 20.0,
                           "calls": 10, "dropped_calls": 0, "loaded_at": loaded})
        tv.append({"icoms_account_uid": "A0000001", "week_ending": week, "viewing_minutes": 600.0 + 10 * (i % 5),
                   "active_days": 5, "buffering_events": i % 3, "loaded_at": loaded})
        if week >= date(2024, 11, 24):
            tv.append({"icoms_account_uid": "A0000005", "week_ending": week, "viewing_minutes": 900.0,
                       "active_days": 6, "buffering_events": 1, "loaded_at": loaded})
        broadband.append({"icoms_account_uid": "A0000001", "week_ending": week, "download_gb": 50.0 + i % 7,
                          "upload_gb": 5.0, "avg_delivered_mbps": 400.0 + 10 * (i % 3), "provisioned_mbps": 500,
                          "loaded_at": loaded})
        if week < SNAPSHOT:
            broadband.append({"icoms_account_uid": "A0000003", "week_ending": week, "download_gb": 20.0,
                              "upload_gb": 2.0, "avg_delivered_mbps": 60.0, "provisioned_mbps": 100,
                              "loaded_at": loaded})
    return {"mobile_usage_weekly": mobile, "tv_viewing_weekly": tv, "broadband_usage_weekly": broadband}


# (customer, product, fee by month start) for the monthly bills up to D.
def _bill_plan(month: date) -> list[tuple[str, str, float]]:
    plan = [("C0000001", "mobile", 27.0 if month >= date(2025, 4, 1) else 25.0 if month >= date(2025, 1, 1) else 20.0),
            ("C0000001", "tv", 16.0 if month >= date(2025, 5, 1) else 15.0),
            ("C0000001", "broadband", 35.0),
            ("C0000002", "mobile", 10.0)]
    if month <= SNAPSHOT:
        plan.append(("C0000003", "broadband", 25.0))
    if month >= date(2024, 12, 1):
        plan.append(("C0000005", "tv", 30.0))
    return plan


def _billing_rows(first: date, last: date, loaded: datetime) -> dict[str, list[Row]]:
    bills, payments = [], []
    for month in _month_starts(first, last):
        for customer, product, fee in _bill_plan(month):
            amount = fee
            # A roaming spike on C0000001's June mobile bill: a bill shock.
            if (customer, product, month) == ("C0000001", "mobile", date(2025, 6, 1)):
                amount = 60.0
            bill_id = f"B-{customer}-{product}-{month:%Y%m}"
            bills.append({"bill_id": bill_id, "customer_id": customer, "product": product, "bill_date": month,
                          "due_date": month + timedelta(days=14), "amount": amount, "loaded_at": loaded})
            # C0000002 pays late in May, C0000001's TV bill of July is unpaid.
            if (customer, month) == ("C0000002", date(2025, 5, 1)):
                paid = month + timedelta(days=20)
            elif (customer, product, month) == ("C0000001", "tv", date(2025, 7, 1)):
                continue
            else:
                paid = month + timedelta(days=9)
            payments.append({"payment_id": f"P-{bill_id}", "bill_id": bill_id, "customer_id": customer,
                             "paid_date": paid, "amount": amount, "loaded_at": loaded})
    return {"bills": bills, "payments": payments}


def _base_rows() -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = {t.name: [] for t in RAW_TABLES}
    rows["customers"] = [
        {"customer_id": "C0000001", "signup_date": date(2023, 1, 15), "region": "north", "network_area": "north-001",
         "birth_year": 1980, "customer_type": "consumer", "loaded_at": LOADED},
        # An earlier delivery of the same customer with a stale region: staging keeps the latest load.
        {"customer_id": "C0000001", "signup_date": date(2023, 1, 15), "region": "south", "network_area": "south-001",
         "birth_year": 1980, "customer_type": "consumer", "loaded_at": LOADED - timedelta(days=30)},
        {"customer_id": "C0000002", "signup_date": date(2024, 6, 1), "region": "south", "network_area": "south-002",
         "birth_year": 1975, "customer_type": "small_business", "loaded_at": LOADED},
        {"customer_id": "C0000003", "signup_date": date(2022, 5, 5), "region": "capital", "network_area": "capital-003",
         "birth_year": 1990, "customer_type": "consumer", "loaded_at": LOADED},
        {"customer_id": "C0000005", "signup_date": date(2024, 11, 20), "region": "west", "network_area": "west-004",
         "birth_year": 1966, "customer_type": "consumer", "loaded_at": LOADED},
    ]
    rows["mobile_subscriptions"] = [
        {"msisdn": "447700000001", "customer_id": "C0000001", "plan_type": "postpaid", "monthly_fee": 20.0,
         "start_date": date(2023, 1, 15), "contract_end_date": date(2025, 1, 15), "end_date": None,
         "loaded_at": LOADED},
        {"msisdn": "447700000002", "customer_id": "C0000002", "plan_type": "prepaid", "monthly_fee": 10.0,
         "start_date": date(2024, 6, 1), "contract_end_date": None, "end_date": None, "loaded_at": LOADED},
    ]
    rows["fixed_subscriptions"] = [
        {"icoms_account_uid": "A0000001", "customer_id": "C0000001", "product": "tv", "package": "basic",
         "provisioned_mbps": None, "monthly_fee": 15.0, "start_date": date(2024, 3, 1),
         "contract_end_date": date(2025, 3, 1), "end_date": None, "loaded_at": LOADED},
        {"icoms_account_uid": "A0000001", "customer_id": "C0000001", "product": "broadband", "package": "bb_500",
         "provisioned_mbps": 500, "monthly_fee": 35.0, "start_date": date(2024, 3, 1),
         "contract_end_date": date(2025, 9, 1), "end_date": None, "loaded_at": LOADED},
        {"icoms_account_uid": "A0000003", "customer_id": "C0000003", "product": "broadband", "package": "bb_100",
         "provisioned_mbps": 100, "monthly_fee": 25.0, "start_date": date(2022, 5, 5),
         "contract_end_date": date(2024, 5, 5), "end_date": SNAPSHOT, "loaded_at": LOADED},
        {"icoms_account_uid": "A0000005", "customer_id": "C0000005", "product": "tv", "package": "premium",
         "provisioned_mbps": None, "monthly_fee": 30.0, "start_date": date(2024, 11, 20),
         "contract_end_date": date(2025, 11, 20), "end_date": None, "loaded_at": LOADED},
    ]
    rows["contract_events"] = [
        {"event_id": "E1", "customer_id": "C0000001", "product": "mobile", "event_type": "recontract",
         "event_date": date(2024, 12, 20), "new_contract_end_date": date(2026, 12, 20), "new_monthly_fee": 25.0,
         "loaded_at": LOADED},
        {"event_id": "E2", "customer_id": "C0000001", "product": "mobile", "event_type": "price_change",
         "event_date": date(2025, 4, 1), "new_contract_end_date": None, "new_monthly_fee": 27.0,
         "loaded_at": LOADED},
        {"event_id": "E3", "customer_id": "C0000001", "product": "tv", "event_type": "price_change",
         "event_date": date(2025, 5, 1), "new_contract_end_date": None, "new_monthly_fee": 16.0,
         "loaded_at": LOADED},
        {"event_id": "E4", "customer_id": "C0000003", "product": "broadband", "event_type": "termination",
         "event_date": SNAPSHOT, "new_contract_end_date": None, "new_monthly_fee": None, "loaded_at": LOADED},
    ]
    for table, table_rows in _usage_rows(HISTORY_START, SNAPSHOT, LOADED).items():
        rows[table] = table_rows
    # A re-sent week with an older load and different numbers: it must not be double counted.
    rows["mobile_usage_weekly"].append({"msisdn": "447700000001", "week_ending": date(2025, 7, 27),
                                        "data_mb": 99999.0, "voice_minutes": 9999.0, "calls": 999,
                                        "dropped_calls": 999, "loaded_at": LOADED - timedelta(days=3)})
    rows.update(_billing_rows(HISTORY_START, SNAPSHOT, LOADED))
    rows["care_contacts"] = [
        {"contact_id": "K1", "customer_id": "C0000001", "product": "mobile", "contact_ts": datetime(2025, 6, 3, 10),
         "channel": "phone", "reason": "billing", "is_complaint": True, "loaded_at": LOADED},
        {"contact_id": "K2", "customer_id": "C0000001", "product": "broadband",
         "contact_ts": datetime(2025, 7, 12, 9), "channel": "chat", "reason": "technical", "is_complaint": False,
         "loaded_at": LOADED},
        {"contact_id": "K3", "customer_id": "C0000005", "product": "tv", "contact_ts": datetime(2025, 7, 30, 23, 59),
         "channel": "store", "reason": "sales", "is_complaint": False, "loaded_at": LOADED},
    ]
    rows["fault_tickets"] = [
        {"ticket_id": "F1", "customer_id": "C0000001", "product": "broadband", "opened_ts": datetime(2025, 7, 10, 8),
         "resolved_ts": datetime(2025, 7, 11, 8), "fault_type": "degraded", "loaded_at": LOADED},
    ]
    rows["network_outages"] = [
        {"outage_id": "O1", "region": "north", "product": "mobile", "start_ts": datetime(2025, 7, 20, 1),
         "duration_minutes": 120.0, "loaded_at": LOADED},
        {"outage_id": "O2", "region": "west", "product": "tv", "start_ts": datetime(2025, 7, 31, 22),
         "duration_minutes": 45.0, "loaded_at": LOADED},
        # A local outage in another north area: C0000001 (north-001) is not exposed to it.
        {"outage_id": "O3", "region": "north", "network_area": "north-002", "product": "mobile",
         "start_ts": datetime(2025, 7, 21, 3), "duration_minutes": 500.0, "loaded_at": LOADED},
    ]
    return rows


def create_raw_tables(path: Path) -> None:
    """Create every raw table of the source contract (empty) in the DuckDB file at ``path``."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists raw")
        for table in RAW_TABLES:
            con.execute(create_table_sql(table))
    finally:
        con.close()


def load_tiny_raw(path: Path) -> None:
    """Create the raw tables at ``path`` and fill them with the tiny telco, up to the snapshot date."""
    create_raw_tables(path)
    con = duckdb.connect(str(path))
    try:
        for table, table_rows in _base_rows().items():
            _insert(con, table, table_rows)
    finally:
        con.close()


def append_after_snapshot(path: Path, until: date = date(2025, 10, 31)) -> None:
    """Add and change only data dated after the snapshot date D.

    New usage weeks, bills, payments, contacts, faults and outages after D; a recontract and a price change
    after D; C0000002's line disconnected after D (re-delivered with a later load); a new customer joining
    after D.
    """
    after = SNAPSHOT + timedelta(days=1)
    con = duckdb.connect(str(path))
    try:
        for table, table_rows in _usage_rows(after, until, LATE_LOAD).items():
            _insert(con, table, table_rows)
        for table, table_rows in _billing_rows(after, until, LATE_LOAD).items():
            _insert(con, table, table_rows)
        _insert(con, "customers", [
            {"customer_id": "C0000004", "signup_date": date(2025, 8, 10), "region": "east", "network_area": "east-005",
             "birth_year": 2001, "customer_type": "consumer", "loaded_at": LATE_LOAD}])
        _insert(con, "mobile_subscriptions", [
            {"msisdn": "447700000004", "customer_id": "C0000004", "plan_type": "sim_only", "monthly_fee": 12.0,
             "start_date": date(2025, 8, 10), "contract_end_date": date(2026, 8, 10), "end_date": None,
             "loaded_at": LATE_LOAD},
            # The same line as before, now with its disconnection date (after D).
            {"msisdn": "447700000002", "customer_id": "C0000002", "plan_type": "prepaid", "monthly_fee": 10.0,
             "start_date": date(2024, 6, 1), "contract_end_date": None, "end_date": date(2025, 9, 15),
             "loaded_at": LATE_LOAD}])
        _insert(con, "contract_events", [
            {"event_id": "E5", "customer_id": "C0000001", "product": "mobile", "event_type": "recontract",
             "event_date": date(2025, 8, 15), "new_contract_end_date": date(2027, 8, 15), "new_monthly_fee": 22.0,
             "loaded_at": LATE_LOAD},
            {"event_id": "E6", "customer_id": "C0000001", "product": "broadband", "event_type": "price_change",
             "event_date": date(2025, 8, 1), "new_contract_end_date": None, "new_monthly_fee": 40.0,
             "loaded_at": LATE_LOAD},
            {"event_id": "E7", "customer_id": "C0000002", "product": "mobile", "event_type": "termination",
             "event_date": date(2025, 9, 15), "new_contract_end_date": None, "new_monthly_fee": None,
             "loaded_at": LATE_LOAD}])
        _insert(con, "care_contacts", [
            {"contact_id": "K9", "customer_id": "C0000001", "product": "mobile",
             "contact_ts": datetime(2025, 8, 1, 0, 0), "channel": "phone",
             "reason": "cancellation", "is_complaint": True, "loaded_at": LATE_LOAD}])
        _insert(con, "fault_tickets", [
            {"ticket_id": "F9", "customer_id": "C0000001", "product": "mobile",
             "opened_ts": datetime(2025, 8, 1, 0, 1), "resolved_ts": None,
             "fault_type": "no_service", "loaded_at": LATE_LOAD}])
        _insert(con, "network_outages", [
            {"outage_id": "O9", "region": "north", "product": "broadband", "start_ts": datetime(2025, 8, 1, 0, 0),
             "duration_minutes": 600.0, "loaded_at": LATE_LOAD}])
    finally:
        con.close()


def table_rows(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a read-only query against the DuckDB file (closed at once: dbt needs the write lock)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()

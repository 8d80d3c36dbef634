"""The bytes a query bills on BigQuery on-demand, measured on small DuckDB tables whose contents the tests know.

Each expected number is computed here from the rows in Python (8 bytes a number or date, 1 a boolean, 2 + UTF-8
length a string, 0 a NULL), not with the module's SQL, so a wrong size rule, a missed column or a partition
pruned that BigQuery would read makes the test fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import duckdb
import pytest

from resources.bigquery_billing import (
    INFORMATION_SCHEMA_BYTES,
    MIN_TABLE_BYTES,
    Catalogue,
    Partitioning,
    TableRead,
    billed,
    bind_parameters,
    query_reads,
    scan_sql,
)

# raw.events, partitioned by day: (day, n, label, flag, amount, note)
EVENTS = [
    (date(2026, 1, 1), 1, "a", True, 1.5, None),
    (date(2026, 1, 1), 2, "bb", False, None, "é"),
    (date(2026, 1, 2), 3, "ccc", None, 2.5, "日本"),
    (date(2026, 1, 2), None, None, True, 3.5, None),
    (date(2026, 1, 3), 5, "dddd", True, 4.5, "x"),
    (date(2026, 1, 4), 6, "é", False, 5.5, None),
    (date(2026, 1, 5), 7, "ee", True, None, "yy"),
]
COLUMNS = ("day", "n", "label", "flag", "amount", "note")
# raw.outages, partitioned by the day of a timestamp: (start_ts, minutes)
OUTAGES = [
    (datetime(2026, 1, 1, 23, 59), 10),
    (datetime(2026, 1, 2, 0, 0), 20),
    (datetime(2026, 1, 2, 12, 0), 30),
    (datetime(2026, 1, 3, 0, 0), 40),
]


def size(value: object) -> int:
    """BigQuery's logical size of one value, written out independently of the module."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return 2 + len(value.encode("utf-8"))
    return 8  # INT64, FLOAT64, DATE, TIMESTAMP


def expected(columns: tuple[str, ...], days: tuple[date, date] | None = None) -> int:
    index = [COLUMNS.index(c) for c in columns]
    return sum(size(row[i]) for row in EVENTS if days is None or days[0] <= row[0] <= days[1] for i in index)


@pytest.fixture(scope="module")
def warehouse() -> Iterator[tuple[duckdb.DuckDBPyConnection, Catalogue]]:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.events (day date, n bigint, label varchar, flag boolean, amount double, "
                "note varchar)")
    con.executemany("insert into raw.events values (?, ?, ?, ?, ?, ?)", EVENTS)
    con.execute("create table raw.outages (start_ts timestamp, minutes integer)")
    con.executemany("insert into raw.outages values (?, ?)", OUTAGES)
    con.execute("create table raw.regions (region varchar)")
    con.execute("insert into raw.regions values ('north')")
    columns: dict[tuple[str, str], dict[str, str]] = {}
    for table, column, kind in con.execute("select table_name, column_name, data_type from information_schema.columns "
                                           "where table_schema = 'raw'").fetchall():
        columns.setdefault(("raw", table), {})[column] = kind
    catalogue = Catalogue(columns, {("raw", "events"): Partitioning("day"),
                                    ("raw", "outages"): Partitioning("start_ts", timestamp=True)})
    yield con, catalogue
    con.close()


def logical_bytes(warehouse: tuple[duckdb.DuckDBPyConnection, Catalogue], sql: str) -> dict[str, int]:
    """Logical bytes per table read by ``sql`` (before the 10 MB minimum)."""
    con, catalogue = warehouse
    out: dict[str, int] = {}
    for query in query_reads(sql, catalogue):
        for read in query.reads:
            out[read.name] = out.get(read.name, 0) + _measure(con, catalogue, read)
    return out


def _measure(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, read: TableRead) -> int:
    sql = scan_sql(read, catalogue)
    return int(con.execute(sql).fetchone()[0] or 0) if sql else 0


def total_billed(warehouse: tuple[duckdb.DuckDBPyConnection, Catalogue], sql: str, scale: float = 1.0) -> int:
    con, catalogue = warehouse
    return sum(billed(q, lambda r: _measure(con, catalogue, r), scale) for q in query_reads(sql, catalogue))


def test_two_columns_within_constant_bounds_bill_those_columns_of_the_bounded_days(warehouse) -> None:
    sql = "SELECT n, label FROM raw.events WHERE day >= '2026-01-02' AND day <= DATE '2026-01-03'"
    # The WHERE references the partition column: it is billed like any referenced column.
    want = expected(("n", "label", "day"), (date(2026, 1, 2), date(2026, 1, 3)))
    assert logical_bytes(warehouse, sql) == {"raw.events": want}
    assert want == (8 + 0 + 8) + (2 + 3 + 0 + 2 + 4) + 3 * 8  # the two days' n, label and day, by hand
    # Strict bounds and BETWEEN select the same days.
    for same in ("SELECT n, label FROM raw.events WHERE day > '2026-01-01' AND day < '2026-01-04'",
                 "SELECT n, label FROM raw.events WHERE day BETWEEN '2026-01-02' AND '2026-01-03'",
                 "SELECT n, label FROM raw.events WHERE DATE '2026-01-03' >= day AND day >= DATE '2026-01-02'"):
        assert logical_bytes(warehouse, same) == {"raw.events": want}, same


def test_the_same_read_without_bounds_bills_every_day(warehouse) -> None:
    assert logical_bytes(warehouse, "SELECT n, label FROM raw.events") == {"raw.events": expected(("n", "label"))}
    # A lower bound alone prunes the days before it only.
    assert logical_bytes(warehouse, "SELECT n FROM raw.events WHERE day >= '2026-01-04'") == {
        "raw.events": expected(("n", "day"), (date(2026, 1, 4), date(2026, 12, 31)))
    }


def test_a_bound_under_an_or_in_a_join_condition_or_above_a_subquery_does_not_prune(warehouse) -> None:
    every_day = {"raw.events": expected(("n", "day"))}
    assert logical_bytes(warehouse, "SELECT n FROM raw.events WHERE day = '2026-01-02' OR n > 3") == every_day
    joined = ("SELECT e.n FROM raw.regions AS r JOIN raw.events AS e "
              "ON e.day = '2026-01-02' AND r.region = 'north'")
    assert logical_bytes(warehouse, joined)["raw.events"] == every_day["raw.events"]
    above = "SELECT n FROM (SELECT n, day FROM raw.events) WHERE day = '2026-01-02'"
    assert logical_bytes(warehouse, above) == every_day
    # The same bound in the WHERE of the SELECT that scans the table prunes.
    pruned = "SELECT e.n FROM raw.regions AS r JOIN raw.events AS e ON r.region = 'north' WHERE e.day = '2026-01-02'"
    assert logical_bytes(warehouse, pruned)["raw.events"] == expected(("n", "day"), (date(2026, 1, 2),) * 2)


def test_a_table_read_twice_in_one_query_is_billed_once_for_all_it_reads(warehouse) -> None:
    sql = ("SELECT a.n, b.label FROM raw.events AS a JOIN raw.events AS b ON a.n = b.n "
           "WHERE a.day = '2026-01-01' AND b.day = '2026-01-03'")
    both = expected(("n", "label", "day"), (date(2026, 1, 1), date(2026, 1, 1)))
    both += expected(("n", "label", "day"), (date(2026, 1, 3), date(2026, 1, 3)))
    assert logical_bytes(warehouse, sql) == {"raw.events": both}


def test_count_star_bills_the_ten_mb_minimum(warehouse) -> None:
    assert logical_bytes(warehouse, "SELECT count(*) FROM raw.events") == {"raw.events": 0}
    assert total_billed(warehouse, "SELECT count(*) FROM raw.events") == MIN_TABLE_BYTES
    assert total_billed(warehouse, "SELECT count(*) FROM raw.events", scale=1e9) == MIN_TABLE_BYTES
    # Two tables: the minimum is per table.
    two = "SELECT count(*) FROM raw.events CROSS JOIN raw.regions"
    assert total_billed(warehouse, two) == 2 * MIN_TABLE_BYTES


def test_select_star_bills_every_column(warehouse) -> None:
    every = expected(COLUMNS)
    assert logical_bytes(warehouse, "SELECT * FROM raw.events") == {"raw.events": every}
    # Above the minimum the bill is the bytes themselves, scaled.
    assert total_billed(warehouse, "SELECT * FROM raw.events", scale=1e6) == every * 10**6


def test_a_string_bills_two_bytes_plus_its_utf8_length_and_a_null_nothing(warehouse) -> None:
    # note: None, 'é' (2 bytes), '日本' (6 bytes), None, 'x', None, 'yy'
    assert logical_bytes(warehouse, "SELECT note FROM raw.events") == {"raw.events": 4 + 8 + 3 + 4}
    # flag: one NULL among seven booleans; amount: two NULLs among seven floats.
    assert logical_bytes(warehouse, "SELECT flag FROM raw.events") == {"raw.events": 6}
    assert logical_bytes(warehouse, "SELECT amount FROM raw.events") == {"raw.events": 5 * 8}


def test_a_column_used_only_in_a_cte_or_a_condition_is_billed_once(warehouse) -> None:
    sql = ("WITH recent AS (SELECT * FROM raw.events WHERE day >= '2026-01-04' AND day <= '2026-01-05') "
           "SELECT label FROM recent WHERE n > 0 AND label <> 'x'")
    assert logical_bytes(warehouse, sql) == {
        "raw.events": expected(("label", "n", "day"), (date(2026, 1, 4), date(2026, 1, 5)))
    }


def test_a_timestamp_partition_is_its_day(warehouse) -> None:
    # [2026-01-02 00:00, 2026-01-03 00:00): the partition of 2026-01-02 only (two rows).
    sql = ("SELECT minutes FROM raw.outages WHERE start_ts >= TIMESTAMP '2026-01-02 00:00:00' "
           "AND start_ts < TIMESTAMP '2026-01-03 00:00:00'")
    assert logical_bytes(warehouse, sql) == {"raw.outages": 2 * (8 + 8)}
    # A bound inside the day keeps the whole partition of that day.
    inside = ("SELECT minutes FROM raw.outages WHERE start_ts >= TIMESTAMP '2026-01-02 12:00:00' "
              "AND start_ts <= TIMESTAMP '2026-01-02 13:00:00'")
    assert logical_bytes(warehouse, inside) == {"raw.outages": 2 * (8 + 8)}


def test_query_parameters_prune_as_constants(warehouse) -> None:
    sql = bind_parameters("SELECT n FROM raw.events WHERE day BETWEEN @start AND @end",
                          {"start": date(2026, 1, 3), "end": date(2026, 1, 5)})
    assert logical_bytes(warehouse, sql) == {"raw.events": expected(("n", "day"), (date(2026, 1, 3), date(2026, 1, 5)))}


def test_metadata_views_and_whole_partition_deletes(warehouse) -> None:
    assert total_billed(warehouse, "SELECT * FROM `p`.raw.INFORMATION_SCHEMA.PARTITIONS WHERE table_name = 'x'") == (
        INFORMATION_SCHEMA_BYTES
    )
    assert total_billed(warehouse, "DELETE FROM raw.events WHERE day BETWEEN '2026-01-01' AND '2026-01-02'") == 0
    # A DELETE by another column reads every column of the partitions it scans.
    assert logical_bytes(warehouse, "DELETE FROM raw.events WHERE n = 1") == {"raw.events": expected(COLUMNS)}

"""Partitions the engine proves untouched are not checksummed again, and an altered row is still caught.

On BigQuery the raw-contract gate reads INFORMATION_SCHEMA.PARTITIONS (each partition's row count and last
write) before its load checksums and scans only the partition days written since the scan that validated them
(asset_checks/raw_loads.py). BigQuery cannot run here, so the end-to-end tests run the gate on DuckDB through a
warehouse that answers ``partition_metadata`` the way BigQuery does: row counts from the table itself, and the
last write of each partition from a log the test keeps, moved by every write the test makes (as BigQuery moves
``last_modified_time`` on any insert, update, delete or load). The metadata statement BigQuery receives is
checked in tests/bigquery/test_bigquery_writes.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from asset_checks import raw_guards, raw_loads, raw_quantiles
from asset_checks.raw_contract import (
    DISTRIBUTION_CHECK,
    REFERENTIAL_CHECK,
    RESENT_CHECK,
    VOLUME_CHECK,
    evaluate_raw_contract,
    guard_violations,
    partition_columns,
    table_check_name,
)
from resources.sql_dialect import bigquery_sql
from tests.bigquery.recording import RECORDED, RecordingDuckDBWarehouse
from tests.guards.test_bad_input import SCENARIOS
from tests.guards.test_gate_bounds import RAW, alter_one_bill, partition_bounds
from trust_assets.config import SETTINGS

DAY = date(2026, 2, 28)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
WRITES = "test_partition_writes"  # the test's log of partition writes (table, partition day, when)


class PartitionedDuckDBWarehouse(RecordingDuckDBWarehouse):
    """DuckDB answering ``partition_metadata`` as BigQuery's INFORMATION_SCHEMA.PARTITIONS does."""

    def partition_metadata(self, table: str, schema: str | None = None) -> pl.DataFrame:
        column = partition_columns()[table]
        day = f"cast({column.column} as date)"
        with self.connect(read_only=True) as con:
            return con.execute(
                f"select case when {day} is null then '{raw_loads.NULL_PARTITION}' "
                f"else strftime({day}, '%Y%m%d') end as partition_id, count(*) as total_rows, "
                f"coalesce(max(w.written_at), ?) as last_modified "
                f"from {schema or self.raw_schema}.{table} t left join main.{WRITES} w "
                f"on w.table_name = ? and w.partition_day = {day} group by all",
                [LONG_AGO, table],
            ).pl()


def _log_write(path: Path, table: str, day: date) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(f"insert into main.{WRITES} values (?, ?, now())", [table, day])


def log_writes_since(path: Path, day: date) -> None:
    """Start the log of partition writes: the loads of ``day`` and later arrive after the record of the day
    before was written, so their partitions were written then (every other partition long ago)."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"create table main.{WRITES} (table_name varchar, partition_day date, written_at timestamptz)")
        for table, partition in partition_columns().items():
            con.execute(
                f"insert into main.{WRITES} select distinct ?, cast({partition.column} as date), now() "
                f"from raw.{table} where cast({partition.column} as date) >= ? or cast(loaded_at as date) >= ?",
                [table, day, day],
            )


@pytest.fixture()
def warehouse(pipeline_warehouse, tmp_path) -> tuple[Path, PartitionedDuckDBWarehouse]:
    """A copy of the session warehouse whose record of validated loads ends the day before DAY."""
    path: Path = pipeline_warehouse.copy_to(tmp_path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"delete from analytics.{raw_loads.STATE_TABLE} where partition_day >= ? or load_day > ?", [DAY, DAY]
        )
    log_writes_since(path, DAY)
    return path, PartitionedDuckDBWarehouse(path=str(path))


def _summary_scans(table: str) -> list[str]:
    """The BigQuery SQL of the gate's load-checksum scans of ``table`` (recorded while it ran)."""
    return [
        bigquery_sql(s.sql, "project", "analytics_dataset", RAW)
        for s in RECORDED
        if f"{{raw}}.{table} " in s.sql and "as read_at" in s.sql
    ]


# --- the rule, on frames -------------------------------------------------------------------------------------------
def _recorded(rows: list[tuple[date, int, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(d, d, n, "x", d, at) for d, n, at in rows],
        schema={"partition_day": pl.Date, "load_day": pl.Date, "row_count": pl.Int64, "checksum": pl.String,
                "validated_for": pl.Date, "validated_at": pl.Datetime("us", "UTC")},
        orient="row",
    )


def _metadata(rows: list[tuple[str, int, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"partition_id": pl.String, "total_rows": pl.Int64,
                                      "last_modified": pl.Datetime("us", "UTC")}, orient="row")


def test_a_partition_is_proved_untouched_only_by_its_count_and_a_write_before_the_validating_scan() -> None:
    scan = datetime(2026, 2, 27, 6, tzinfo=UTC)
    before, after = scan - timedelta(hours=1), scan + timedelta(seconds=1)
    d1, d2, d3, d4, d5 = (date(2026, 2, day) for day in (20, 21, 22, 23, 24))
    recorded = _recorded([(d1, 10, scan), (d2, 10, scan), (d3, 10, scan), (d5, 10, scan)])
    metadata = _metadata([
        ("20260220", 10, before),  # untouched since validated
        ("20260221", 10, after),  # written after the scan (an update keeps the count)
        ("20260222", 11, before),  # a row more than validated
        ("20260223", 5, before),  # never validated
        (raw_loads.NULL_PARTITION, 3, after),
    ])  # d5: no partition any more (every row deleted)
    d6 = date(2026, 2, 25)  # no rows, then or now
    days = [d1, d2, d3, d4, d5, d6]
    assert raw_loads.unchanged_days(metadata, recorded, days) == {d1, d6}
    assert raw_loads.unchanged_days(metadata, recorded, [d2, d3]) == set()
    # Rows still in the streaming buffer belong to no day yet: nothing is proved.
    streaming = pl.concat([metadata, _metadata([(raw_loads.STREAMING_PARTITION, 2, after)])])
    assert raw_loads.unchanged_days(streaming, recorded, days) == set()
    assert raw_loads.day_runs([d4, d1, d2, d1, d5]) == [(d1, d2), (d4, d5)]
    assert raw_loads.day_runs([]) == []


# --- the gate ------------------------------------------------------------------------------------------------------
def test_a_normal_day_scans_only_the_partitions_written_since_validated(warehouse) -> None:
    path, gate = warehouse
    RECORDED.clear()
    report = evaluate_raw_contract(gate, DAY, DAY)
    assert report.failed == {}
    with duckdb.connect(str(path), read_only=True) as con:
        written = {t: {d for (d,) in con.execute(f"select distinct partition_day from main.{WRITES} "
                                                   "where table_name = ?", [t]).fetchall()}
                   for t in partition_columns()}
    scanned_any = False
    for table, column in partition_columns().items():
        loads = report.loads[table]
        lookback = {loads.first + timedelta(days=i) for i in range((loads.last - loads.first).days + 1)}
        # Exactly the partitions written since the record was made are scanned: the day's and late arrivals'.
        assert loads.unchanged_days == len(lookback - written[table]), table
        for sql in _summary_scans(table):
            for lower, upper, _ in partition_bounds(sql, table, column.column):
                assert lower is not None and upper is not None, sql
                if column.timestamp:  # a timestamp's upper bound is the next day's midnight, excluded
                    upper -= timedelta(days=1)
                run = {lower + timedelta(days=i) for i in range((upper - lower).days + 1)}
                assert run <= written[table], (table, lower, upper)
                scanned_any = True
    assert scanned_any
    # The same groups as a full checksum would find: nothing new is missed, nothing validated is re-checked.
    full = evaluate_raw_contract(RecordingDuckDBWarehouse(path=str(path)), DAY, DAY)
    for table, loads in report.loads.items():
        key = ["partition_day", "load_day"]
        assert loads.current.select(*key, "row_count", "checksum").sort(key).equals(
            full.loads[table].current.select(*key, "row_count", "checksum").sort(key)
        ), table
        assert loads.new.height == full.loads[table].new.height
    raw_loads.record_validated(gate, report.loads, DAY)
    # The next run finds every partition untouched: not one load checksum is scanned.
    RECORDED.clear()
    again = evaluate_raw_contract(gate, DAY, DAY)
    assert again.failed == {}
    assert all(_summary_scans(t) == [] for t in partition_columns())
    assert {t: again.rows_validated[t] for t in partition_columns()} == dict.fromkeys(partition_columns(), 0)


def test_a_row_altered_in_an_untouched_partition_is_caught_by_its_write(warehouse) -> None:
    path, gate = warehouse
    old = DAY - timedelta(days=300)
    with duckdb.connect(str(path)) as con:
        loaded = alter_one_bill(con, old)
    _log_write(path, "bills", old)
    report = evaluate_raw_contract(gate, DAY, DAY)
    (changed,) = report.failed[table_check_name("bills")]
    assert changed.rule == raw_loads.CHANGED_RULE
    assert f"partition day {old}, loaded {loaded}" in changed.detail and "another checksum" in changed.detail


# --- the guards read what the record cannot answer ----------------------------------------------------------------
GUARD_SCENARIOS = [s for s in SCENARIOS if s.check in {VOLUME_CHECK, REFERENTIAL_CHECK, DISTRIBUTION_CHECK,
                                                        RESENT_CHECK} and s.name != "master_data_cut"]


def _partition_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, date], tuple[int, int]]:
    found: dict[tuple[str, date], tuple[int, int]] = {}
    for table, partition in partition_columns().items():
        rows = con.execute(
            f"select cast({partition.column} as date), count(*), sum(hash(t)) from raw.{table} t group by 1"
        ).fetchall()
        found.update({(table, day): (n, h) for day, n, h in rows})
    return found


def _guard_statements(table: str) -> list[str]:
    return [bigquery_sql(s.sql, "project", "analytics_dataset", RAW) for s in RECORDED
            if s.origin.startswith("asset_checks/raw_guards.py") and f"{{raw}}.{table} " in s.sql]


def test_a_normal_day_guards_only_the_partitions_written_since_validated(warehouse) -> None:
    path, gate = warehouse
    RECORDED.clear()
    report = evaluate_raw_contract(gate, DAY, DAY)
    assert report.failed == {}
    recent = DAY - timedelta(days=SETTINGS.raw_guards.recent_load_days)
    with duckdb.connect(str(path), read_only=True) as con:
        written = {
            t: {d for (d,) in con.execute(f"select distinct partition_day from main.{WRITES} "
                                          "where table_name = ? and partition_day >= ?", [t, recent]).fetchall()}
            for t in partition_columns()
        }
    # No count per day of a partitioned table: the volume guard takes its counts from the load checksums.
    counted = [s.sql for s in RECORDED if "as period, count(*) as rows" in s.sql]
    assert counted and all("{raw}.contract_events " in sql for sql in counted), counted
    read_any = False
    for table, partition in partition_columns().items():
        for sql in _guard_statements(table):
            for lower, upper, _ in partition_bounds(sql, table, partition.column):
                if lower is None or upper is None or lower < recent:
                    continue  # the distribution guard's trailing history, or a master table's window (bills)
                if partition.timestamp:
                    upper -= timedelta(days=1)
                # The recent days judged are those written since validated, nothing earlier.
                assert written[table] and min(written[table]) <= lower and upper <= max(written[table]), sql
                read_any = True
    assert read_any
    # The same findings as guards that judge every recent day and count every day's rows.
    every_day = guard_violations(gate, DAY, DAY)
    assert not any(every_day.values())


@pytest.mark.parametrize("scenario", GUARD_SCENARIOS, ids=[s.name for s in GUARD_SCENARIOS])
def test_a_fault_in_the_partitions_written_since_is_caught(warehouse, scenario) -> None:
    """Each guard fault of the bad-input matrix, made through writes that move the partitions' metadata as
    BigQuery would, fails the same check as on a warehouse without partition metadata."""
    path, gate = warehouse
    with duckdb.connect(str(path)) as con:
        before = _partition_fingerprints(con)
    scenario.damage(path)
    with duckdb.connect(str(path)) as con:
        after = _partition_fingerprints(con)
    for table, day in {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}:
        _log_write(path, table, day)
    report = evaluate_raw_contract(gate, DAY, DAY)
    assert scenario.check in report.failed, scenario.name
    named = {v.where for v in report.failed[scenario.check]}
    assert {scenario.where, *scenario.also} <= named, named


def test_the_distribution_guard_computes_only_the_days_written_since(warehouse) -> None:
    """The trailing days' quantiles come from the record the gate keeps (asset_checks/raw_quantiles.py) where
    the warehouse proves their partitions untouched; they equal the figures computed from the tables."""
    path, gate = warehouse
    with duckdb.connect(str(path)) as con:
        recorded = con.execute(f"select count(*) from analytics.{raw_quantiles.QUANTILE_TABLE}").fetchone()[0]
    assert recorded > 0  # written by the gates that built the session warehouse
    RECORDED.clear()
    report = evaluate_raw_contract(gate, DAY, DAY)
    assert report.failed == {}
    quantile_reads = [s.sql for s in RECORDED if "quantile_cont" in s.sql]
    with duckdb.connect(str(path), read_only=True) as con:
        written = {t: {d for (d,) in con.execute(f"select distinct partition_day from main.{WRITES} "
                                                   "where table_name = ?", [t]).fetchall()}
                   for t in partition_columns()}
    for sql in quantile_reads:
        (table,) = [t for t in raw_guards.MEASURES if f"{{raw}}.{t} " in sql]
        column = partition_columns()[table]
        ((lower, upper, _),) = partition_bounds(bigquery_sql(sql, "project", "analytics_dataset", RAW), table,
                                                column.column)
        assert lower is not None and upper is not None and lower >= min(written[table]), sql
    # Weeks of usage land once a week: on a normal day most tables compute one day, none its trailing month.
    assert len(quantile_reads) <= len(raw_guards.MEASURES)
    _, computed = raw_guards.distribution_findings(RecordingDuckDBWarehouse(path=str(path)), DAY, DAY,
                                                   partitions=partition_columns())
    key = ["table_name", "period", "measure"]
    for table, frame in computed.items():
        used = report.quantiles[table].drop("validated_for").sort(key)
        assert used.equals(frame.drop("validated_for").sort(key)), table

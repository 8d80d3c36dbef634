"""The loads the raw-contract gate has validated, and constant partition bounds on every raw read it issues.

The gate's cost follows what arrived since the last validated load, not the history, while a row altered in a
load that already passed is still caught:

- **Constant bounds.** Every statement the gate (and its guards) sends to a partitioned raw table filters the
  table's partition column (``RawTable.partition_by``) by literal dates, as the daily dbt models do (dbt macro
  ``raw_partition_bound``): BigQuery prunes partitions only on a filter it can evaluate before reading.
  :func:`day_range` writes the bounds; ``tests/guards/test_gate_bounds.py`` checks every statement's AST.
- **The record of validated loads.** When the gate passes, it writes per partitioned raw table and per group of rows
  (the partition day, i.e. the day of the partition column, and the load day, the date of ``loaded_at``) the row
  count and an aggregate checksum of the rows to ``analytics.raw_validated_loads`` (:data:`STATE_TABLE`). The
  checksum is the bitwise XOR of a hash of each row's contract columns: DuckDB ``bit_xor(hash({...}))``, on
  BigQuery ``BIT_XOR(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT(...))))`` (resources/sql_dialect.py). Any edit,
  insertion or deletion of a row changes the count or the checksum of its group; a column added to the table
  (the contract allows extra columns) changes neither. The tables the models read whole
  (customers, subscriptions, contract events) are partitioned by the day their rows landed (``loaded_at``): a
  change lands as a new row, so each load day is one group, and the record holds every one of them.
- **Each day.** One aggregate per table over the gate's constant look-back (:func:`read_loads`) returns the same
  count and checksum per group. A group not in the record is new (a day's load, a late arrival or a
  re-delivery, which lands with a new ``loaded_at``): only its rows are re-checked, in SQL and (the rows that
  landed since the window start) with Pandera. A recorded group whose count or checksum differs was altered
  after it passed: the gate fails with the groups, their recorded and present counts and the day they were
  validated, and its rows are re-checked too so the message also names any rule they now break. A recorded
  group that vanished is reported the same way.

- **Partitions the engine proves untouched.** Where the warehouse keeps a record of its own partitions
  (BigQuery's INFORMATION_SCHEMA.PARTITIONS: each partition's ``total_rows`` and ``last_modified_time``; see
  ``WarehouseResource.partition_metadata``), a partition day whose every group is in the record, whose row count
  equals the recorded groups' and which was last written before the scan that validated them is not scanned
  again: its recorded groups stand for it (:func:`unchanged_days`). Any write to a partition (an insert, an
  update or delete of a row, a load) moves its last-modified time, so an altered row still sends its partition
  to the checksum. Rows still in the streaming buffer belong to no day yet: while there are any, every day is
  scanned. DuckDB keeps no such record, so there every group is checksummed each day.

The look-back of the record is the gate's window per table (``raw_contract.RAW_WINDOWS``), at least the longest
look-back a daily model applies to the table; rows older than it feed no daily partition. A group lies wholly
inside or outside a look-back (it is one partition day), so the record does not depend on which window wrote
it: a backfill of an old day and the next daily run read the same record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import polars as pl

from asset_checks.violations import EXAMPLE_ROWS, Violation

# The record of validated loads, in the analytics schema (dataset).
STATE_TABLE = "raw_validated_loads"
STATE_COLUMNS: dict[str, pl.DataType] = {
    "table_name": pl.String(),
    "partition_day": pl.Date(),  # the day of the partition column; NULL for an unpartitioned table
    "load_day": pl.Date(),  # the date of loaded_at
    "row_count": pl.Int64(),
    "checksum": pl.String(),  # the engine's aggregate row checksum, as text
    "validated_for": pl.Date(),  # the last day of the gate window that validated the group
    "validated_at": pl.Datetime("us", "UTC"),  # when the warehouse read the rows the gate validated
}
CHANGED_RULE = "validated loads unchanged"
_KEY = ("partition_day", "load_day")
# A NULL group key (no load time, no partition day) is joined as this day.
_NULL_DAY = date(1, 1, 1)
# BigQuery's partition ids that are not a day: rows without a partition date, rows still in the streaming buffer.
NULL_PARTITION, STREAMING_PARTITION = "__NULL__", "__UNPARTITIONED__"


# --- constant bounds ------------------------------------------------------------------------------------------------
def day_range(column: str, timestamp: bool, first: date, last: date) -> str:
    """SQL: the day of ``column`` lies in [first, last], written as literal bounds on the column itself, so a
    warehouse that partitions by the column prunes on it (a function of the column would not prune)."""
    if not timestamp:
        return f"{column} >= cast('{first.isoformat()}' as date) and {column} <= cast('{last.isoformat()}' as date)"
    after = last + timedelta(days=1)
    return (
        f"{column} >= cast('{first.isoformat()} 00:00:00' as timestamp) "
        f"and {column} < cast('{after.isoformat()} 00:00:00' as timestamp)"
    )


def days_after(column: str, timestamp: bool, day: date) -> str:
    """SQL: the day of ``column`` is after ``day`` (a literal lower bound: only the partitions after it are read)."""
    if not timestamp:
        return f"{column} > cast('{day.isoformat()}' as date)"
    return f"{column} >= cast('{(day + timedelta(days=1)).isoformat()} 00:00:00' as timestamp)"


def _day_list(days: Sequence[date]) -> str:
    return ", ".join(f"cast('{d.isoformat()}' as date)" for d in sorted(days))


@dataclass(frozen=True)
class Partitioning:
    """The partition column of a raw table and the gate's constant look-back on it."""

    column: str
    timestamp: bool

    @property
    def day(self) -> str:
        return f"cast({self.column} as date)" if self.timestamp else self.column

    def between(self, first: date, last: date) -> str:
        return day_range(self.column, self.timestamp, first, last)

    def after(self, day: date) -> str:
        return days_after(self.column, self.timestamp, day)


class ContractTable(Protocol):
    """What this module reads of a raw table of the source contract (``RawTable``)."""

    name: str
    partition_by: str | None
    columns: Sequence[Any]


def partitioning(table: ContractTable) -> Partitioning | None:
    """The partitioning of a raw table of the source contract (None: unpartitioned, read whole)."""
    column = table.partition_by
    if column is None:
        return None
    kind = next(c.type for c in table.columns if c.name == column)
    return Partitioning(column, kind == "TIMESTAMP")


# --- the loads of a table -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableLoads:
    """The groups (partition day, load day) of one raw table within the gate's bounds, now and as recorded."""

    table: str
    partition: Partitioning | None
    first: date | None  # the bounds on the partition day (None: the whole table)
    last: date | None
    current: pl.DataFrame  # partition_day, load_day, row_count, checksum, read_at
    recorded: pl.DataFrame  # the same columns plus validated_for and validated_at, from the record
    new: pl.DataFrame = field(default_factory=pl.DataFrame)
    changed: pl.DataFrame = field(default_factory=pl.DataFrame)  # altered or vanished since validated
    proved: frozenset[date] = frozenset()  # partition days the engine's partition metadata proved untouched

    @property
    def unchanged_days(self) -> int:
        """How many partition days were not scanned: proved untouched since validated."""
        return len(self.proved)

    def covers(self, first: date, last: date) -> bool:
        """Whether the groups span every partition day of [first, last] (a bounded table only)."""
        return self.first is not None and self.last is not None and self.first <= first and last <= self.last

    def rows_per_day(self) -> pl.DataFrame:
        """Rows per partition day (``period``, ``rows``) as found now: scanned, or as validated where the
        partition metadata proved the day untouched. The same counts as a ``count(*)`` per day would give."""
        return (
            self.current.filter(pl.col("partition_day").is_not_null())
            .group_by("partition_day")
            .agg(pl.col("row_count").sum().alias("rows"))
            .rename({"partition_day": "period"})
        )

    def written_since_validated(self, first: date, last: date) -> tuple[date, date] | None:
        """The smallest range of days within [first, last] holding every partition day not proved untouched
        (None: all were): the partitions a load landed in since the gate last validated them."""
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        written = [d for d in days if d not in self.proved]
        return (written[0], written[-1]) if written else None

    @property
    def rows(self) -> int:
        return int(self.current["row_count"].sum()) if self.current.height else 0

    @property
    def to_check(self) -> pl.DataFrame:
        """The groups whose rows are re-checked: new ones and those altered since validated (still present)."""
        altered = self.changed.filter(pl.col("row_count").is_not_null()).select(_KEY)
        return pl.concat([self.new.select(_KEY), altered])

    def bounds(self) -> str:
        """SQL of the gate's constant bounds on the table ("true" for an unpartitioned table)."""
        if self.partition is None or self.first is None or self.last is None:
            return "true"
        return self.partition.between(self.first, self.last)

    def check_predicate(self) -> str:
        """SQL of the rows to re-check: those of the new and altered groups, within constant bounds on the
        partition column ("false" when there are none). Rows of other groups with the same load day and a
        partition day in the same range are re-checked too: a few more rows, never fewer."""
        groups = self.to_check
        if not groups.height:
            return "false"
        if groups.height == self.current.height:
            return self.bounds()  # everything in the bounds (the first run): no list of load days
        parts: list[str] = []
        if self.partition is not None:
            days = [d for d in groups["partition_day"].to_list() if d is not None]
            if days:
                parts.append(self.partition.between(min(days), max(days)))
        loads = groups["load_day"].to_list()
        known = [d for d in set(loads) if d is not None]
        load_filter = [f"cast(loaded_at as date) in ({_day_list(known)})"] if known else []
        if None in loads:
            load_filter.append("loaded_at is null")
        if load_filter:
            parts.append("(" + " or ".join(load_filter) + ")")
        return " and ".join(parts) or "true"

    def violations(self) -> list[Violation]:
        """One violation when a validated group was altered or vanished: counts, checksums, when validated."""
        if not self.changed.height:
            return []
        shown = self.changed.sort(_KEY).select(
            "partition_day",
            "load_day",
            pl.col("recorded_rows"),
            pl.col("row_count").alias("rows_now"),
            pl.col("recorded_checksum"),
            pl.col("checksum").alias("checksum_now"),
            "validated_for",
        )
        first = shown.row(0, named=True)
        where = f"partition day {first['partition_day']}, " if first["partition_day"] is not None else ""
        now = "gone" if first["rows_now"] is None else f"{first['rows_now']} rows now"
        more = shown.height - 1
        return [
            Violation(
                f"raw.{self.table}",
                None,
                CHANGED_RULE,
                int(shown["rows_now"].fill_null(0).sum() or 0),
                shown.head(EXAMPLE_ROWS),
                detail=f"{shown.height} load(s) altered after the gate validated them: {where}loaded "
                f"{first['load_day']}, {first['recorded_rows']} rows when validated for {first['validated_for']}, "
                f"{now}"
                + (" with another checksum" if first["rows_now"] == first["recorded_rows"] else "")
                + (f"; {more} more" if more else "")
                + ". A correction is re-delivered with a new loaded_at (docs/source_contract.md); a landed row is "
                "never edited in place",
            )
        ]


def checksum_sql(columns: Sequence[str]) -> str:
    """SQL of the aggregate checksum of the rows over ``columns`` (the contract's, so a column added to the table,
    which the contract allows, changes no checksum); rendered for BigQuery by resources/sql_dialect.py."""
    row = ", ".join(f"'{c}': {c}" for c in columns)
    return f"cast(bit_xor(hash({{{row}}})) as varchar)"


def summary_sql(
    table: str, partition: Partitioning | None, bounds: Sequence[str], loaded_at_usable: bool, columns: Sequence[str]
) -> str:
    """One scan: per (partition day, load day) of the rows within ``bounds``, their count, their checksum and
    when the warehouse read them (the statement's start). Each bound (a range of days, or "true" for a whole
    table) makes one SELECT, joined by UNION ALL, so each carries its constants at the top of its own WHERE."""
    part = partition.day if partition is not None else "cast(null as date)"
    load = "cast(loaded_at as date)" if loaded_at_usable else "cast(null as date)"
    selects = [
        f"select {part} as partition_day, {load} as load_day, count(*) as row_count, "
        f"{checksum_sql(columns)} as checksum, max(current_timestamp) as read_at "
        f"from {{raw}}.{table} where {where} group by 1, 2"
        for where in bounds
    ]
    return " union all ".join(selects)


def day_runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """``days`` as the fewest ranges of consecutive days, in order."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def unchanged_days(metadata: pl.DataFrame, recorded: pl.DataFrame, days: Sequence[date]) -> set[date]:
    """Those of ``days`` whose rows need no scan: the engine's partition metadata (``partition_id``,
    ``total_rows``, ``last_modified``) shows the partition holds as many rows as the recorded groups of that
    day and was last written before the earliest scan that validated them, or the day has neither a partition
    nor a recorded group (no rows, then or now). Nothing while rows sit in the streaming buffer (they belong to
    no day yet)."""
    streaming = metadata.filter(pl.col("partition_id") == STREAMING_PARTITION)
    if streaming.height and int(streaming["total_rows"].fill_null(0).sum()):
        return set()
    partitions = metadata.filter(pl.col("partition_id").str.contains(r"^\d{8}$")).select(
        pl.col("partition_id").str.to_date("%Y%m%d").alias("partition_day"),
        pl.col("total_rows").cast(pl.Int64),
        pl.col("last_modified").cast(pl.Datetime("us", "UTC")),
    )
    validated = (
        recorded.filter(pl.col("partition_day").is_not_null())
        .group_by("partition_day")
        .agg(pl.col("row_count").sum().alias("recorded_rows"), pl.col("validated_at").min())
    )
    proved = partitions.join(validated, on="partition_day", how="inner").filter(
        (pl.col("total_rows") == pl.col("recorded_rows")) & (pl.col("last_modified") < pl.col("validated_at"))
    )
    empty = set(days) - set(partitions["partition_day"].to_list()) - set(validated["partition_day"].to_list())
    return (set(proved["partition_day"].to_list()) & set(days)) | empty


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(k).fill_null(_NULL_DAY).alias(f"_{k}") for k in _KEY)


def compare(current: pl.DataFrame, recorded: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(new groups, altered or vanished groups) of ``current`` against ``recorded`` (the record within the same
    bounds). The second frame carries the present ``row_count``/``checksum`` (NULL when vanished) and the
    recorded ones as ``recorded_rows``/``recorded_checksum`` and ``validated_for``."""
    keys = [f"_{k}" for k in _KEY]
    now = _keyed(current.select(*_KEY, "row_count", "checksum"))
    before = _keyed(
        recorded.select(
            *_KEY,
            pl.col("row_count").alias("recorded_rows"),
            pl.col("checksum").alias("recorded_checksum"),
            "validated_for",
        )
    )
    new = now.join(before.select(keys), on=keys, how="anti").drop(keys)
    both = before.join(now.drop(_KEY), on=keys, how="left").drop(keys)
    changed = both.filter(
        pl.col("row_count").is_null()
        | (pl.col("row_count") != pl.col("recorded_rows"))
        | (pl.col("checksum") != pl.col("recorded_checksum"))
    )
    return new, changed


def empty_state() -> pl.DataFrame:
    return pl.DataFrame(schema=STATE_COLUMNS)


def read_record_table(warehouse: Any, table: str, columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """A record the gate keeps in the analytics schema, whole and typed; empty when nothing was recorded yet."""
    if not warehouse.column_types(table, warehouse.analytics_schema):
        return pl.DataFrame(schema=columns)
    found = warehouse.read(f"select * from {{analytics}}.{table}")
    return found.select(list(columns)).cast(columns)  # type: ignore[arg-type]


def read_state(warehouse: Any) -> pl.DataFrame:
    """The whole record (a few rows per raw table and day); empty when nothing was recorded yet."""
    return read_record_table(warehouse, STATE_TABLE, STATE_COLUMNS)


def recorded_for(state: pl.DataFrame, table: str, first: date | None, last: date | None) -> pl.DataFrame:
    """The record of ``table`` within [first, last] on the partition day (all of it when unbounded)."""
    mine = state.filter(pl.col("table_name") == table)
    if first is not None and last is not None:
        mine = mine.filter(pl.col("partition_day").is_between(first, last))
    return mine.select("partition_day", "load_day", "row_count", "checksum", "validated_for", "validated_at")


def read_loads(
    warehouse: Any,
    table: ContractTable,
    first: date | None,
    last: date | None,
    loaded_at_usable: bool,
    state: pl.DataFrame | None = None,
    columns: Sequence[str] | None = None,
) -> TableLoads | None:
    """The groups of ``table`` (a raw table of the source contract) within [first, last] on its partition column
    (the whole table when unpartitioned), compared with the record (``state``: :func:`read_state`, read here when
    not given), the checksum over ``columns`` (default: every contract column); None when the scan fails (a broken
    column: the table's structural violations name it)."""
    name = table.name
    partition = partitioning(table)
    if partition is None:
        first = last = None
    recorded = recorded_for(read_state(warehouse) if state is None else state, name, first, last)
    proved: set[date] = set()
    if partition is None or first is None or last is None:
        bounds: list[str] = ["true"]
    else:
        every_day = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if recorded.height:
            try:
                metadata = warehouse.partition_metadata(name, warehouse.raw_schema)
            except Exception:
                metadata = None  # no metadata to be read (e.g. no permission on the view): checksum every day
            if metadata is not None:
                proved = unchanged_days(metadata, recorded, every_day)
        bounds = [partition.between(a, b) for a, b in day_runs([d for d in every_day if d not in proved])]
    checked = list(columns) if columns is not None else [c.name for c in table.columns]
    current = pl.DataFrame(schema={**{k: pl.Date() for k in _KEY}, "row_count": pl.Int64(),
                                   "checksum": pl.String(), "read_at": pl.Datetime("us", "UTC")})
    if bounds:
        try:
            scanned = warehouse.read(summary_sql(name, partition, bounds, loaded_at_usable, checked))
        except Exception:
            return None
        current = pl.concat([current, scanned.cast(current.schema)])  # type: ignore[arg-type]
    if proved:
        # The groups of the untouched partitions, as validated (and when their rows were read then).
        kept = recorded.filter(pl.col("partition_day").is_in(sorted(proved)))
        current = pl.concat([current, kept.select(*_KEY, "row_count", "checksum",
                                                  pl.col("validated_at").alias("read_at"))])
    new, changed = compare(current, recorded)
    return TableLoads(name, partition, first, last, current, recorded, new, changed, frozenset(proved))


def record_validated(warehouse: Any, loads: Mapping[str, TableLoads], validated_for: date) -> None:
    """Record every group of ``loads`` as validated (after the gate passed): the record of each table within
    its bounds is replaced by the groups found there now. One small table, rewritten whole."""
    if not loads:
        return
    kept = (
        warehouse.read(f"select * from {{analytics}}.{STATE_TABLE}")
        if warehouse.column_types(STATE_TABLE, warehouse.analytics_schema)
        else empty_state()
    )
    kept = kept.select(list(STATE_COLUMNS)).cast(STATE_COLUMNS)  # type: ignore[arg-type]
    fresh: list[pl.DataFrame] = []
    for name, found in loads.items():
        mine = pl.col("table_name") == name
        if found.first is not None and found.last is not None:
            mine = mine & pl.col("partition_day").is_between(found.first, found.last)
        kept = kept.filter(~mine)
        fresh.append(
            found.current.select(
                pl.lit(name).alias("table_name"),
                "partition_day",
                "load_day",
                "row_count",
                "checksum",
                pl.lit(validated_for).alias("validated_for"),
                pl.col("read_at").alias("validated_at"),
            ).cast(STATE_COLUMNS)
        )  # type: ignore[arg-type]
    state = pl.concat([kept, *fresh]).sort("table_name", "partition_day", "load_day", nulls_last=True)
    warehouse.replace_table(STATE_TABLE, state)

"""Guards on raw data that keeps the contract but is still wrong: volume, referential, distribution, re-sends.

The table contracts (asset_checks/raw_contract.py) catch broken shapes and impossible values. A load can keep
every one of them and still be wrong: a partial delivery, a master table cut to a tenth, keys that match nothing,
a measure delivered in another unit but under the ceiling, a day re-sent under new ids. Each guard here compares
a load with the table's own trailing history (or the last published day) and returns :class:`Violation`s that
the gate turns into blocking checks (``raw_volume``, ``raw_referential_integrity``, ``raw_distribution``,
``raw_resent_events``). Thresholds: ``SETTINGS.raw_guards`` (trust_assets/config.py).

Every guard is SQL aggregates in the warehouse (counts, quantiles, anti-joins), with ``{raw}``/``{analytics}`` and
``$name`` placeholders rendered for BigQuery by resources/sql_dialect.py; only a few rows per table and day come
back, and the judgement is a pure function over those small frames (unit-tested without a warehouse):

- **volume** (:func:`volume_violations`): rows per business day of the daily event tables (a day's rows land
  together the next night, so a business day is a load) and rows per week of the weekly usage tables, against
  the median of the trailing ``trailing_days`` days (``trailing_weeks`` weeks). A day blocks when it holds less
  than ``min_volume_share`` of the median AND lies ``volume_sigmas`` Poisson standard deviations below it.
  Spikes do not block: a real outage triples the day's care contacts.
- **master volume** (:func:`master_volume_violations`): customers, mobile lines and fixed products live on the
  window's first day in the raw tables against the last published ``customer_360_definition`` day before it.
- **referential** (:func:`orphan_violations`): per table and load (``loaded_at`` date) of the last
  ``recent_load_days``, the share of rows whose key matches no row of the master or subscription table, keys
  compared after the normalisation staging applies (:func:`normalised_key`).
- **distribution** (:func:`distribution_violations`): median and p95 of each raw measure per day (week) against
  the medians of the trailing days' medians and p95s; a unit change moves both by the same factor.
- **re-sent events** (:func:`near_duplicate_violations`): rows that repeat every business column of another
  row under a different id, per load, among the rows dated or loaded in the last ``recent_load_days``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import sqrt
from typing import Any, Protocol

import polars as pl

from asset_checks import raw_quantiles
from asset_checks.raw_window import used_params
from asset_checks.violations import EXAMPLE_ROWS, Violation
from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS, RawGuardSettings

# --- which tables, which columns ----------------------------------------------------------------------------------
# The rows of a table a guard judges when there are none to judge (every recent partition proved untouched).
NOTHING = "false"



@dataclass(frozen=True)
class DailyFeed:
    """An event table whose rows carry a business day: the rows of a day land together the next night."""

    column: str  # the dating column
    timestamp: bool = False  # a TIMESTAMP: its date is the business day
    # Bills are issued on billing days 1-28 only: later days of a month are not judged (nor used as history).
    last_day_of_month: int = 31

    @property
    def day(self) -> str:
        """SQL of the business day."""
        return f"cast({self.column} as date)" if self.timestamp else self.column


DAILY_FEEDS: dict[str, DailyFeed] = {
    "bills": DailyFeed("bill_date", last_day_of_month=28),
    "payments": DailyFeed("paid_date"),
    "care_contacts": DailyFeed("contact_ts", timestamp=True),
    "fault_tickets": DailyFeed("opened_ts", timestamp=True),
    "contract_events": DailyFeed("event_date"),
    "network_outages": DailyFeed("start_ts", timestamp=True),
}
WEEKLY_FEEDS: tuple[str, ...] = ("mobile_usage_weekly", "tv_viewing_weekly", "broadband_usage_weekly")
# Weekly files land the day after the week ends (raw_contract.WEEKLY_LOAD_LAG_DAYS).
WEEKLY_LOAD_LAG_DAYS = 1

# Raw measures whose unit can change silently (seconds for minutes, pence for pounds, MB for GB).
MEASURES: dict[str, tuple[str, ...]] = {
    "bills": ("amount",),
    "payments": ("amount",),
    "network_outages": ("duration_minutes",),
    "mobile_usage_weekly": ("data_mb", "voice_minutes"),
    "tv_viewing_weekly": ("viewing_minutes",),
    "broadband_usage_weekly": ("download_gb", "upload_gb", "avg_delivered_mbps"),
}


@dataclass(frozen=True)
class Reference:
    """``table.column`` must match ``master.master_column``."""

    table: str
    column: str
    master: str
    master_column: str


REFERENCES: tuple[Reference, ...] = (
    Reference("mobile_subscriptions", "customer_id", "customers", "customer_id"),
    Reference("fixed_subscriptions", "customer_id", "customers", "customer_id"),
    Reference("mobile_usage_weekly", "msisdn", "mobile_subscriptions", "msisdn"),
    Reference("tv_viewing_weekly", "icoms_account_uid", "fixed_subscriptions", "icoms_account_uid"),
    Reference("broadband_usage_weekly", "icoms_account_uid", "fixed_subscriptions", "icoms_account_uid"),
    Reference("bills", "customer_id", "customers", "customer_id"),
    Reference("payments", "customer_id", "customers", "customer_id"),
    Reference("payments", "bill_id", "bills", "bill_id"),
    Reference("care_contacts", "customer_id", "customers", "customer_id"),
    Reference("fault_tickets", "customer_id", "customers", "customer_id"),
    Reference("contract_events", "customer_id", "customers", "customer_id"),
)

# Re-sent events: the id column and the business columns that make two rows the same event.
NEAR_DUPLICATE_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "care_contacts": ("contact_id", ("customer_id", "product", "contact_ts", "channel", "reason", "is_complaint")),
    "fault_tickets": ("ticket_id", ("customer_id", "product", "opened_ts", "fault_type")),
    "bills": ("bill_id", ("customer_id", "product", "bill_date", "amount")),
    "payments": ("payment_id", ("bill_id", "customer_id", "paid_date", "amount")),
    "contract_events": ("event_id", ("customer_id", "product", "event_type", "event_date")),
    "network_outages": ("outage_id", ("region", "network_area", "product", "start_ts", "duration_minutes")),
}


def normalised_key(column: str) -> str:
    """SQL of a key as staging compares it (dbt macro ``canonical_key``): surrounding spaces trimmed, case
    ignored, and for an MSISDN a leading run of ``+`` or the ``00`` international prefix dropped. Drift that
    staging normalises does not block; anything else (another prefix, a truncated id) is an orphan."""
    if column == "msisdn":
        return f"regexp_replace(trim({column}), '^([+]+|00)', '')"
    return f"upper(trim({column}))"


def _settings(settings: RawGuardSettings | None) -> RawGuardSettings:
    return settings or SETTINGS.raw_guards


def _read(warehouse: WarehouseResource, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame | None:
    """The aggregate, or None when a column it needs is missing or retyped: the table's contract check (which
    fails the gate) names the broken column, and the guard skips the table."""
    try:
        return warehouse.read(sql, params)
    except Exception:
        return None


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def last_sunday(on_or_before: date) -> date:
    return on_or_before - timedelta(days=(on_or_before.weekday() + 1) % 7)


def judged_weeks(start: date, end: date) -> tuple[date, date]:
    """The first and last usage week (``week_ending``) that the window's days read as their latest week."""
    return (last_sunday(start - timedelta(days=WEEKLY_LOAD_LAG_DAYS)),
            last_sunday(end - timedelta(days=WEEKLY_LOAD_LAG_DAYS)))


# --- periods and their trailing history ---------------------------------------------------------------------------
def judged_periods(table: str, start: date, end: date) -> list[date]:
    """The days (weeks, by ``week_ending``) of ``table`` that the window [start, end] judges."""
    if table in DAILY_FEEDS:
        return [d for d in _days(start, end) if d.day <= DAILY_FEEDS[table].last_day_of_month]
    first, latest = judged_weeks(start, end)
    return [first + timedelta(days=7 * i) for i in range((latest - first).days // 7 + 1)]


def history_of(table: str, period: date, settings: RawGuardSettings | None = None) -> list[date]:
    """The trailing days (weeks) a period of ``table`` is compared with, oldest first."""
    s = _settings(settings)
    if table in DAILY_FEEDS:
        last = DAILY_FEEDS[table].last_day_of_month
        days = _days(period - timedelta(days=s.trailing_days), period - timedelta(days=1))
        return [d for d in days if d.day <= last]
    return [period - timedelta(days=7 * i) for i in range(s.trailing_weeks, 0, -1)]


class Bounded(Protocol):
    """A table's partition column (asset_checks/raw_loads.Partitioning): constant bounds on it."""

    column: str

    def between(self, first: date, last: date) -> str: ...


def _periods_between(
    table: str, first: date, last: date, partitions: Mapping[str, Bounded] | None
) -> tuple[str, dict[str, Any]]:
    """SQL (and parameters) of the rows whose period lies in [first, last]: constant bounds on the partition
    column when ``table`` is partitioned on the dating column (BigQuery prunes), a parameterised filter otherwise."""
    period, column, _ = _period(table)
    partition = (partitions or {}).get(table)
    if partition is not None and partition.column == column:
        return partition.between(first, last), {}
    return f"{period} between $first and $last", {"first": first, "last": last}


def _period(table: str) -> tuple[str, str, str]:
    """(SQL of the period, the dating column, "day" or "week") of a daily or weekly table."""
    if table in DAILY_FEEDS:
        feed = DAILY_FEEDS[table]
        return feed.day, feed.column, "day"
    return "week_ending", "week_ending", "week"


# --- volume -------------------------------------------------------------------------------------------------------
def volume_violations(
    counts: pl.DataFrame, judged: Sequence[date], history: Callable[[date], Sequence[date]], table: str,
    column: str, unit: str = "day", settings: RawGuardSettings | None = None,
) -> list[Violation]:
    """Periods of ``judged`` whose rows fall below the median of their trailing ``history(period)`` by more than
    the configured share and Poisson noise. ``counts``: ``period`` (date), ``rows``; absent periods hold 0 rows."""
    s = _settings(settings)
    by_period = {d: int(n) for d, n in zip(counts["period"].to_list(), counts["rows"].to_list(), strict=True)}
    short: list[dict[str, Any]] = []
    for period in judged:
        trailing = history(period)
        if not trailing:
            continue
        expected = statistics.median(by_period.get(d, 0) for d in trailing)
        have = by_period.get(period, 0)
        if expected <= 0:
            continue
        floor = min(s.min_volume_share * expected, expected - s.volume_sigmas * sqrt(expected))
        if have < floor:
            short.append({unit: period, "rows": have, "expected_rows": expected, "share": round(have / expected, 4),
                          "trailing": f"{trailing[0]} .. {trailing[-1]}"})
    if not short:
        return []
    first = short[0]
    return [
        Violation(
            f"raw.{table}", column,
            f"rows per {unit} at least {s.min_volume_share:.0%} of the trailing median (partial delivery)",
            int(sum(r["rows"] for r in short)), pl.DataFrame(short[:EXAMPLE_ROWS]),
            detail=f"expected about {first['expected_rows']:g} rows per {unit} (median of {first['trailing']}), "
            f"delivered {first['rows']} on {first[unit]}"
            + (f"; {len(short) - 1} more {unit}(s) short" if len(short) > 1 else ""),
        )
    ]


class LoadCounts(Protocol):
    """What the volume guard reads of a table's loads (asset_checks/raw_loads.TableLoads)."""

    partition: Bounded | None

    def covers(self, first: date, last: date) -> bool: ...

    def rows_per_day(self) -> pl.DataFrame: ...


def table_volume(warehouse: WarehouseResource, table: str, start: date, end: date,
                 settings: RawGuardSettings | None = None,
                 partitions: Mapping[str, Bounded] | None = None,
                 loads: LoadCounts | None = None) -> list[Violation]:
    """Rows per day (week) of ``table`` for every period the window judges. From ``loads`` (the gate's load
    counts, which already hold the rows of every partition day of the look-back) when the table is partitioned on
    its dating column and the look-back covers the trailing history: no statement at all, so on BigQuery no bytes;
    otherwise in one count query."""
    judged = judged_periods(table, start, end)
    if not judged:
        return []
    period, column, unit = _period(table)
    first = min(history_of(table, judged[0], settings) or [judged[0]])
    counts: pl.DataFrame | None
    if (loads is not None and loads.partition is not None and loads.partition.column == column
            and loads.covers(first, judged[-1])):
        counts = loads.rows_per_day()
    else:
        where, params = _periods_between(table, first, judged[-1], partitions)
        counts = _read(
            warehouse, f"select {period} as period, count(*) as rows from {{raw}}.{table} where {where} group by 1",
            params,
        )
    if counts is None:
        return []
    return volume_violations(counts, judged, lambda d: history_of(table, d, settings), table, column, unit, settings)


def event_volume(warehouse: WarehouseResource, start: date, end: date,
                 settings: RawGuardSettings | None = None,
                 partitions: Mapping[str, Bounded] | None = None,
                 loads: Mapping[str, LoadCounts] | None = None) -> list[Violation]:
    """:func:`table_volume` of every daily and weekly table."""
    return [v for table in (*DAILY_FEEDS, *WEEKLY_FEEDS)
            for v in table_volume(warehouse, table, start, end, settings, partitions, (loads or {}).get(table))]


# --- master data volume -------------------------------------------------------------------------------------------
_LIVE = "start_date <= $day and (end_date is null or end_date > $day)"
# What the raw tables hold live on a day, counted like customer_360_definition counts it.
_CUSTOMER, _MSISDN, _ACCOUNT = (normalised_key(c) for c in ("customer_id", "msisdn", "icoms_account_uid"))
# Keys in staging's canonical form, so a drifted key delivered in another case or padding counts once.
_RAW_LIVE = f"""
with mobile as (select distinct {_MSISDN} as msisdn, {_CUSTOMER} as customer_id
                from {{raw}}.mobile_subscriptions where {_LIVE}),
fixed as (select distinct {_ACCOUNT} as icoms_account_uid, product, {_CUSTOMER} as customer_id
          from {{raw}}.fixed_subscriptions where {_LIVE}),
holders as (select customer_id from mobile union select customer_id from fixed)
select
  (select count(distinct {_CUSTOMER}) from {{raw}}.customers
   where {_CUSTOMER} in (select customer_id from holders)) as customers,
  (select count(distinct msisdn) from mobile) as mobile_subscriptions,
  (select count(*) from fixed) as fixed_subscriptions
"""
# Customers, mobile lines and fixed products of one published customer 360 day (the WHERE that names it follows).
# On BigQuery (customer_360_definition partitioned by day on snapshot_date) a day given as a constant is one
# partition read; the max() search reads the snapshot_date of every earlier partition, and then every partition,
# its result not being a constant the outer filter could prune by.
_PUBLISHED_COUNTS = """
select snapshot_date, count(*) as customers,
  sum(case when has_mobile then 1 else 0 end) as mobile_subscriptions,
  sum(case when has_tv then 1 else 0 end) + sum(case when has_broadband then 1 else 0 end) as fixed_subscriptions
from {analytics}.customer_360_definition
"""
# The day before the window: the last published day on the daily schedule.
_PUBLISHED_DAY_BEFORE = _PUBLISHED_COUNTS + "where snapshot_date = $day\ngroup by snapshot_date\n"
# After a gap in publishing: the last day published before the window.
_PUBLISHED = (
    _PUBLISHED_COUNTS
    + "where snapshot_date = (select max(snapshot_date) from {analytics}.customer_360_definition "
    "where snapshot_date < $start)\ngroup by snapshot_date\n"
)
_MASTER_WHAT = {
    "customers": "customers holding a live product",
    "mobile_subscriptions": "live mobile lines",
    "fixed_subscriptions": "live TV and Broadband products",
}


def master_drop_violations(
    delivered: Mapping[str, int], published: Mapping[str, int], day: date, published_day: date,
    settings: RawGuardSettings | None = None,
) -> list[Violation]:
    """Master tables whose live rows on ``day`` fell more than ``max_master_drop`` below the last published day."""
    s = _settings(settings)
    out: list[Violation] = []
    for table, what in _MASTER_WHAT.items():
        expected, have = int(published.get(table) or 0), int(delivered.get(table) or 0)
        if expected <= 0 or have >= (1 - s.max_master_drop) * expected:
            continue
        row = {"table": f"raw.{table}", "day": day, "delivered": have, "published_day": published_day,
               "expected": expected, "share": round(have / expected, 4)}
        out.append(
            Violation(
                f"raw.{table}", None,
                f"{what} at most {s.max_master_drop:.0%} below the last published day", expected - have,
                pl.DataFrame([row]),
                detail=f"expected about {expected} {what} (customer_360_definition on {published_day}), "
                f"delivered {have} on {day}",
            )
        )
    return out


def master_volume_violations(warehouse: WarehouseResource, start: date,
                             settings: RawGuardSettings | None = None) -> list[Violation]:
    """Raw master data live on ``start`` against the last published customer 360 day before it (none: no check).

    The day before ``start`` is asked first, by a constant bound (one partition on BigQuery): on the daily schedule
    it is the last published day. Only after a gap is the history searched for the last day before ``start``.
    Either way the baseline is the same day's counts.
    """
    if not warehouse.column_types("customer_360_definition", warehouse.analytics_schema):
        return []  # nothing published yet: the first day has no baseline
    published = _read(warehouse, _PUBLISHED_DAY_BEFORE, {"day": start - timedelta(days=1)})
    if published is not None and not published.height:  # a gap in publishing: search the earlier history
        published = _read(warehouse, _PUBLISHED, {"start": start})
    if published is None or not published.height:
        return []
    baseline = published.row(0, named=True)
    live = _read(warehouse, _RAW_LIVE, {"day": start})
    if live is None:
        return []
    delivered = live.row(0, named=True)
    return master_drop_violations(delivered, baseline, start, baseline["snapshot_date"], settings)


# --- referential integrity ----------------------------------------------------------------------------------------
def orphan_violations(
    loads: pl.DataFrame, reference: Reference, examples: pl.DataFrame | None = None,
    settings: RawGuardSettings | None = None,
) -> list[Violation]:
    """Loads (``load_day``, ``rows``, ``orphans``) whose share of orphan keys exceeds ``max_orphan_share``."""
    s = _settings(settings)
    if not loads.height:
        return []
    loads = loads.with_columns(pl.col("rows", "orphans").cast(pl.Int64))  # SUM is a DECIMAL/HUGEINT on DuckDB
    bad = loads.filter(pl.col("rows") > 0).with_columns(
        (pl.col("orphans") / pl.col("rows")).round(4).alias("orphan_share")
    ).filter(pl.col("orphan_share") > s.max_orphan_share).sort("load_day")
    if not bad.height:
        return []
    latest = bad.row(-1, named=True)
    orphans, rows = int(bad["orphans"].sum()), int(bad["rows"].sum())
    shown = examples if examples is not None and examples.height else bad
    sample = ", ".join(repr(v) for v in (examples[reference.column].to_list() if examples is not None
                                          and examples.height else [])[:3])
    return [
        Violation(
            f"raw.{reference.table}", reference.column,
            f"matches raw.{reference.master}.{reference.master_column} (orphans at most "
            f"{s.max_orphan_share:.0%} per load)",
            orphans, shown.head(EXAMPLE_ROWS),
            detail=f"{orphans} of {rows} rows ({orphans / rows:.1%}) in {bad.height} load(s) have a "
            f"{reference.column} not in raw.{reference.master}" + (f", e.g. {sample}" if sample else "")
            + f"; latest: {latest['orphans']} of the {latest['rows']} rows loaded on {latest['load_day']} "
            f"({latest['orphan_share']:.1%})",
        )
    ]


def _master_rows(ref: Reference, windows: Mapping[str, tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """The master rows a key may match: all of a master or subscription table; of an event table (bills) the rows
    of its own window, which every payment of the window's recent loads pays (a bill is paid within months)."""
    if ref.master not in DAILY_FEEDS or ref.master not in windows:
        return "true", {}
    where, params = windows[ref.master]
    renamed = {f"master_{k}": v for k, v in params.items()}
    for name in params:
        where = where.replace(f"${name}", f"$master_{name}")
    return where, renamed


def referential_violations(
    warehouse: WarehouseResource, windows: Mapping[str, tuple[str, dict[str, Any]]], since: date,
    settings: RawGuardSettings | None = None, judged: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
) -> list[Violation]:
    """Every reference over the rows that feed the window (``windows``: table -> (where, params)) and landed on
    or after ``since`` (the recent loads; older ones were judged by the days they arrived), per load.
    ``judged`` narrows the rows judged (default: the window), e.g. to the recent days' partitions; the master
    rows of an event table (bills) stay those of its whole window."""
    out: list[Violation] = []
    judged = judged or windows
    for ref in REFERENCES:
        if ref.table not in judged:
            continue
        where, params = judged[ref.table]
        if where == NOTHING:
            continue
        where = f"({where}) and cast(loaded_at as date) >= $recent_since"
        master_where, master_params = _master_rows(ref, windows)
        key, master_key = normalised_key(ref.column), normalised_key(ref.master_column)
        # The columns by name: BigQuery bills every column a query names, and these two are all it needs.
        rows = (
            f"select cast(e.loaded_at as date) as load_day, e.{ref.column}, e.loaded_at, "
            f"case when m.k is null then 1 else 0 end as orphan "
            f"from (select {ref.column}, loaded_at from {{raw}}.{ref.table} "
            f"where {where} and {ref.column} is not null) as e "
            f"left join (select distinct {master_key} as k from {{raw}}.{ref.master} where {master_where}) as m "
            f"on {key} = m.k"
        )
        used = used_params({**params, **master_params, "recent_since": since}, where, master_where)
        loads = _read(
            warehouse,
            f"select load_day, count(*) as rows, sum(orphan) as orphans from ({rows}) as r group by load_day", used
        )
        if loads is None:
            continue
        found = orphan_violations(loads, ref, settings=settings)
        if found:
            examples = warehouse.read(
                f"select {ref.column}, loaded_at from ({rows}) as r where orphan = 1 "
                f"order by loaded_at desc, {ref.column} limit {EXAMPLE_ROWS}",
                used,
            )
            found = orphan_violations(loads, ref, examples, settings)
        out += found
    return out


# --- distribution -------------------------------------------------------------------------------------------------
def quantile_violations(
    stats: pl.DataFrame, history: Mapping[date, Mapping[str, tuple[int, float | None, float | None]]], table: str,
    unit: str, settings: RawGuardSettings | None = None,
) -> list[Violation]:
    """Measures whose median and p95 on a judged period both moved by at least ``max_quantile_ratio`` (same
    direction) against the period's trailing history. ``stats``: ``period``, and per measure ``<m>_n``,
    ``<m>_p50``, ``<m>_p95``; ``history``: period -> measure -> (n, p50, p95) of the trailing window."""
    s = _settings(settings)
    limit = s.max_quantile_ratio
    moved: dict[str, list[dict[str, Any]]] = {}
    for row in stats.iter_rows(named=True):
        for measure, (n_hist, p50_hist, p95_hist) in history.get(row["period"], {}).items():
            n, p50, p95 = row[f"{measure}_n"], row[f"{measure}_p50"], row[f"{measure}_p95"]
            if n_hist < s.min_distribution_rows or not p50_hist or not p95_hist:
                continue
            if not n or n < s.min_distribution_rows or p50 is None or p95 is None:
                continue
            r50, r95 = p50 / p50_hist, p95 / p95_hist
            if (r50 >= limit and r95 >= limit) or (r50 <= 1 / limit and r95 <= 1 / limit):
                moved.setdefault(measure, []).append(
                    {unit: row["period"], "values": n, "median": p50, "trailing_median": p50_hist,
                     "median_ratio": round(r50, 3), "p95": p95, "trailing_p95": p95_hist,
                     "p95_ratio": round(r95, 3)}
                )
    out: list[Violation] = []
    for measure, rows in moved.items():
        first = rows[0]
        out.append(
            Violation(
                f"raw.{table}", measure,
                f"median and p95 per {unit} within a factor {limit:g} of the trailing history (unit change)",
                int(sum(m["values"] for m in rows)), pl.DataFrame(rows[:EXAMPLE_ROWS]),
                detail=f"median {first['median']:g} vs {first['trailing_median']:g} (x{first['median_ratio']:g}), "
                f"p95 {first['p95']:g} vs {first['trailing_p95']:g} (x{first['p95_ratio']:g}) on {first[unit]}; "
                "a unit change?",
            )
        )
    return out


def _quantile_columns(measures: Sequence[str]) -> str:
    return ", ".join(
        f"count({m}) as {m}_n, quantile_cont({m}, 0.5) as {m}_p50, quantile_cont({m}, 0.95) as {m}_p95"
        for m in measures
    )


def trailing_quantiles(
    stats: pl.DataFrame, period: date, measures: Sequence[str], table: str, settings: RawGuardSettings | None = None,
) -> dict[str, tuple[int, float | None, float | None]]:
    """Per measure the history a period is judged against: (values, median of the daily medians, median of the
    daily p95s) over the period's trailing window, from the per-period ``stats`` (periods with at least
    ``min_distribution_rows`` values only). Robust to one odd day, and one scan of the table for any window."""
    s = _settings(settings)
    trailing = stats.filter(pl.col("period").is_in(history_of(table, period, s)))
    out: dict[str, tuple[int, float | None, float | None]] = {}
    for m in measures:
        usable = trailing.filter(pl.col(f"{m}_n") >= s.min_distribution_rows)
        if not usable.height:
            out[m] = (0, None, None)
            continue
        out[m] = (int(usable[f"{m}_n"].sum()), float(usable[f"{m}_p50"].median()),  # type: ignore[arg-type]
                  float(usable[f"{m}_p95"].median()))  # type: ignore[arg-type]
    return out


class ProvedDays(Protocol):
    """What the distribution guard reads of a table's loads (asset_checks/raw_loads.TableLoads)."""

    proved: frozenset[date]
    current: pl.DataFrame

    def covers(self, first: date, last: date) -> bool: ...


def _settled_periods(loads: ProvedDays | None, record: pl.DataFrame | None, table: str, measures: Sequence[str],
                     first: date, last: date) -> tuple[pl.DataFrame | None, set[date]]:
    """The recorded figures of the periods in [first, last] that need no scan, and every such day: those the
    warehouse proved untouched since validated and either recorded (asset_checks/raw_quantiles.py) or without
    rows (a billing day 29-31, the days between two weeks)."""
    if loads is None or record is None or not loads.proved or not loads.covers(first, last):
        return None, set()
    days = {first + timedelta(days=i) for i in range((last - first).days + 1)} & loads.proved
    recorded = raw_quantiles.recorded_stats(record, table, measures, sorted(days))
    with_rows = set(loads.current.filter(pl.col("row_count") > 0)["partition_day"].to_list())
    settled = (days - with_rows) | set(recorded["period"].to_list())
    return recorded, settled


def table_quantiles(warehouse: WarehouseResource, table: str, first: date, last: date,
                    partitions: Mapping[str, Bounded] | None = None, loads: ProvedDays | None = None,
                    record: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """Median and p95 of each measure of ``table`` per day (week) in [first, last]: ``period``, ``<m>_n``,
    ``<m>_p50``, ``<m>_p95``. Periods the warehouse proved untouched come from ``record``; the others from one
    query over the smallest range of days holding them (on DuckDB: every period, one query). None when a column
    the query needs is broken."""
    measures = MEASURES[table]
    period, _, _ = _period(table)
    recorded, settled = _settled_periods(loads, record, table, measures, first, last)
    open_days = [d for d in (first + timedelta(days=i) for i in range((last - first).days + 1)) if d not in settled]
    frames: list[pl.DataFrame] = []
    if open_days:
        where, params = _periods_between(table, open_days[0], open_days[-1], partitions)
        scanned = _read(
            warehouse,
            f"select {period} as period, {_quantile_columns(measures)} from {{raw}}.{table} "
            f"where {where} group by 1 order by 1",
            params,
        )
        if scanned is None:
            return None
        frames.append(scanned.with_columns(pl.col(f"{m}_n").cast(pl.Int64) for m in measures))
    if recorded is not None and recorded.height:
        fresh = set(frames[0]["period"].to_list()) if frames else set()
        frames.append(recorded.filter(~pl.col("period").is_in(sorted(fresh))))
    if not frames:
        return None
    schema = frames[0].schema
    return pl.concat([f.select(list(schema)).cast(schema) for f in frames]).sort("period")  # type: ignore[arg-type]


def table_distribution(warehouse: WarehouseResource, table: str, start: date, end: date,
                       settings: RawGuardSettings | None = None,
                       partitions: Mapping[str, Bounded] | None = None, loads: ProvedDays | None = None,
                       record: pl.DataFrame | None = None) -> tuple[list[Violation], pl.DataFrame | None]:
    """Median and p95 of each measure of ``table`` per judged day (week) against its own trailing window
    (:func:`table_quantiles`), and the per-period figures used (to be recorded when the gate passes)."""
    judged = judged_periods(table, start, end)
    if not judged or table not in MEASURES:
        return [], None
    measures = MEASURES[table]
    _, _, unit = _period(table)
    first = min(history_of(table, judged[0], settings) or [judged[0]])
    stats = table_quantiles(warehouse, table, first, judged[-1], partitions, loads, record)
    if stats is None or not stats.height:
        return [], None
    history = {d: trailing_quantiles(stats, d, measures, table, settings) for d in judged}
    found = quantile_violations(stats.filter(pl.col("period").is_in(judged)), history, table, unit, settings)
    return found, stats


def distribution_findings(warehouse: WarehouseResource, start: date, end: date,
                          settings: RawGuardSettings | None = None,
                          partitions: Mapping[str, Bounded] | None = None,
                          loads: Mapping[str, ProvedDays] | None = None,
                          record: pl.DataFrame | None = None) -> tuple[list[Violation], dict[str, pl.DataFrame]]:
    """:func:`table_distribution` of every table with measures: the violations, and per table the figures used
    in the record's long form (asset_checks/raw_quantiles.py)."""
    out: list[Violation] = []
    used: dict[str, pl.DataFrame] = {}
    for table in MEASURES:
        found, stats = table_distribution(warehouse, table, start, end, settings, partitions,
                                          (loads or {}).get(table), record)
        out += found
        if stats is not None:
            used[table] = raw_quantiles.to_long(table, stats, MEASURES[table], end)
    return out, used


def distribution_violations(warehouse: WarehouseResource, start: date, end: date,
                            settings: RawGuardSettings | None = None,
                            partitions: Mapping[str, Bounded] | None = None) -> list[Violation]:
    """:func:`table_distribution` of every table with measures, every period read from the table."""
    return distribution_findings(warehouse, start, end, settings, partitions)[0]


# --- re-sent events -----------------------------------------------------------------------------------------------
def resent_violations(
    loads: pl.DataFrame, table: str, id_column: str, columns: Sequence[str], examples: pl.DataFrame | None = None,
    settings: RawGuardSettings | None = None,
) -> list[Violation]:
    """Loads (``load_day``, ``rows``, ``near_duplicates``) in which more than ``max_near_duplicate_share`` of the
    rows (and at least ``min_near_duplicate_rows``) repeat another row's business columns under another id."""
    s = _settings(settings)
    if not loads.height:
        return []
    loads = loads.with_columns(pl.col("rows", "near_duplicates").cast(pl.Int64))  # SUM may be a DECIMAL
    bad = loads.filter(pl.col("rows") > 0).with_columns(
        (pl.col("near_duplicates") / pl.col("rows")).round(4).alias("share")
    ).filter((pl.col("share") > s.max_near_duplicate_share)
             & (pl.col("near_duplicates") >= s.min_near_duplicate_rows)).sort("load_day")
    if not bad.height:
        return []
    first = bad.row(0, named=True)
    shown = examples if examples is not None and examples.height else bad
    return [
        Violation(
            f"raw.{table}", id_column,
            f"no event re-sent under a new {id_column} (same {', '.join(columns)})",
            int(bad["near_duplicates"].sum()), shown.head(EXAMPLE_ROWS),
            detail=f"{first['near_duplicates']} of the {first['rows']} rows loaded on {first['load_day']} repeat "
            f"another row under another {id_column}; {bad.height} load(s) affected",
        )
    ]


def near_duplicate_violations(
    warehouse: WarehouseResource, windows: Mapping[str, tuple[str, dict[str, Any]]], since: date,
    settings: RawGuardSettings | None = None,
) -> list[Violation]:
    """Re-sent events among the window's rows dated or loaded on or after ``since``, per load. A copy of an event
    older than ``since`` that arrives today is not compared with its original (that would scan the whole
    look-back); the day's and the last days' events are."""
    out: list[Violation] = []
    for table, (id_column, columns) in NEAR_DUPLICATE_KEYS.items():
        if table not in windows:
            continue
        where, params = windows[table]
        if where == NOTHING:
            continue
        where = (f"({where}) and ({DAILY_FEEDS[table].day} >= $recent_since "
                 "or cast(loaded_at as date) >= $recent_since)")
        partition = ", ".join(columns)
        rows = (
            f"select {id_column}, {partition}, loaded_at, "
            f"min({id_column}) over (partition by {partition}) as first_id, "
            f"max({id_column}) over (partition by {partition}) as last_id "
            f"from {{raw}}.{table} where {where}"
        )
        used = used_params({**params, "recent_since": since}, where)
        loads = _read(
            warehouse,
            f"select cast(loaded_at as date) as load_day, count(*) as rows, "
            f"sum(case when first_id <> last_id then 1 else 0 end) as near_duplicates from ({rows}) as r group by 1",
            used,
        )
        if loads is None:
            continue
        found = resent_violations(loads, table, id_column, columns, settings=settings)
        if found:
            examples = warehouse.read(
                f"select {id_column}, {partition}, loaded_at from ({rows}) as r where first_id <> last_id "
                f"order by {partition}, {id_column} limit {EXAMPLE_ROWS}",
                used,
            )
            found = resent_violations(loads, table, id_column, columns, examples, settings)
        out += found
    return out

"""The raw source contract, enforced before the daily dbt models read a partition.

Why a gate asset and not checks on the raw assets: the raw tables are external ``AssetSpec``s. A blocking
check on an external asset only gates steps that take that asset as a direct input, and only when the check
is part of the run; the daily dbt models read the staging views, not the raw tables, and the daily job does
not select checks of assets outside it. So blocking checks on ``raw/*`` never stop ``customer_360_definition``
(``tests/guards/test_blocking_semantics.py`` pins this). ``raw_source_contract`` is a small daily asset in the
``customer_360`` group (so every job that builds customer_360 runs it first), that the daily dbt models depend
on. It checks the raw rows that feed the partition window and carries one blocking check per raw table plus
cross-table checks (cohorts present, source freshness). When any fails, the step fails before dbt starts:
nothing is written for the day, and the published partitions stay as they were.

The gate's cost follows what arrived since the last validated load (asset_checks/raw_loads.py): every read of a
partitioned raw table carries constant bounds on its partition column, so BigQuery prunes; one aggregate per
partitioned table compares each group of rows (partition day, load day) in the window with the record of loads
the gate validated before (row count and checksum). Only new groups, and groups altered since they were
validated (which fail the gate), are re-checked. That holds for the tables the models read whole too
(customers, subscriptions, contract events): they are partitioned by the day their rows landed, and the record
holds each load day of them. Of the re-checked rows, those that landed since the window start (less
``raw_new_rows_margin_days``) are read into Python and validated with Pandera; the others are asked of the
warehouse, which returns counts and a few example rows: duplicates, NULLs and value rules
(asset_checks/raw_window.py). The column set and types (catalogue), future dates, empty days and weeks, the
account and line rules, the cohorts and freshness (below) are asked of the warehouse too. When the gate passes,
it records the groups it saw as validated.

Beside the table contracts the gate carries the raw guards (asset_checks/raw_guards.py): data that keeps the
contract but is still wrong (a partial delivery, a master extract cut short, orphan keys, a unit change, a day
re-sent under new ids) blocks the day too.

What "the rows that feed the window" means per table is in :func:`gate_bounds`: of the event tables the
look-backs of the daily models (:data:`RAW_WINDOWS`: a year of bills and payments, 16 usage weeks, 90 days of
contacts and tickets, 28 days of outages) before the window start; of the tables partitioned by load day every
load.
"""

# No ``from __future__ import annotations``: Dagster checks the ``context`` annotation when the asset is decorated.
import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import polars as pl

import asset_checks.raw_loads as raw_loads
import asset_checks.raw_quantiles as raw_quantiles
from asset_checks.raw_guards import (
    NOTHING,
    distribution_findings,
    event_volume,
    master_volume_violations,
    near_duplicate_violations,
    referential_violations,
)
from asset_checks.raw_window import (
    Catalogue,
    WindowCounts,
    broken_columns,
    duplicate_violations,
    merge,
    new_rows_predicate,
    new_rows_since,
    older_row_violations,
    read_catalogue,
    row_rules,
    structure_violations,
    used_params,
    window_counts,
)
from asset_checks.schemas import RAW_EVENT_COLUMNS, raw_schema
from asset_checks.validation import validate_frame
from asset_checks.violations import EXAMPLE_ROWS, Violation, check_result, describe, failure
from asset_checks.windows import label, window_of
from resources.warehouse import WarehouseResource
from source_contract.raw_tables import MAX_DAYS_BILL_TO_DUE, RAW_TABLES, RawTable
from trust_assets.config import SETTINGS, default_end_date
from trust_assets.owners import DATA_ENGINEERING
from trust_assets.partition_events import add_daily_metadata, check_evaluations, outcome_of, run_days
from trust_assets.partitions import DAILY_PARTITIONS

GATE_NAME = "raw_source_contract"
GATE_KEY = dg.AssetKey(GATE_NAME)
COHORTS_CHECK = "raw_cohorts_present"
FRESHNESS_CHECK = "raw_source_freshness"
# The guards on data that keeps the contract but is still wrong (asset_checks/raw_guards.py).
VOLUME_CHECK = "raw_volume"
REFERENTIAL_CHECK = "raw_referential_integrity"
DISTRIBUTION_CHECK = "raw_distribution"
RESENT_CHECK = "raw_resent_events"


def table_check_name(table: str) -> str:
    return f"raw_{table}_contract"


@dataclass(frozen=True)
class RawWindow:
    """Which rows of a raw table feed the partition window [window_start + lookback, window_end].

    ``where`` uses ``$window_start`` (the window start minus ``lookback_days``) and ``$window_end``. Rows whose
    dating column is NULL are always included, so a NULL date cannot hide a row from the checks. For a table
    partitioned in the warehouse (``RawTable.partition_by``) the gate reads the same days through constant
    bounds on the partition column instead (:func:`window_predicate`), and its NULL partition on its own.
    """

    where: str
    lookback_days: int


_LIVE = "(start_date <= $window_end or start_date is null) and (end_date is null or end_date >= $window_start)"

RAW_WINDOWS: dict[str, RawWindow] = {
    # Customers, subscriptions and contract events are partitioned by load day (RawTable.read_whole): the gate
    # judges every load of them (gate_bounds); these predicates apply to such a table left unpartitioned.
    # Dimension tables are small and every row can reach the partition: all of it up to the window end.
    "customers": RawWindow("signup_date <= $window_end or signup_date is null", 0),
    "mobile_subscriptions": RawWindow(_LIVE, 190),
    "fixed_subscriptions": RawWindow(_LIVE, 190),
    # 16 usage weeks end on or before the snapshot date: 17 weeks cover any weekday.
    "mobile_usage_weekly": RawWindow("week_ending between $window_start and $window_end or week_ending is null", 119),
    "tv_viewing_weekly": RawWindow("week_ending between $window_start and $window_end or week_ending is null", 119),
    "broadband_usage_weekly": RawWindow(
        "week_ending between $window_start and $window_end or week_ending is null", 119
    ),
    # The models' look-back (dbt macro raw_partition_bound): 180 days of bills due, ARPU change over 6 months of
    # bills, and a bill shock against the three bills before each bill, with room for billing gaps: a year.
    "bills": RawWindow("bill_date between $window_start and $window_end or bill_date is null", 366),
    # Payments by the due date of a bill due in the 180 days ending on D, paid on or after its issue date.
    "payments": RawWindow(
        "paid_date between $window_start and $window_end or paid_date is null", 180 + MAX_DAYS_BILL_TO_DUE
    ),
    "care_contacts": RawWindow(
        "cast(contact_ts as date) between $window_start and $window_end or contact_ts is null", 90
    ),
    "fault_tickets": RawWindow(
        "cast(opened_ts as date) between $window_start and $window_end or opened_ts is null", 90
    ),
    "network_outages": RawWindow(
        "cast(start_ts as date) between $window_start and $window_end or start_ts is null", 31
    ),
    # A recontract years ago still sets today's contract end: every event up to the window end.
    "contract_events": RawWindow("event_date <= $window_end or event_date is null", 0),
}

# Tables that receive rows every day: an empty day means the day's load did not arrive.
# (Bills are not listed: billing days run 1-28, so the 29th-31st legitimately have none.)
DAILY_ARRIVALS: dict[str, str] = {
    "payments": "paid_date",
    "care_contacts": "contact_ts",
    "fault_tickets": "opened_ts",
    "contract_events": "event_date",
}
# A day is only called empty when the table normally has at least this many rows a day (28-day mean), so a
# quiet table never raises a false alarm.
MIN_DAILY_ROWS = 10.0
# Weekly tables: the latest complete week must hold at least this share of the week before's rows.
WEEKLY_ARRIVALS: tuple[str, ...] = ("mobile_usage_weekly", "tv_viewing_weekly", "broadband_usage_weekly")
MIN_WEEK_SHARE = 0.5
# Weekly files land the day after the week ends.
WEEKLY_LOAD_LAG_DAYS = 1


@dataclass(frozen=True)
class RawReport:
    """Violations per check name; per table the new rows Pandera validated in Python and the window's rows the
    warehouse aggregated (for the gate's metadata)."""

    violations: dict[str, list[Violation]]
    rows_validated: dict[str, int]
    window: tuple[date, date]
    as_of: date
    rows_in_window: dict[str, int] = field(default_factory=dict)
    # Per table the loads in the window (asset_checks/raw_loads.py): what the gate records when it passes.
    loads: dict[str, raw_loads.TableLoads] = field(default_factory=dict)
    # Per table the per-period quantiles the distribution guard used (asset_checks/raw_quantiles.py): recorded too.
    quantiles: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def failed(self) -> dict[str, list[Violation]]:
        return {name: found for name, found in self.violations.items() if found}


def as_of_date(end: date) -> date:
    """The newest day the warehouse can know about: the window end or the pipeline's end date, whichever is later."""
    return max(end, default_end_date())


# --- per-table contract --------------------------------------------------------------------------------------------
def window_params(table: RawTable, start: date, end: date) -> dict[str, Any]:
    rule = RAW_WINDOWS[table.name]
    return {
        "window_start": start - timedelta(days=rule.lookback_days),
        "window_end": end,
        "new_since": new_rows_since(start, SETTINGS.monitoring.raw_new_rows_margin_days),
    }


# The first partition day of the tables read whole (BigQuery's earliest day partition): every load since.
FIRST_LOAD_DAY = date(1960, 1, 1)


def gate_bounds(table: RawTable, start: date, end: date) -> tuple[date, date]:
    """The partition days of a partitioned ``table`` whose rows feed [start, end]: of an event table
    [start - look-back, end]; of a table partitioned by load day (``RawTable.read_whole``: every daily run
    reads all of it) every load that has landed (up to tomorrow, wall clock: the rule on ``loaded_at``)."""
    if table.read_whole:
        return FIRST_LOAD_DAY, _tomorrow()
    return start - timedelta(days=RAW_WINDOWS[table.name].lookback_days), end


def _tomorrow() -> date:
    """``loaded_at`` is a wall-clock time: no load lands after tomorrow (UTC), whatever the business date."""
    return datetime.now(UTC).date() + timedelta(days=1)


def window_predicate(table: RawTable, start: date, end: date) -> tuple[str, dict[str, Any]]:
    """SQL (and parameters) of the rows of ``table`` that feed [start, end]: for a partitioned table constant
    bounds on its partition column (:func:`gate_bounds`), which BigQuery prunes on; otherwise the
    :data:`RAW_WINDOWS` predicate."""
    partition = raw_loads.partitioning(table)
    if partition is None:
        return RAW_WINDOWS[table.name].where, window_params(table, start, end)
    return partition.between(*gate_bounds(table, start, end)), {}


def new_window_rows(
    warehouse: WarehouseResource, table: RawTable, window: str, new: str, params: dict[str, Any]
) -> pl.DataFrame | None:
    """The window's rows that are new for the partition (all Pandera sees); None when they cannot be selected."""
    if window == "false":
        return pl.DataFrame()  # nothing to re-check
    where = f"({window}) and {new}"
    try:
        return warehouse.read(f"select * from {{raw}}.{table.name} where {where}", used_params(params, where))
    except Exception:  # the dating column is gone or retyped: the structural violations say which
        return None


def _future_rows(
    warehouse: WarehouseResource, table: RawTable, catalogue: Catalogue, as_of: date, rechecked: str = "true"
) -> list[Violation]:
    """Rows dated after the as-of date. A partitioned table's partition column is read only in the partitions after
    it (a constant lower bound), with its NULL partition (:func:`_outside_partitions`); its other columns and
    ``loaded_at`` in the rows ``rechecked`` (new or altered loads: a validated row was not in the future then,
    and the as-of date only moves forward)."""
    partition = raw_loads.partitioning(table)
    bounded = partition is not None and catalogue.family(partition.column) == (
        "TIMESTAMP" if partition.timestamp else "DATE")
    if partition is not None and bounded:
        scoped, out = rechecked, _outside_partitions(warehouse, table, partition, as_of)
    else:
        scoped, out = "true", []
    if scoped == "false":
        return out
    # (column, rule, predicate of an offending row, its parameter): counted in one scan of the rows in scope.
    rules: list[tuple[str, str, str, str, date]] = []
    for column in RAW_EVENT_COLUMNS.get(table.name, ()):
        if partition is not None and bounded and column == partition.column:
            continue  # read in the partitions after the as-of date above
        if not catalogue.is_temporal(column):
            continue  # reported by the structural rules
        if catalogue.is_date(column):
            limit, rule = as_of, f"not after the as-of date {as_of}"
        else:
            # Event feeds may already hold the early hours of the next day when the 06:00 run starts.
            limit = as_of + timedelta(days=1)
            rule = f"not after {limit} (the as-of date {as_of} plus a day of early arrivals)"
        rules.append((column, rule, f"cast({column} as date) > $limit_{len(rules)}", f"limit_{len(rules)}", limit))
    if catalogue.family("loaded_at") == "TIMESTAMP" and not (bounded and table.read_whole):
        # loaded_at is a wall-clock time: compare with today, not with the business date. (The partition column
        # of the tables partitioned by load day: counted in the partitions after tomorrow above.)
        tomorrow = datetime.now(UTC).date() + timedelta(days=1)
        rules.append(("loaded_at", "not in the future (wall clock)", f"cast(loaded_at as date) > $limit_{len(rules)}",
                      f"limit_{len(rules)}", tomorrow))
    if not rules:
        return out
    params = {name: limit for _, _, _, name, limit in rules}
    sums = ", ".join(f"sum(case when {where} then 1 else 0 end) as n{i}" for i, (_, _, where, _, _) in enumerate(rules))
    counts = warehouse.read(f"select {sums} from {{raw}}.{table.name} where {scoped}", params).row(0)
    for (column, rule, where, name, limit), n in zip(rules, counts, strict=True):
        if n:
            examples = warehouse.read(
                f"select * from {{raw}}.{table.name} where ({scoped}) and {where} order by {column} desc "
                f"limit {EXAMPLE_ROWS}",
                {name: limit},
            )
            out.append(Violation(f"raw.{table.name}", column, rule, int(n), examples))
    return out


def _outside_partitions(
    warehouse: WarehouseResource, table: RawTable, partition: raw_loads.Partitioning, as_of: date
) -> list[Violation]:
    """Rows outside every window's bounds, counted in one statement that reads only their partitions: those
    without a partition date (BigQuery's NULL partition; the column's NOT NULL rule) and those dated after the
    as-of date (a timestamp: after the day after it, for the early hours of the next day)."""
    column = partition.column
    if table.read_whole:  # partitioned by load day: a wall-clock time, as the rule on loaded_at says
        limit, future = _tomorrow(), "not in the future (wall clock)"
    elif partition.timestamp:
        limit = as_of + timedelta(days=1)
        future = f"not after {limit} (the as-of date {as_of} plus a day of early arrivals)"
    else:
        limit, future = as_of, f"not after the as-of date {as_of}"
    scopes = {"not null": f"{column} is null", future: partition.after(limit)}
    counts = warehouse.read(" union all ".join(
        f"select {i} as rule, count(*) as n from {{raw}}.{table.name} where {where}"
        for i, where in enumerate(scopes.values())
    ))
    found = dict(zip(counts["rule"].to_list(), counts["n"].to_list(), strict=True))
    out: list[Violation] = []
    for i, (rule, where) in enumerate(scopes.items()):
        n = int(found.get(i) or 0)
        if n:
            order = ", ".join(table.grain) if rule == "not null" else f"{column} desc"
            examples = warehouse.read(
                f"select * from {{raw}}.{table.name} where {where} order by {order} limit {EXAMPLE_ROWS}"
            )
            out.append(Violation(f"raw.{table.name}", column, rule, n, examples))
    return out


def _dated_between(table: RawTable, column: str, first: date, last: date) -> tuple[str, dict[str, Any]]:
    """SQL (and parameters) of the rows of ``table`` whose ``column`` falls on a day in [first, last]: constant
    bounds when it is the partition column (pruned), a parameterised filter on an unpartitioned table."""
    partition = raw_loads.partitioning(table)
    if partition is not None and partition.column == column:
        return partition.between(first, last), {}
    return f"cast({column} as date) between $first_day and $last_day", {"first_day": first, "last_day": last}


def _daily_arrivals(
    warehouse: WarehouseResource, table: RawTable, catalogue: Catalogue, start: date, end: date
) -> list[Violation]:
    column = DAILY_ARRIVALS.get(table.name)
    if column is None or not catalogue.is_temporal(column):
        return []
    history_start = start - timedelta(days=28)
    where, params = _dated_between(table, column, history_start, end)
    counts = warehouse.read(
        f"select cast({column} as date) as day, count(*) as n from {{raw}}.{table.name} where {where} group by 1",
        params,
    )
    by_day = {d: int(n) for d, n in zip(counts["day"].to_list(), counts["n"].to_list(), strict=True)}
    trailing = [by_day.get(history_start + timedelta(days=i), 0) for i in range(28)]
    mean = sum(trailing) / 28
    if mean < MIN_DAILY_ROWS:
        return []
    empty = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    empty = [d for d in empty if by_day.get(d, 0) == 0]
    if not empty:
        return []
    examples = pl.DataFrame(
        {"day": empty[:EXAMPLE_ROWS], "rows": [0] * min(len(empty), EXAMPLE_ROWS),
         "trailing_28d_mean_rows": [round(mean, 1)] * min(len(empty), EXAMPLE_ROWS)}
    )
    return [
        Violation(
            f"raw.{table.name}", column, "rows arrive every day (no empty day)", len(empty), examples,
            detail=f"no rows dated {', '.join(d.isoformat() for d in empty[:EXAMPLE_ROWS])}; "
            f"normally {mean:.0f} a day",
        )
    ]


def _last_sunday(on_or_before: date) -> date:
    return on_or_before - timedelta(days=(on_or_before.weekday() + 1) % 7)


def _weekly_arrivals(
    warehouse: WarehouseResource, table: RawTable, catalogue: Catalogue, start: date, end: date
) -> list[Violation]:
    if table.name not in WEEKLY_ARRIVALS or not catalogue.is_date("week_ending"):
        return []
    latest = _last_sunday(end - timedelta(days=WEEKLY_LOAD_LAG_DAYS))
    first = _last_sunday(start - timedelta(days=WEEKLY_LOAD_LAG_DAYS))
    where, params = _dated_between(table, "week_ending", first - timedelta(days=7), latest)
    counts = warehouse.read(
        f"select week_ending, count(*) as n from {{raw}}.{table.name} where {where} group by 1", params
    )
    by_week = {d: int(n) for d, n in zip(counts["week_ending"].to_list(), counts["n"].to_list(), strict=True)}
    short: list[dict[str, Any]] = []
    week = first
    while week <= latest:
        have, before = by_week.get(week, 0), by_week.get(week - timedelta(days=7), 0)
        if before and have < MIN_WEEK_SHARE * before:
            short.append({"week_ending": week, "rows": have, "rows_week_before": before})
        week += timedelta(days=7)
    if not short:
        return []
    return [
        Violation(
            f"raw.{table.name}", "week_ending",
            f"each week has at least {MIN_WEEK_SHARE:.0%} of the week before's rows",
            len(short), pl.DataFrame(short[:EXAMPLE_ROWS]),
        )
    ]


def _one_customer_per_account(warehouse: WarehouseResource, catalogue: Catalogue) -> list[Violation]:
    """An ICOMS account belongs to one customer (TV and Broadband of a customer share it), in every delivery:
    an account never changes hands, so two customers on one account anywhere in the table is an error."""
    if not catalogue.has("icoms_account_uid", "customer_id"):
        return []
    found = warehouse.read(
        "select icoms_account_uid, count(distinct customer_id) as customers, min(customer_id) as first_customer, "
        "max(customer_id) as last_customer from {raw}.fixed_subscriptions where icoms_account_uid is not null "
        "group by icoms_account_uid having count(distinct customer_id) > 1 order by icoms_account_uid"
    )
    if not found.height:
        return []
    return [
        Violation("raw.fixed_subscriptions", "icoms_account_uid", "one customer per account", found.height,
                  found.head(EXAMPLE_ROWS))
    ]


def _one_live_line_per_customer(warehouse: WarehouseResource, catalogue: Catalogue, end: date) -> list[Violation]:
    """The contract: at most one mobile line per customer (on the window's last day)."""
    if not catalogue.has("msisdn", "customer_id", "start_date", "end_date", "loaded_at"):
        return []
    if not (catalogue.is_date("start_date") and catalogue.is_date("end_date")):
        return []
    # The columns by name, not s.*: an extra raw column named load_rank would otherwise be the one filtered on.
    latest = (
        "select customer_id, msisdn, start_date, end_date from (select customer_id, msisdn, start_date, end_date, "
        "row_number() over (partition by msisdn order by loaded_at desc) as load_rank "
        "from {raw}.mobile_subscriptions) as ranked where load_rank = 1"
    )
    found = warehouse.read(
        f"select customer_id, count(*) as live_lines, min(msisdn) as first_msisdn, max(msisdn) as last_msisdn "
        f"from ({latest}) as l where start_date <= $end and (end_date is null or end_date > $end) "
        "group by customer_id having count(*) > 1 order by customer_id",
        {"end": end},
    )
    if not found.height:
        return []
    return [
        Violation("raw.mobile_subscriptions", "customer_id", f"at most one live mobile line per customer on {end}",
                  found.height, found.head(EXAMPLE_ROWS))
    ]


@dataclass(frozen=True)
class TableFindings:
    violations: list[Violation]
    new_rows: int  # validated with Pandera in Python
    window_rows: int  # in the window: guarded by the record of validated loads, the new ones re-checked
    loads: raw_loads.TableLoads | None = None  # what the gate records when it passes


def table_violations(
    warehouse: WarehouseResource, table: RawTable, start: date, end: date, as_of: date,
    state: pl.DataFrame | None = None,
) -> TableFindings:
    """Every rule of ``raw.<table>`` broken by the rows that feed [start, end].

    For a partitioned table the window's loads are compared with the record of validated loads
    (asset_checks/raw_loads.py): a load altered since it was validated is a violation, and only the rows of new
    and altered loads are re-checked; a table without partitioning (none in the contract today) is re-checked
    whole.
    Pandera validates the re-checked rows that landed since the window start; the catalogue, their duplicates and
    the per-row rules over the others are answered in the warehouse (asset_checks/raw_window.py).
    """
    catalogue = read_catalogue(warehouse, table)
    if not catalogue.exists:
        return TableFindings([Violation(f"raw.{table.name}", None, "table exists", 0,
                                        detail="the table is not in the warehouse catalogue")], 0, 0)
    schema = raw_schema(table.name)
    structural = structure_violations(table, catalogue, schema)
    broken = broken_columns(structural)
    # Uniqueness is checked over the whole window in the warehouse (a copy written into an old load counts too).
    schema.unique = None
    new = new_rows_predicate(catalogue)
    found: list[Violation] = list(structural)
    partition = raw_loads.partitioning(table)
    loads: raw_loads.TableLoads | None = None
    if partition is None:
        # Read whole by the daily models (and possibly refreshed whole by their source): no record, every row of
        # the window is re-checked, the new ones by Pandera.
        window, params = RAW_WINDOWS[table.name].where, window_params(table, start, end)
    else:
        params = {"new_since": new_rows_since(start, SETTINGS.monitoring.raw_new_rows_margin_days)}
        if partition.column not in broken:
            loads = raw_loads.read_loads(
                warehouse, table, *gate_bounds(table, start, end),
                catalogue.is_temporal("loaded_at"), state, [c for c in table.column_names if c in catalogue.types],
            )
        # The rows to re-check: those of new and altered loads ("false": none; a failed scan: none selectable).
        window = "false" if loads is None else loads.check_predicate()
        if loads is not None:
            found += loads.violations()
    fresh = new_window_rows(warehouse, table, window, new, params)
    counts: WindowCounts | None = None
    try:
        if window != "false":
            counts = window_counts(warehouse, table, window, new, params, row_rules(schema, broken))
            found += older_row_violations(warehouse, table, window, new, params, counts)
            if not broken & {*table.grain, "loaded_at"}:
                found += duplicate_violations(warehouse, table, window, params)
    except Exception:
        counts = None  # the filter fails on a broken column: the structural violations say which
    if fresh is not None and window != "false":
        found += validate_frame(fresh, schema, f"raw.{table.name}")
    unread = partition is not None and loads is None
    if (unread or fresh is None or (window != "false" and counts is None)) and not found:
        found.append(Violation(f"raw.{table.name}", None, "rows of the window selectable", 0,
                               detail="the loads in the window could not be read" if unread
                               else f"the filter {window!r} failed"))
    found += _future_rows(warehouse, table, catalogue, as_of, window)
    found += _daily_arrivals(warehouse, table, catalogue, start, end)
    found += _weekly_arrivals(warehouse, table, catalogue, start, end)
    if table.name == "fixed_subscriptions":
        found += _one_customer_per_account(warehouse, catalogue)
    if table.name == "mobile_subscriptions":
        found += _one_live_line_per_customer(warehouse, catalogue, end)
    new_rows = 0 if fresh is None else fresh.height
    window_rows = loads.rows if loads is not None else 0 if counts is None else counts.window_rows
    return TableFindings(merge(found), new_rows, window_rows, loads)


# --- cross-table rules -------------------------------------------------------------------------------------------
def cohort_violations(warehouse: WarehouseResource, end: date) -> list[Violation]:
    """Each product has live subscriptions on the window's last day: a whole cohort never silently vanishes."""
    live = "start_date <= $end and (end_date is null or end_date > $end)"
    queries = {
        "mobile": (
            "mobile_subscriptions",
            f"select count(distinct msisdn) as n from {{raw}}.mobile_subscriptions where {live}",
        ),
        "tv": (
            "fixed_subscriptions",
            f"select count(distinct icoms_account_uid) as n from {{raw}}.fixed_subscriptions "
            f"where product = 'tv' and {live}",
        ),
        "broadband": (
            "fixed_subscriptions",
            f"select count(distinct icoms_account_uid) as n from {{raw}}.fixed_subscriptions "
            f"where product = 'broadband' and {live}",
        ),
    }
    counts: dict[str, int | None] = {}
    for cohort, (_, sql) in queries.items():
        try:
            counts[cohort] = int(warehouse.read(sql, {"end": end})["n"][0])
        except Exception:
            counts[cohort] = None  # the table's own contract check reports the broken column
    out: list[Violation] = []
    for cohort, n in counts.items():
        if n == 0:
            table = queries[cohort][0]
            out.append(
                Violation(
                    f"raw.{table}", "product" if table == "fixed_subscriptions" else "msisdn",
                    f"cohort {cohort} has live subscriptions on {end}", 0,
                    pl.DataFrame({"cohort": list(counts), "live_subscriptions": [counts[c] for c in counts]}),
                    detail=f"no live {cohort} subscription: the {cohort} cohort would disappear from the index",
                )
            )
    return out


# How often each table is loaded, in days. Freshness allows the staleness limit plus the load cycle: a weekly
# table loaded on Monday is legitimately six days old on Sunday. Slowly changing tables (customers,
# subscriptions) and event-driven ones (network outages) receive rows only when something happens, so the age
# of their newest row says nothing about the feed; they are not freshness-checked.
LOAD_CADENCE_DAYS: dict[str, int] = {
    "bills": 1,
    "payments": 1,
    "care_contacts": 1,
    "fault_tickets": 1,
    "contract_events": 1,
    "mobile_usage_weekly": 7,
    "tv_viewing_weekly": 7,
    "broadband_usage_weekly": 7,
}


def _recent_rows(name: str, end: date) -> str:
    """SQL of the rows of a continuously fed table whose load can show it fresh: those dated in the days the
    freshness rule allows before ``end``, a week more, and the day after ``end`` (early arrivals), by constant
    bounds on the partition column. A feed whose only recent loads are of older days is stale for these days."""
    table = next((t for t in RAW_TABLES if t.name == name), None)
    partition = None if table is None else raw_loads.partitioning(table)
    if partition is None:
        return "true"
    allowed = SETTINGS.monitoring.max_source_staleness_days + LOAD_CADENCE_DAYS[name] - 1
    return partition.between(end - timedelta(days=allowed + 7), end + timedelta(days=1))


def _latest_loads(warehouse: WarehouseResource, end: date) -> dict[str, Any]:
    """max(loaded_at) per continuously fed table, in one statement; table by table when one of them is broken."""
    statement = " union all ".join(
        f"select '{name}' as table_name, max(loaded_at) as latest from {{raw}}.{name} where {_recent_rows(name, end)}"
        for name in LOAD_CADENCE_DAYS
    )
    try:
        found = warehouse.read(statement)
        return dict(zip(found["table_name"].to_list(), found["latest"].to_list(), strict=True))
    except Exception:  # a missing table or a loaded_at of another type: the others still count
        loads: dict[str, Any] = {}
        for name in LOAD_CADENCE_DAYS:
            try:
                loads[name] = warehouse.read(
                    f"select max(loaded_at) as latest from {{raw}}.{name} where {_recent_rows(name, end)}"
                )["latest"][0]
            except Exception:
                continue
        return loads


def freshness_violations(warehouse: WarehouseResource, end: date) -> list[Violation]:
    """Every continuously fed raw table was loaded within ``max_source_staleness_days`` of the partition date."""
    limit = SETTINGS.monitoring.max_source_staleness_days
    out: list[Violation] = []
    loads = _latest_loads(warehouse, end)
    for name, cadence in LOAD_CADENCE_DAYS.items():
        if name not in loads:
            continue  # a missing table or loaded_at column is the table contract's violation
        latest = loads[name]
        if latest is not None and not isinstance(latest, date):
            continue  # loaded_at of another type (a union coerces it to text): the table contract reports it
        latest_day = latest.date() if isinstance(latest, datetime) else latest
        stale_days = None if latest_day is None else (end - latest_day).days
        allowed = limit + cadence - 1
        if stale_days is None or stale_days > allowed:
            row = {"table": f"raw.{name}", "max_loaded_at": latest, "partition_date": end,
                   "days_stale": stale_days, "allowed_days": allowed}
            out.append(
                Violation(f"raw.{name}", "loaded_at", f"max(loaded_at) within {allowed} days of the partition date",
                          1, pl.DataFrame([row]))
            )
    return out


def guard_windows(start: date, end: date) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per raw table the rows that feed the window (:func:`window_predicate`) and their parameters."""
    return {t.name: window_predicate(t, start, end) for t in RAW_TABLES}


def recent_windows(
    since: date, end: date, loads: Mapping[str, raw_loads.TableLoads] | None = None
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per raw table the rows the referential and re-send guards judge: of a partitioned table those dated in
    [since, end] (constant bounds: the recent days' partitions, not the look-back), of the others the window.

    With the gate's ``loads``, a partitioned table's recent days the warehouse proved untouched since the gate
    validated them (BigQuery's partition metadata; never on DuckDB) are left out: their loads were judged the day
    they arrived, and a re-sent copy of an event lands in its original's partition (the partition column is one
    of the business columns compared), which its write makes untouched no longer. The bounds become the smallest
    range holding the other days, or nothing to judge (:data:`NOTHING`)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for t in RAW_TABLES:
        partition = raw_loads.partitioning(t)
        if partition is None:
            out[t.name] = window_predicate(t, since, end)
            continue
        last = gate_bounds(t, since, end)[1]
        found = (loads or {}).get(t.name)
        if found is None or not found.covers(since, last):
            out[t.name] = (partition.between(since, last), {})
            continue
        written = found.written_since_validated(since, last)
        out[t.name] = (NOTHING if written is None else partition.between(*written), {})
    return out


def partition_columns() -> dict[str, raw_loads.Partitioning]:
    """The partitioned raw tables and their partition column (the source contract's ``partition_by``)."""
    found = {t.name: raw_loads.partitioning(t) for t in RAW_TABLES}
    return {name: p for name, p in found.items() if p is not None}


def guard_findings(
    warehouse: WarehouseResource, start: date, end: date, loads: Mapping[str, raw_loads.TableLoads] | None = None,
) -> tuple[dict[str, list[Violation]], dict[str, pl.DataFrame]]:
    """The raw guards (asset_checks/raw_guards.py) for the partition window [start, end], per check name, and
    the per-period quantiles the distribution guard used (recorded when the gate passes).

    ``loads`` (the gate's load counts of the partitioned tables) spare statements: the volume guard takes its
    rows per day from them; the referential and re-send guards skip the recent partitions the warehouse proved
    untouched since validated (:func:`recent_windows`), and the distribution guard takes their quantiles from
    its record (asset_checks/raw_quantiles.py)."""
    windows = guard_windows(start, end)
    recent = start - timedelta(days=SETTINGS.raw_guards.recent_load_days)
    judged = recent_windows(recent, end, loads)
    partitions = partition_columns()
    # The record of quantiles serves only days the warehouse proved untouched (never on DuckDB).
    proved = loads is not None and any(found.proved for found in loads.values())
    record = raw_quantiles.read_record(warehouse) if proved else None
    distribution, quantiles = distribution_findings(warehouse, start, end, partitions=partitions, loads=loads,
                                                    record=record)
    violations = {
        VOLUME_CHECK: [
            *event_volume(warehouse, start, end, partitions=partitions, loads=loads),
            *master_volume_violations(warehouse, start),
        ],
        REFERENTIAL_CHECK: referential_violations(warehouse, windows, recent, judged=judged),
        DISTRIBUTION_CHECK: distribution,
        RESENT_CHECK: near_duplicate_violations(warehouse, judged, recent),
    }
    return violations, quantiles


def guard_violations(
    warehouse: WarehouseResource, start: date, end: date, loads: Mapping[str, raw_loads.TableLoads] | None = None
) -> dict[str, list[Violation]]:
    """The raw guards for the partition window [start, end], per check name (:func:`guard_findings`)."""
    return guard_findings(warehouse, start, end, loads)[0]


def evaluate_raw_contract(warehouse: WarehouseResource, start: date, end: date) -> RawReport:
    """Every raw contract check for the partition window [start, end]."""
    as_of = as_of_date(end)
    violations: dict[str, list[Violation]] = {}
    new_rows: dict[str, int] = {}
    window_rows: dict[str, int] = {}
    loads: dict[str, raw_loads.TableLoads] = {}
    # A hundred small statements: on DuckDB one connection for all of them instead of opening the file each time.
    with warehouse.held_open():
        state = raw_loads.read_state(warehouse)  # the record of validated loads, read once
        for table in RAW_TABLES:
            findings = table_violations(warehouse, table, start, end, as_of, state)
            violations[table_check_name(table.name)] = findings.violations
            new_rows[table.name], window_rows[table.name] = findings.new_rows, findings.window_rows
            if findings.loads is not None:
                loads[table.name] = findings.loads
        violations[COHORTS_CHECK] = cohort_violations(warehouse, end)
        violations[FRESHNESS_CHECK] = freshness_violations(warehouse, end)
        guarded, quantiles = guard_findings(warehouse, start, end, loads)
        violations.update(guarded)
    return RawReport(violations, new_rows, (start, end), as_of, window_rows, loads, quantiles)


# --- the gate asset ----------------------------------------------------------------------------------------------
CHECK_DESCRIPTIONS: dict[str, str] = {
    **{
        table_check_name(t.name): (
            f"raw.{t.name} keeps the source contract for the rows that feed the partition: columns and types, "
            "non-null keys, unique grain per load, enumerations, non-negative and physically possible values, no "
            "dates after the as-of date" + (", no empty day" if t.name in DAILY_ARRIVALS else "")
            + (", no missing week" if t.name in WEEKLY_ARRIVALS else "") + "."
        )
        for t in RAW_TABLES
    },
    COHORTS_CHECK: "Mobile, TV and Broadband each have live subscriptions on the partition date.",
    FRESHNESS_CHECK: (
        f"Every raw table was loaded within {SETTINGS.monitoring.max_source_staleness_days} days of the partition date."
    ),
    VOLUME_CHECK: (
        "No partial delivery: each day's rows of the daily event tables and each week's rows of the usage tables "
        f"at least {SETTINGS.raw_guards.min_volume_share:.0%} of the trailing median (beyond Poisson noise), and "
        "customers and subscriptions live on the first day within "
        f"{SETTINGS.raw_guards.max_master_drop:.0%} of the last published customer_360_definition day."
    ),
    REFERENTIAL_CHECK: (
        "Event keys (customer_id, msisdn, icoms_account_uid, bill_id) match the master and subscription tables: "
        f"at most {SETTINGS.raw_guards.max_orphan_share:.0%} orphans per table and load, keys compared trimmed, "
        "case-insensitive and without the MSISDN's leading '+'."
    ),
    DISTRIBUTION_CHECK: (
        "No unit change: the median and p95 of each raw measure per day (week) do not both move by a factor "
        f"{SETTINGS.raw_guards.max_quantile_ratio:g} or more against the trailing history."
    ),
    RESENT_CHECK: (
        "No event re-sent under a new id: at most "
        f"{SETTINGS.raw_guards.max_near_duplicate_share:.0%} of a load's rows repeat another row's business columns."
    ),
}

GATE_CHECK_SPECS: list[dg.AssetCheckSpec] = [
    # Partitioned like the gate, so each day's result shows in the partition view.
    dg.AssetCheckSpec(name, asset=GATE_KEY, blocking=True, description=text, partitions_def=DAILY_PARTITIONS)
    for name, text in CHECK_DESCRIPTIONS.items()
]

ADVICE = (
    "Nothing was written for this window; published partitions are unchanged. See docs/runbook.md "
    "('Raw source contract failed') and fix the source or its load, then re-run the partition."
)


@dg.multi_asset(
    name=GATE_NAME,
    specs=[
        dg.AssetSpec(
            GATE_KEY,
            group_name="customer_360",
            owners=[DATA_ENGINEERING],
            kinds={"pandera", "polars", "sql"},
            deps=[dg.AssetKey(["raw", t.name]) for t in RAW_TABLES],
            tags={"layer": "raw"},
            # No output on failure: the daily dbt models that depend on it are then not started.
            skippable=True,
            description=(
                "Admission control of the raw sources for a day: before customer_360 and the features are built, "
                "the raw rows that feed the day are checked against the source contract (columns and types, keys, "
                "duplicates, allowed values, finite and possible amounts or usage, future dates, empty days, a "
                "missing product, stale loads) and guarded against loads that keep the contract but are wrong "
                "(partial deliveries, orphan keys, unit changes, re-sent events). Rows that arrived since the "
                "last validated load are re-checked, those of the day one by one; the rest of the window is "
                "guarded by row counts and checksums of the loads the gate validated before. A "
                "broken contract stops the day before anything is written. Stores only the record of the loads "
                "it validated (analytics.raw_validated_loads: rows and a checksum per partition day and load), so "
                "the next day re-checks what arrived since and catches a validated load altered afterwards."
            ),
        )
    ],
    check_specs=GATE_CHECK_SPECS,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def raw_source_contract(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[object]:
    start, end = window_of(context)
    report = evaluate_raw_contract(warehouse, start, end)
    window = label(start, end)
    days = run_days(context)
    failed = [v for found in report.failed.values() for v in found]
    # A window passes exactly when each of its days does (every day's rows are part of the window's); on failure
    # each day is judged on its own, so the partition view shows which days broke the contract.
    if failed and len(days) > 1:
        per_day = {day: evaluate_raw_contract(warehouse, day, day).violations for day in days}
    else:
        per_day = {day: report.violations for day in days}
    if not failed:
        # Every load in the window passed: the next day re-checks only what arrives after them.
        raw_loads.record_validated(warehouse, report.loads, end)
        raw_quantiles.record_quantiles(warehouse, report.quantiles, end)
        # The row figures are the window's (a day's own share of overlapping look-backs is not defined), so a
        # day of a multi-day run names the window it was checked with instead of a row count.
        per_day_meta: dict[str, Any] = (
            {"dagster/row_count": int(sum(report.rows_in_window.values()))} if len(days) == 1 else {}
        )
        add_daily_metadata(context, {d: {"checked_in_window": window, **per_day_meta} for d in days}, GATE_KEY)
        yield dg.MaterializeResult(
            asset_key=GATE_KEY,
            metadata={
                "window": window,
                "as_of": report.as_of.isoformat(),
                # Per table: new rows validated with Pandera in Python; window rows guarded by the record of
                # validated loads (the new and altered ones re-checked by warehouse aggregates).
                "rows_validated": dg.MetadataValue.json(report.rows_validated),
                "rows_in_window": dg.MetadataValue.json(report.rows_in_window),
                "new_rows_validated": int(sum(report.rows_validated.values())),
            },
        )
    for spec in GATE_CHECK_SPECS:
        outcomes = {
            day: outcome_of(
                check_result(
                    violations.get(spec.name, []),
                    severity=dg.AssetCheckSeverity.ERROR,
                    passed_text=f"{CHECK_DESCRIPTIONS[spec.name]} Day {day}.",
                    partition=day.isoformat(),
                )
            )
            for day, violations in per_day.items()
        }
        yield from check_evaluations(context.instance, spec.key, spec.blocking, outcomes)
        yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(spec.key))
    if failed:
        context.log.error(describe(failed, ""))
        raise failure(failed, f"The raw sources break their contract for {window}.", ADVICE)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m asset_checks.raw_contract 2026-02-28 [end]``: the gate's rules without a Dagster run.

    For the on-call engineer: after an upstream fix, confirm the raw sources pass before re-running the day.
    Reads the warehouse the code location is configured for (TRUST_TARGET, TRUST_DUCKDB_PATH, ...).
    """
    from resources import warehouse_resource

    parser = argparse.ArgumentParser(prog="python -m asset_checks.raw_contract", description=main.__doc__)
    parser.add_argument("start", type=date.fromisoformat, help="first partition date, e.g. 2026-02-28")
    parser.add_argument("end", type=date.fromisoformat, nargs="?", help="last partition date (default: start)")
    args = parser.parse_args(argv)
    start, end = args.start, args.end or args.start
    report = evaluate_raw_contract(warehouse_resource(), start, end)
    failed = [v for found in report.failed.values() for v in found]
    if failed:
        print(f"The raw sources break their contract for {label(start, end)}.\n{describe(failed, '')}")
        return 1
    print(
        f"The raw sources keep their contract for {label(start, end)} ({sum(report.rows_in_window.values())} rows "
        f"in the window, {sum(report.rows_validated.values())} of them new and validated row by row)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

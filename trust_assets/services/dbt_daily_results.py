"""The daily dbt models' figures and test results per partition, when one dbt build covers several days.

A multi-day run builds its whole window in one ``dbt build``: dbt reports one row count per model and one result
per test for the window. Here each day gets its own row count (one grouped count per model, read after dbt
exits), and each test result becomes one result per day. A test that passed on the window passed on each of its
days (tests of the daily models are filtered to the window's snapshot dates and judge rows). A test that failed
is re-run by dbt on halves of the window until each failing day is found, so a failure shows on the days that
failed and on no other: one bad day in seven costs about six short ``dbt test`` runs, and nothing on a good day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import dagster as dg

from resources.warehouse import WarehouseResource
from trust_assets.dbt_project import TrustDbtCliResource, without_adapter_in_process
from trust_assets.partition_events import (
    DayCheckOutcome,
    add_daily_metadata,
    check_evaluations,
    outcome_of,
    partition_key,
)
from trust_assets.partitions import dbt_window_env, fixed_vars_arguments

# dbt test statuses that make the Dagster check fail (``warn`` fails it with WARN severity).
FAILING_STATUSES = frozenset({"fail", "error", "warn"})

FailingTests = Callable[[date, date, Sequence[str]], set[str]]


def failing_days(failing_tests: FailingTests, start: date, end: date, suspects: Iterable[str]) -> dict[str, list[date]]:
    """The days on which each suspect test fails, given that each fails somewhere in [start, end].

    ``failing_tests(lo, hi, tests)`` runs ``tests`` on the days lo .. hi and returns those that fail. The window
    is halved while a test still fails in a half; a single day that still fails is a failing day.
    """
    found: dict[str, list[date]] = {name: [] for name in suspects}

    def visit(lo: date, hi: date, tests: Sequence[str]) -> None:
        if not tests:
            return
        if lo == hi:
            for name in tests:
                found[name].append(lo)
            return
        mid = lo + timedelta(days=(hi - lo).days // 2)
        for half_lo, half_hi in ((lo, mid), (mid + timedelta(days=1), hi)):
            visit(half_lo, half_hi, sorted(failing_tests(half_lo, half_hi, tests)))

    visit(start, end, sorted(found))
    return found


def dbt_test_runner(dbt: TrustDbtCliResource, manifest: Mapping[str, Any]) -> FailingTests:
    """Runs dbt tests (by unique id) on a window of snapshot dates and returns the unique ids that failed."""

    def run(lo: date, hi: date, unique_ids: Sequence[str]) -> set[str]:
        names = [manifest["nodes"][uid]["name"] for uid in unique_ids]
        with without_adapter_in_process():
            invocation = dbt.cli(
                # One argument: dagster-dbt moves `--select` and only its first value behind the other
                # arguments, so a list of names would leave the rest as stray arguments dbt rejects. dbt reads
                # a space-separated selection as the union of its parts.
                ["test", "--select", " ".join(names), *fixed_vars_arguments()],
                raise_on_error=False,
                manifest=manifest,
                env=dbt_window_env(lo, hi),
            )
        invocation.wait()
        results = invocation.get_artifact("run_results.json")["results"]
        return {r["unique_id"] for r in results if r["status"] in FAILING_STATUSES and r["unique_id"] in unique_ids}

    return run


def daily_row_counts(warehouse: WarehouseResource, relation: str, start: date, end: date) -> dict[date, int]:
    """Rows per snapshot date of a daily model in [start, end]; a day without rows counts 0."""
    counts = warehouse.read(
        f"select snapshot_date, count(*) as n from {relation} where snapshot_date between $start and $end "
        "group by snapshot_date",
        {"start": start, "end": end},
    )
    by_day = {d: int(n) for d, n in counts.iter_rows()}
    return {start + timedelta(days=i): by_day.get(start + timedelta(days=i), 0) for i in range((end - start).days + 1)}


def _relation(manifest: Mapping[str, Any], unique_id: str) -> str:
    node = manifest["nodes"][unique_id]
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def _unique_id(event: Any) -> str | None:
    value = event.metadata.get("unique_id")
    return None if value is None else str(getattr(value, "value", value))


def per_partition_events(
    context: dg.AssetExecutionContext,
    events: Sequence[Any],
    warehouse: WarehouseResource,
    manifest: Mapping[str, Any],
    failing_tests: FailingTests,
    days: Sequence[date],
) -> Iterator[Any]:
    """dagster-dbt's events of a daily build, with per-day row counts and per-day test results.

    Model outputs come first (with each day's row count attached), then the test results of the window as one
    evaluation per day, so each evaluation targets that day's new materialisation.
    """
    start, end = days[0], days[-1]
    checks: list[dg.AssetCheckResult] = []
    for event in events:
        if isinstance(event, dg.AssetCheckResult) and len(days) > 1:
            checks.append(event)
            continue
        if isinstance(event, dg.Output):
            uid = _unique_id(event)
            if uid is not None:
                counts = daily_row_counts(warehouse, _relation(manifest, uid), start, end)
                add_daily_metadata(
                    context,
                    {day: {"dagster/row_count": n} for day, n in counts.items()},
                    context.asset_key_for_output(event.output_name),
                )
        yield event
    if not checks:
        return
    failed = {uid: check for check in checks if not check.passed and (uid := _unique_id(check))}
    failing = failing_days(failing_tests, start, end, failed) if failed else {}
    for check in checks:
        check_key = dg.AssetCheckKey(check.asset_key, check.check_name)  # type: ignore[arg-type]
        bad_days = set(failing.get(_unique_id(check) or "", []))
        outcomes = {day: _day_outcome(check, day, bad_days) for day in days}
        spec = context.assets_def.get_spec_for_check_key(check_key)
        yield from check_evaluations(context.instance, check_key, spec.blocking, outcomes)
        yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(check_key))


def _day_outcome(window_result: dg.AssetCheckResult, day: date, failing_days_of_test: set[date]) -> DayCheckOutcome:
    base = outcome_of(window_result)
    name, day_key = window_result.check_name, partition_key(day)
    if window_result.passed:
        return DayCheckOutcome(True, base.severity, f"dbt test {name} passed for {day_key}.", base.metadata)
    if day in failing_days_of_test:
        return DayCheckOutcome(False, base.severity, f"dbt test {name} failed for {day_key}.", base.metadata)
    if not failing_days_of_test:
        # Failed on the window and on no day alone: a rule across days. Say so rather than pick a day.
        return DayCheckOutcome(
            False,
            base.severity,
            f"dbt test {name} failed on the run's window {window_result.metadata.get('partition_window', '')} "
            "and on no single day of it: run the days one at a time to see which combination breaks it.",
            base.metadata,
        )
    unique_id = {"unique_id": base.metadata["unique_id"]} if "unique_id" in base.metadata else {}
    return DayCheckOutcome(
        True, base.severity, f"dbt test {name} passed for {day_key} (it failed on other days of the run).", unique_id
    )


__all__ = ["daily_row_counts", "dbt_test_runner", "failing_days", "per_partition_events"]

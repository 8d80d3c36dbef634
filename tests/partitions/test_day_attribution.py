"""How a multi-day run's check results are split into days, without Dagster: the window-then-day evaluation of
the Python checks and the halving search for the days a dbt test fails on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import dagster as dg
import pytest

from asset_checks.daily_checks import evaluate_days
from asset_checks.reads import MissingTable
from asset_checks.violations import Violation
from trust_assets.services.dbt_daily_results import failing_days

START = date(2026, 2, 22)
DAYS = [START + timedelta(days=i) for i in range(7)]
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def _rule_failing_on(bad: set[date], calls: list[tuple[date, date]]):
    def evaluate(start: date, end: date) -> tuple[list[Violation], dg.AssetCheckSeverity]:
        calls.append((start, end))
        hit = [d for d in bad if start <= d <= end]
        return ([Violation("t", None, "rule", len(hit))] if hit else []), WARN

    return evaluate


def test_a_passing_window_is_checked_once_and_passes_every_day() -> None:
    calls: list[tuple[date, date]] = []
    result = evaluate_days(_rule_failing_on(set(), calls), DAYS[0], DAYS[-1])
    assert calls == [(DAYS[0], DAYS[-1])]
    assert list(result) == DAYS
    assert all(found == [] and severity is WARN for found, severity in result.values())


def test_a_failing_window_is_judged_day_by_day() -> None:
    calls: list[tuple[date, date]] = []
    bad = {DAYS[2], DAYS[5]}
    result = evaluate_days(_rule_failing_on(bad, calls), DAYS[0], DAYS[-1])
    assert calls == [(DAYS[0], DAYS[-1]), *((d, d) for d in DAYS)]
    assert {d for d, (found, _) in result.items() if found} == bad


def test_a_single_day_is_evaluated_once() -> None:
    calls: list[tuple[date, date]] = []
    result = evaluate_days(_rule_failing_on({DAYS[0]}, calls), DAYS[0], DAYS[0])
    assert calls == [(DAYS[0], DAYS[0])]
    assert result[DAYS[0]][0][0].rule == "rule"


def test_a_missing_table_fails_each_day_with_its_own_message() -> None:
    def evaluate(start: date, end: date) -> tuple[list[Violation], dg.AssetCheckSeverity]:
        raise MissingTable("customer_trust_signal")

    result = evaluate_days(evaluate, DAYS[0], DAYS[1])
    for found, severity in result.values():
        assert severity is ERROR
        assert found[0].rule == "table exists"


class _FakeDbt:
    """dbt tests that fail on given days; records every window it was asked to run."""

    def __init__(self, bad: dict[str, set[date]]) -> None:
        self.bad = bad
        self.runs: list[tuple[date, date, tuple[str, ...]]] = []

    def __call__(self, lo: date, hi: date, tests: Sequence[str]) -> set[str]:
        self.runs.append((lo, hi, tuple(tests)))
        return {t for t in tests if any(lo <= d <= hi for d in self.bad.get(t, set()))}


@pytest.mark.parametrize(
    "bad",
    [
        {"a": {DAYS[3]}},
        {"a": {DAYS[0], DAYS[6]}, "b": {DAYS[4]}},
        {"a": set(DAYS)},
    ],
)
def test_failing_days_finds_exactly_the_failing_days(bad: dict[str, set[date]]) -> None:
    dbt = _FakeDbt(bad)
    found = failing_days(dbt, DAYS[0], DAYS[-1], bad)
    assert {t: set(days) for t, days in found.items()} == bad


def test_one_bad_day_in_seven_costs_a_few_runs_and_none_on_the_good_half() -> None:
    dbt = _FakeDbt({"a": {DAYS[1]}})
    failing_days(dbt, DAYS[0], DAYS[-1], ["a"])
    assert len(dbt.runs) <= 6
    # The half without the bad day is run once and not split further.
    assert sum(1 for lo, _, _ in dbt.runs if lo >= DAYS[4]) == 1


def test_a_test_failing_only_across_days_is_attributed_to_no_single_day() -> None:
    def only_windows(lo: date, hi: date, tests: Sequence[str]) -> set[str]:
        return set(tests) if hi - lo >= timedelta(days=3) else set()

    assert failing_days(only_windows, DAYS[0], DAYS[-1], ["a"]) == {"a": []}

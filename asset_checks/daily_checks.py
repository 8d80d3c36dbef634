"""Run a daily check over a partition window and report one result per day.

Every rule of the daily checks holds for a window exactly when it holds for each of its days (rows are judged
day by day, and day-over-day rules read the day before the window too). So the window is checked once, in the
warehouse; when it passes, every day passed. When it does not, each day is checked on its own, which costs a
query per day on the failure path only and gives each day the result a run of that day alone would give: a
failure on one day of a seven-day run shows on that day and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from asset_checks.reads import MissingTable
from asset_checks.violations import Violation, check_result
from asset_checks.windows import label, window_of
from trust_assets.partition_events import check_evaluations, outcome_of

Evaluation = tuple[list[Violation], dg.AssetCheckSeverity]
WindowEvaluation = Callable[[date, date], Evaluation]

ERROR = dg.AssetCheckSeverity.ERROR


def _evaluate(evaluate: WindowEvaluation, start: date, end: date) -> Evaluation:
    try:
        return evaluate(start, end)
    except MissingTable as missing:
        return [missing.violation], ERROR


def evaluate_days(evaluate: WindowEvaluation, start: date, end: date) -> dict[date, Evaluation]:
    """Each day's violations and severity; the window is evaluated once and re-checked per day only on failure."""
    window = _evaluate(evaluate, start, end)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    if len(days) == 1:
        return {start: window}
    if not window[0]:
        return {day: ([], window[1]) for day in days}
    return {day: _evaluate(evaluate, day, day) for day in days}


def check_output_name(context: dg.AssetCheckExecutionContext) -> str:
    """The output a single ``@asset_check`` op must yield to count as complete."""
    return next(iter(context.op_def.output_dict))


def _day_evaluations(
    context: dg.AssetCheckExecutionContext,
    spec: dg.AssetCheckSpec,
    evaluate: WindowEvaluation,
    passed_text: Callable[[str], str],
    start: date,
    end: date,
) -> list[object]:
    outcomes = {
        day: outcome_of(
            check_result(found, severity=severity, passed_text=passed_text(label(day, day)), partition=label(day, day))
        )
        for day, (found, severity) in evaluate_days(evaluate, start, end).items()
    }
    return list(check_evaluations(context.instance, spec.key, spec.blocking, outcomes))


def daily_check(
    context: dg.AssetCheckExecutionContext,
    evaluate: WindowEvaluation,
    passed_text: Callable[[str], str],
) -> Iterator[object]:
    """The body of a partitioned ``@asset_check``: one evaluation per day of the run's window, then its output."""
    (spec,) = context.check_specs
    start, end = window_of(context)
    yield from _day_evaluations(context, spec, evaluate, passed_text, start, end)
    yield dg.Output(None, output_name=check_output_name(context))


@dataclass(frozen=True)
class DailyCheck:
    """One check of a ``multi_asset_check`` step: its window evaluation and its passed text per day."""

    evaluate: WindowEvaluation
    passed_text: Callable[[str], str]


def daily_checks(
    context: dg.AssetCheckExecutionContext,
    checks: Mapping[dg.AssetCheckKey, DailyCheck],
    done_with: Callable[[dg.AssetKey], None] = lambda _: None,
) -> Iterator[object]:
    """The body of a partitioned ``@multi_asset_check``: each selected check as :func:`daily_check` runs it, in
    the order of ``checks``, then their outputs. ``done_with`` is called once an asset's checks are done.

    A check that raises does not stop the others: their results are recorded first, then the step fails with
    its error, as that check's own step failed before. A failed blocking check fails the step (Dagster), so the
    downstream assets of every check in the step wait for it: a step holds the checks of assets whose
    downstream assets are the same.
    """
    start, end = window_of(context)
    selected = [key for key in checks if key in context.selected_asset_check_keys]
    specs = {spec.key: spec for spec in context.check_specs}
    errors: list[Exception] = []
    for i, key in enumerate(selected):
        check = checks[key]
        try:
            yield from _day_evaluations(context, specs[key], check.evaluate, check.passed_text, start, end)
        except Exception as error:  # re-raised below, after the other checks' results
            context.log.error(f"{key.to_user_string()} raised {error!r}")
            errors.append(error)
        if i + 1 == len(selected) or selected[i + 1].asset_key != key.asset_key:
            done_with(key.asset_key)
    if errors:
        raise errors[0]
    for key in selected:
        yield dg.Output(None, output_name=specs[key].get_python_identifier())


__all__ = ["DailyCheck", "Evaluation", "WindowEvaluation", "check_output_name", "daily_check", "daily_checks",
           "evaluate_days"]

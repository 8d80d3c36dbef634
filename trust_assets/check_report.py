"""The asset checks that did not pass in a set of runs, for the closing text of ``trust demo`` and ``trust run``.

A blocking failure stops its run and the command says so; a warning does not, so a run can succeed with checks
an operator must read (for example feature drift). The closing text names each of them, the days it warned on
and where to read what it means, instead of leaving the user to find them in the UI.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import dagster as dg

# Where each check's meaning and the operator's decision are documented; others: docs/checks.md.
_DOCS_BY_ASSET = {
    "feature_drift": "docs/monitoring.md, 'Reading a drift finding'",
    "score_distribution": "docs/monitoring.md, 'Reading a drift finding'",
}
_DEFAULT_DOCS = "docs/checks.md"
_WIDTH = 118  # the closing text fits a 120-column terminal, as the summary does
# What a check that did not pass asks of the operator, where it has a known answer.
_WHAT_TO_DO = {
    ("feature_drift", "drift_bands"): (
        "features in the investigate band: no action on the day; act when one reaches the significant band for "
        "days (the drift sensor then requests a retrain)"
    ),
}
_TENURE_AGEING = (
    "; tenure_months in that band: the base has aged and its make-up by tenure changed since the reference period "
    "(fewer customers of 7-23 months, measured in docs/monitoring.md): a real, slow change, no action on the day; "
    "at the significant band the reference period is due to move forward"
)


def what_to_do(asset: str, check: str, severity: str, description: str = "") -> str:
    """One line on whether and how to act on a check that did not pass."""
    known = _WHAT_TO_DO.get((asset, check))
    if known:
        return known + (_TENURE_AGEING if asset == "feature_drift" and "tenure_months" in description else "")
    if severity == "WARN":
        return "a warning: the day was published; read the check's result in the UI before using the day"
    return "the day was not published downstream of this check: fix the cause (docs/runbook.md), re-run the day"


@dataclass(frozen=True)
class CheckNotPassed:
    """One check that failed or warned, with the days (partitions) it did so on; ``days`` is empty for an
    unpartitioned check."""

    asset: str
    check: str
    severity: str
    days: tuple[str, ...]
    description: str

    @property
    def docs(self) -> str:
        return _DOCS_BY_ASSET.get(self.asset, _DEFAULT_DOCS)


def checks_not_passed(instance: dg.DagsterInstance, run_ids: Iterable[str]) -> list[CheckNotPassed]:
    """Every (asset, check, severity) that did not pass in the runs, with its days, in asset/check order.

    Only a day's latest evaluation within these runs counts: a check re-run on a day that then passed is fine.
    """
    latest: dict[tuple[str, str, str], tuple[float, bool, str, str]] = {}
    for run_id in run_ids:
        records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
        for record in records:
            event = record.event_log_entry.dagster_event
            evaluation = event.event_specific_data if event else None
            if evaluation is None:
                continue
            key = (evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.partition or "")
            seen = latest.get(key)
            if seen is None or record.event_log_entry.timestamp >= seen[0]:
                latest[key] = (
                    record.event_log_entry.timestamp,
                    evaluation.passed,
                    evaluation.severity.value,
                    (evaluation.description or "").strip(),
                )
    grouped: dict[tuple[str, str, str], tuple[list[str], str]] = {}
    for (asset, check, day), (_, passed, severity, description) in sorted(latest.items()):
        if passed:
            continue
        days, _ = grouped.setdefault((asset, check, severity), ([], description))
        if day:
            days.append(day)
    return [
        CheckNotPassed(asset, check, severity, tuple(days), description)
        for (asset, check, severity), (days, description) in sorted(grouped.items())
    ]


def runs_since(instance: dg.DagsterInstance, started: datetime) -> list[str]:
    """The ids of the runs created since ``started`` (a timezone-aware time), oldest first."""
    runs = instance.get_runs(filters=dg.RunsFilter(created_after=started))
    return [run.run_id for run in reversed(runs)]


def _days(days: tuple[str, ...]) -> str:
    if not days:
        return ""
    if len(days) == 1:
        return f" on {days[0]}"
    return f" on {len(days)} days ({days[0]} .. {days[-1]})"


def _broken_rules(description: str, most: int = 3) -> list[str]:
    """The broken rules a check's description lists ("- table.column: rule ... broken, ..."), without examples;
    the description's first line when it lists none."""
    rules = [line[2:].strip() for line in description.splitlines() if line.startswith("- ")]
    if not rules:
        rules = description.splitlines()[:1]
    return [rule[:_WIDTH - 4] for rule in rules[:most]]


def render_checks_not_passed(found: list[CheckNotPassed]) -> str:
    """The closing text's paragraph on checks: one line each, or one line saying that every check passed."""
    if not found:
        return "Every asset check of these runs passed."
    lines = [f"{len(found)} asset check(s) did not pass (a warning does not block publication; read why):"]
    for item in found:
        word = "warned" if item.severity == "WARN" else "failed"
        lines += textwrap.wrap(f"{item.asset} {item.check}: {word}{_days(item.days)}; see {item.docs}", width=_WIDTH,
                               initial_indent="  ", subsequent_indent="      ")
        lines += [f"    {rule}" for rule in _broken_rules(item.description)]
        advice = f"what to do: {what_to_do(item.asset, item.check, item.severity, item.description)}"
        lines += textwrap.wrap(advice, width=_WIDTH, initial_indent="    ", subsequent_indent="      ")
    return "\n".join(lines)


__all__ = ["CheckNotPassed", "checks_not_passed", "render_checks_not_passed", "runs_since", "what_to_do"]

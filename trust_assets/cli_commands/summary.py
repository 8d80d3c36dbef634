"""``trust summary``: the published scores of a range of days and the production models.

    trust summary                                    the latest 7 scored days
    trust summary --start 2026-02-22 --end 2026-02-28
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from trust_assets.cli_commands.common import CommandError, iso_date
from trust_assets.published import describe_dates, nearest_dates
from trust_assets.tables import TRUST_SIGNAL

DEFAULT_DAYS = 7


def add_parser(sub: Any) -> None:
    summary = sub.add_parser(
        "summary",
        help="print the published scores (p10, p50, p90 per cohort) and the production models",
        description="Rows, mean and p10/p50/p90 of trust_score per cohort over a range of scored days, and the "
        f"held-out metrics of the production models. Without --start/--end: the latest {DEFAULT_DAYS} scored days.",
    )
    summary.add_argument("--start", type=iso_date, default=None,
                         help=f"first day (default: the first of the latest {DEFAULT_DAYS} scored days up to --end)")
    summary.add_argument("--end", type=iso_date, default=None, help="last day (default: the latest scored day)")


@dataclass(frozen=True)
class SummaryRange:
    start: date
    end: date
    # What the range is, in words, when it was chosen by default.
    note: str | None


def resolve_range(scored: Sequence[date], start: date | None, end: date | None) -> SummaryRange:
    """The range to summarise from the scored dates (ascending) and the options given; raises
    :class:`CommandError` for a reversed range or one that holds no scored day."""
    if start is not None and end is not None and start > end:
        raise CommandError(f"--start {start} is after --end {end}: the range is reversed")
    if not scored:
        raise CommandError(f"{TRUST_SIGNAL} holds no scores yet: `trust demo` (or `trust run`) scores the "
                           "latest days")
    note = None
    if start is None:
        upto = [d for d in scored if end is None or d <= end]
        window = upto[-DEFAULT_DAYS:]
        if window:
            start = window[0]
            note = (f"the latest {len(window)} scored days" + (f" up to {end}" if end else "")
                    + " (choose others with --start and --end)")
    if end is None:
        end = scored[-1]
    if start is not None and start > end:
        raise CommandError(f"--start {start} is after the latest scored day {end}: no scores to summarise "
                           f"(scored: {describe_dates(scored)})")
    inside = [d for d in scored if start is not None and start <= d <= end]
    if not inside:
        near = ", ".join(str(d) for d in nearest_dates(scored, end if start is None else start))
        shown = f"{start} .. {end}" if start is not None else f"up to {end}"
        raise CommandError(f"{TRUST_SIGNAL} holds no scores for {shown}: scored {describe_dates(scored)}; "
                           f"nearest scored days: {near}")
    assert start is not None  # a range with scored days has a start
    return SummaryRange(start, end, note)


def run(args: argparse.Namespace) -> int:
    from resources.environment import read_only_warehouse
    from trust_assets.store.signal import scored_dates
    from trust_assets.summary import render_summary

    with read_only_warehouse() as warehouse:
        chosen = resolve_range(scored_dates(warehouse), args.start, args.end)
        text = render_summary(warehouse, chosen.start, chosen.end)
    if chosen.note:
        print(f"Summary of {chosen.note}.")
    print(text)
    return 0

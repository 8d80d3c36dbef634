"""How to point a user at the published days nearest to a date, and name a set of days in a few words.

Used by ``trust summary`` and by the explanations to answer "that date was not scored" with the dates that were
(which days were published is :func:`trust_assets.store.signal.scored_dates`).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date


def nearest_dates(dates: Sequence[date], day: date, k: int = 3) -> list[date]:
    """The ``k`` dates of a sorted sequence closest to ``day`` (ties to the earlier), in calendar order."""
    at = bisect.bisect_left(dates, day)
    lo, hi = at, at
    while hi - lo < k and (lo > 0 or hi < len(dates)):
        if hi >= len(dates) or (lo > 0 and day - dates[lo - 1] <= dates[hi] - day):
            lo -= 1
        else:
            hi += 1
    return list(dates[lo:hi])


def describe_dates(dates: Sequence[date]) -> str:
    """``"7 days, 2026-02-22 .. 2026-02-28"``: a sorted set of dates in a few words."""
    if not dates:
        return "no days"
    if len(dates) == 1:
        return f"1 day, {dates[0]}"
    return f"{len(dates)} days, {dates[0]} .. {dates[-1]}"

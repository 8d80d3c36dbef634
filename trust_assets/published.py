"""Which days the trust signal was published for, and how to point a user at the nearest of them.

Plain reads (DuckDB or BigQuery through any warehouse reader), used by ``trust summary`` and by the explanations
to answer "that date was not scored" with the dates that were.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from trust_assets.tables import TRUST_SIGNAL

if TYPE_CHECKING:
    from resources.read_only import WarehouseReader



def scored_dates(warehouse: WarehouseReader, cohort: str | None = None) -> list[date]:
    """The snapshot dates with published scores (of one cohort, or of any), ascending; empty before the first."""
    if not warehouse.table_exists(TRUST_SIGNAL):
        return []
    where, params = ("where cohort = $c", {"c": cohort}) if cohort else ("", {})
    frame = warehouse.read(
        f"select distinct snapshot_date from {{analytics}}.{TRUST_SIGNAL} {where} order by snapshot_date", params
    )
    import polars as pl  # here, not at the top: `trust --help` and the argument checks do not need Polars

    return [d for d in frame["snapshot_date"].cast(pl.Date).to_list() if d is not None]


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

"""The calendar of a generation run: days, usage weeks and billing months as integer day numbers.

Dates are handled as int32 days since 1970-01-01 (the Arrow ``date32`` encoding), so every date column can be
computed with vectorised integer arithmetic and handed to DuckDB without conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from numpy.typing import ArrayLike, NDArray

EPOCH = date(1970, 1, 1)
# "No date" for end dates of active subscriptions: far enough in the future that day arithmetic cannot overflow.
NEVER = np.int32(10_000_000)
MICROS_PER_DAY = 86_400_000_000
MICROS_PER_HOUR = 3_600_000_000


def day_number(d: date) -> int:
    return (d - EPOCH).days


def from_day_number(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def add_months(days: ArrayLike, months: ArrayLike) -> NDArray[np.int32]:
    """Same day of month ``months`` later, clipped to the month end (31 Jan + 1 month = 28/29 Feb)."""
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_in_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64)
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    out = target.astype("datetime64[D]").astype(np.int64) + np.minimum(day_in_month, month_len - 1)
    return out.astype(np.int32)


@dataclass(frozen=True)
class Timeline:
    """History window ``[start, end]`` with its usage weeks (Monday..Sunday) and billing months.

    Weeks are simulated while they start on or before ``end`` (events of the last, partial week are kept up
    to ``end``); weekly usage rows are reported only for complete weeks (``week_ending <= end``).
    """

    start: date
    end: date
    start_day: int = field(init=False)
    end_day: int = field(init=False)
    week_end: NDArray[np.int32] = field(init=False, repr=False)
    n_report_weeks: int = field(init=False)
    month_index: NDArray[np.int32] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.end < self.start + timedelta(days=28):
            raise ValueError(f"end_date {self.end} must be at least four weeks after {self.start}")
        start_day, end_day = day_number(self.start), day_number(self.end)
        # 1970-01-04 was a Sunday.
        first_sunday = start_day + (3 - start_day) % 7
        week_end = np.arange(first_sunday, end_day + 7, 7, dtype=np.int32)
        week_end = week_end[week_end - 6 <= end_day]
        months = np.arange(self.start.year * 12 + self.start.month - 1, self.end.year * 12 + self.end.month,
                           dtype=np.int32)
        object.__setattr__(self, "start_day", start_day)
        object.__setattr__(self, "end_day", end_day)
        object.__setattr__(self, "week_end", week_end)
        object.__setattr__(self, "n_report_weeks", int(np.sum(week_end <= end_day)))
        object.__setattr__(self, "month_index", months)

    @property
    def n_weeks(self) -> int:
        return len(self.week_end)

    @property
    def week_start(self) -> NDArray[np.int32]:
        return self.week_end - 6

    def week_of(self, days: ArrayLike) -> NDArray[np.int64]:
        """Index of the simulated week containing each day (may be out of range for days outside)."""
        return (np.asarray(days, dtype=np.int64) - (int(self.week_end[0]) - 6)) // 7

    def month_day(self, month_index: ArrayLike, day_of_month: ArrayLike) -> NDArray[np.int32]:
        """Day number of ``day_of_month`` (1..28) in months given as ``year * 12 + month - 1``."""
        m = np.asarray(month_index, dtype=np.int64) - (1970 * 12)
        first = m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        return (first + np.asarray(day_of_month, dtype=np.int64) - 1).astype(np.int32)

    @property
    def years(self) -> float:
        return (self.end_day - self.start_day + 1) / 365.25

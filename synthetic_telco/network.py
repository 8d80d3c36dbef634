"""Network outages by region and product: a background of small outages plus scenario outages.

Outages are global (not per customer): they are drawn once per run and summarised per region, product and
usage week (minutes, for the latent experience and usage) and per day of that week (minutes and the start hour of
the day's longest outage, for placing outage-driven contacts and tickets on the outage days).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from synthetic_telco.randomness import Randomness, Stream
from synthetic_telco.raw_schema import PRODUCTS, REGIONS
from synthetic_telco.scenarios import RegionalOutage
from synthetic_telco.timeline import MICROS_PER_DAY, MICROS_PER_HOUR, Timeline, day_number

# Daily probability of a minor outage per region, product and slot (two slots a day).
MINOR_DAILY = (0.010, 0.006, 0.010)
MINOR_MEDIAN_MINUTES = 40.0
MAJOR_DAILY = 0.0008
SCENARIO_START_HOUR = 8
OUTAGE_ROW_KIND_BACKGROUND = 0


@dataclass(frozen=True)
class Outages:
    rows: dict[str, NDArray]
    minutes: NDArray[np.float64]  # (product, region, week)
    daily_minutes: NDArray[np.float64]  # (product, region, week, weekday Monday=0)
    daily_hour: NDArray[np.float64]  # (product, region, week, weekday): start hour of the day's longest outage


def build_outages(rnd: Randomness, timeline: Timeline,
                  scenario_outages: Sequence[tuple[int, RegionalOutage]]) -> Outages:
    days = np.arange(timeline.start_day, timeline.end_day + 1, dtype=np.int64)
    n_r, n_p = len(REGIONS), len(PRODUCTS)
    cells = np.arange(n_r * n_p, dtype=np.int64)  # region * n_p + product
    region_of, product_of = cells // n_p, cells % n_p
    parts: list[dict[str, NDArray]] = []
    for slot in range(3):
        u = rnd.uniform(Stream.OUTAGE, cells[:, None], days[None, :], slot=slot)
        if slot < 2:
            happens = u < np.array(MINOR_DAILY)[product_of][:, None]
            z = rnd.normal(Stream.OUTAGE_DETAIL, cells[:, None], days[None, :], slot=slot)
            minutes = np.minimum(np.round(MINOR_MEDIAN_MINUTES * np.exp(0.9 * z)), 720.0)
        else:
            happens = u < MAJOR_DAILY
            minutes = np.round(240 + 660 * rnd.uniform(Stream.OUTAGE_DETAIL, cells[:, None], days[None, :], slot=2))
        hour = 24 * rnd.uniform(Stream.OUTAGE_DETAIL, cells[:, None], days[None, :], slot=10 + slot)
        ci, di = np.nonzero(happens)
        start_us = days[di] * MICROS_PER_DAY + np.floor(hour[ci, di] * 60).astype(np.int64) * 60_000_000
        parts.append({
            "region": region_of[ci].astype(np.int8),
            "product": product_of[ci].astype(np.int8),
            "start_us": start_us,
            "duration": np.maximum(minutes[ci, di], 1.0),
            "kind": np.full(len(ci), OUTAGE_ROW_KIND_BACKGROUND, dtype=np.int32),
            "key_day": days[di].astype(np.int32),
            "slot": np.full(len(ci), slot, dtype=np.int32),
        })
    for index, outage in scenario_outages:
        o_days = np.arange(outage.days, dtype=np.int64) + day_number(outage.start_date)
        o_days = o_days[(o_days >= timeline.start_day) & (o_days <= timeline.end_day)]
        k = len(o_days)
        parts.append({
            "region": np.full(k, REGIONS.index(outage.region), dtype=np.int8),
            "product": np.full(k, PRODUCTS.index(outage.product), dtype=np.int8),
            "start_us": o_days * MICROS_PER_DAY + SCENARIO_START_HOUR * MICROS_PER_HOUR,
            "duration": np.full(k, float(outage.minutes_per_day)),
            "kind": np.full(k, index + 1, dtype=np.int32),
            "key_day": o_days.astype(np.int32),
            "slot": np.zeros(k, dtype=np.int32),
        })
    rows = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    return Outages(rows=rows, **_weekly_summary(rows, timeline))


def _weekly_summary(rows: dict[str, NDArray], timeline: Timeline) -> dict[str, NDArray]:
    n_w = timeline.n_weeks
    shape = (len(PRODUCTS), len(REGIONS), n_w, 7)
    daily = np.zeros(shape)
    daily_hour = np.zeros(shape)
    day = rows["start_us"] // MICROS_PER_DAY
    week = timeline.week_of(day)
    ok = (week >= 0) & (week < n_w)
    p, r, w = rows["product"][ok].astype(np.int64), rows["region"][ok].astype(np.int64), week[ok]
    dur, d = rows["duration"][ok], day[ok]
    wd = d - (timeline.week_end[w].astype(np.int64) - 6)
    hour = (rows["start_us"][ok] % MICROS_PER_DAY) / MICROS_PER_HOUR
    np.add.at(daily, (p, r, w, wd), dur)
    # The day's longest outage gives the hour its contacts and tickets follow (earliest start on ties): sort by
    # cell, then duration, then latest start first, and keep each cell's last row.
    order = np.lexsort((-hour, dur, wd, w, r, p))
    cell = ((p * len(REGIONS) + r) * n_w + w) * 7 + wd
    last = np.r_[cell[order][1:] != cell[order][:-1], True]
    keep = order[last]
    daily_hour[p[keep], r[keep], w[keep], wd[keep]] = hour[keep]
    return {"minutes": daily.sum(axis=-1), "daily_minutes": daily, "daily_hour": daily_hour}

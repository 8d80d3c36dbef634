"""Network outages by network area and product: a background of small local outages plus scenario outages.

Every region is split into ``AREAS_PER_REGION`` network areas (an exchange or a cell cluster); a customer is
exposed to the outages of their home area. Background outages, minor and major, are drawn independently per
(product, network area, day), so on any day some areas had outages and most had none, and the population's
distribution of outage minutes is the same from one quiet day to the next. Outages beyond that local background
(a whole region down) come only from ``RegionalOutage`` scenarios: their rows have no area (``area`` -1,
``network_area`` NULL) and count for every area of the region.

Outages are global (not per customer): they are drawn once per run and summarised per area cell (region x
``AREAS_PER_REGION`` + area), product and usage week (minutes, for the latent experience and usage) and per day
of that week (minutes and the start hour of the day's longest outage, for placing outage-driven contacts and
tickets on the outage days).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from source_contract.raw_tables import PRODUCTS, REGIONS
from synthetic_telco.population import AREAS_PER_REGION
from synthetic_telco.randomness import Randomness, Stream
from synthetic_telco.scenarios import RegionalOutage
from synthetic_telco.timeline import MICROS_PER_DAY, MICROS_PER_HOUR, Timeline, day_number

# Daily probability of a minor outage per network area, product and slot (two slots a day): a customer sees
# about 45 outage minutes per 28 days on mobile and broadband (33 on TV), and about half of them none.
MINOR_DAILY = (0.010, 0.006, 0.010)
MINOR_MEDIAN_MINUTES = 40.0
# Major outages (4-15 hours) are local too: a region-wide major hits a fifth of the base at once, a calendar
# event that would move a quiet day's distribution; per area the same per-customer rate averages out.
MAJOR_DAILY = 0.0008
SCENARIO_START_HOUR = 8
OUTAGE_ROW_KIND_BACKGROUND = 0
REGION_WIDE = -1  # ``area`` of an outage row that hits every area of its region
N_AREA_CELLS = len(REGIONS) * AREAS_PER_REGION


@dataclass(frozen=True)
class Outages:
    rows: dict[str, NDArray]
    minutes: NDArray[np.float64]  # (product, area cell, week)
    daily_minutes: NDArray[np.float64]  # (product, area cell, week, weekday Monday=0)
    daily_hour: NDArray[np.float64]  # (product, area cell, week, weekday): start hour of the day's longest outage


def build_outages(rnd: Randomness, timeline: Timeline,
                  scenario_outages: Sequence[tuple[int, RegionalOutage]]) -> Outages:
    days = np.arange(timeline.start_day, timeline.end_day + 1, dtype=np.int64)
    n_p = len(PRODUCTS)
    cells = np.arange(N_AREA_CELLS * n_p, dtype=np.int64)  # area cell * n_p + product
    area_cell_of, product_of = cells // n_p, cells % n_p
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
            "region": (area_cell_of[ci] // AREAS_PER_REGION).astype(np.int8),
            "area": (area_cell_of[ci] % AREAS_PER_REGION).astype(np.int16),
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
            "area": np.full(k, REGION_WIDE, dtype=np.int16),
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
    shape = (len(PRODUCTS), N_AREA_CELLS, n_w, 7)
    daily = np.zeros(shape)
    daily_hour = np.zeros(shape)
    # A region-wide row counts for every area of its region: expand it to one row per area cell.
    region, area = rows["region"].astype(np.int64), rows["area"].astype(np.int64)
    copies = np.where(area == REGION_WIDE, AREAS_PER_REGION, 1)
    src = np.repeat(np.arange(len(area)), copies)
    offset = np.arange(len(src)) - np.repeat(np.cumsum(copies) - copies, copies)
    g = region[src] * AREAS_PER_REGION + np.where(area[src] == REGION_WIDE, offset, area[src])
    day = rows["start_us"][src] // MICROS_PER_DAY
    week = timeline.week_of(day)
    ok = (week >= 0) & (week < n_w)
    p, g, w = rows["product"][src][ok].astype(np.int64), g[ok], week[ok]
    dur, d = rows["duration"][src][ok], day[ok]
    wd = d - (timeline.week_end[w].astype(np.int64) - 6)
    hour = (rows["start_us"][src][ok] % MICROS_PER_DAY) / MICROS_PER_HOUR
    np.add.at(daily, (p, g, w, wd), dur)
    # The day's longest outage gives the hour its contacts and tickets follow (earliest start on ties): sort by
    # cell, then duration, then latest start first, and keep each cell's last row.
    order = np.lexsort((-hour, dur, wd, w, g, p))
    cell = ((p * N_AREA_CELLS + g) * n_w + w) * 7 + wd
    last = np.r_[cell[order][1:] != cell[order][:-1], True]
    keep = order[last]
    daily_hour[p[keep], g[keep], w[keep], wd[keep]] = hour[keep]
    return {"minutes": daily.sum(axis=-1), "daily_minutes": daily, "daily_hour": daily_hour}

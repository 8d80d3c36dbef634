"""Weekly usage and quality per active line: mobile, TV and broadband.

One row per line and usage week (Monday..Sunday, ``week_ending`` a Sunday) in which the line was active at
least one day; partial weeks scale with the active days. Levels rise with the latent experience, quality
(dropped calls, buffering, delivered speed) worsens when it is low and in weeks with outages in the customer's
network area. The base world is stationary apart from slow data growth (mobile data and broadband traffic);
calendar effects such as viewing seasonality are left to scenarios, so a test can isolate each cause.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from synthetic_telco.lifecycle import Lifecycle
from synthetic_telco.network import Outages
from synthetic_telco.population import BROADBAND, MOBILE, PROVISIONED_MBPS, TV, Population
from synthetic_telco.randomness import Randomness, Stream, sigmoid
from synthetic_telco.timeline import Timeline

MINUTES_PER_WEEK = 7 * 24 * 60
DATA_GROWTH_PER_YEAR = 0.10  # mobile data and broadband traffic grow year on year
SECONDS_PER_CALL = 3.2 * 60
# Share of provisioned speed a bb_1000 line delivers at best (Wi-Fi limits), by tier index.
TIER_SPEED_CEILING = np.array([1.0, 0.97, 0.85])


def active_days(pop: Population, end: NDArray[np.int32], timeline: Timeline, product: int) -> NDArray[np.int8]:
    """Days (0..7) each line was active in each reported week: (weeks, customers)."""
    week_end = timeline.week_end[: timeline.n_report_weeks, None].astype(np.int64)
    lo = np.maximum(week_end - 6, pop.start[product][None, :])
    hi = np.minimum(week_end, end[product][None, :].astype(np.int64) - 1)
    return np.clip(hi - lo + 1, 0, 7).astype(np.int8)


def build_usage(rnd: Randomness, pop: Population, life: Lifecycle, outages: Outages, timeline: Timeline,
                days: list[NDArray[np.int8]]) -> dict[str, dict[str, NDArray]]:
    week_end = timeline.week_end
    years = (week_end - timeline.start_day) / 365.25
    growth = np.exp(DATA_GROWTH_PER_YEAR * years)
    out: dict[str, dict[str, NDArray]] = {}

    for p in (MOBILE, TV, BROADBAND):
        # Customer-major row order keeps each line's weeks together (better compression, easier reading).
        ci, ti = np.nonzero(days[p].T > 0)
        cust = pop.cust[ci]
        x = life.experience[ti, ci]
        frac = days[p][ti, ci] / 7.0
        minutes = outages.minutes[p, pop.area_cell[ci], ti]
        down = np.minimum(minutes / MINUTES_PER_WEEK, 1.0)
        wk = week_end[ti]

        def z(k: int, _cust: NDArray[np.int64] = cust, _wk: NDArray[np.int32] = wk, _p: int = p) -> NDArray:
            return rnd.normal(Stream.USAGE_NOISE, _cust, _wk, slot=10 * _p + k)

        if p == MOBILE:
            base_data, base_voice = pop.usage_base[0, ci], pop.usage_base[1, ci]
            data = base_data * np.exp(0.35 * x + 0.25 * z(0)) * growth[ti] * frac * (1 - down)
            voice = base_voice * np.exp(0.25 * x + 0.25 * z(1)) * frac * (1 - down)
            calls = np.round(voice * 60 / SECONDS_PER_CALL * np.exp(0.15 * z(2)))
            rate = sigmoid(-4.6 - 0.7 * x + 0.2 * z(3) + 12.0 * down)
            dropped = np.clip(np.round(calls * rate + np.sqrt(calls * rate) * z(4)), 0, calls)
            out["mobile_usage_weekly"] = {
                "msisdn": pop.msisdn[ci], "week_ending": wk, "data_mb": np.round(data, 1),
                "voice_minutes": np.round(voice, 1), "calls": calls.astype(np.int32),
                "dropped_calls": dropped.astype(np.int32),
            }
        elif p == TV:
            n_days = days[p][ti, ci].astype(np.float64)
            engagement = sigmoid(1.2 + 0.6 * x + pop.usage_base[3, ci] + 0.5 * z(1))
            active = np.clip(np.round(n_days * engagement), 0, n_days)
            viewing = (pop.usage_base[2, ci] * np.exp(0.2 * x + 0.3 * z(0)) * (active / 7.0)
                       * (1 - down) / 0.75)
            lam = np.exp(0.3 - 0.5 * x + pop.usage_base[7, ci]) * frac + 0.3 * minutes / 60.0
            buffering = np.maximum(np.round(lam + np.sqrt(lam) * z(2)), 0)
            out["tv_viewing_weekly"] = {
                "icoms": pop.icoms[ci], "week_ending": wk, "viewing_minutes": np.round(viewing, 1),
                "active_days": active.astype(np.int32), "buffering_events": buffering.astype(np.int32),
            }
        else:
            tier = np.maximum(pop.segment[BROADBAND][ci], 0)
            provisioned = PROVISIONED_MBPS[tier]
            download = pop.usage_base[4, ci] * np.exp(0.3 * x + 0.25 * z(0)) * growth[ti] * frac * (1 - down)
            upload = download * pop.usage_base[5, ci] * np.exp(0.2 * z(1))
            share = sigmoid(2.0 + 0.45 * x + pop.usage_base[6, ci] + 0.5 * z(2)) * TIER_SPEED_CEILING[tier]
            share *= 1 - 0.6 * down
            out["broadband_usage_weekly"] = {
                "icoms": pop.icoms[ci], "week_ending": wk, "download_gb": np.round(download, 2),
                "upload_gb": np.round(upload, 2), "avg_delivered_mbps": np.round(provisioned * share, 1),
                "provisioned_mbps": provisioned,
            }
    return out

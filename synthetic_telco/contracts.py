"""Contract behaviour and prices: churn and recontract hazards, fee changes, price rises, fee lookups.

Fees are modelled as ``real fee x price index``: the real fee is set at activation and reset by recontracts
(which react to the experience), the price index of a product moves only with ``PriceRise`` scenarios and applies
to every subscription active on its date. That separation is what lets a price-rise scenario scale every later
fee and bill of a product by exactly ``1 + pct`` and nothing else. The base world has no price rise of its own:
a calendar event such as a yearly rise would sit inside the reference period and make a month a year later
differ from it for no customer reason, so rises come only from scenarios, where a test can isolate them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from source_contract.raw_tables import PRODUCTS
from synthetic_telco.randomness import sigmoid
from synthetic_telco.scenarios import PriceRise
from synthetic_telco.timeline import Timeline, day_number

# Weekly churn hazard at experience 0 (mobile, tv, broadband), multiplied by exp(-CHURN_SLOPE x experience)
# and by the contract position: leaving in contract costs an early termination fee.
CHURN_BASE = (0.0025, 0.0020, 0.0022)
CHURN_SLOPE = 1.2
IN_CONTRACT = 0.25
CONTRACT_ENDING = 1.0  # within ENDING_DAYS of the contract end
OUT_OF_CONTRACT = 2.0
PREPAID = 1.8
ENDING_DAYS = 60

# Recontracting opens RENEWAL_WINDOW_DAYS before the contract end; most renew within ~3 months of it.
RENEWAL_WINDOW_DAYS = 90
RECONTRACT_IN_WINDOW = 0.06
RECONTRACT_OUT_OF_CONTRACT = 0.015
RECONTRACT_SLOPE = 0.8

# Relative fee change at recontract: upgrades when the experience is good, retention discounts when poor.
FEE_CHANGE_BASE = 0.03
FEE_CHANGE_SLOPE = 0.07
FEE_CHANGE_NOISE = 0.04
FEE_CHANGE_LIMIT = 0.35

# Event-key kind of scenario i's price rise is i + 1 (0 stays free, so event ids never shift).


def churn_probability(experience: NDArray[np.float64], days_to_end: NDArray[np.int64],
                      prepaid: NDArray[np.bool_], product: int) -> NDArray[np.float64]:
    position = np.where(days_to_end > ENDING_DAYS, IN_CONTRACT,
                        np.where(days_to_end > 0, CONTRACT_ENDING, OUT_OF_CONTRACT))
    position = np.where(prepaid, PREPAID, position)
    return CHURN_BASE[product] * np.exp(-CHURN_SLOPE * experience) * position


def recontract_probability(experience: NDArray[np.float64], days_to_end: NDArray[np.int64],
                           has_contract: NDArray[np.bool_]) -> NDArray[np.float64]:
    base = np.where(days_to_end > 0, RECONTRACT_IN_WINDOW, RECONTRACT_OUT_OF_CONTRACT)
    eligible = has_contract & (days_to_end <= RENEWAL_WINDOW_DAYS)
    return np.where(eligible, np.minimum(base * np.exp(RECONTRACT_SLOPE * experience), 0.9), 0.0)


def fee_change(experience: NDArray[np.float64], z: NDArray[np.float64]) -> NDArray[np.float64]:
    delta = FEE_CHANGE_BASE + FEE_CHANGE_SLOPE * experience + FEE_CHANGE_NOISE * z
    return np.clip(delta, -FEE_CHANGE_LIMIT, FEE_CHANGE_LIMIT)


def late_payment_probability(experience: NDArray[np.float64]) -> NDArray[np.float64]:
    return sigmoid(-3.0 - 1.1 * experience)


def never_paid_probability(experience: NDArray[np.float64]) -> NDArray[np.float64]:
    return sigmoid(-6.0 - 1.5 * experience)


@dataclass(frozen=True)
class PriceRiseEvent:
    product: int
    day: int
    pct: float
    kind: int  # scenario index + 1 (part of the event key)


def price_rises(timeline: Timeline, scenario_rises: Sequence[tuple[int, PriceRise]]) -> list[PriceRiseEvent]:
    """All price rises (scenarios) inside the history, ordered by product, day and scenario."""
    out: list[PriceRiseEvent] = []
    for index, rise in scenario_rises:
        d = day_number(rise.effective_date)
        if timeline.start_day <= d <= timeline.end_day:
            out.append(PriceRiseEvent(PRODUCTS.index(rise.product), d, rise.pct, index + 1))
    return sorted(out, key=lambda r: (r.product, r.day, r.kind))


class PriceIndex:
    """Cumulative price level of one product by day (1.0 before the first rise)."""

    def __init__(self, rises: Sequence[PriceRiseEvent]) -> None:
        self.days = np.array([r.day for r in rises], dtype=np.int64)
        # Sequential cumulative product: levels before a scenario rise are bit-identical to a run without it.
        self.levels = np.concatenate([[1.0], np.cumprod([1.0 + r.pct for r in rises])])

    def at(self, days: NDArray[np.integer]) -> NDArray[np.float64]:
        return self.levels[np.searchsorted(self.days, days, side="right")]


class FeeSchedule:
    """Real (pre-index) monthly fee of each subscription of one product, piecewise constant over time."""

    def __init__(self, idx: NDArray[np.int64], day: NDArray[np.integer], fee: NDArray[np.float64]) -> None:
        order = np.lexsort((day, idx))
        self.keys = (idx[order].astype(np.int64) << 32) | day[order].astype(np.int64)
        self.fee = fee[order]

    def at(self, idx: NDArray[np.int64], day: NDArray[np.integer]) -> NDArray[np.float64]:
        """Fee in force on ``day``; every queried day must be on or after the subscription start."""
        pos = np.searchsorted(self.keys, (idx.astype(np.int64) << 32) | day.astype(np.int64), side="right") - 1
        return self.fee[pos]

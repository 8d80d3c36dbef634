"""CRM and subscription rows, contract events, and the fee schedules that bills and events price from.

How the lifecycle shows in the raw tables:
- a churned product has ``end_date`` set on its subscription row and a ``termination`` contract event on the
  same date (the first day without service);
- a recontract is a ``recontract`` event with ``new_contract_end_date`` and ``new_monthly_fee``; stock customers
  who re-contracted before the history carry that earlier event too, so the contract end in force on any date
  is the latest recontract's ``new_contract_end_date`` on or before it, else the subscription's
  ``contract_end_date``;
- a price rise is a ``price_change`` event (``new_monthly_fee`` only) for every subscription active that day.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from synthetic_telco.contracts import FeeSchedule, PriceIndex, PriceRiseEvent
from synthetic_telco.lifecycle import Lifecycle
from synthetic_telco.population import BROADBAND, MOBILE, PROVISIONED_MBPS, TV, Population
from synthetic_telco.timeline import NEVER

TERMINATION, RECONTRACT, PRICE_CHANGE = 0, 1, 2
EVENT_TYPES: tuple[str, ...] = ("termination", "recontract", "price_change")
# Fixed-line package dictionary: TV packages then broadband tiers.
TV_PACKAGE_OFFSET, BROADBAND_TIER_OFFSET = 0, 3


def fee_schedules(pop: Population, life: Lifecycle) -> list[FeeSchedule]:
    out: list[FeeSchedule] = []
    for p in range(3):
        held = np.nonzero(pop.held[p])[0]
        prior = np.nonzero(pop.prior_recontract[p] != NEVER)[0]
        sel = life.recontracts["product"] == p
        out.append(FeeSchedule(
            np.concatenate([held, prior, life.recontracts["idx"][sel]]).astype(np.int64),
            np.concatenate([pop.start[p][held], pop.prior_recontract[p][prior], life.recontracts["day"][sel]]),
            np.concatenate([pop.activation_fee[p][held], pop.current_fee[p][prior], life.recontracts["real_fee"][sel]]),
        ))
    return out


def customer_rows(pop: Population) -> dict[str, NDArray]:
    return {
        "cust": pop.cust, "signup_date": pop.signup, "region": pop.region, "area": pop.network_area,
        "birth_year": pop.birth_year,
        "customer_type": pop.customer_type,
    }


def subscription_rows(pop: Population, life: Lifecycle,
                      prices: list[PriceIndex]) -> tuple[dict[str, NDArray], dict[str, NDArray]]:
    def fee(p: int, idx: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.round(pop.activation_fee[p][idx] * prices[p].at(pop.start[p][idx]), 2)

    m = np.nonzero(pop.held[MOBILE])[0]
    mobile = {
        "msisdn": pop.msisdn[m], "cust": pop.cust[m], "plan_type": pop.segment[MOBILE][m],
        "monthly_fee": fee(MOBILE, m),
        "start_date": pop.start[MOBILE][m], "contract_end_date": pop.initial_contract_end[MOBILE][m],
        "end_date": life.end[MOBILE][m],
    }
    parts = []
    for p, offset in ((TV, TV_PACKAGE_OFFSET), (BROADBAND, BROADBAND_TIER_OFFSET)):
        f = np.nonzero(pop.held[p])[0]
        seg = pop.segment[p][f]
        parts.append({
            "icoms": pop.icoms[f], "cust": pop.cust[f], "product": np.full(len(f), p, dtype=np.int8),
            "package": (seg + offset).astype(np.int8),
            "provisioned_mbps": PROVISIONED_MBPS[np.maximum(seg, 0)] if p == BROADBAND else np.full(len(f), -1),
            "monthly_fee": fee(p, f), "start_date": pop.start[p][f],
            "contract_end_date": pop.initial_contract_end[p][f], "end_date": life.end[p][f],
        })
    fixed = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    return mobile, fixed


def contract_event_rows(pop: Population, life: Lifecycle, fees: list[FeeSchedule], prices: list[PriceIndex],
                        rises: list[PriceRiseEvent]) -> dict[str, NDArray]:
    parts: list[dict[str, NDArray]] = []

    def add(idx: NDArray, p: int, kind: int, day: NDArray, new_end: NDArray, new_fee: NDArray, key: int) -> None:
        n = len(idx)
        parts.append({
            "cust": pop.cust[idx], "product": np.full(n, p, dtype=np.int8), "event_type": np.full(n, kind, np.int8),
            "event_date": day.astype(np.int32), "new_contract_end_date": new_end.astype(np.int32),
            "new_monthly_fee": new_fee, "key": np.full(n, key, dtype=np.int16),
        })

    for p in range(3):
        prior = np.nonzero(pop.prior_recontract[p] != NEVER)[0]
        day = pop.prior_recontract[p][prior]
        add(prior, p, RECONTRACT, day, pop.contract_end[p][prior],
            np.round(pop.current_fee[p][prior] * prices[p].at(day), 2), 0)

        sel = life.recontracts["product"] == p
        idx, day = life.recontracts["idx"][sel], life.recontracts["day"][sel]
        add(idx, p, RECONTRACT, day, life.recontracts["new_end"][sel],
            np.round(life.recontracts["real_fee"][sel] * prices[p].at(day), 2), 0)

        sel = life.terminations["product"] == p
        idx, day = life.terminations["idx"][sel], life.terminations["day"][sel]
        add(idx, p, TERMINATION, day, np.full(len(idx), NEVER), np.full(len(idx), np.nan), 0)

        for rise in (r for r in rises if r.product == p):
            idx = np.nonzero(pop.held[p] & (pop.start[p] <= rise.day) & (life.end[p] > rise.day))[0]
            day = np.full(len(idx), rise.day, dtype=np.int32)
            add(idx, p, PRICE_CHANGE, day, np.full(len(idx), NEVER),
                np.round(fees[p].at(idx, day) * prices[p].at(day), 2), rise.kind)
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


"""Monthly bills and their payments.

A subscription is billed in advance on the customer's bill day of each month while it is active on that day,
so churned products stop billing after their end date. The amount is the fee in force (real fee x price index)
plus out-of-bundle charges; an occasional bill shock adds a large one-off charge. Payments follow the bill:
on time (before the due date, bill date + 14 days), late (more likely when the experience is low), or never
(rare, also experience-driven). Prepaid bundles are paid on the bill date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from synthetic_telco.contracts import FeeSchedule, PriceIndex, late_payment_probability, never_paid_probability
from synthetic_telco.population import MOBILE, PREPAID, Population
from synthetic_telco.randomness import Randomness, Stream
from synthetic_telco.timeline import Timeline

DUE_DAYS = 14
# Monthly bill-shock probability by product and segment (mobile: postpaid, prepaid, sim_only).
BILL_SHOCK: tuple[tuple[float, ...], ...] = ((0.035, 0.0, 0.030), (0.02, 0.02, 0.02), (0.008, 0.008, 0.008))
# Bill shock size as a multiple of the monthly fee: low + U(0, 1) x width.
SHOCK_SIZE = ((0.5, 1.0), (0.4, 0.8), (0.3, 0.5))
# Everyday extras: share of bills with any, and their median size as a fraction of the fee.
EXTRAS = ((0.35, 0.03), (0.10, 0.10), (0.0, 0.0))


@dataclass(frozen=True)
class BillPlan:
    """Bill days of the history months (months x customers) and which of them carry a bill shock."""

    month_index: NDArray[np.int32]
    day: NDArray[np.int32]
    in_history: NDArray[np.bool_]
    shock: NDArray[np.bool_]  # (product, month, customer)


def plan_bills(rnd: Randomness, pop: Population, timeline: Timeline) -> BillPlan:
    months = timeline.month_index
    day = timeline.month_day(months[:, None], pop.bill_day[None, :])
    in_history = (day >= timeline.start_day) & (day <= timeline.end_day)
    shock = np.zeros((3, len(months), pop.size), dtype=bool)
    for p in range(3):
        prob = np.array(BILL_SHOCK[p])[np.maximum(pop.segment[p], 0)]
        u = rnd.uniform(Stream.BILL_SHOCK, pop.cust[None, :], months[:, None], slot=p)
        shock[p] = (u < prob[None, :]) & pop.held[p][None, :]
    return BillPlan(month_index=months, day=day, in_history=in_history, shock=shock)


def build_bills(rnd: Randomness, pop: Population, plan: BillPlan, end: NDArray[np.int32],
                fees: list[FeeSchedule], prices: list[PriceIndex], experience: NDArray[np.float64],
                timeline: Timeline) -> tuple[dict[str, NDArray], dict[str, NDArray]]:
    bill_parts: list[dict[str, NDArray]] = []
    pay_parts: list[dict[str, NDArray]] = []
    for p in range(3):
        issued = plan.in_history & pop.held[p][None, :] & (pop.start[p][None, :] <= plan.day)
        issued &= plan.day < end[p][None, :]
        mi, ci = np.nonzero(issued)
        day = plan.day[mi, ci]
        cust = pop.cust[ci]
        month = plan.month_index[mi]
        fee = fees[p].at(ci, day) * prices[p].at(day)

        seg = np.maximum(pop.segment[p][ci], 0)
        share, size = EXTRAS[p]
        extras = np.zeros(len(ci))
        if share > 0:
            has = rnd.uniform(Stream.OUT_OF_BUNDLE, cust, month, slot=p) < share
            extras = np.where(has, size * np.exp(0.8 * rnd.normal(Stream.OUT_OF_BUNDLE, cust, month, slot=3 + p)), 0.0)
        if p == MOBILE:
            extras = np.where(seg == PREPAID, 0.0, extras)
        low, width = SHOCK_SIZE[p]
        shock_size = low + width * rnd.uniform(Stream.OUT_OF_BUNDLE, cust, month, slot=6 + p)
        extras = extras + np.where(plan.shock[p][mi, ci], shock_size, 0.0)
        amount = np.round(fee * (1.0 + extras), 2)
        yyyymm = (month // 12) * 100 + month % 12 + 1
        bill_parts.append({
            "cust": cust, "product": np.full(len(ci), p, dtype=np.int8), "bill_date": day,
            "due_date": day + DUE_DAYS, "amount": amount, "yyyymm": yyyymm,
        })

        x = experience[timeline.week_of(day), ci]
        u_late = rnd.uniform(Stream.PAYMENT, cust, month, slot=4 * p)
        u_never = rnd.uniform(Stream.PAYMENT, cust, month, slot=4 * p + 1)
        u_day = rnd.uniform(Stream.PAYMENT, cust, month, slot=4 * p + 2)
        late = u_late < late_payment_probability(x)
        never = u_never < never_paid_probability(x)
        paid = np.where(late, day + DUE_DAYS + 1 + np.floor(u_day * 45), day + 1 + np.floor(u_day * (DUE_DAYS - 1)))
        prepaid = (p == MOBILE) & (seg == PREPAID)
        paid = np.where(prepaid, day, paid).astype(np.int32)
        never &= ~prepaid
        keep = ~never & (paid <= timeline.end_day)
        pay_parts.append({
            "cust": cust[keep], "product": np.full(int(keep.sum()), p, dtype=np.int8), "paid_date": paid[keep],
            "amount": amount[keep], "yyyymm": yyyymm[keep],
        })
    return _concat(bill_parts), _concat(pay_parts)


def _concat(parts: list[dict[str, NDArray]]) -> dict[str, NDArray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


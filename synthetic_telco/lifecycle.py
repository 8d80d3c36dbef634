"""The weekly simulation of one chunk of customers: latent experience and contract decisions.

Latent experience and churn are coupled (an outage only hurts customers who still hold the product; churn
depends on the experience), so they advance together, one week at a time, vectorised over the chunk's
customers. Every random number is addressed by (customer, week, slot), never drawn in sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from synthetic_telco import contracts, latent
from synthetic_telco.billing import BillPlan
from synthetic_telco.network import Outages
from synthetic_telco.population import CONTRACT_TERMS, Population
from synthetic_telco.randomness import Randomness, Stream, categorical_rows
from synthetic_telco.timeline import NEVER, Timeline, add_months


@dataclass(frozen=True)
class Lifecycle:
    experience: NDArray[np.float64]  # (weeks, customers)
    end: NDArray[np.int32]  # (product, customers): subscription end date, NEVER while active
    incident_product: NDArray[np.int8]  # (weeks, customers): product hit by a personal incident, -1 if none
    negative_event: NDArray[np.bool_]  # (weeks, customers)
    bill_shock_reaction: NDArray[np.bool_]  # (product, weeks, customers): week after a shocked bill
    terminations: dict[str, NDArray]  # idx, product, day
    recontracts: dict[str, NDArray]  # idx, product, day, new_end, real_fee


def simulate(rnd: Randomness, pop: Population, timeline: Timeline, outages: Outages,
             bills: BillPlan) -> Lifecycle:
    n, n_w = pop.size, timeline.n_weeks
    cust = pop.cust
    end = np.full((3, n), NEVER, dtype=np.int32)
    contract_end = pop.contract_end.copy()
    real_fee = pop.current_fee.copy()
    has_contract = pop.held & (pop.initial_contract_end != NEVER)
    prepaid = pop.is_prepaid
    area_cell = pop.area_cell
    shock_day = _bill_shock_days(pop, timeline, bills)

    state = latent.initial_state(rnd, cust, pop.experience_mean)
    experience = np.empty((n_w, n))
    incident_product = np.full((n_w, n), -1, dtype=np.int8)
    negative_event = np.zeros((n_w, n), dtype=bool)
    reaction = np.zeros((3, n_w, n), dtype=bool)
    terminations: list[tuple[NDArray, int, NDArray]] = []
    recontracts: list[tuple[NDArray, int, NDArray, NDArray, NDArray]] = []

    for t in range(n_w):
        week_end = int(timeline.week_end[t])
        week_start = week_end - 6
        active = pop.held & (pop.start <= week_end) & (end > week_start)

        shock = latent.outage_shock(outages.minutes[:, area_cell, t], active)
        if t > 0:
            # React to a shocked bill the week after it arrived, if the bill was issued (not churned before).
            reaction[:, t] = (shock_day[:, t - 1] < end) & active
            shock += latent.BILL_SHOCK_SHOCK * reaction[:, t].sum(axis=0)
        n_active = active.sum(axis=0)
        incident = (rnd.uniform(Stream.INCIDENT, cust, week_end) < latent.INCIDENT_WEEKLY) & (n_active > 0)
        if incident.any():
            which = np.nonzero(incident)[0]
            pick = np.floor(rnd.uniform(Stream.INCIDENT_PRODUCT, cust[which], week_end) * n_active[which])
            # The pick-th active product (in PRODUCTS order) of each customer.
            rank = np.cumsum(active[:, which], axis=0) - 1
            incident_product[t, which] = np.argmax(active[:, which] & (rank == pick), axis=0)
            shock[which] += latent.INCIDENT_SHOCK
        negative_event[t] = rnd.uniform(Stream.NEGATIVE_EVENT, cust, week_end) < latent.NEGATIVE_EVENT_WEEKLY
        shock += latent.NEGATIVE_EVENT_SHOCK * negative_event[t]
        experience[t] = state.step(rnd.normal(Stream.LATENT_EPS, cust, week_end), shock)

        for p in range(3):
            # Decisions for subscriptions that were active before this week started.
            idx = np.nonzero(pop.held[p] & (pop.start[p] < week_start) & (end[p] == NEVER))[0]
            if len(idx) == 0:
                continue
            c = cust[idx]
            day = week_start + np.floor(rnd.uniform(Stream.EVENT_DAY, c, week_end, slot=p) * 7).astype(np.int32)
            day = np.maximum(day, timeline.start_day)
            in_range = day <= timeline.end_day
            x = experience[t, idx]
            to_end = contract_end[p, idx].astype(np.int64) - day
            churn = in_range & (rnd.uniform(Stream.CHURN, c, week_end, slot=p)
                                < contracts.churn_probability(x, to_end, prepaid[idx], p))
            renew = in_range & ~churn & (rnd.uniform(Stream.RECONTRACT, c, week_end, slot=p)
                                         < contracts.recontract_probability(x, to_end, has_contract[p, idx]))
            if churn.any():
                end[p, idx[churn]] = day[churn]
                terminations.append((idx[churn], p, day[churn]))
            if renew.any():
                r = idx[renew]
                shares = pop.renewal_term_shares[p][:, r].T
                term = CONTRACT_TERMS[categorical_rows(rnd.uniform(Stream.TERM, cust[r], week_end, slot=p), shares)]
                new_end = add_months(day[renew], term)
                delta = contracts.fee_change(x[renew], rnd.normal(Stream.FEE_CHANGE, cust[r], week_end, slot=p))
                real_fee[p, r] = real_fee[p, r] * (1.0 + delta)
                contract_end[p, r] = new_end
                recontracts.append((r, p, day[renew], new_end, real_fee[p, r].copy()))

    return Lifecycle(
        experience=experience,
        end=end,
        incident_product=incident_product,
        negative_event=negative_event,
        bill_shock_reaction=reaction,
        terminations=_stack(terminations, ("idx", "product", "day")),
        recontracts=_stack(recontracts, ("idx", "product", "day", "new_end", "real_fee")),
    )


def _bill_shock_days(pop: Population, timeline: Timeline, bills: BillPlan) -> NDArray[np.int32]:
    """Day of a shocked bill per (product, week, customer), NEVER where there is none."""
    out = np.full((3, timeline.n_weeks, pop.size), NEVER, dtype=np.int32)
    for p in range(3):
        due = bills.shock[p] & bills.in_history & (pop.start[p][None, :] <= bills.day)
        mi, ci = np.nonzero(due)
        day = bills.day[mi, ci]
        out[p, timeline.week_of(day), ci] = day
    return out


def _stack(parts: list[tuple], names: tuple[str, ...]) -> dict[str, NDArray]:
    if not parts:
        dtypes = (np.int64, np.int8, np.int32, np.int32, np.float64)
        return {name: np.zeros(0, dtype=dt) for name, dt in zip(names, dtypes, strict=False)}
    cols: dict[str, NDArray] = {}
    for k, name in enumerate(names):
        if name == "product":
            cols[name] = np.concatenate([np.full(len(part[0]), part[1], dtype=np.int8) for part in parts])
        else:
            cols[name] = np.concatenate([np.asarray(part[k]) for part in parts])
    return cols

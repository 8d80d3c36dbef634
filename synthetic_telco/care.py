"""Care contacts and fault tickets per customer, product and week.

Each (line, week) has a few fixed event slots, each an independent chance:
- generic slots: more likely when the experience is low, after an incident, a bill shock or a bad experience;
- an outage slot: likely when the customer's network area had outage minutes on the product while the line was
  active (region-wide outages count for every area of the region),
  placed on one of the outage days (weighted by their minutes);
- lifecycle slots (contacts only): a cancellation call before a termination, a sales call at a recontract.
Slots give every event a stable key (customer, product, day, slot), so ids never depend on other customers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from synthetic_telco.lifecycle import Lifecycle
from synthetic_telco.network import Outages
from synthetic_telco.population import Population
from synthetic_telco.randomness import Randomness, Stream, categorical, sigmoid
from synthetic_telco.timeline import MICROS_PER_DAY, Timeline

CHANNELS: tuple[str, ...] = ("phone", "chat", "store")
REASONS: tuple[str, ...] = ("billing", "technical", "cancellation", "sales", "other")
FAULT_TYPES: tuple[str, ...] = ("no_service", "degraded", "equipment", "other")
BILLING, TECHNICAL, CANCELLATION, SALES, OTHER = range(5)

CONTACT_WEEKLY = 0.018  # per generic slot (two slots) at experience 0
CONTACT_SLOPE = 0.6
FAULT_WEEKLY = 0.006
FAULT_SLOPE = 0.7
INCIDENT_FAULT = 0.65  # chance an incident on the product is logged as a ticket
OUTAGE_CONTACT_MAX = 0.30  # outage-slot chance for a very long outage; 1 - exp(-minutes / 900) scaled
OUTAGE_FAULT_MAX = 0.20
CANCELLATION_CALL = 0.6
SALES_CALL = 0.45
SLOT_OUTAGE, SLOT_CANCELLATION, SLOT_SALES = 2, 3, 4


def build_care(rnd: Randomness, pop: Population, life: Lifecycle, outages: Outages,
               timeline: Timeline) -> tuple[dict[str, NDArray], dict[str, NDArray]]:
    contacts: list[dict[str, NDArray]] = []
    tickets: list[dict[str, NDArray]] = []
    week_end = timeline.week_end.astype(np.int64)
    for p in range(3):
        lo = np.maximum(np.maximum(week_end[:, None] - 6, pop.start[p][None, :]), timeline.start_day)
        hi = np.minimum(np.minimum(week_end[:, None], life.end[p][None, :].astype(np.int64) - 1), timeline.end_day)
        ci, ti = np.nonzero((hi >= lo).T)
        lo, hi = lo[ti, ci], hi[ti, ci]
        n_days = hi - lo + 1
        frac = n_days / 7.0
        cust, wk = pop.cust[ci], week_end[ti]
        x = life.experience[ti, ci]
        exposure = _OutageExposure(outages, p, pop.area_cell[ci], ti, wk, lo, hi)
        minutes = exposure.minutes
        incident = life.incident_product[ti, ci] == p
        bill_shock = life.bill_shock_reaction[p, ti, ci]
        negative = life.negative_event[ti, ci]
        trigger = incident | bill_shock | negative

        def u(stream: Stream, slot: int, _c: NDArray = cust, _w: NDArray = wk, _p: int = p) -> NDArray:
            return rnd.uniform(stream, _c, _w, slot=32 * _p + slot)

        # Care contacts: two generic slots and one outage slot.
        generic = frac * CONTACT_WEEKLY * np.exp(-CONTACT_SLOPE * x) + 0.25 * negative + 0.30 * bill_shock
        generic = np.minimum(generic + 0.30 * incident, 0.9)
        outage_p = OUTAGE_CONTACT_MAX * (1 - np.exp(-minutes / 900.0))
        for slot in (0, 1, SLOT_OUTAGE):
            is_outage = slot == SLOT_OUTAGE
            hit = np.nonzero(u(Stream.CARE, slot) < (outage_p if is_outage else generic))[0]
            c, w = cust[hit], wk[hit]

            def d(field: int, _c: NDArray = c, _w: NDArray = w, _s: int = slot, _p: int = p) -> NDArray:
                return rnd.uniform(Stream.CARE_DETAIL, _c, _w, slot=32 * _p + 8 * _s + field)

            if is_outage:
                day, start_hour = exposure.pick(hit, d(1))
                hour = start_hour + d(0) * (24.0 - start_hour)
                reason = np.full(len(hit), TECHNICAL, dtype=np.int8)
                complaint = d(3) < sigmoid(-2.2 - 1.0 * x[hit])
            else:
                day = lo[hit] + np.floor(d(0) * n_days[hit]).astype(np.int64)
                hour = 8.0 + 13.0 * d(1)
                reason = _generic_reason(d(2), x[hit], bill_shock[hit], incident[hit] | negative[hit])
                complaint = d(3) < sigmoid(-3.0 - 1.1 * x[hit] + 1.0 * trigger[hit])
            contacts.append(_contact(c, p, day, hour, categorical(d(4), (0.55, 0.35, 0.10)), reason, complaint,
                                     slot))

        # Fault tickets: one generic slot (incl. personal incidents) and one outage slot.
        generic_f = np.minimum(frac * FAULT_WEEKLY * np.exp(-FAULT_SLOPE * x) + INCIDENT_FAULT * incident, 0.95)
        outage_f = OUTAGE_FAULT_MAX * (1 - np.exp(-minutes / 900.0))
        for slot in (0, 1):
            is_outage = slot == 1
            hit = np.nonzero(u(Stream.FAULT, slot) < (outage_f if is_outage else generic_f))[0]
            c, w = cust[hit], wk[hit]

            def f(field: int, _c: NDArray = c, _w: NDArray = w, _s: int = slot, _p: int = p) -> NDArray:
                return rnd.uniform(Stream.FAULT_DETAIL, _c, _w, slot=32 * _p + 8 * _s + field)

            if is_outage:
                day, start_hour = exposure.pick(hit, f(1))
                hour = np.minimum(start_hour + 0.25 + 3.0 * f(0), 23.99)
                kind = categorical(f(2), (0.8, 0.2, 0.0, 0.0))
                hours_open = np.exp(np.log(8.0) + 0.5 * rnd.normal(Stream.FAULT_DETAIL, c, w, slot=32 * p + 20))
            else:
                day = lo[hit] + np.floor(f(0) * n_days[hit]).astype(np.int64)
                hour = 7.0 + 15.0 * f(1)
                kind = np.where(incident[hit], categorical(f(2), (0.25, 0.35, 0.30, 0.10)),
                                categorical(f(2), (0.15, 0.40, 0.25, 0.20))).astype(np.int8)
                z = rnd.normal(Stream.FAULT_DETAIL, c, w, slot=32 * p + 4)
                hours_open = np.exp(np.log(20.0) + 0.8 * z - 0.4 * x[hit])
            opened = day * MICROS_PER_DAY + np.floor(hour * 3600).astype(np.int64) * 1_000_000
            resolved = opened + np.floor(hours_open * 3600).astype(np.int64) * 1_000_000
            # Tickets still open at the end of the history have no resolution yet.
            resolved = np.where(resolved < (timeline.end_day + 1) * MICROS_PER_DAY, resolved, np.iinfo(np.int64).min)
            tickets.append({
                "cust": c, "product": np.full(len(hit), p, dtype=np.int8), "opened_us": opened,
                "resolved_us": resolved, "fault_type": kind.astype(np.int8),
                "slot": np.full(len(hit), slot, dtype=np.int8),
            })

    contacts.extend(_lifecycle_contacts(rnd, pop, life, timeline))
    return _concat(contacts), _concat(tickets)


class _OutageExposure:
    """Outage minutes each (line, week) row was exposed to while active, and the outage day of an event.

    Only rows of weeks with outage minutes in the line's network area are expanded per weekday, which keeps
    the (rows x 7) arrays small.
    """

    def __init__(self, outages: Outages, p: int, area_cell: NDArray[np.intp], week: NDArray[np.int64],
                 week_end: NDArray[np.int64], lo: NDArray[np.int64], hi: NDArray[np.int64]) -> None:
        self.rows = np.nonzero(outages.minutes[p, area_cell, week] > 0)[0]
        r, w = area_cell[self.rows], week[self.rows]
        days = (week_end[self.rows] - 6)[:, None] + np.arange(7)
        active = (days >= lo[self.rows, None]) & (days <= hi[self.rows, None])
        self.daily = np.where(active, outages.daily_minutes[p, r, w], 0.0)
        self.hours = outages.daily_hour[p, r, w]
        self.first_day = week_end[self.rows] - 6
        self.minutes = np.zeros(len(area_cell))
        self.minutes[self.rows] = self.daily.sum(axis=1)

    def pick(self, hit: NDArray[np.int64], u: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray]:
        """Day (weighted by that day's outage minutes) and the start hour of its longest outage."""
        at = np.searchsorted(self.rows, hit)
        cum = np.cumsum(self.daily[at], axis=1)
        k = np.minimum((u[:, None] * cum[:, -1:] >= cum).sum(axis=1), 6)
        return self.first_day[at] + k, self.hours[at, k]


def _generic_reason(u: NDArray, x: NDArray, bill_shock: NDArray, service_issue: NDArray) -> NDArray[np.int8]:
    # Weights billing, technical, cancellation, sales, other; low experience shifts contacts from sales to
    # technical problems and threats to leave.
    weights = np.stack([
        np.full_like(x, 0.28), 0.27 * np.exp(-0.3 * x), 0.04 * np.exp(-0.8 * x), 0.15 * np.exp(0.5 * x),
        np.full_like(x, 0.30),
    ], axis=-1)
    weights[bill_shock, BILLING] += 3.0
    weights[service_issue, TECHNICAL] += 3.0
    cum = np.cumsum(weights, axis=-1)
    return np.minimum((u[:, None] * cum[:, -1:] >= cum).sum(axis=-1), len(REASONS) - 1).astype(np.int8)


def _contact(cust: NDArray, product: int, day: NDArray, hour: NDArray, channel: NDArray, reason: NDArray,
             complaint: NDArray, slot: int) -> dict[str, NDArray]:
    ts = day.astype(np.int64) * MICROS_PER_DAY + np.floor(hour * 3600).astype(np.int64) * 1_000_000
    return {
        "cust": cust, "product": np.full(len(cust), product, dtype=np.int8), "ts_us": ts,
        "channel": channel.astype(np.int8), "reason": reason.astype(np.int8), "complaint": complaint.astype(bool),
        "slot": np.full(len(cust), slot, dtype=np.int8),
    }


def _lifecycle_contacts(rnd: Randomness, pop: Population, life: Lifecycle,
                        timeline: Timeline) -> list[dict[str, NDArray]]:
    out: list[dict[str, NDArray]] = []
    for events, slot, chance, reason in ((life.terminations, SLOT_CANCELLATION, CANCELLATION_CALL, CANCELLATION),
                                         (life.recontracts, SLOT_SALES, SALES_CALL, SALES)):
        for p in range(3):
            sel = events["product"] == p
            idx, day = events["idx"][sel], events["day"][sel].astype(np.int64)
            cust = pop.cust[idx]

            def v(field: int, _c: NDArray = cust, _d: NDArray = day, _s: int = slot, _p: int = p) -> NDArray:
                return rnd.uniform(Stream.CARE_DETAIL, _c, _d, slot=32 * _p + 8 * _s + field)

            hit = v(0) < chance
            x = life.experience[timeline.week_of(day), idx]
            if reason == CANCELLATION:
                # The call falls between the start of the week the decision was taken in and the cease date,
                # never earlier: nothing before a decision may depend on it.
                earliest = timeline.week_end[timeline.week_of(day)].astype(np.int64) - 6
                earliest = np.maximum(np.maximum(earliest, pop.start[p][idx].astype(np.int64)), timeline.start_day)
                when = earliest + np.floor(v(1) * (day - earliest + 1)).astype(np.int64)
                complaint = v(3) < sigmoid(-1.8 - 1.0 * x)
                channel = categorical(v(4), (0.70, 0.20, 0.10))
            else:
                when = day
                complaint = v(3) < 0.01
                channel = categorical(v(4), (0.45, 0.30, 0.25))
            hour = 8.0 + 13.0 * v(2)
            out.append(_contact(cust[hit], p, when[hit], hour[hit], channel[hit],
                                np.full(int(hit.sum()), reason, dtype=np.int8), complaint[hit], slot))
    return out


def _concat(parts: list[dict[str, NDArray]]) -> dict[str, NDArray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

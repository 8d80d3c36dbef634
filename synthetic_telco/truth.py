"""The hidden ground truth written to schema ``truth`` (the pipeline never reads it; evaluations do).

- ``truth.latent_experience``: the weekly latent experience of every customer in each reported week in which
  they held at least one active product.
- ``truth.customer_outcomes``: one row per customer and product held: start, churn date (NULL if still active
  at the end date), recontract dates inside the history, fee in force at the start of the history (or at
  activation) and at the end date (0 once churned), and the customer's long-run mean experience.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from synthetic_telco.contracts import FeeSchedule, PriceIndex
from synthetic_telco.lifecycle import Lifecycle
from synthetic_telco.population import Population
from synthetic_telco.timeline import NEVER, Timeline

TRUTH_DDL: dict[str, str] = {
    "latent_experience": "customer_id VARCHAR, week_ending DATE, experience DOUBLE",
    "customer_outcomes": (
        "customer_id VARCHAR, product VARCHAR, start_date DATE, churn_date DATE, recontract_dates DATE[], "
        "recontract_count INTEGER, monthly_fee_start DOUBLE, monthly_fee_end DOUBLE, experience_mean DOUBLE"
    ),
    "scenarios": "scenario_index INTEGER, kind VARCHAR, spec VARCHAR",
    "generation": (
        "generator_version VARCHAR, seed BIGINT, customers BIGINT, history_start DATE, end_date DATE, "
        "scenarios VARCHAR"
    ),
}


def latent_rows(pop: Population, life: Lifecycle, timeline: Timeline,
                days: list[NDArray[np.int8]]) -> dict[str, NDArray]:
    any_active = (days[0] > 0) | (days[1] > 0) | (days[2] > 0)
    ci, ti = np.nonzero(any_active.T)
    # Six decimals are plenty for an evaluation target and compress far better than full doubles.
    return {"cust": pop.cust[ci], "week_ending": timeline.week_end[ti],
            "experience": np.round(life.experience[ti, ci], 6)}


def outcome_rows(pop: Population, life: Lifecycle, timeline: Timeline, fees: list[FeeSchedule],
                 prices: list[PriceIndex]) -> dict[str, NDArray | pa.Array]:
    parts: list[dict[str, NDArray | pa.Array]] = []
    for p in range(3):
        idx = np.nonzero(pop.held[p])[0]
        sel = life.recontracts["product"] == p
        r_idx, r_day = life.recontracts["idx"][sel], life.recontracts["day"][sel]
        order = np.lexsort((r_day, r_idx))
        counts = np.bincount(r_idx, minlength=pop.size)[idx]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        dates = pa.ListArray.from_arrays(pa.array(offsets), pa.array(r_day[order].astype(np.int32)).view(pa.date32()))

        first_day = np.maximum(pop.start[p][idx], timeline.start_day)
        fee_start = np.round(fees[p].at(idx, first_day) * prices[p].at(first_day), 2)
        end_day = np.full(len(idx), timeline.end_day, dtype=np.int32)
        active = life.end[p][idx] > timeline.end_day
        fee_end = np.where(active, np.round(fees[p].at(idx, end_day) * prices[p].at(end_day), 2), 0.0)
        parts.append({
            "cust": pop.cust[idx], "product": np.full(len(idx), p, dtype=np.int8), "start_date": pop.start[p][idx],
            "churn_date": np.where(active, NEVER, life.end[p][idx]).astype(np.int32), "recontract_dates": dates,
            "recontract_count": counts.astype(np.int32), "monthly_fee_start": fee_start, "monthly_fee_end": fee_end,
            "experience_mean": pop.experience_mean[idx],
        })
    out: dict[str, NDArray | pa.Array] = {}
    for key in parts[0]:
        values = [part[key] for part in parts]
        out[key] = pa.concat_arrays(values) if isinstance(values[0], pa.Array) else np.concatenate(values)
    return out

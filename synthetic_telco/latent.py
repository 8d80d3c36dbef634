"""The hidden ground truth: a weekly latent experience per customer.

experience[t] = level[t] + shock_memory[t], where
- level is an AR(1) around the customer's own mean (``Population.experience_mean``): slow, noisy drift;
- shock_memory accumulates negative events (outages in the customer's network area on a product they hold,
  personal service incidents, bill shocks, other bad experiences) and fades geometrically, so an outage is felt
  for months.

Everything observable (usage, quality, contacts, payments, churn, recontracting, revenue) is a deterministic
function of this experience and of pre-addressed noise, which is what lets the index's validity be measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from synthetic_telco.randomness import Randomness, Stream

PERSISTENCE = 0.85  # weekly AR(1) coefficient of the level around the customer mean
LEVEL_SD = 0.5  # stationary standard deviation of the level around the mean
INNOVATION_SD = LEVEL_SD * math.sqrt(1.0 - PERSISTENCE**2)
SHOCK_DECAY = 0.92  # weekly retention of past shocks: half-life of about two months

# Shock per 600 outage minutes in the week on a product the customer holds (mobile, tv, broadband),
# capped at OUTAGE_CAP x 600 minutes: a three-day 600-minute outage costs about one standard deviation.
OUTAGE_SHOCK = (0.30, 0.25, 0.35)
OUTAGE_CAP = 3.0
INCIDENT_WEEKLY = 0.008  # personal service incident (fault on one of the customer's products)
INCIDENT_SHOCK = 0.7
BILL_SHOCK_SHOCK = 0.3  # felt the week after an unexpectedly high bill
NEGATIVE_EVENT_WEEKLY = 0.004  # any other bad experience (a poor store visit, a mis-sold add-on, ...)
NEGATIVE_EVENT_SHOCK = 0.5


@dataclass
class LatentState:
    mean: NDArray[np.float64]
    level: NDArray[np.float64]
    shock: NDArray[np.float64]

    def step(self, eps: NDArray[np.float64], new_shock: NDArray[np.float64]) -> NDArray[np.float64]:
        """Advance one week; returns the week's experience."""
        self.level = self.mean + PERSISTENCE * (self.level - self.mean) + INNOVATION_SD * eps
        self.shock = SHOCK_DECAY * self.shock - new_shock
        return self.level + self.shock


def initial_state(rnd: Randomness, cust: NDArray[np.int64], mean: NDArray[np.float64]) -> LatentState:
    level = mean + LEVEL_SD * rnd.normal(Stream.LATENT_INIT, cust)
    return LatentState(mean=mean, level=level, shock=np.zeros(len(cust)))


def outage_shock(minutes: NDArray[np.float64], active: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Shock from the week's outage minutes (products x customers) on the products each customer holds."""
    units = np.minimum(minutes / 600.0, OUTAGE_CAP)
    return (np.asarray(OUTAGE_SHOCK)[:, None] * units * active).sum(axis=0)

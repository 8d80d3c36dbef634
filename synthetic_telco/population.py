"""Who the customers are: CRM attributes, product holdings, segments, fees, contracts and behaviour baselines.

Everything here is drawn once per customer, before any dynamics, from the customer's own random coordinates;
scenarios never touch it, so the population is the same with and without a scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from source_contract.raw_tables import BROADBAND_TIERS, MOBILE_PLAN_TYPES, REGIONS, TV_PACKAGES
from synthetic_telco.randomness import Randomness, Stream, categorical, categorical_rows
from synthetic_telco.timeline import NEVER, Timeline, add_months, day_number

MOBILE, TV, BROADBAND = 0, 1, 2
PRODUCT_LETTERS = ("M", "T", "B")
POSTPAID, PREPAID, SIM_ONLY = (MOBILE_PLAN_TYPES.index(p) for p in ("postpaid", "prepaid", "sim_only"))
SEGMENTS: tuple[tuple[str, ...], ...] = (MOBILE_PLAN_TYPES, TV_PACKAGES, BROADBAND_TIERS)
CUSTOMER_TYPES: tuple[str, ...] = ("consumer", "small_business")

# Earliest signup of the customer stock alive at the start of the history.
FIRST_SIGNUP = date(2016, 1, 1)
# Yearly inflow of new customers relative to the stock; roughly balances churn so the base stays stable.
JOINER_RATE_PER_YEAR = 0.16
# Survivorship: older signup cohorts are thinner (exponential age profile, this many years mean).
STOCK_AGE_YEARS = 3.5

REGION_SHARES = {"north": 0.22, "south": 0.20, "east": 0.18, "west": 0.18, "capital": 0.22}
# Network areas (an exchange or a cell cluster) per region: a customer's home area decides which outages they
# see. About 100 per region gives each day's outage minutes many independent clusters (every area draws its
# own background outages), so the population's distribution is smooth and stable from day to day instead of
# five regional point masses that all move together.
AREAS_PER_REGION = 100
# Network quality differs a little by region: a real (small) regional difference for bias checks to see.
REGION_EXPERIENCE = {"north": -0.10, "south": 0.0, "east": 0.0, "west": -0.05, "capital": 0.10}

# Product bundles (mobile, tv, broadband) -> share. Gives ~70% mobile, ~50% broadband, ~30% TV, TV mostly
# bundled with broadband, and at least one product per customer.
BUNDLES: tuple[tuple[tuple[bool, bool, bool], float], ...] = (
    ((True, False, False), 0.470),
    ((False, False, True), 0.165),
    ((True, False, True), 0.065),
    ((False, True, True), 0.120),
    ((True, True, True), 0.150),
    ((False, True, False), 0.015),
    ((True, True, False), 0.015),
)

SEGMENT_SHARES: tuple[tuple[float, ...], ...] = (
    tuple({"postpaid": 0.50, "prepaid": 0.20, "sim_only": 0.30}[p] for p in MOBILE_PLAN_TYPES),
    tuple({"basic": 0.45, "entertainment": 0.35, "premium": 0.20}[p] for p in TV_PACKAGES),
    tuple({"bb_100": 0.45, "bb_500": 0.40, "bb_1000": 0.15}[p] for p in BROADBAND_TIERS),
)
# Monthly list price ranges (low, high) per segment, before price rises.
FEE_RANGES: tuple[tuple[tuple[float, float], ...], ...] = (
    tuple({"postpaid": (25.0, 55.0), "prepaid": (10.0, 20.0), "sim_only": (8.0, 22.0)}[p]
          for p in MOBILE_PLAN_TYPES),
    tuple({"basic": (15.0, 22.0), "entertainment": (28.0, 40.0), "premium": (50.0, 70.0)}[p] for p in TV_PACKAGES),
    tuple({"bb_100": (25.0, 32.0), "bb_500": (35.0, 45.0), "bb_1000": (50.0, 65.0)}[p] for p in BROADBAND_TIERS),
)
SEGMENT_EXPERIENCE: tuple[tuple[float, ...], ...] = (
    tuple({"postpaid": 0.0, "prepaid": -0.10, "sim_only": 0.05}[p] for p in MOBILE_PLAN_TYPES),
    tuple({"basic": -0.05, "entertainment": 0.0, "premium": 0.10}[p] for p in TV_PACKAGES),
    tuple({"bb_100": -0.05, "bb_500": 0.0, "bb_1000": 0.10}[p] for p in BROADBAND_TIERS),
)
PROVISIONED_MBPS = np.array([int(t.removeprefix("bb_")) for t in BROADBAND_TIERS], dtype=np.int32)

CONTRACT_TERMS = np.array([12, 18, 24], dtype=np.int32)
# Shares of 12/18/24-month terms per product and segment (prepaid has no contract).
TERM_SHARES: tuple[tuple[tuple[float, float, float], ...], ...] = (
    tuple({"postpaid": (0.25, 0.15, 0.60), "prepaid": (1.0, 0.0, 0.0), "sim_only": (0.70, 0.10, 0.20)}[p]
          for p in MOBILE_PLAN_TYPES),
    tuple((0.20, 0.30, 0.50) for _ in TV_PACKAGES),
    tuple((0.20, 0.30, 0.50) for _ in BROADBAND_TIERS),
)
# Probability that a stock customer whose first term ended before the history re-contracted since.
RECONTRACTED_SHARE = (0.60, 0.60, 0.60)

# Weekly usage baselines (median per segment); the latent experience and noise scale them.
MOBILE_DATA_MB = tuple({"postpaid": 2500.0, "prepaid": 700.0, "sim_only": 1800.0}[p] for p in MOBILE_PLAN_TYPES)
MOBILE_VOICE_MIN = tuple({"postpaid": 100.0, "prepaid": 45.0, "sim_only": 80.0}[p] for p in MOBILE_PLAN_TYPES)
TV_MINUTES = tuple({"basic": 700.0, "entertainment": 1000.0, "premium": 1300.0}[p] for p in TV_PACKAGES)
BROADBAND_GB = tuple({"bb_100": 45.0, "bb_500": 80.0, "bb_1000": 120.0}[p] for p in BROADBAND_TIERS)


@dataclass(frozen=True)
class Population:
    """One chunk of customers; per-product arrays have shape (3, customers) in PRODUCTS order."""

    cust: NDArray[np.int64]
    region: NDArray[np.int8]
    network_area: NDArray[np.int16]  # home area within the region, 0..AREAS_PER_REGION - 1
    customer_type: NDArray[np.int8]
    birth_year: NDArray[np.int32]
    signup: NDArray[np.int32]
    held: NDArray[np.bool_]
    segment: NDArray[np.int8]
    start: NDArray[np.int32]
    activation_fee: NDArray[np.float64]
    current_fee: NDArray[np.float64]
    initial_contract_end: NDArray[np.int32]
    contract_end: NDArray[np.int32]
    prior_recontract: NDArray[np.int32]
    renewal_term_shares: NDArray[np.float64]
    bill_day: NDArray[np.int32]
    experience_mean: NDArray[np.float64]
    # (8, customers): data MB, voice min, TV min, TV engagement, BB GB, upload ratio, line quality, buffering
    # propensity; the last two are customer traits unrelated to the experience (noise for the index).
    usage_base: NDArray[np.float64]
    msisdn: NDArray[np.int64]
    icoms: NDArray[np.int64]

    @property
    def size(self) -> int:
        return len(self.cust)

    @property
    def area_cell(self) -> NDArray[np.intp]:
        """Index of the home area over all regions (region x AREAS_PER_REGION + area): the outage arrays' axis."""
        return self.region.astype(np.intp) * AREAS_PER_REGION + self.network_area.astype(np.intp)

    @property
    def is_prepaid(self) -> NDArray[np.bool_]:
        return self.held[MOBILE] & (self.segment[MOBILE] == PREPAID)


def msisdn_numbers(cust: NDArray[np.int64]) -> NDArray[np.int64]:
    # An affine bijection mod 10^8 scatters numbers so an MSISDN does not reveal the customer key.
    return 447_700_000_000 + (cust * 48_271 + 1_234_567) % 100_000_000


def icoms_numbers(cust: NDArray[np.int64]) -> NDArray[np.int64]:
    return (cust * 104_729 + 7_654_321) % 1_000_000_000


def draw_population(rnd: Randomness, cust: NDArray[np.int64], timeline: Timeline) -> Population:
    n = len(cust)
    h_day = timeline.start_day

    region_names = tuple(REGION_SHARES)
    region_draw = categorical(rnd.uniform(Stream.REGION, cust), tuple(REGION_SHARES.values()))
    # Map onto the canonical REGIONS order used by the raw tables.
    region = np.array([REGIONS.index(r) for r in region_names], dtype=np.int8)[region_draw]
    network_area = np.floor(rnd.uniform(Stream.NETWORK_AREA, cust) * AREAS_PER_REGION).astype(np.int16)
    customer_type = (rnd.uniform(Stream.CUSTOMER_TYPE, cust) < 0.10).astype(np.int8)
    birth_year = np.clip(np.round(1978 + 14 * rnd.normal(Stream.BIRTH_YEAR, cust)), 1935, 2007).astype(np.int32)

    # Signups: a stock alive at the history start plus joiners spread over the history.
    joiners = JOINER_RATE_PER_YEAR * timeline.years
    is_new = rnd.uniform(Stream.SIGNUP_KIND, cust) < joiners / (1.0 + joiners)
    u_day = rnd.uniform(Stream.SIGNUP_DAY, cust)
    span_new = timeline.end_day - h_day + 1
    span_old = h_day - day_number(FIRST_SIGNUP)
    tau = STOCK_AGE_YEARS * 365.25
    age = -tau * np.log1p(-u_day * (1.0 - np.exp(-span_old / tau)))
    signup = np.where(is_new, h_day + np.floor(u_day * span_new), h_day - 1 - np.floor(age)).astype(np.int32)

    bundle = categorical(rnd.uniform(Stream.PRODUCTS, cust), [s for _, s in BUNDLES])
    held = np.array([b for b, _ in BUNDLES], dtype=bool)[bundle].T.copy()

    segment = np.full((3, n), -1, dtype=np.int8)
    activation_fee = np.zeros((3, n))
    current_fee = np.zeros((3, n))
    start = np.where(held, signup, NEVER).astype(np.int32)
    initial_end = np.full((3, n), NEVER, dtype=np.int32)
    contract_end = np.full((3, n), NEVER, dtype=np.int32)
    prior = np.full((3, n), NEVER, dtype=np.int32)
    renewal = np.zeros((3, 3, n))
    for p in range(3):
        seg = categorical(rnd.uniform(Stream.SEGMENT, cust, slot=p), SEGMENT_SHARES[p])
        segment[p] = np.where(held[p], seg, -1)
        lo, hi = np.array(FEE_RANGES[p]).T
        # Price points end in .99, like a price list.
        list_fee = np.floor(lo[seg] + rnd.uniform(Stream.FEE, cust, slot=p) * (hi[seg] - lo[seg])) + 0.99
        shares = np.array(TERM_SHARES[p])[seg]  # (n, 3)
        renewal[p] = shares.T
        term = CONTRACT_TERMS[categorical_rows(rnd.uniform(Stream.TERM, cust, slot=p), shares)]
        has_contract = held[p] & ~((p == MOBILE) & (seg == PREPAID))
        init_end = np.where(has_contract, add_months(signup, term), NEVER).astype(np.int32)

        # Stock customers past their first term: some re-contracted before the history (event kept), the
        # others roll month to month out of contract.
        lapsed = has_contract & (init_end < h_day)
        recontracted = lapsed & (rnd.uniform(Stream.CONTRACT_STATE, cust, slot=p) < RECONTRACTED_SHARE[p])
        term2 = CONTRACT_TERMS[categorical_rows(rnd.uniform(Stream.RENEWAL_TERM, cust, slot=p), shares)]
        lo_day = np.maximum(init_end, add_months(np.full(n, h_day), -term2) + 1)
        span = np.maximum(h_day - lo_day, 1)
        rc_day = (lo_day + np.floor(rnd.uniform(Stream.CONTRACT_START, cust, slot=p) * span)).astype(np.int32)
        rc_end = np.maximum(add_months(rc_day, term2), h_day + 1)

        discount = 0.80 + 0.25 * rnd.uniform(Stream.FEE, cust, slot=3 + p)
        activation_fee[p] = np.where(held[p], np.where(recontracted, np.round(list_fee * discount, 2), list_fee), 0.0)
        current_fee[p] = np.where(held[p], list_fee, 0.0)
        initial_end[p] = init_end
        contract_end[p] = np.where(recontracted, rc_end, init_end)
        prior[p] = np.where(recontracted, rc_day, NEVER)

    seg_effect = np.zeros(n)
    for p in range(3):
        seg_effect += np.where(held[p], np.array(SEGMENT_EXPERIENCE[p])[np.maximum(segment[p], 0)], 0.0)
    region_effect = np.array([REGION_EXPERIENCE[r] for r in REGIONS])[region]
    experience_mean = (0.75 * rnd.normal(Stream.EXPERIENCE_MEAN, cust) + region_effect + seg_effect
                       - 0.05 * customer_type)

    age = 2025 - birth_year
    z = [rnd.normal(Stream.USAGE_BASE, cust, slot=k) for k in range(8)]
    mseg = np.maximum(segment[MOBILE], 0)
    tseg = np.maximum(segment[TV], 0)
    bseg = np.maximum(segment[BROADBAND], 0)
    usage_base = np.stack([
        np.array(MOBILE_DATA_MB)[mseg] * np.exp(0.6 * z[0] - 0.012 * (age - 45)),
        np.array(MOBILE_VOICE_MIN)[mseg] * np.exp(0.5 * z[1] + 0.004 * (age - 45)),
        np.array(TV_MINUTES)[tseg] * np.exp(0.5 * z[2] + 0.008 * (age - 45)),
        0.8 * z[3],
        np.array(BROADBAND_GB)[bseg] * np.exp(0.6 * z[4]),
        0.12 * np.exp(0.3 * z[5]),
        0.5 * z[6],
        0.4 * z[7],
    ])

    bill_day = (1 + np.floor(rnd.uniform(Stream.BILL_DAY, cust) * 28)).astype(np.int32)
    has_fixed = held[TV] | held[BROADBAND]
    return Population(
        cust=cust,
        region=region,
        network_area=network_area,
        customer_type=customer_type,
        birth_year=birth_year,
        signup=signup,
        held=held,
        segment=segment,
        start=start,
        activation_fee=activation_fee,
        current_fee=current_fee,
        initial_contract_end=initial_end,
        contract_end=contract_end,
        prior_recontract=prior,
        renewal_term_shares=renewal,
        bill_day=bill_day,
        experience_mean=experience_mean,
        usage_base=usage_base,
        msisdn=np.where(held[MOBILE], msisdn_numbers(cust), -1),
        icoms=np.where(has_fixed, icoms_numbers(cust), -1),
    )


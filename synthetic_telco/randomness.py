"""Counter-based randomness: every random number is a pure function of (seed, stream, entity, time, slot).

Why not a sequential generator: with a hash of the coordinates, the draw for customer 17 in week 30 does not
depend on how many numbers were drawn before it, on the chunk the customer sits in, or on what happened to any
other customer. That is what makes a scenario change only what it claims (tests pin it) and makes the output
independent of the chunk size and of the number of worker processes.

The hash is the SplitMix64 finaliser applied to a packed 64-bit key XOR a seed-derived base. Keys are packed
without overlap (stream: 8 bits, entity: 32 bits, time: 16 bits, slot: 8 bits), so distinct coordinates give
distinct keys and, the finaliser being a bijection, distinct outputs.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

_MASK64 = (1 << 64) - 1
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / float(1 << 53)


class Stream(IntEnum):
    """One id per independent source of randomness; never renumber (it would change every output)."""

    REGION = 1
    CUSTOMER_TYPE = 2
    BIRTH_YEAR = 3
    SIGNUP_KIND = 4
    SIGNUP_DAY = 5
    PRODUCTS = 6
    SEGMENT = 7
    FEE = 8
    TERM = 9
    CONTRACT_STATE = 10
    CONTRACT_START = 11
    RENEWAL_TERM = 12
    BILL_DAY = 13
    EXPERIENCE_MEAN = 14
    USAGE_BASE = 15
    NETWORK_AREA = 16
    LATENT_INIT = 20
    LATENT_EPS = 21
    INCIDENT = 22
    INCIDENT_PRODUCT = 23
    NEGATIVE_EVENT = 24
    CHURN = 30
    RECONTRACT = 31
    EVENT_DAY = 32
    FEE_CHANGE = 33
    USAGE_NOISE = 40
    BILL_SHOCK = 50
    OUT_OF_BUNDLE = 51
    PAYMENT = 52
    CARE = 60
    CARE_DETAIL = 61
    FAULT = 62
    FAULT_DETAIL = 63
    OUTAGE = 70
    OUTAGE_DETAIL = 71


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser, in place where possible (uint64 arithmetic wraps, which is intended)."""
    z = z * _GAMMA
    z ^= z >> np.uint64(30)
    z *= _MUL1
    z ^= z >> np.uint64(27)
    z *= _MUL2
    z ^= z >> np.uint64(31)
    return z


def _mix_int(x: int) -> int:
    x = (x * 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class Randomness:
    """Uniform and normal draws addressed by coordinates; arrays broadcast like numpy operands."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._base = np.uint64(_mix_int((self.seed + 0x5851F42D4C957F2D) & _MASK64))

    def bits(self, stream: Stream, entity: ArrayLike, time: ArrayLike = 0, slot: int = 0) -> NDArray[np.uint64]:
        ent = np.asarray(entity, dtype=np.uint64)
        tim = np.asarray(time, dtype=np.uint64)
        key = (ent << np.uint64(24)) | (tim << np.uint64(8))
        key |= np.uint64((int(stream) << 56) | int(slot))
        key ^= self._base
        return _mix(key)

    def uniform(self, stream: Stream, entity: ArrayLike, time: ArrayLike = 0, slot: int = 0) -> NDArray[np.float64]:
        """Uniform on the open interval (0, 1): safe for logs and inverse CDFs."""
        h = self.bits(stream, entity, time, slot)
        return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * _INV_2_53

    def normal(self, stream: Stream, entity: ArrayLike, time: ArrayLike = 0, slot: int = 0) -> NDArray[np.float64]:
        return ndtri(self.uniform(stream, entity, time, slot))


def categorical(u: NDArray[np.float64], probabilities: ArrayLike) -> NDArray[np.int8]:
    """Index of the category a uniform falls into, for fixed category shares."""
    cum = np.cumsum(np.asarray(probabilities, dtype=np.float64))
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1).astype(np.int8)


def categorical_rows(u: NDArray[np.float64], shares: NDArray[np.float64]) -> NDArray[np.int64]:
    """Categorical draw where each row has its own shares (``shares``: rows x categories, rows sum to 1)."""
    cum = np.cumsum(shares, axis=-1)
    return np.minimum((u[..., None] >= cum).sum(axis=-1), shares.shape[-1] - 1)


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))

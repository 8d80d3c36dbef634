"""Readable keys (customer_id, msisdn, bill_id, ...) built from numeric columns with Arrow.

Keys are made of a few small vocabularies (the chunk's customer numbers, days, months, product letters), so
each vocabulary is formatted once in Python and expanded with ``take`` and a vectorised string join: far cheaper
than formatting every row, and done in the worker processes rather than in the DuckDB writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from source_contract.raw_tables import PRODUCTS, REGIONS
from synthetic_telco.timeline import MICROS_PER_DAY

Frame = Mapping[str, NDArray]
PRODUCT_LETTERS = pa.array([p[0].upper() for p in PRODUCTS])  # M, T, B
REGION_LETTERS = pa.array([r[0].upper() for r in REGIONS])  # N, S, E, W, C
REGION_NAMES = pa.array(list(REGIONS))
_EMPTY = pa.array([], type=pa.string())


@lru_cache(maxsize=32)
def _range_labels(lo: int, hi: int, width: int) -> pa.Array:
    return pa.array([f"{i:0{width}d}" for i in range(lo, hi + 1)])


def digits(values: NDArray, width: int) -> pa.Array:
    """Zero-padded decimal strings of integers."""
    v = np.asarray(values, dtype=np.int64)
    if len(v) == 0:
        return _EMPTY
    lo, hi = int(v.min()), int(v.max())
    if hi - lo <= 4 * len(v) + 4096:
        return _range_labels(lo, hi, width).take(pa.array(v - lo))
    uniq, inverse = np.unique(v, return_inverse=True)
    return pa.array([f"{i:0{width}d}" for i in uniq.tolist()]).take(pa.array(inverse))


@lru_cache(maxsize=8)
def _day_labels(lo: int, hi: int) -> pa.Array:
    iso = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]"))
    return pa.array(np.char.replace(iso, "-", ""))


def yyyymmdd(days: NDArray) -> pa.Array:
    d = np.asarray(days, dtype=np.int64)
    if len(d) == 0:
        return _EMPTY
    lo = int(d.min())
    return _day_labels(lo, int(d.max())).take(pa.array(d - lo))


def join(*parts: str | pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def customer_id(f: Frame) -> pa.Array:
    return join("C", digits(f["cust"], 7))


def msisdn(f: Frame) -> pa.Array:
    return digits(f["msisdn"], 12)


def icoms_account_uid(f: Frame) -> pa.Array:
    return join("ICM", digits(f["icoms"], 9))


def _product(f: Frame) -> pa.Array:
    return PRODUCT_LETTERS.take(pa.array(f["product"].astype(np.int8)))


def bill_id(f: Frame) -> pa.Array:
    return join("B", digits(f["cust"], 7), _product(f), digits(f["yyyymm"], 6))


def payment_id(f: Frame) -> pa.Array:
    return join("P", digits(f["cust"], 7), _product(f), digits(f["yyyymm"], 6))


def contact_id(f: Frame) -> pa.Array:
    return join("K", digits(f["cust"], 7), _product(f), yyyymmdd(f["ts_us"] // MICROS_PER_DAY), digits(f["slot"], 1))


def ticket_id(f: Frame) -> pa.Array:
    return join("T", digits(f["cust"], 7), _product(f), yyyymmdd(f["opened_us"] // MICROS_PER_DAY),
                digits(f["slot"], 1))


def event_id(f: Frame) -> pa.Array:
    # Event code: T(ermination), R(econtract), P<k> (price change k: scenario k - 1's rise).
    kind = f["event_type"].astype(np.int64)
    key = f["key"].astype(np.int64)
    n_keys = int(key.max()) + 1 if len(key) else 1
    codes = pa.array(["T", "R", *(f"P{k}" for k in range(n_keys))])
    code = codes.take(pa.array(np.where(kind == 2, 2 + key, kind)))
    return join("E", digits(f["cust"], 7), _product(f), code, yyyymmdd(f["event_date"]))


def _area_label(area: NDArray) -> pa.Array:
    # Areas are numbered from 001 in their labels; a region-wide row (area < 0) has no label.
    a = np.asarray(area, dtype=np.int64)
    return pc.if_else(pa.array(a >= 0), digits(np.maximum(a, 0) + 1, 3), "")


def network_area(f: Frame) -> pa.Array:
    """``<region>-<area>``, e.g. north-017; NULL for an outage row that covers the whole region."""
    area = np.asarray(f["area"], dtype=np.int64)
    label = join(REGION_NAMES.take(pa.array(f["region"].astype(np.int8))), "-", _area_label(area))
    return pc.if_else(pa.array(area >= 0), label, pa.scalar(None, pa.string()))


def outage_id(f: Frame) -> pa.Array:
    # Background outages are O<region letter><area>..., those of scenario i (region-wide, no area) X<i+1>...
    kind = f["kind"].astype(np.int64)
    n_kinds = int(kind.max()) + 1 if len(kind) else 1
    prefixes = pa.array(["O", *(f"X{k}" for k in range(1, n_kinds))])
    return join(prefixes.take(pa.array(kind)), REGION_LETTERS.take(pa.array(f["region"].astype(np.int8))),
                _area_label(f["area"]), _product(f), yyyymmdd(f["key_day"]), digits(f["slot"], 1))

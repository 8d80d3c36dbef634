"""The top-drivers text of scored rows: the k largest |w_f * z_f| terms as "feature=+0.123; other=-0.045".

The text is a published column (docs/architecture.md §3) that dashboards and explanations read, so its rules are fixed:

- the k largest term sizes |w_f * z_f| are listed, largest first; equal sizes keep the configuration's
  feature order; terms that are exactly 0 (missing value, unusable ruler entry, zero weight) are left out,
  and a row without a non-zero term gets "";
- a term prints its sign and ``decimals`` fixed decimals of ``units = round_half_even(|term| * 10**decimals)``
  (float64 arithmetic), so a negative term that rounds to zero prints "-0.000".

Both steps work on whole columns, never row by row, because the text is most of the scoring stage's cost:

1. :func:`top_terms` picks the k largest sizes, k rounds of a maximum across the features;
2. :func:`driver_text` builds the text. A part "feature=+0.123" is fixed by (feature, sign, units), and a day
   has a few thousand distinct parts against millions of rows, so each distinct part is formatted once and
   rows gather theirs by an integer code; the row text is one concatenation of the k part columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

DRIVER_DECIMALS = 3
SEPARATOR = "; "
# Rows per block of the top-k search; a block's work arrays (features x rows, 8 bytes a size) stay in cache.
BLOCK_ROWS = 16_384
# Largest (features x signs x units) code range that gets a dense lookup table (9 bytes an entry); parts of
# larger terms (|term| in the hundreds and beyond, i.e. broken data) are numbered by sorting instead.
DENSE_CODES = 1 << 22
# |term| * 10**decimals beyond this is not an exact integer in float64 (and overflowed the old Int64 cast).
_MAX_UNITS = float(2**62)


@dataclass(frozen=True)
class TopTerms:
    """(rounds x rows) arrays, largest round first: the index of the picked feature, its size |term| (0 where
    the row has no r-th non-zero term) and whether its term is negative."""

    picks: np.ndarray
    sizes: np.ndarray
    negative: np.ndarray


def term_columns(frame: pl.DataFrame, columns: Sequence[str]) -> list[np.ndarray]:
    """The term columns as float64 arrays (views of the frame's memory where Polars allows it)."""
    return [frame.get_column(c).cast(pl.Float64).to_numpy() for c in columns]


def top_terms(terms: Sequence[np.ndarray], k: int) -> TopTerms:
    """The ``k`` largest |term| of each row across the feature arrays ``terms``; on ties the first feature.

    Rows go in blocks of ``BLOCK_ROWS``: each round passes over a block's (features x rows) sizes several
    times, and a block that stays in the CPU cache (with work arrays allocated once) makes those passes about
    three times cheaper than passes over whole columns.
    """
    features, rows = len(terms), len(terms[0])
    top = TopTerms(np.zeros((k, rows), dtype=np.intp), np.zeros((k, rows)), np.zeros((k, rows), dtype=bool))
    work = _BlockWork.allocate(features, min(rows, BLOCK_ROWS))
    for start in range(0, rows, BLOCK_ROWS):
        block = slice(start, min(start + BLOCK_ROWS, rows))
        _top_terms_of_block([t[block] for t in terms], work, top.picks[:, block], top.sizes[:, block],
                            top.negative[:, block])
    return top


@dataclass(frozen=True)
class _BlockWork:
    """Work arrays of one block, (features x block rows) each."""

    left: np.ndarray  # |term|, -1 once picked
    negative: np.ndarray
    equal: np.ndarray
    ranked: np.ndarray
    # Earlier features get the larger rank, so the largest rank among the features equal to a round's
    # maximum is the first of them: the tie rule without a per-row argmax.
    rank: np.ndarray

    @staticmethod
    def allocate(features: int, width: int) -> _BlockWork:
        rank = np.arange(features, 0, -1, dtype=np.min_scalar_type(features))[:, None]
        shape = (features, width)
        return _BlockWork(np.empty(shape), np.empty(shape, dtype=bool), np.empty(shape, dtype=bool),
                          np.empty(shape, dtype=rank.dtype), rank)


def _top_terms_of_block(terms: Sequence[np.ndarray], work: _BlockWork, picks: np.ndarray, sizes: np.ndarray,
                        negatives: np.ndarray) -> None:
    features, width = len(terms), len(terms[0])
    left, negative, equal, ranked = (a[:, :width] for a in (work.left, work.negative, work.equal, work.ranked))
    for j, column in enumerate(terms):
        np.abs(column, out=left[j])
        np.less(column, 0.0, out=negative[j])
    np.fmax(left, 0.0, out=left)  # a NaN term (scoring never makes one) drives nothing
    row_index = np.arange(width)
    for r in range(len(picks)):
        best = left.max(axis=0)
        np.equal(left, best, out=equal)
        np.multiply(equal, work.rank, out=ranked)
        pick = features - ranked.max(axis=0).astype(np.intp)
        picks[r] = pick
        sizes[r] = np.maximum(best, 0.0)  # -1 marks picked entries: a row out of terms has size 0
        negatives[r] = negative[pick, row_index]
        left[pick, row_index] = -1.0  # out of the next rounds


def _part_codes(pick: np.ndarray, negative: np.ndarray, units: np.ndarray, present: np.ndarray,
                features: int) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct parts of the present rows 1, 2, ... (0: no part). Returns each row's number and,
    for the numbers in order, the part's kind (``feature * 2 + negative``) and units as a (2 x parts) array."""
    kind = pick * 2 + negative
    span = int(units.max(initial=0)) + 1
    if 2 * features * span <= DENSE_CODES:
        key = kind * span + units
        seen = np.zeros(2 * features * span, dtype=bool)
        seen[key[present]] = True
        keys = np.flatnonzero(seen)
        number = np.zeros(len(seen), dtype=np.int64)
        number[keys] = np.arange(1, len(keys) + 1)
        return np.where(present, number[key], 0), np.stack([keys // span, keys % span])
    # Sparse: sort the present parts (rare: only when some term is in the hundreds or more).
    pairs, inverse = np.unique(np.stack([kind[present], units[present]], axis=1), axis=0, return_inverse=True)
    code = np.zeros(len(pick), dtype=np.int64)
    code[present] = inverse.reshape(-1) + 1
    return code, pairs.T


def _format_parts(kinds: np.ndarray, units: np.ndarray, features: Sequence[str], decimals: int,
                  prefix: str) -> pl.Series:
    """``prefix + "feature=+1.234"`` for each distinct part, with "" first (code 0: no part)."""
    scale = 10**decimals
    parts = pl.DataFrame({"kind": kinds, "units": units}).select(
        pl.concat_str(
            pl.lit(prefix),
            pl.lit(pl.Series(list(features), dtype=pl.String)).gather(pl.col("kind") // 2),
            pl.lit("="),
            pl.when(pl.col("kind") % 2 == 1).then(pl.lit("-")).otherwise(pl.lit("+")),
            # Fixed-point text from integers (Polars has no printf): integer part, point, zero-padded decimals.
            (pl.col("units") // scale).cast(pl.String),
            pl.lit("."),
            (pl.col("units") % scale).cast(pl.String).str.zfill(decimals),
        )
    ).to_series()
    # One chunk: gathering from a chunked table takes a slow path (about ten times slower here).
    return pl.concat([pl.Series([""], dtype=pl.String), parts], rechunk=True)


def driver_text(top: TopTerms, features: Sequence[str], decimals: int = DRIVER_DECIMALS,
                name: str = "top_drivers") -> pl.Series:
    """The text of each row from its :func:`top_terms` picks (at least one round)."""
    columns: list[pl.Series] = []
    for r, (pick, size, negative) in enumerate(zip(top.picks, top.sizes, top.negative, strict=True)):
        present = size > 0
        units_float = np.rint(size * 10**decimals)  # round half to even, as the text always rounded
        if units_float.max(initial=0.0) >= _MAX_UNITS:
            raise ValueError(f"a driver term of {float(np.max(size))!r} is too large to print")
        units = units_float.astype(np.int64)
        code, (kinds, part_units) = _part_codes(pick, negative, units, present, len(features))
        # Parts after the first carry the separator: a row's parts are a prefix of the rounds (sizes fall).
        table = _format_parts(kinds, part_units, features, decimals, SEPARATOR if r else "")
        columns.append(table.gather(code).alias(f"part_{r}"))
    return pl.DataFrame(columns).select(pl.concat_str(pl.all()).alias(name)).to_series()

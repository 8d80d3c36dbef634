"""The top-drivers text (trust_assets/scoring/drivers.py) against a plain row-by-row reference, and the one-pass
scoring of score_frame against the step-by-step path that explanations use."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.scoring.test_arithmetic import COHORT, FEATURES, MODEL, hand_frame, hand_ruler
from trust_assets.scoring import drivers
from trust_assets.scoring.arithmetic import raw_score_expr, score_frame, trust_expr, with_top_drivers
from trust_assets.scoring.drivers import DENSE_CODES, top_terms
from trust_assets.scoring.standardise import standardise, z_column

NAMES = ["usage", "faults", "arpu", "tenure", "late_payments", "complaints"]


def reference_text(terms: list[float], names: list[str], k: int, decimals: int = 3) -> str:
    """One row, written plainly: the k largest non-zero |term| (stable sort, so ties keep the feature order),
    each as name=<sign><units // 10**d>.<units % 10**d> with units = round_half_even(|term| * 10**d)."""
    scale = 10**decimals
    ranked = sorted((i for i, t in enumerate(terms) if t != 0), key=lambda i: -abs(terms[i]))[:k]
    parts = []
    for i in ranked:
        units = round(abs(terms[i]) * scale)  # Python's round of a float is half to even, on the float
        sign = "-" if terms[i] < 0 else "+"
        parts.append(f"{names[i]}={sign}{units // scale}.{units % scale:0{decimals}d}")
    return "; ".join(parts)


def awkward_terms(rows: int, seed: int, large: bool) -> np.ndarray:
    """(rows x features) terms mixing ordinary values with exact zeros, ties (equal sizes, either sign),
    values that round to 0.000, halfway cases of the third decimal and, optionally, very large values."""
    rng = np.random.default_rng(seed)
    terms = rng.normal(0, 1.5, size=(rows, len(NAMES)))
    kind = rng.integers(0, 8, size=terms.shape)
    terms[kind == 0] = 0.0
    terms[kind == 1] = rng.choice([-1, 1], size=(kind == 1).sum()) * rng.uniform(0, 0.0004999, (kind == 1).sum())
    halfway = rng.integers(0, 4000, (kind == 2).sum()) + 0.5  # x.5 thousandths, exact or not in binary
    terms[kind == 2] = rng.choice([-1, 1], size=(kind == 2).sum()) * halfway / 1000
    # Ties: copy a neighbour's value or its negation, so equal sizes meet in every position.
    tie = np.flatnonzero(kind.reshape(-1) == 3)
    flat = terms.reshape(-1)
    flat[tie] = flat[tie - 1] * rng.choice([-1, 1], size=len(tie))
    terms[::7] = 0.0  # rows without any driver
    terms[3::11] = 0.25  # rows where every size ties
    terms[5::13, :3] = -0.125
    if large:
        big = kind == 4
        terms[big] = rng.choice([-1, 1], size=big.sum()) * rng.choice([999.9995, 12345.678, 3.5e7, 1e9], big.sum())
    return terms


def with_terms(terms: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({z_column(n): terms[:, j] for j, n in enumerate(NAMES)})


@pytest.mark.parametrize("large", [False, True], ids=["dense-codes", "sparse-codes"])
@pytest.mark.parametrize("k", [1, 3, len(NAMES), len(NAMES) + 2])
def test_text_equals_the_row_by_row_reference(large: bool, k: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drivers, "BLOCK_ROWS", 701)  # several blocks and a partial last one
    terms = awkward_terms(rows=3000, seed=17 + k, large=large)
    weights = dict.fromkeys(NAMES, 1.0)  # 1.0 * z is z exactly: the frame's z columns are the terms
    text = with_top_drivers(with_terms(terms), weights, NAMES, k)["top_drivers"].to_list()
    expected = [reference_text(row.tolist(), NAMES, k) for row in terms]
    assert text == expected
    # The cases the data is meant to hold are really there.
    assert "" in text
    assert any("=-0.000" in t for t in text) and any("=+0.000" in t for t in text)
    if large:
        assert any("=+35000000.000" in t or "=-35000000.000" in t for t in text)
        # Units of the largest size exceed the dense code table, so the sparse numbering ran.
        assert 2 * len(NAMES) * (round(float(np.abs(terms).max()) * 1000) + 1) > DENSE_CODES


def test_text_over_blocks_of_the_default_size() -> None:
    terms = awkward_terms(rows=drivers.BLOCK_ROWS * 2 + 321, seed=99, large=False)
    text = with_top_drivers(with_terms(terms), dict.fromkeys(NAMES, 1.0), NAMES, 3)["top_drivers"].to_list()
    assert text == [reference_text(row.tolist(), NAMES, 3) for row in terms]


def test_text_with_weights_and_other_decimals() -> None:
    terms = awkward_terms(rows=1500, seed=5, large=False)
    weights = {n: w for n, w in zip(NAMES, [0.8, -1.3, 0.45, 2.0, -0.7, 1e-3], strict=True)}
    frame = with_terms(terms)
    products = [[weights[n] * float(z) for n, z in zip(NAMES, row, strict=True)] for row in terms.tolist()]
    for decimals in (1, 3, 5):
        text = with_top_drivers(frame, weights, NAMES, 3, decimals=decimals)["top_drivers"].to_list()
        assert text == [reference_text(p, NAMES, 3, decimals) for p in products]


def test_top_terms_ties_keep_feature_order_and_sizes_fall() -> None:
    columns = [np.array([0.5, 0.0, -2.0]), np.array([-0.5, 0.0, 2.0]), np.array([0.5, 0.0, 1.0])]
    top = top_terms(columns, 3)
    assert [p.tolist() for p in top.picks] == [[0, 0, 0], [1, 1, 1], [2, 2, 2]]
    assert [s.tolist() for s in top.sizes] == [[0.5, 0.0, 2.0], [0.5, 0.0, 2.0], [0.5, 0.0, 1.0]]
    assert [n.tolist() for n in top.negative] == [[False, False, True], [True, False, False], [False, False, False]]


def test_empty_frame_and_no_drivers() -> None:
    empty = with_terms(np.zeros((0, len(NAMES))))
    out = with_top_drivers(empty, dict.fromkeys(NAMES, 1.0), NAMES, 3)
    assert out.height == 0 and out.schema["top_drivers"] == pl.String
    zero = with_terms(np.zeros((4, len(NAMES))))
    assert with_top_drivers(zero, dict.fromkeys(NAMES, 1.0), NAMES, 3)["top_drivers"].to_list() == [""] * 4


def test_score_frame_is_bit_identical_to_the_step_by_step_path() -> None:
    """score_frame computes in one pass what explanations compute step by step (standardise, raw, trust,
    top drivers from the z columns): the same bits, the same text, the same columns in the same order."""
    frame = hand_frame(rows=2000, seed=23)
    ruler = hand_ruler()
    scores, unusable = score_frame(frame, ruler, MODEL, COHORT, FEATURES, top_k=3)
    standardised = standardise(frame, ruler, COHORT, FEATURES)
    steps = (
        standardised.frame.with_columns(raw_score_expr(MODEL.weights, FEATURES).alias("raw_score"))
        .with_columns(trust_expr(pl.col("raw_score"), MODEL.raw_ref_mean, MODEL.raw_ref_stddev).alias("trust_score"))
    )
    steps = with_top_drivers(steps, MODEL.weights, FEATURES, 3)
    for column in ("raw_score", "trust_score"):
        assert np.array_equal(scores[column].to_numpy().view(np.int64), steps[column].to_numpy().view(np.int64))
    assert scores["top_drivers"].to_list() == steps["top_drivers"].to_list()
    assert scores["missing_features"].to_list() == steps["missing_features"].to_list()
    assert scores.columns == [*frame.columns, "missing_features", "raw_score", "trust_score", "model_version",
                              "ruler_version", "top_drivers"]
    assert unusable.equals(standardised.unusable)
    without, _ = score_frame(frame, ruler, MODEL, COHORT, FEATURES, top_k=0)
    assert without.drop("top_drivers").equals(scores.drop("top_drivers"))
    assert set(without["top_drivers"]) == {""}

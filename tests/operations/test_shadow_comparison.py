"""Champion vs challenger comparison of shadow scores, on small frames."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from trust_assets.config import SETTINGS
from trust_assets.operations.shadow import compare_scores, score_psi

DAY = date(2026, 2, 28)


def _scores(values: np.ndarray, version: str, cohort: str = "tv") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "snapshot_date": [DAY] * len(values),
            "cohort": [cohort] * len(values),
            "customer_id": [f"C{i:04d}" for i in range(len(values))],
            "trust_score": values,
            "model_version": [version] * len(values),
        }
    )


def test_identical_and_shifted_challengers() -> None:
    base = np.tanh(np.random.default_rng(0).normal(size=500))
    same = compare_scores(_scores(base, "v1"), _scores(base, "v2")).row(0, named=True)
    assert same["spearman"] == pytest.approx(1.0)
    assert same["mean_shift"] == 0.0 and same["decile_moved_share"] == 0.0
    assert same["score_psi"] == pytest.approx(0.0, abs=1e-12)
    assert (same["champion_version"], same["challenger_version"], same["customers"]) == ("v1", "v2", 500)

    shifted = compare_scores(_scores(base, "v1"), _scores(base * 0.5 + 0.2, "v2")).row(0, named=True)
    assert shifted["spearman"] == pytest.approx(1.0)  # same ranking ...
    assert shifted["decile_moved_share"] == 0.0  # ... so nobody changes decile
    assert shifted["mean_shift"] == pytest.approx(float((base * 0.5 + 0.2).mean() - base.mean()))
    assert shifted["score_psi"] > 0.25  # but the distribution moved a lot


def test_reversed_challenger_moves_deciles() -> None:
    base = np.linspace(-0.9, 0.9, 200)
    row = compare_scores(_scores(base, "v1"), _scores(-base, "v2")).row(0, named=True)
    assert row["spearman"] == pytest.approx(-1.0)
    assert row["decile_moved_share"] == pytest.approx(1.0)


def test_compare_joins_per_day_and_cohort() -> None:
    base = np.linspace(-0.5, 0.5, 50)
    champion = pl.concat([_scores(base, "t1"), _scores(base, "b1", "broadband")])
    challenger = _scores(base[:40], "t2")  # only tv in shadow, and only 40 customers
    out = compare_scores(champion, challenger)
    assert out.select("cohort", "customers").rows() == [("tv", 40)]


def test_psi_matches_hand_computation() -> None:
    expected = pl.Series([float(i) for i in range(100)])
    actual = pl.Series([float(i) for i in range(50)] * 2)  # everything in the lower half
    shares_e = [0.1] * 10
    shares_a = [0.2] * 5 + [0.0] * 5
    floor = SETTINGS.monitoring.psi_share_floor  # empty bins count as this share, as in the daily monitor
    hand = sum(
        (max(a, floor) - max(e, floor)) * np.log(max(a, floor) / max(e, floor))
        for e, a in zip(shares_e, shares_a, strict=True)
    )
    assert score_psi(expected, actual) == pytest.approx(hand, rel=1e-9)

"""The canary split, the mixing of published rows and the canary-versus-rest comparison, on small frames."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import pytest

from trust_assets.config import SETTINGS
from trust_assets.operations.canary import canary_comparison, canary_flags, mix_canary

CANARY = SETTINGS.canary
DAYS = [date(2026, 2, 27), date(2026, 2, 28)]


def _oracle(customer_id: str, salt: str, share: float) -> bool:
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < share


def test_split_is_the_salted_hash_and_close_to_the_share() -> None:
    ids = pl.Series([f"CUST{i:07d}" for i in range(200_000)])
    flags = canary_flags(ids)
    assert flags.to_list()[:2000] == [_oracle(c, CANARY.salt, CANARY.share) for c in ids.to_list()[:2000]]
    sd = (CANARY.share * (1 - CANARY.share) / ids.len()) ** 0.5
    assert abs(flags.mean() - CANARY.share) < 4 * sd  # type: ignore[operator]
    # Order and repetition do not matter: membership is a property of the customer id alone.
    shuffled = ids.sample(fraction=1.0, shuffle=True, seed=3)
    again = dict(zip(shuffled.to_list(), canary_flags(shuffled).to_list(), strict=True))
    assert [again[c] for c in ids.to_list()] == flags.to_list()
    # Another salt chooses other customers: the overlap is about share squared, not share.
    other = canary_flags(ids, replace(CANARY, salt="another-salt"))
    assert (flags & other).mean() < CANARY.share / 4  # type: ignore[operator]


def test_share_outside_the_open_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        canary_flags(pl.Series(["a"]), replace(CANARY, share=0.0))


def _signal(version: str, scores: np.ndarray, customers: list[str], cohort: str = "tv") -> pl.DataFrame:
    frames = [
        pl.DataFrame({"snapshot_date": [day] * len(customers), "cohort": [cohort] * len(customers),
                      "customer_id": customers, "trust_score": scores + i * 0.01,
                      "model_version": [version] * len(customers)})
        for i, day in enumerate(DAYS)
    ]
    return pl.concat(frames)


def test_mix_takes_the_candidate_rows_of_the_canary_customers_only() -> None:
    customers = [f"C{i:05d}" for i in range(4000)]
    rng = np.random.default_rng(11)
    champion = pl.concat([_signal("tv-champ", rng.uniform(-1, 1, 4000), customers),
                          _signal("bb-champ", rng.uniform(-1, 1, 4000), customers, "broadband")])
    candidate = _signal("tv-cand", rng.uniform(-1, 1, 4000), customers)
    mixed = mix_canary(champion, candidate)
    assert mixed.height == champion.height
    expected = {c for c in customers if _oracle(c, CANARY.salt, CANARY.share)}
    for day in DAYS:
        tv = mixed.filter((pl.col("cohort") == "tv") & (pl.col("snapshot_date") == day))
        assert set(tv.filter(pl.col("model_version") == "tv-cand")["customer_id"]) == expected
        assert tv.filter(pl.col("model_version") == "tv-champ").height == 4000 - len(expected)
    # The rows are the scorers' own: the candidate's for the canary, the champion's (untouched) for the rest.
    keys = ["snapshot_date", "cohort", "customer_id"]
    assert mixed.join(candidate, on=keys, how="semi").filter(pl.col("model_version") == "tv-cand").sort(keys).equals(
        candidate.filter(pl.col("customer_id").is_in(sorted(expected))).sort(keys)
    )
    rest = mixed.filter(pl.col("model_version") != "tv-cand").sort(keys)
    assert rest.equals(champion.filter(~((pl.col("cohort") == "tv") & pl.col("customer_id").is_in(sorted(expected))))
                       .sort(keys))
    assert mix_canary(champion, candidate.head(0)).equals(champion)


def test_comparison_matches_numpy() -> None:
    customers = [f"C{i:05d}" for i in range(3000)]
    rng = np.random.default_rng(5)
    signal = mix_canary(_signal("tv-champ", rng.uniform(-1, 1, 3000), customers),
                        _signal("tv-cand", rng.uniform(-1, 0.5, 3000), customers))
    out = canary_comparison(signal.filter(pl.col("snapshot_date") == DAYS[0]), {"tv-cand"})
    assert out["group"].to_list() == ["canary", "rest"]
    for row in out.iter_rows(named=True):
        scores = signal.filter((pl.col("snapshot_date") == DAYS[0]) & (pl.col("model_version") == row["model_version"]))
        values = scores["trust_score"].to_numpy()
        assert row["customers"] == values.size
        assert row["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert row["p25"] == pytest.approx(np.quantile(values, 0.25), rel=1e-12)
        assert row["p75"] == pytest.approx(np.quantile(values, 0.75), rel=1e-12)
        assert row["share_below_minus_half"] == pytest.approx(np.mean(values < -0.5))
    # Cohorts without canary rows are not compared.
    assert canary_comparison(signal, {"other"}).height == 0

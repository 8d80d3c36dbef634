"""The scoring arithmetic (docs/architecture.md §3) against an independent, plainly written computation."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest

from trust_assets.scoring.arithmetic import ScoringModel, score_frame, with_top_drivers
from trust_assets.scoring.reference_stats import compute_reference_stats, wide_to_long
from trust_assets.scoring.refit_contrast import refitted_ruler_scores
from trust_assets.scoring.standardise import standardise, z_column

DAY = date(2025, 9, 1)
FEATURES = ["usage", "faults", "arpu", "flat", "unmeasured"]
COHORT = "mobile"

# A hand-written ruler: cohort rows for every feature, segment rows for "gold" only ("silver" is too thin),
# "flat" has stddev 0 at cohort level, "unmeasured" stddev NULL; gold has its own zero-spread entry for arpu.
RULER_ROWS = [
    # segment, feature, n, mean, stddev
    (None, "usage", 900, 10.0, 4.0),
    (None, "faults", 900, 1.5, 0.5),
    (None, "arpu", 900, 30.0, 12.0),
    (None, "flat", 900, 7.0, 0.0),
    (None, "unmeasured", 1, 3.0, None),
    ("gold", "usage", 400, 14.0, 5.0),
    ("gold", "faults", 400, 1.0, 0.25),
    ("gold", "arpu", 400, 50.0, 0.0),
]


def hand_ruler(version: str = "ruler-test") -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"ruler_version": version, "cohort": COHORT, "segment": s, "feature": f, "n": n, "mean": m,
             "stddev": sd, "period_start": date(2025, 2, 1), "period_end": date(2025, 7, 31)}
            for s, f, n, m, sd in RULER_ROWS
        ],
        schema={"ruler_version": pl.String, "cohort": pl.String, "segment": pl.String, "feature": pl.String,
                "n": pl.Int64, "mean": pl.Float64, "stddev": pl.Float64, "period_start": pl.Date,
                "period_end": pl.Date},
    )  # fmt: skip


WEIGHTS = {"usage": 0.8, "faults": -1.3, "arpu": 0.45, "flat": 2.0, "unmeasured": -0.7}
MODEL = ScoringModel("mobile-20250731-abcdef12", "ruler-test", WEIGHTS, raw_ref_mean=0.2, raw_ref_stddev=1.7)


def hand_frame(rows: int = 300, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    segments = rng.choice(np.array(["gold", "silver", "bronze", ""], dtype=object), size=rows)
    data: dict[str, object] = {
        "snapshot_date": [DAY] * rows,
        "customer_id": [f"C{i:05d}" for i in range(rows)],
        "segment": [None if s == "" else s for s in segments],
    }
    centres = {"usage": 11.0, "faults": 1.3, "arpu": 35.0, "flat": 7.0, "unmeasured": 3.0}
    for f in FEATURES:
        values = rng.normal(loc=centres[f], scale=0.3 * centres[f], size=rows)
        data[f] = [None if rng.random() < 0.15 else float(v) for v in values]
    return pl.DataFrame(data, schema={"snapshot_date": pl.Date, "customer_id": pl.String, "segment": pl.String,
                                      **{f: pl.Float64 for f in FEATURES}})


def independent_scores(frame: pl.DataFrame, ruler: pl.DataFrame, model: ScoringModel) -> dict[str, tuple]:
    """docs/architecture.md §3, one customer at a time, with plain Python and numpy."""
    table = {(r["segment"], r["feature"]): (r["mean"], r["stddev"]) for r in ruler.iter_rows(named=True)}
    out: dict[str, tuple] = {}
    for row in frame.iter_rows(named=True):
        terms, missing = [], 0
        for f in FEATURES:
            mean, sd = table.get((row["segment"], f), table[(None, f)])
            x = row[f]
            if x is None:
                missing += 1
                z = 0.0
            elif sd is None or sd == 0:
                z = 0.0
            else:
                z = (x - mean) / sd
            terms.append(model.weights[f] * z)
        raw = float(np.sum(terms))
        trust = float(np.tanh((raw - model.raw_ref_mean) / model.raw_ref_stddev))
        out[row["customer_id"]] = (raw, trust, missing, terms)
    return out


def test_scores_match_an_independent_computation_for_every_row() -> None:
    frame = hand_frame()
    scores, _ = score_frame(frame, hand_ruler(), MODEL, COHORT, FEATURES, top_k=3)
    expected = independent_scores(frame, hand_ruler(), MODEL)
    assert scores.height == frame.height == len(expected)
    raw_diff = max(abs(r - expected[c][0]) for c, r in zip(scores["customer_id"], scores["raw_score"], strict=True))
    trust_diff = max(
        abs(t - expected[c][1]) for c, t in zip(scores["customer_id"], scores["trust_score"], strict=True)
    )
    assert raw_diff < 1e-9
    assert trust_diff < 1e-9
    assert [expected[c][2] for c in scores["customer_id"]] == scores["missing_features"].to_list()
    assert scores["trust_score"].is_between(-1, 1, closed="none").all()
    assert set(scores["model_version"]) == {MODEL.model_version}
    assert set(scores["ruler_version"]) == {"ruler-test"}


def test_null_value_scores_at_the_reference_mean_and_is_counted() -> None:
    frame = hand_frame(rows=1).with_columns(
        pl.lit("gold").alias("segment"), pl.lit(None, pl.Float64).alias("usage"), pl.lit(None, pl.Float64).alias("arpu")
    )
    z = standardise(frame, hand_ruler(), COHORT, FEATURES).frame
    assert z[z_column("usage")][0] == 0.0
    assert z[z_column("arpu")][0] == 0.0
    assert z["missing_features"][0] == 2 + sum(frame[f][0] is None for f in ("faults", "flat", "unmeasured"))


def test_zero_or_null_stddev_contributes_nothing_and_is_reported() -> None:
    frame = hand_frame(rows=50).with_columns(pl.lit(123.0).alias("flat"), pl.lit(-4.0).alias("unmeasured"))
    result = standardise(frame, hand_ruler(), COHORT, FEATURES)
    assert (result.frame[z_column("flat")] == 0.0).all()
    assert (result.frame[z_column("unmeasured")] == 0.0).all()
    # Present values under an unusable entry are not "missing".
    assert (result.frame["missing_features"] <= 3).all()
    reported = {(r["segment"], r["feature"]): r["rows_affected"] for r in result.unusable.iter_rows(named=True)}
    gold_rows = frame.filter(pl.col("segment") == "gold").height
    gold_arpu = frame.filter((pl.col("segment") == "gold") & pl.col("arpu").is_not_null()).height
    assert reported == {(None, "flat"): 50, (None, "unmeasured"): 50, ("gold", "arpu"): gold_arpu}
    assert gold_rows >= gold_arpu > 0
    # Scoring: a weight on an unusable feature moves nothing.
    base, _ = score_frame(frame, hand_ruler(), MODEL, COHORT, FEATURES, top_k=3)
    heavier = ScoringModel(MODEL.model_version, MODEL.ruler_version, {**WEIGHTS, "flat": 99.0, "unmeasured": -50.0},
                           MODEL.raw_ref_mean, MODEL.raw_ref_stddev)
    other, _ = score_frame(frame, hand_ruler(), heavier, COHORT, FEATURES, top_k=3)
    assert (base["raw_score"] == other["raw_score"]).all()


def test_segment_row_where_it_exists_else_cohort_row() -> None:
    frame = pl.DataFrame(
        {"snapshot_date": [DAY] * 3, "customer_id": ["A", "B", "C"], "segment": ["gold", "silver", None],
         "usage": [19.0, 19.0, 19.0], "faults": [1.5, 1.5, 1.5], "arpu": [42.0, 42.0, 42.0],
         "flat": [7.0, 7.0, 7.0], "unmeasured": [3.0, 3.0, 3.0]},
    )  # fmt: skip
    z = standardise(frame, hand_ruler(), COHORT, FEATURES).frame
    usage = z[z_column("usage")].to_list()
    assert usage == [(19 - 14) / 5, (19 - 10) / 4, (19 - 10) / 4]
    assert z[z_column("faults")].to_list() == [(1.5 - 1.0) / 0.25, 0.0, 0.0]
    # gold's own arpu entry has no spread: unusable for gold, while the others use the cohort row.
    assert z[z_column("arpu")].to_list() == [0.0, 1.0, 1.0]


def test_frozen_ruler_keeps_an_unchanged_customer_bit_identical() -> None:
    reference = hand_frame(rows=400, seed=11)
    ruler = compute_reference_stats(
        wide_to_long(reference, COHORT, FEATURES),
        ruler_version="ruler-test", period_start=date(2025, 2, 1), period_end=date(2025, 7, 31),
        min_segment_support=60,
    )  # fmt: skip
    model = ScoringModel("m", "ruler-test", WEIGHTS, 0.0, 1.0)
    day1 = hand_frame(rows=400, seed=12)
    # Day 2: everyone else moves a lot (an outage, a price rise), customer C00007 does not.
    others = pl.col("customer_id") != "C00007"
    day2 = day1.with_columns(
        [pl.when(others).then(pl.col(f) * 1.7 + 25.0).otherwise(pl.col(f)).alias(f) for f in FEATURES]
    ).with_columns(pl.lit(date(2025, 9, 2)).alias("snapshot_date"))

    s1, _ = score_frame(day1, ruler, model, COHORT, FEATURES, top_k=3)
    s2, _ = score_frame(day2, ruler, model, COHORT, FEATURES, top_k=3)
    one = s1.filter(pl.col("customer_id") == "C00007").row(0, named=True)
    two = s2.filter(pl.col("customer_id") == "C00007").row(0, named=True)
    assert one["trust_score"] == two["trust_score"]  # equal, not close
    assert one["raw_score"] == two["raw_score"]
    assert one["top_drivers"] == two["top_drivers"]
    assert (s1["trust_score"] != s2["trust_score"]).sum() > 300  # the others did move

    # Contrast: a ruler re-fitted on each day's population moves the very same unchanged customer.
    r1 = refitted_ruler_scores(day1, model, COHORT, FEATURES, min_segment_support=60)
    r2 = refitted_ruler_scores(day2, model, COHORT, FEATURES, min_segment_support=60)
    moved = abs(
        r1.filter(pl.col("customer_id") == "C00007")["trust_score_refitted"][0]
        - r2.filter(pl.col("customer_id") == "C00007")["trust_score_refitted"][0]
    )
    assert moved > 1e-3


def test_top_drivers_are_the_largest_absolute_terms() -> None:
    frame = hand_frame(rows=200, seed=5)
    scores, _ = score_frame(frame, hand_ruler(), MODEL, COHORT, FEATURES, top_k=3)
    expected = independent_scores(frame, hand_ruler(), MODEL)
    for customer, drivers in zip(scores["customer_id"], scores["top_drivers"], strict=True):
        terms = expected[customer][3]
        ranked = sorted(
            ((f, t) for f, t in zip(FEATURES, terms, strict=True) if t != 0), key=lambda ft: -abs(ft[1])
        )[:3]
        assert drivers == "; ".join(f"{f}={t:+.3f}" for f, t in ranked), customer


def test_top_drivers_text_format() -> None:
    weights = {"complaints_90d": 1.0, "arpu_3m": 1.0, "tenure_months": 1.0, "late_payments_180d": 1.0}
    frame = pl.DataFrame({
        z_column("complaints_90d"): [-0.412, 0.0], z_column("arpu_3m"): [0.305, 0.0],
        z_column("tenure_months"): [0.12, 0.0], z_column("late_payments_180d"): [0.0004, 0.0],
    })  # fmt: skip
    text = with_top_drivers(frame, weights, list(weights), k=3)["top_drivers"].to_list()
    assert text == ["complaints_90d=-0.412; arpu_3m=+0.305; tenure_months=+0.120", ""]
    one = with_top_drivers(frame, weights, list(weights), k=1)["top_drivers"].to_list()
    assert one == ["complaints_90d=-0.412", ""]


def test_weights_and_model_stats_are_validated() -> None:
    frame = hand_frame(rows=5)
    short = ScoringModel("m", "r", {f: 1.0 for f in FEATURES[:-1]}, 0.0, 1.0)
    with pytest.raises(ValueError, match="do not match"):
        score_frame(frame, hand_ruler(), short, COHORT, FEATURES, top_k=3)
    flat = ScoringModel("m", "r", WEIGHTS, 0.0, 0.0)
    with pytest.raises(ValueError, match="raw_ref_stddev"):
        score_frame(frame, hand_ruler(), flat, COHORT, FEATURES, top_k=3)
    with pytest.raises(ValueError, match="no cohort-level entry"):
        standardise(frame.with_columns(pl.lit(1.0).alias("new_feature")), hand_ruler(), COHORT,
                    [*FEATURES, "new_feature"])


def test_non_finite_values_count_as_missing() -> None:
    frame = hand_frame(rows=2).with_columns(
        pl.Series("usage", [math.nan, math.inf]), pl.lit(1.0).alias("faults"), pl.lit(1.0).alias("arpu"),
        pl.lit(1.0).alias("flat"), pl.lit(1.0).alias("unmeasured"),
    )  # fmt: skip
    z = standardise(frame, hand_ruler(), COHORT, FEATURES).frame
    assert z[z_column("usage")].to_list() == [0.0, 0.0]
    assert z["missing_features"].to_list() == [1, 1]

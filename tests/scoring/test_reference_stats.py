"""The hierarchical ruler: statistics, segment support, schema and fingerprint."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from tests.scoring.frames import SEGMENTS, feature_frame
from trust_assets.config import SETTINGS, feature_names
from trust_assets.scoring.reference_stats import (
    RULER_SCHEMA,
    compute_reference_stats,
    compute_reference_stats_from_wide,
    describe_ruler_difference,
    ruler_fingerprint,
    wide_to_long,
)

DAYS = list(SETTINGS.ruler.snapshot_dates)
START, END = SETTINGS.ruler.reference_start, SETTINGS.ruler.reference_end


def _ruler(frames: dict[str, pl.DataFrame], support: int = 300, version: str = "ruler-test") -> pl.DataFrame:
    return compute_reference_stats_from_wide(
        frames, {c: feature_names(c) for c in frames}, ruler_version=version, period_start=START,
        period_end=END, min_segment_support=support,
    )  # fmt: skip


def test_schema_and_cohort_rows() -> None:
    frames = {"mobile": feature_frame("mobile", DAYS, 200, seed=1), "tv": feature_frame("tv", DAYS, 150, seed=2)}
    ruler = _ruler(frames)
    assert ruler.schema == pl.Schema(RULER_SCHEMA)
    assert ruler.columns == ["ruler_version", "cohort", "segment", "feature", "n", "mean", "stddev",
                             "period_start", "period_end"]  # fmt: skip
    cohort_rows = ruler.filter(pl.col("segment").is_null())
    for cohort in frames:
        assert sorted(cohort_rows.filter(pl.col("cohort") == cohort)["feature"]) == sorted(feature_names(cohort))
    assert set(ruler["period_start"]) == {START} and set(ruler["period_end"]) == {END}
    assert set(ruler["ruler_version"]) == {"ruler-test"}


def test_mean_and_sample_stddev_match_numpy() -> None:
    frame = feature_frame("broadband", DAYS, 300, seed=4)
    ruler = _ruler({"broadband": frame})
    for feature in ("download_gb_28d", "complaints_90d", "months_to_contract_end"):
        values = frame[feature].drop_nulls().to_numpy()
        row = ruler.filter(pl.col("segment").is_null() & (pl.col("feature") == feature)).row(0, named=True)
        assert row["n"] == len(values)
        assert abs(row["mean"] - np.mean(values)) < 1e-9 * max(1.0, abs(np.mean(values)))
        assert abs(row["stddev"] - np.std(values, ddof=1)) < 1e-9 * np.std(values, ddof=1)
        for segment in ruler.filter(pl.col("segment").is_not_null() & (pl.col("feature") == feature))["segment"]:
            seg_values = frame.filter(pl.col("segment") == segment)[feature].drop_nulls().to_numpy()
            seg_row = ruler.filter((pl.col("segment") == segment) & (pl.col("feature") == feature)).row(0, named=True)
            assert seg_row["n"] == len(seg_values)
            assert abs(seg_row["stddev"] - np.std(seg_values, ddof=1)) < 1e-9 * np.std(seg_values, ddof=1)


def test_segment_rows_only_with_enough_support() -> None:
    # 400 customers x 6 month-ends; segment shares 0.6 / 0.3 / 0.1 -> about 1440 / 720 / 240 rows.
    frame = feature_frame("tv", DAYS, 400, seed=5, null_share=0.0)
    counts = dict(frame.group_by("segment").len().iter_rows())
    ruler = _ruler({"tv": frame}, support=300)
    segments = set(ruler["segment"].drop_nulls())
    assert segments == {s for s, n in counts.items() if n >= 300}
    assert segments and segments != set(SEGMENTS["tv"])  # some have support, some do not
    # A supported segment whose rows lack a feature (no contract) gets no row for that feature.
    no_contract = SEGMENTS["tv"][1]
    assert no_contract in segments
    seg_features = set(ruler.filter(pl.col("segment") == no_contract)["feature"])
    assert seg_features == set(feature_names("tv")) - {"months_to_contract_end"}
    # A feature that never varied within a segment is measured on the cohort row there.
    big = max(segments, key=lambda seg: counts[seg])
    flat = frame.with_columns(
        pl.when(pl.col("segment") == big).then(0.0).otherwise(pl.col("outage_minutes_28d")).alias("outage_minutes_28d")
    )
    flat_ruler = _ruler({"tv": flat}, support=300)
    assert flat_ruler.filter((pl.col("segment") == big) & (pl.col("feature") == "outage_minutes_28d")).height == 0
    assert flat_ruler.filter((pl.col("segment") == big) & (pl.col("feature") == "arpu_3m")).height == 1
    # The threshold is inclusive.
    exact = _ruler({"tv": frame}, support=counts[no_contract])
    assert no_contract in set(exact["segment"].drop_nulls())
    above = _ruler({"tv": frame}, support=counts[no_contract] + 1)
    assert no_contract not in set(above["segment"].drop_nulls())


def test_long_and_wide_inputs_agree() -> None:
    frame = feature_frame("mobile", DAYS, 120, seed=6)
    wide = _ruler({"mobile": frame}, support=100)
    long = compute_reference_stats(
        wide_to_long(frame, "mobile", feature_names("mobile")), ruler_version="ruler-test", period_start=START,
        period_end=END, min_segment_support=100,
    )  # fmt: skip
    # Two aggregation paths, equal up to float summation order: the fingerprint's 12 digits.
    assert ruler_fingerprint(wide) == ruler_fingerprint(long)
    assert wide.select("cohort", "segment", "feature", "n").equals(long.select("cohort", "segment", "feature", "n"))
    assert ((wide["mean"] - long["mean"]).abs() <= 1e-12 * long["mean"].abs().clip(1.0)).all()


def test_fingerprint_is_stable_under_order_and_float_noise() -> None:
    frame = feature_frame("mobile", DAYS, 150, seed=7)
    ruler = _ruler({"mobile": frame}, support=100)
    fp = ruler_fingerprint(ruler)
    assert fp == ruler_fingerprint(ruler.sample(fraction=1.0, shuffle=True, seed=3))
    assert fp == ruler_fingerprint(_ruler({"mobile": frame.sample(fraction=1.0, shuffle=True, seed=9)}, 100))
    # Noise far below 12 significant digits (summation order, an engine round trip) does not count.
    noisy = ruler.with_columns(pl.col("mean") * (1 + 1e-15), pl.col("stddev") * (1 - 1e-15))
    assert fp == ruler_fingerprint(noisy)
    # The version label is not content.
    assert fp == ruler_fingerprint(ruler.with_columns(pl.lit("other").alias("ruler_version")))


def test_fingerprint_is_sensitive_to_real_changes() -> None:
    frame = feature_frame("mobile", DAYS, 150, seed=8)
    ruler = _ruler({"mobile": frame}, support=100)
    fp = ruler_fingerprint(ruler)
    first = (pl.col("feature") == "arpu_3m") & pl.col("segment").is_null()
    changed_mean = ruler.with_columns(pl.when(first).then(pl.col("mean") * (1 + 1e-9)).otherwise(pl.col("mean")))
    assert ruler_fingerprint(changed_mean) != fp
    assert ruler_fingerprint(ruler.with_columns(pl.when(first).then(pl.col("n") + 1).otherwise(pl.col("n")))) != fp
    assert ruler_fingerprint(ruler.filter(~first)) != fp
    assert ruler_fingerprint(ruler.with_columns(pl.lit(date(2025, 1, 1)).alias("period_start"))) != fp
    # One changed customer value in the reference data changes the ruler.
    edited = frame.with_columns(
        pl.when(pl.col("customer_id") == frame["customer_id"][0]).then(pl.col("arpu_3m") + 0.01)
        .otherwise(pl.col("arpu_3m")).alias("arpu_3m")
    )
    assert ruler_fingerprint(_ruler({"mobile": edited}, support=100)) != fp

    text = describe_ruler_difference(ruler, changed_mean)
    assert "1 ruler row(s) changed" in text and "mobile/<cohort level>/arpu_3m" in text
    assert describe_ruler_difference(ruler, ruler) == ""
    assert "only in the stored ruler" in describe_ruler_difference(ruler, ruler.filter(~first))

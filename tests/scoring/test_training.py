"""Training: deterministic split, composite weights, parity with scoring, metrics and provenance."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.scoring.frames import feature_frame, outcome_labels
from trust_assets.config import SETTINGS, feature_names
from trust_assets.scoring.arithmetic import ScoringModel, score_frame
from trust_assets.scoring.reference_stats import compute_reference_stats_from_wide
from trust_assets.scoring.standardise import standardise, z_column
from trust_assets.scoring.training import (
    calibration_slope_intercept,
    code_version,
    composite_weights,
    data_fingerprint,
    expected_calibration_error,
    holdout_flags,
    train_cohort,
)

REF = SETTINGS.model.reference_date
COHORT = "broadband"
FEATURES = feature_names(COHORT)


def test_split_is_deterministic_and_near_the_holdout_fraction() -> None:
    ids = pl.Series([f"C{i:07d}" for i in range(20_000)])
    flags = holdout_flags(ids, "salt-a", 0.3)
    share = flags.mean()
    assert share is not None and abs(share - 0.3) < 0.015  # type: ignore[operator]
    # Same customer, same side: whatever the order or the company it keeps.
    shuffled = ids.sample(fraction=1.0, shuffle=True, seed=1)
    by_id = dict(zip(ids, flags, strict=True))
    assert [by_id[c] for c in shuffled] == holdout_flags(shuffled, "salt-a", 0.3).to_list()
    assert holdout_flags(ids.head(10), "salt-a", 0.3).to_list() == flags.head(10).to_list()
    # Plain hashlib, written out independently: stable across runs and machines.
    digest = hashlib.sha256(b"salt-a:C0000042").digest()
    assert flags[42] == (int.from_bytes(digest[:8], "big") / 2**64 < 0.3)
    # Another salt, another split.
    assert (holdout_flags(ids, "salt-b", 0.3) != flags).sum() > 5000


def test_composite_weight_arithmetic() -> None:
    weights = composite_weights(
        ["a", "b", "c"], w_churn=[0.5, -0.25, 0.3], w_recontract=[0.1, 0.2, 0.4], w_nrc=[0.05, 0.3, -0.9],
        unusable=["c"],
    )  # fmt: skip
    assert weights["weight"].to_list() == pytest.approx([0.1 + 0.05 - 0.5, 0.2 + 0.3 + 0.25, 0.0])
    assert weights.filter(pl.col("feature") == "c").row(0)[1:] == (0.0, 0.0, 0.0, 0.0)


def test_calibration_measures() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.02, 0.98, size=40_000)
    y = (rng.random(p.size) < p).astype(int)
    slope, intercept = calibration_slope_intercept(y, p)
    assert slope is not None and intercept is not None
    assert abs(slope - 1) < 0.1 and abs(intercept) < 0.1
    assert expected_calibration_error(y, p) < 0.02
    # ECE by hand on a tiny case: bins [0.1,0.2) and [0.8,0.9).
    y2, p2 = np.array([0, 1, 1, 1]), np.array([0.1, 0.1, 0.8, 0.8])
    assert expected_calibration_error(y2, p2) == pytest.approx(0.5 * abs(0.5 - 0.1) + 0.5 * abs(1.0 - 0.8))


@pytest.fixture(scope="module")
def trained() -> tuple:
    days = list(SETTINGS.ruler.snapshot_dates)
    frame = feature_frame(COHORT, days, 1500, seed=21)
    ruler = compute_reference_stats_from_wide(
        {COHORT: frame}, {COHORT: FEATURES}, ruler_version="ruler-test", period_start=SETTINGS.ruler.reference_start,
        period_end=SETTINGS.ruler.reference_end, min_segment_support=300,
    )  # fmt: skip
    at_ref = frame.filter(pl.col("snapshot_date") == REF)
    labels = outcome_labels(at_ref, COHORT, seed=21)
    result = train_cohort(frame, labels, ruler, COHORT, FEATURES, SETTINGS.model, "code-v")
    return frame, ruler, labels, result


def test_training_is_deterministic_and_versioned(trained) -> None:
    frame, ruler, labels, result = trained
    again = train_cohort(frame.sample(fraction=1.0, shuffle=True, seed=2), labels.reverse(), ruler, COHORT, FEATURES,
                         SETTINGS.model, "code-v")
    assert again.model_version == result.model_version
    assert again.coefficients.equals(result.coefficients)
    assert re.fullmatch(r"broadband-20250731-[0-9a-f]{8}", result.model_version)
    other_code = train_cohort(frame, labels, ruler, COHORT, FEATURES, SETTINGS.model, "code-w")
    assert other_code.model_version != result.model_version
    assert result.n_train + result.n_holdout == labels.height
    assert abs(result.n_holdout / labels.height - SETTINGS.model.holdout_fraction) < 0.05


def test_held_out_metrics_are_reported(trained) -> None:
    _, _, _, result = trained
    m = result.metrics
    for prefix in ("churn", "recontract"):
        for key in ("auc", "log_loss", "brier", "ece", "calibration_slope", "calibration_intercept"):
            assert isinstance(m[f"{prefix}_{key}"], float), (prefix, key)
        assert m[f"{prefix}_auc"] > 0.6  # the synthetic outcomes depend on the features
    assert m["nrc_r2"] > 0.2 and m["nrc_rmse"] > 0
    # The outcomes were generated from the first features: their coefficients carry the expected signs.
    coef = {r["feature"]: r for r in result.coefficients.iter_rows(named=True)}
    assert coef[FEATURES[0]]["w_churn"] > 0 and coef[FEATURES[0]]["w_recontract"] < 0


def test_training_inputs_and_raw_reference_match_scoring(trained) -> None:
    """Training/serving parity: scoring the reference population reproduces the stored raw-score stats."""
    frame, ruler, _, result = trained
    at_ref = frame.filter(pl.col("snapshot_date") == REF)
    model = ScoringModel(result.model_version, result.ruler_version, result.weights,
                         result.raw_ref_mean, result.raw_ref_stddev)
    scores, _ = score_frame(at_ref, ruler, model, COHORT, FEATURES, top_k=3)
    assert abs(scores["raw_score"].mean() - result.raw_ref_mean) < 1e-12  # type: ignore[operator]
    assert abs(scores["raw_score"].std() - result.raw_ref_stddev) < 1e-12  # type: ignore[operator]
    z_raw = (scores["raw_score"] - result.raw_ref_mean) / result.raw_ref_stddev
    assert abs(z_raw.mean()) < 1e-9 and abs(z_raw.std() - 1) < 1e-9  # type: ignore[operator,arg-type]
    # The model inputs are standardise()'s z columns: an all-unusable feature gets weight 0.
    flat_ruler = ruler.with_columns(
        pl.when(pl.col("feature") == "upload_gb_28d").then(0.0).otherwise(pl.col("stddev")).alias("stddev")
    )
    flat = train_cohort(frame, trained[2], flat_ruler, COHORT, FEATURES, SETTINGS.model, "code-v")
    assert flat.unusable_features == ("upload_gb_28d",)
    assert flat.weights["upload_gb_28d"] == 0.0
    assert (standardise(at_ref, flat_ruler, COHORT, FEATURES).frame[z_column("upload_gb_28d")] == 0).all()


def test_fingerprints(tmp_path: Path) -> None:
    frame = pl.DataFrame({"customer_id": ["b", "a"], "x": [2.0, 1.0]})
    assert data_fingerprint(frame) == data_fingerprint(frame.reverse())
    assert data_fingerprint(frame) != data_fingerprint(frame.with_columns(pl.col("x") + 1e-9))
    scoring = tmp_path / "trust_assets" / "scoring"
    scoring.mkdir(parents=True)
    (scoring / "a.py").write_text("x = 1\n")
    first = code_version(tmp_path)
    models = tmp_path / "dbt_project" / "models" / "marts"
    models.mkdir(parents=True)
    (models / "m.sql").write_text("select 1\n")
    second = code_version(tmp_path)
    (models / "m.sql").write_text("select 2\n")
    assert len({first, second, code_version(tmp_path)}) == 3

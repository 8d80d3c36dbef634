"""The benchmark's baseline (benchmarks/daily/baseline.py) must compute what the product computes.

The daily-partition benchmark compares the product with a hand-written DuckDB SQL and NumPy baseline; that
comparison is only fair while both produce the same features and scores. This runs the baseline on a copy
of the session warehouse for one scored day and requires the same agreement the benchmark requires (the same
customer_360 rows, every feature identical with NULLs in the same places, scores within 1e-9), so a change
to the features or the scoring that the baseline does not follow fails here rather than silently skewing
the benchmark. The hand-written feature SQL (reading the raw tables) is the baseline; the dbt-compiled
variant, kept for comparison, is checked once.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
import pytest

from benchmarks.daily import baseline
from trust_assets.config import COHORTS, feature_names


@pytest.fixture(scope="module")
def scored_day(pipeline_warehouse, tmp_path_factory):
    path = pipeline_warehouse.copy_to(tmp_path_factory.mktemp("baseline"))
    return path, pipeline_warehouse.scoring_dates[-1]


def _assert_agrees(report: dict[str, object]) -> None:
    assert report["rows_compared"] > 1000, report
    assert report["customer_360_rows"] > 1000, report
    assert report["agrees"], report
    assert report["trust_score_max_abs_diff"] < baseline.TOLERANCE
    # Features must be identical, not merely close: the same exact DECIMAL(18, 6) sums, the same NULLs.
    assert all(d == 0 for d in report["feature_max_abs_diff"].values()), report


def test_hand_written_baseline_agrees_with_the_published_day(scored_day) -> None:
    path, day = scored_day
    with duckdb.connect(str(path)) as con:
        baseline.hand_written_feature_statements(day).run(con)
        baseline.score_statement().run(con)
        report = baseline.agreement(con, day)
        # Every column of the product's customer_360 is recomputed, network_area included.
        product_columns = {r[0] for r in con.execute("describe analytics.customer_360_definition").fetchall()}
    _assert_agrees(report)
    assert report["customer_360_columns_compared"] == len(product_columns)


def test_dbt_compiled_baseline_agrees_with_the_published_day(scored_day) -> None:
    path, day = scored_day
    compiled = baseline.compile_models(day, path)
    with duckdb.connect(str(path)) as con:
        baseline.feature_statements(compiled).run(con)
        baseline.score_statement().run(con)
        report = baseline.agreement(con, day)
    _assert_agrees(report)


def test_agreement_notices_a_drifted_score(scored_day) -> None:
    # The check itself must be able to fail: shift one published score and expect a disagreement.
    path, day = scored_day
    with duckdb.connect(str(path)) as con:
        baseline.hand_written_feature_statements(day).run(con)
        baseline.score_statement().run(con)
        con.begin()  # rolled back below: the other tests of this module read the same copy
        con.execute(
            "update analytics.customer_trust_signal set trust_score = trust_score + 1e-6 "
            "where snapshot_date = $day and customer_id = (select min(customer_id) "
            "from analytics.customer_trust_signal where snapshot_date = $day)",
            {"day": day},
        )
        report = baseline.agreement(con, day)
        con.rollback()
    assert not report["agrees"]
    assert report["trust_score_max_abs_diff"] == pytest.approx(1e-6, rel=1e-3)


def test_agreement_notices_a_drifted_feature(scored_day) -> None:
    # One published feature value moved by a millionth (features are compared exactly) and one customer_360 row.
    path, day = scored_day
    with duckdb.connect(str(path)) as con:
        baseline.hand_written_feature_statements(day).run(con)
        baseline.score_statement().run(con)
        con.begin()
        con.execute(
            "update analytics.tv_features set tenure_months = tenure_months + 1e-6 "
            "where snapshot_date = $day and customer_id = (select min(customer_id) "
            "from analytics.tv_features where snapshot_date = $day)",
            {"day": day},
        )
        con.execute(
            "update analytics.customer_360_definition set network_area = 'elsewhere' "
            "where snapshot_date = $day and customer_id = (select max(customer_id) "
            "from analytics.customer_360_definition where snapshot_date = $day)",
            {"day": day},
        )
        report = baseline.agreement(con, day)
        con.rollback()
    assert not report["agrees"]
    assert report["feature_max_abs_diff"]["tv"] == pytest.approx(1e-6, rel=1e-3)
    assert report["feature_max_abs_diff"]["mobile"] == 0
    assert report["customer_360_baseline_only_mismatch"] == report["customer_360_product_only_mismatch"] == 1


def test_numpy_arithmetic_agrees_with_the_published_scores(scored_day) -> None:
    path, day = scored_day
    with duckdb.connect(str(path), read_only=True) as con:
        for cohort in COHORTS:
            features = feature_names(cohort)
            model = con.sql(
                f"select * from analytics.model_registry where cohort = '{cohort.value}' and status = 'production'"
            ).pl().row(0, named=True)
            weights = con.sql(
                f"select feature, weight from analytics.trust_model_weights "
                f"where model_version = '{model['model_version']}'"
            ).pl()
            ruler = con.sql(
                f"select * from analytics.hierarchical_reference_stats "
                f"where cohort = '{cohort.value}' and ruler_version = '{model['ruler_version']}'"
            ).pl()
            frame = con.sql(
                f"select f.*, s.raw_score, s.trust_score, s.missing_features as published_missing "
                f"from analytics.{cohort.value}_features f join analytics.customer_trust_signal s "
                f"on s.cohort = '{cohort.value}' and s.customer_id = f.customer_id "
                f"and s.snapshot_date = f.snapshot_date "
                f"where f.snapshot_date = '{day.isoformat()}'"
            ).pl()
            assert frame.height > 100
            inputs = baseline.numpy_inputs(
                frame, ruler, dict(weights.iter_rows()), (model["raw_ref_mean"], model["raw_ref_stddev"]), features
            )
            raw, trust, missing = baseline.numpy_scores(inputs)
            assert np.max(np.abs(raw - frame["raw_score"].to_numpy())) < baseline.TOLERANCE
            assert np.max(np.abs(trust - frame["trust_score"].to_numpy())) < baseline.TOLERANCE
            assert (missing == frame["published_missing"].cast(pl.Int64).to_numpy()).all()

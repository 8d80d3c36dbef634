"""Matured-outcome performance, the decile KPI view and fairness, against independent computations.

The independent side: the outcomes come from the dbt-built ``outcome_labels`` table of the reference date (the
monitors compile the model's SQL themselves and run it), the model inputs are z-scored in DuckDB SQL written
here, and the metrics come from scikit-learn and numpy.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, r2_score, roc_auc_score

from tests.support import query
from trust_assets.assets.monitoring_outcomes import dates_maturing_on
from trust_assets.config import COHORTS, SETTINGS, feature_names
from trust_assets.monitoring.matured_outcomes import add_months, is_matured, outcome_window

TOL = 1e-9


def _independent_scored(path: Path, cohort: str, day: date) -> pl.DataFrame:
    """Published trust scores of a date with the models' predictions and the dbt-built outcomes."""
    version = query(
        path,
        "select distinct model_version from analytics.customer_trust_signal where snapshot_date = $d and cohort = $c",
        {"d": day, "c": cohort},
    )["model_version"].to_list()
    assert len(version) == 1, version
    registry = query(path, "select * from analytics.model_registry where model_version = $v", {"v": version[0]})
    metrics = json.loads(registry["metrics"][0])
    features = feature_names(cohort)
    linear = query(
        path,
        f"""
        with long as (
            unpivot (select customer_id, segment, {", ".join(features)} from analytics.{cohort}_features
                     where snapshot_date = $d)
            on {", ".join(features)} into name feature value x
        ), ruler as (
            select * from analytics.hierarchical_reference_stats where ruler_version = $r and cohort = $c
        ), z as (
            select long.customer_id, long.feature,
                   case when s.feature is not null then s.mean else c.mean end as m,
                   case when s.feature is not null then s.stddev else c.stddev end as sd, long.x
            from long
            join ruler c on c.segment is null and c.feature = long.feature
            left join ruler s on s.segment = long.segment and s.feature = long.feature
        )
        select z.customer_id,
               sum(case when sd > 0 and isfinite(x) then (x - m) / sd * w.w_churn else 0 end) as lin_churn,
               sum(case when sd > 0 and isfinite(x) then (x - m) / sd * w.w_recontract else 0 end) as lin_recontract,
               sum(case when sd > 0 and isfinite(x) then (x - m) / sd * w.w_nrc else 0 end) as lin_nrc
        from z join analytics.trust_model_weights w on w.model_version = $v and w.feature = z.feature
        group by z.customer_id
        """,
        {"d": day, "r": registry["ruler_version"][0], "c": cohort, "v": version[0]},
    )
    outcomes = query(
        path,
        """
        select s.customer_id, s.region, s.segment, s.trust_score, l.is_churn, l.is_recontract, l.revenue_change
        from analytics.customer_trust_signal s
        join analytics.outcome_labels l on l.cohort = s.cohort and l.customer_id = s.customer_id
            and l.reference_date = s.snapshot_date
        where s.snapshot_date = $d and s.cohort = $c
        """,
        {"d": day, "c": cohort},
    )
    b = metrics["intercepts"]
    return outcomes.join(linear, on="customer_id", how="left").with_columns(
        pl.col("lin_churn", "lin_recontract", "lin_nrc").fill_null(0.0),
    ).with_columns(
        (1 / (1 + (-(pl.col("lin_churn") + b["churn"])).exp())).alias("p_churn"),
        (1 / (1 + (-(pl.col("lin_recontract") + b["recontract"])).exp())).alias("p_recontract"),
        ((pl.col("lin_nrc") + b["nrc"]) * metrics["nrc_target_std"] + metrics["nrc_target_mean"]).alias("nrc_pred"),
    )


def _ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = (p >= lo) & ((p < hi) if b < bins - 1 else (p <= hi))
        if inside.any():
            total += inside.sum() / len(p) * abs(y[inside].mean() - p[inside].mean())
    return float(total)


def test_outcome_window_arithmetic() -> None:
    assert outcome_window(date(2025, 7, 31), 6) == (date(2025, 8, 1), date(2026, 1, 31))
    assert outcome_window(date(2025, 8, 31), 6) == (date(2025, 9, 1), date(2026, 2, 28))
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert is_matured(date(2025, 8, 31), 6, date(2026, 2, 28))
    assert not is_matured(date(2025, 9, 1), 6, date(2026, 2, 28))
    # Month-end clamping, as in the dbt macro add_months: four windows end on 2026-02-27.
    assert dates_maturing_on(date(2026, 2, 27)) == [date(2025, 8, d) for d in (27, 28, 29, 30)]
    assert dates_maturing_on(date(2026, 2, 28)) == [date(2025, 8, 31)]
    # The training window of the models is the reference date's outcome window.
    model = SETTINGS.model
    assert outcome_window(model.reference_date, SETTINGS.outcomes.window_months) == (model.outcome_start,
                                                                                      model.outcome_end)


@pytest.mark.parametrize("cohort", [c.value for c in COHORTS])
def test_matured_metrics_agree_with_an_independent_computation(outcome_copy, cohort: str) -> None:
    path, day = outcome_copy.path, outcome_copy.matured_date
    expected = _independent_scored(path, cohort, day)
    table = query(
        path,
        "select * from analytics.matured_outcome_performance where scoring_date = $d and cohort = $c",
        {"d": day, "c": cohort},
    )
    assert sorted(table["model"].to_list()) == ["churn", "nrc", "recontract"]
    rows = {r["model"]: r for r in table.iter_rows(named=True)}
    registry = query(
        path, "select * from analytics.model_registry where model_version = $v", {"v": rows["churn"]["model_version"]}
    ).row(0, named=True)
    assert expected.height > 500
    for model in ("churn", "recontract"):
        y = expected[f"is_{model}"].cast(pl.Int8).to_numpy()
        p = expected[f"p_{model}"].to_numpy()
        row = rows[model]
        assert row["n"] == expected.height
        assert row["outcome_mean"] == pytest.approx(y.mean(), abs=TOL)
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=TOL)
        assert row["log_loss"] == pytest.approx(log_loss(y, p), abs=1e-9)
        assert row["ece"] == pytest.approx(_ece(y, p), abs=1e-9)
        logit = np.log(p / (1 - p)).reshape(-1, 1)
        slope = LogisticRegression(C=np.inf, max_iter=1000).fit(logit, y).coef_[0, 0]
        assert row["calibration_slope"] == pytest.approx(slope, abs=1e-4)
        trust = expected["trust_score"].to_numpy()
        assert row["trust_score_auc"] == pytest.approx(roc_auc_score(y, -trust if model == "churn" else trust), abs=TOL)
        assert row["heldout_roc_auc"] == pytest.approx(registry[f"{model}_auc"], abs=TOL)
        assert row["roc_auc_change"] == pytest.approx(row["roc_auc"] - registry[f"{model}_auc"], abs=TOL)
        assert row["outcome_start"] == SETTINGS.model.outcome_start and row["outcome_end"] == SETTINGS.model.outcome_end
    y = expected["revenue_change"].to_numpy()
    nrc = rows["nrc"]
    assert nrc["r2"] == pytest.approx(r2_score(y, expected["nrc_pred"].to_numpy()), abs=TOL)
    assert nrc["heldout_r2"] == pytest.approx(registry["nrc_r2"], abs=TOL)
    assert nrc["outcome_mean"] == pytest.approx(y.mean(), abs=TOL)
    # Scored on the training date (70% of it in-sample), the models rank at least about as well as held out.
    assert rows["churn"]["roc_auc"] > 0.6


def test_trust_deciles_agree_with_sql(outcome_copy) -> None:
    path, day = outcome_copy.path, outcome_copy.matured_date
    expected = query(
        path,
        """
        with scored as (
            select s.cohort, s.customer_id, s.trust_score, l.is_churn, l.is_recontract, l.revenue_change,
                   (row_number() over (partition by s.cohort order by s.trust_score, s.customer_id) - 1) * 10
                       // count(*) over (partition by s.cohort) + 1 as decile
            from analytics.customer_trust_signal s
            join analytics.outcome_labels l on l.cohort = s.cohort and l.customer_id = s.customer_id
                and l.reference_date = s.snapshot_date
            where s.snapshot_date = $d
        )
        select cohort, decile, count(*) as customers, avg(is_churn::double) as churn_rate,
               avg(is_recontract::double) as recontract_rate, avg(revenue_change) as mean_revenue_change
        from scored group by all order by cohort, decile
        """,
        {"d": day},
    )
    table = query(
        path, "select * from analytics.trust_decile_outcomes where scoring_date = $d order by cohort, trust_decile",
        {"d": day},
    )  # fmt: skip
    assert table.height == expected.height == 10 * len(COHORTS)
    assert table["trust_decile"].to_list() == expected["decile"].to_list()
    assert table["customers"].to_list() == expected["customers"].to_list()
    for column in ("churn_rate", "recontract_rate", "mean_revenue_change"):
        assert np.allclose(table[column].to_numpy(), expected[column].to_numpy(), atol=TOL, rtol=0), column
    # The business KPI: across all products, the lowest-trust decile churns more than the highest.
    by_decile = table.group_by("trust_decile").agg(pl.col("churn_rate").mean()).sort("trust_decile")
    assert by_decile["churn_rate"][0] > by_decile["churn_rate"][-1]


def test_open_window_has_no_performance_rows_yet(outcome_copy) -> None:
    path, day = outcome_copy.path, outcome_copy.open_date
    counts = query(
        path,
        """
        select (select count(*) from analytics.matured_outcome_performance where scoring_date = $d) as perf,
               (select count(*) from analytics.trust_decile_outcomes where scoring_date = $d) as deciles,
               (select count(*) from analytics.fairness_by_group where scoring_date = $d) as fairness,
               (select count(*) from analytics.fairness_by_group where scoring_date = $d and outcomes_matured)
                   as fairness_matured
        """,
        {"d": day},
    ).row(0, named=True)
    assert counts["perf"] == counts["deciles"] == counts["fairness_matured"] == 0, counts
    assert counts["fairness"] > 0
    meta = outcome_copy.open_result.asset_materializations_for_node("outcome_monitoring")
    by_key = {m.asset_key.to_user_string(): m.metadata for m in meta}
    assert by_key["matured_outcome_performance"]["matured_dates"].value == 0
    matured_meta = {
        m.asset_key.to_user_string(): m.metadata
        for m in outcome_copy.matured_result.asset_materializations_for_node("outcome_monitoring")
    }
    # Numeric metadata the UI plots over partitions.
    auc = matured_meta["matured_outcome_performance"]["mobile_churn_auc"].value
    assert isinstance(auc, float) and 0.5 < auc < 1


@pytest.mark.parametrize("which", ["matured", "open"])
def test_fairness_agrees_with_sql(outcome_copy, which: str) -> None:
    path = outcome_copy.path
    day = outcome_copy.matured_date if which == "matured" else outcome_copy.open_date
    cfg = SETTINGS.outcomes
    for dimension in ("region", "segment"):
        expected = query(
            path,
            f"""
            with s as (
                select s.cohort, coalesce(cast(s.{dimension} as varchar), '(none)') as g, s.trust_score,
                       l.is_churn,
                       avg(s.trust_score) over (partition by s.cohort) as cm,
                       stddev_samp(s.trust_score) over (partition by s.cohort) as csd
                from analytics.customer_trust_signal s
                left join analytics.outcome_labels l on l.cohort = s.cohort and l.customer_id = s.customer_id
                    and l.reference_date = s.snapshot_date
                where s.snapshot_date = $d
            )
            select cohort, g, count(*) as n, avg(trust_score) as trust_mean,
                   abs(avg(trust_score) - any_value(cm)) / any_value(csd) as disparity,
                   avg(case when trust_score < $risk then 1.0 else 0.0 end) as at_risk_share,
                   avg(case when trust_score < $risk then 1.0 else 0.0 end) filter (where not is_churn) as fpr,
                   avg(case when trust_score < $risk then 0.0 else 1.0 end) filter (where is_churn) as fnr
            from s group by all order by cohort, g
            """,
            {"d": day, "risk": cfg.at_risk_trust},
        )
        table = query(
            path,
            "select * from analytics.fairness_by_group where scoring_date = $d and dimension = $dim "
            "order by cohort, group_value",
            {"d": day, "dim": dimension},
        )
        assert table.height == expected.height > 3
        assert table["group_value"].to_list() == expected["g"].to_list()
        assert table["n"].to_list() == expected["n"].to_list()
        for column, other in (("trust_mean", "trust_mean"), ("disparity", "disparity"),
                              ("at_risk_share", "at_risk_share")):  # fmt: skip
            assert np.allclose(table[column].to_numpy(), expected[other].to_numpy(), atol=TOL, rtol=0), column
        judged = table["n"] >= cfg.min_group_size
        assert (table["judged"] == judged).all()
        assert (table["exceeds_threshold"] == (judged & (table["disparity"] > cfg.disparity_threshold))).all()
        if which == "matured":
            assert table["outcomes_matured"].all()
            for column, other in (("false_positive_rate", "fpr"), ("false_negative_rate", "fnr")):
                a, b = table[column].to_numpy(), expected[other].to_numpy()
                both = ~np.isnan(b.astype(float))
                assert np.allclose(a[both].astype(float), b[both].astype(float), atol=TOL, rtol=0), column
        else:
            assert not table["outcomes_matured"].any()
            assert table["realised_churn"].null_count() == table.height
        assert all(math.isfinite(v) for v in table["predicted_churn"].to_list())

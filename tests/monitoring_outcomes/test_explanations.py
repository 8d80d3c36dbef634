"""Explanations and score-change attribution on real warehouses."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import polars as pl
import pytest

from resources.warehouse import DuckDBWarehouse
from tests.support import query
from trust_assets.config import COHORTS, SETTINGS, feature_names
from trust_assets.monitoring.explanations import attribute, explain, parse_drivers, top_terms

SAMPLE = 8


def _sample(path, day, cohort: str, n: int = SAMPLE) -> list[str]:
    rows = query(
        path,
        "select customer_id from analytics.customer_trust_signal where snapshot_date = $d and cohort = $c "
        "order by hash(customer_id) limit $n",
        {"d": day, "c": cohort, "n": n},
    )
    return rows["customer_id"].to_list()


@pytest.mark.parametrize("cohort", [c.value for c in COHORTS])
def test_explanation_reproduces_the_published_score_and_drivers(pipeline_warehouse, cohort: str) -> None:
    path, day = pipeline_warehouse.duckdb_path, pipeline_warehouse.end_date
    warehouse = DuckDBWarehouse(path=str(path))
    for customer in _sample(path, day, cohort):
        result = explain(warehouse, customer, cohort, day)
        published = result.published
        assert published is not None
        assert result.model_version == published["model_version"]
        assert sorted(result.terms["feature"].to_list()) == sorted(feature_names(cohort))
        # The terms add up to the published raw score, and the score itself is the published one.
        assert result.terms["contribution"].sum() == pytest.approx(published["raw_score"], abs=1e-12)
        assert result.raw_score == published["raw_score"]
        # tanh over a whole day's batch is vectorised: equal up to the last bit.
        assert result.trust_score == pytest.approx(published["trust_score"], abs=1e-12)
        assert result.top_drivers == published["top_drivers"]
        # top_drivers lists the largest terms of the explanation, rounded to 3 decimals.
        drivers = parse_drivers(published["top_drivers"])
        expected = top_terms(result.terms, SETTINGS.model.top_drivers)
        assert [name for name, _ in drivers] == [name for name, _ in expected]
        for (_, shown), (_, term) in zip(drivers, expected, strict=True):
            assert shown == pytest.approx(term, abs=5e-4)
        # Every term is w_f * z_f.
        terms = result.terms
        assert (terms["contribution"] - terms["weight"] * terms["z"]).abs().max() == 0.0


@pytest.mark.parametrize("cohort", [c.value for c in COHORTS])
def test_fixed_model_attribution_is_all_behaviour(pipeline_warehouse, cohort: str) -> None:
    path = pipeline_warehouse.duckdb_path
    first, last = pipeline_warehouse.scoring_dates[0], pipeline_warehouse.scoring_dates[-1]
    warehouse = DuckDBWarehouse(path=str(path))
    published = query(
        path,
        "select snapshot_date, customer_id, trust_score, model_version from analytics.customer_trust_signal "
        "where cohort = $c and snapshot_date in ($a, $b)",
        {"c": cohort, "a": first, "b": last},
    )
    assert published["model_version"].n_unique() == 1, "the session warehouse scores with one production model"
    moved = 0
    for customer in _sample(path, last, cohort):
        mine = published.filter(pl.col("customer_id") == customer)
        if mine.height != 2:
            continue  # joined or left between the two dates
        result = attribute(warehouse, customer, cohort, first, last)
        before = mine.filter(pl.col("snapshot_date") == first)["trust_score"][0]
        after = mine.filter(pl.col("snapshot_date") == last)["trust_score"][0]
        assert result.model_from == result.model_to
        assert result.score_from == before and result.score_to == after
        assert result.model == 0.0
        assert result.behaviour == result.total == after - before
        moved += result.total != 0
    assert moved > 0, "some sampled customers' scores should move over a week"


def test_attribution_across_a_model_version_change(pipeline_warehouse, materialize_on, tmp_path) -> None:
    """Register a second production version (retrained with other settings) in a copy, rescore the last day."""
    from trust_assets.scoring.registry import ModelStatus, registry_row, weights_rows
    from trust_assets.scoring.training import code_version, train_cohort

    path = pipeline_warehouse.copy_to(tmp_path)
    warehouse = DuckDBWarehouse(path=str(path))
    cohort = "broadband"
    first, last = pipeline_warehouse.scoring_dates[0], pipeline_warehouse.end_date
    settings = dataclasses.replace(SETTINGS.model, logistic_c=1.0, ridge_alpha=1.0)
    ruler = warehouse.read(
        "select * from {analytics}.hierarchical_reference_stats where ruler_version = $v", {"v": SETTINGS.ruler.version}
    )
    labels = warehouse.read("select * from {analytics}.outcome_labels")
    features = warehouse.read(
        f"select * from {{analytics}}.{cohort}_features where snapshot_date = $d", {"d": settings.reference_date}
    )
    result = train_cohort(features, labels, ruler, cohort, feature_names(cohort), settings, code_version())
    old = warehouse.read(
        "select model_version from {analytics}.model_registry where cohort = $c and status = 'production'",
        {"c": cohort},
    )["model_version"][0]
    assert result.model_version != old
    warehouse.append("trust_model_weights", weights_rows(result))
    warehouse.execute("update {analytics}.model_registry set status = 'archived' where model_version = $v", {"v": old})
    warehouse.append(
        "model_registry", registry_row(result, ModelStatus.PRODUCTION, datetime.now(UTC), "test: version change")
    )
    assert materialize_on(path, "customer_trust_signal", last).success

    published = query(
        path,
        "select snapshot_date, customer_id, trust_score, model_version from analytics.customer_trust_signal "
        "where cohort = $c and snapshot_date in ($a, $b)",
        {"c": cohort, "a": first, "b": last},
    )
    assert set(published.filter(pl.col("snapshot_date") == last)["model_version"]) == {result.model_version}
    assert set(published.filter(pl.col("snapshot_date") == first)["model_version"]) == {old}
    checked = 0
    for customer in _sample(path, last, cohort):
        mine = published.filter(pl.col("customer_id") == customer)
        if mine.height != 2:
            continue
        parts = attribute(warehouse, customer, cohort, first, last)
        assert (parts.model_from, parts.model_to) == (old, result.model_version)
        assert parts.score_from == mine.filter(pl.col("snapshot_date") == first)["trust_score"][0]
        assert parts.score_to == mine.filter(pl.col("snapshot_date") == last)["trust_score"][0]
        assert abs(parts.behaviour + parts.model - parts.total) <= 1e-9
        assert parts.model != 0.0  # different weights move the score
        # The behaviour part is what the old model says about the new features.
        counterfactual = explain(warehouse, customer, cohort, last, model_version=old)
        assert parts.behaviour == counterfactual.trust_score - parts.score_from
        checked += 1
    assert checked >= 5


def test_cli_explain_and_attribute(pipeline_warehouse, capsys) -> None:
    from trust_assets.cli import main

    path, day = pipeline_warehouse.duckdb_path, pipeline_warehouse.end_date
    customer = _sample(path, day, "mobile", 1)[0]
    assert main(["explain", "--customer", customer, "--cohort", "mobile", "--date", day.isoformat(), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    published = query(
        path,
        "select trust_score from analytics.customer_trust_signal where snapshot_date = $d and customer_id = $c "
        "and cohort = 'mobile'",
        {"d": day, "c": customer},
    )["trust_score"][0]
    assert payload["trust_score"] == published
    assert len(payload["terms"]) == len(feature_names("mobile"))
    first = pipeline_warehouse.scoring_dates[0].isoformat()
    args = ["attribute", "--customer", customer, "--cohort", "mobile", "--from", first, "--to", day.isoformat()]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "behaviour part" in text and "model part" in text
    assert main(["explain", "--customer", "NOBODY", "--cohort", "mobile", "--date", day.isoformat()]) == 2

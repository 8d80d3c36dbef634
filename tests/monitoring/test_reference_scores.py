"""The stored summary of each model version's reference population (``reference_score_distribution``).

score_distribution compares every day with the model version's reference population: its training snapshot
scored by it. That population never changes for a version, so it is scored once and summarised in a stored row;
these tests prove that the published figures are those of a fresh re-scoring of the reference date (on the
session's real warehouse), that a new model version gets a summary of its own, and that the stored table is
guarded by its schema and written all at once, never twice.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest

from resources.warehouse import DuckDBWarehouse
from trust_assets.config import SETTINGS
from trust_assets.monitoring.drift import band_of, bin_counts, equal_frequency_edges, psi
from trust_assets.monitoring.prediction_distribution import (
    QUANTILES,
    REFERENCE_SCORES_SCHEMA,
    as_frame,
    histogram,
    quantile_column,
    reference_row,
    score_distribution_row,
    summarise_reference,
    summary_of_row,
)
from trust_assets.services import monitoring as service
from trust_assets.services.monitoring import compute_score_distribution, reference_scores, reference_summaries
from trust_assets.store.reference_scores import read_reference_scores, with_rows
from trust_assets.tables import REFERENCE_SCORE_DISTRIBUTION, SCORE_DISTRIBUTION, TRUST_SIGNAL

MON = SETTINGS.monitoring
STORED = f"analytics.{REFERENCE_SCORE_DISTRIBUTION}"


# --- what score_distribution published before the reference was stored, written out independently ------------------
def fresh_row(day: date, cohort: str, version: str, scores: pl.DataFrame, reference: pl.DataFrame,
              reference_date: date) -> dict[str, object]:
    """A day's row computed from the reference population's scores themselves, as every day did before the
    summary was stored."""
    trust = scores["trust_score"].cast(pl.Float64).to_numpy()
    raw = scores["raw_score"].cast(pl.Float64).to_numpy()
    ref_trust = reference["trust_score"].cast(pl.Float64).to_numpy()
    ref_raw = reference["raw_score"].cast(pl.Float64).to_numpy()
    low, high = (float(v) for v in np.quantile(ref_raw, list(MON.score_reference_quantiles)))
    below, above = float(np.mean(raw < low)), float(np.mean(raw > high))
    edges = equal_frequency_edges(ref_trust, SETTINGS.ruler.drift_bins)
    ref_counts, _ = bin_counts(ref_trust, edges)
    cur_counts, _ = bin_counts(trust, edges)
    score_psi = psi(ref_counts / ref_trust.size, cur_counts / trust.size, MON.psi_share_floor)
    return {
        "snapshot_date": day, "cohort": cohort, "model_version": version, "row_count": int(trust.size),
        "mean": float(trust.mean()), "stddev": float(trust.std(ddof=1)),
        **{quantile_column(q): float(v) for q, v in zip(QUANTILES, np.quantile(trust, QUANTILES), strict=True)},
        "reference_date": reference_date, "reference_rows": int(ref_trust.size),
        "reference_mean": float(ref_trust.mean()), "raw_reference_low": low, "raw_reference_high": high,
        "share_below_reference": below, "share_above_reference": above, "share_outside_reference": below + above,
        "score_psi": score_psi, "band": band_of(score_psi, MON.psi_investigate, MON.psi_significant),
        "histogram": json.dumps(histogram(trust, MON.score_histogram_bins)),
        "reference_histogram": json.dumps(histogram(ref_trust, MON.score_histogram_bins)),
    }


def fresh_distribution(warehouse: DuckDBWarehouse, day: date) -> pl.DataFrame:
    """The day's score distribution with every reference population re-scored from the reference date's features."""
    scores = warehouse.read(
        f"select snapshot_date, cohort, model_version, raw_score, trust_score from {{analytics}}.{TRUST_SIGNAL} "
        "where snapshot_date = $d", {"d": day},
    ).with_columns(pl.col("snapshot_date").cast(pl.Date))
    rows = []
    for (cohort, version), part in scores.group_by("cohort", "model_version"):
        registry_row, reference = reference_scores(warehouse, version)
        rows.append(fresh_row(day, cohort, version, part, reference, registry_row["training_reference_date"]))
    return as_frame(rows)


def stored(path: Path) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select * from {STORED} order by model_version, computed_at").pl()


def execute(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for sql in statements:
            con.execute(sql)


@pytest.fixture
def copy(pipeline_warehouse, tmp_path) -> Path:
    return pipeline_warehouse.copy_to(tmp_path)


# --- plain frames ----------------------------------------------------------------------------------------------
def _scores(seed: int, n: int) -> pl.DataFrame:
    raw = np.random.default_rng(seed).normal(0.1, 1.3, size=n)
    return pl.DataFrame({"raw_score": raw, "trust_score": np.tanh(raw)})


def test_a_day_against_the_stored_row_equals_a_day_against_the_reference_scores() -> None:
    reference, day_scores = _scores(1, 5000), _scores(2, 3000)
    summary = summarise_reference(
        reference, model_version="tv-1", cohort="tv", ruler_version="ruler-v1", reference_date=date(2025, 7, 31),
        drift_bins=SETTINGS.ruler.drift_bins, reference_quantiles=MON.score_reference_quantiles,
        histogram_bins=MON.score_histogram_bins,
    )
    row = reference_row(summary, datetime(2026, 3, 1, tzinfo=UTC))
    # Through the text the warehouse keeps: JSON floats read back as the same doubles.
    assert summary_of_row(row.row(0, named=True)) == summary
    thresholds = {"psi_investigate": MON.psi_investigate, "psi_significant": MON.psi_significant,
                  "share_floor": MON.psi_share_floor}
    day = date(2026, 2, 28)
    published = as_frame([score_distribution_row(day, "tv", "tv-1", day_scores,
                                                 summary_of_row(row.row(0, named=True)), **thresholds)])
    expected = as_frame([fresh_row(day, "tv", "tv-1", day_scores, reference, date(2025, 7, 31))])
    assert published.equals(expected)
    assert published["reference_rows"][0] == 5000 and published["score_psi"][0] > 0
    assert sum(json.loads(row["score_bin_counts"][0])) == 5000
    assert len(json.loads(row["score_bin_counts"][0])) == len(json.loads(row["score_bin_edges"][0])) + 1


def test_a_row_of_the_same_key_replaces_the_stored_one() -> None:
    def row(version: str, seed: int, hour: int) -> pl.DataFrame:
        summary = summarise_reference(
            _scores(seed, 500), model_version=version, cohort="tv", ruler_version="ruler-v1",
            reference_date=date(2025, 7, 31), drift_bins=10, reference_quantiles=(0.01, 0.99), histogram_bins=20,
        )
        return reference_row(summary, datetime(2026, 3, 1, hour, tzinfo=UTC))

    table = with_rows(pl.DataFrame(schema=REFERENCE_SCORES_SCHEMA), pl.concat([row("tv-1", 1, 1), row("tv-2", 2, 1)]))
    again = with_rows(table, row("tv-1", 3, 2))
    assert again.height == 2
    assert again.filter(pl.col("model_version") == "tv-1")["computed_at"].dt.hour().to_list() == [2]
    assert again.filter(pl.col("model_version") == "tv-2").equals(table.filter(pl.col("model_version") == "tv-2"))
    # Another setting is another key: kept beside the first.
    other = row("tv-1", 1, 3).with_columns(pl.lit(40, dtype=pl.Int64).alias("histogram_bins"))
    assert with_rows(again, other).filter(pl.col("model_version") == "tv-1").height == 2


# --- the session's warehouse ------------------------------------------------------------------------------------
def test_the_published_distribution_equals_a_fresh_rescoring_of_the_reference_date(pipeline_warehouse, copy) -> None:
    warehouse = DuckDBWarehouse(path=str(copy))
    day = pipeline_warehouse.scoring_dates[-1]
    summaries = stored(copy)
    # The pipeline's own runs stored one summary per production version, computed once.
    assert sorted(summaries["cohort"].to_list()) == ["broadband", "mobile", "tv"]
    assert summaries.select("model_version").n_unique() == 3
    fresh = fresh_distribution(warehouse, day)
    published = warehouse.read(
        f"select * from {{analytics}}.{SCORE_DISTRIBUTION} where snapshot_date = $d", {"d": day}
    ).with_columns(pl.col("snapshot_date").cast(pl.Date), pl.col("reference_date").cast(pl.Date))
    assert as_frame(published.to_dicts()).equals(fresh)
    # Without the reference date's features, the stored path still publishes the same figures: it never reads them.
    reference_date = summaries["reference_date"][0]
    execute(copy, *[f"delete from analytics.{c}_features where snapshot_date = DATE '{reference_date}'"
                    for c in ("mobile", "tv", "broadband")])
    assert compute_score_distribution(warehouse, day, day).equals(fresh)
    assert stored(copy).equals(summaries)  # read, not rewritten
    assert fresh["reference_rows"].to_list() == summaries.sort("cohort")["reference_rows"].to_list()


def test_a_missing_summary_is_computed_once_and_then_reused(pipeline_warehouse, copy) -> None:
    warehouse = DuckDBWarehouse(path=str(copy))
    day = pipeline_warehouse.scoring_dates[0]
    execute(copy, f"drop table {STORED}")
    first = compute_score_distribution(warehouse, day, day)
    after_first = stored(copy)
    assert after_first.height == 3
    assert compute_score_distribution(warehouse, day, day).equals(first)
    assert stored(copy).equals(after_first)  # nothing added, nothing rewritten
    assert first.equals(fresh_distribution(warehouse, day))


def test_a_new_model_version_gets_its_own_summary(pipeline_warehouse, copy) -> None:
    from trust_assets.operations.retrain import retrain, training_settings

    warehouse = DuckDBWarehouse(path=str(copy))
    day = pipeline_warehouse.scoring_dates[-1]
    before = stored(copy)
    champion = before.filter(pl.col("cohort") == "tv").row(0, named=True)
    settings = training_settings(logistic_c=SETTINGS.model.logistic_c / 20, ridge_alpha=SETTINGS.model.ridge_alpha * 20)
    [outcome] = retrain(warehouse, ["tv"], "test", "a challenger with other regularisation", settings)
    challenger = outcome.result.model_version
    assert challenger != champion["model_version"]
    # The challenger scores the day's tv customers (as after a promotion); the other cohorts keep their champion.
    execute(copy, f"update analytics.{TRUST_SIGNAL} set model_version = '{challenger}' "
                  f"where cohort = 'tv' and snapshot_date = DATE '{day}'")
    published = compute_score_distribution(warehouse, day, day)
    after = stored(copy)
    assert after.height == 4
    assert after.join(before, on=list(before.columns), how="anti")["model_version"].to_list() == [challenger]
    tv = published.filter(pl.col("cohort") == "tv").row(0, named=True)
    assert tv["model_version"] == challenger
    assert published.equals(fresh_distribution(warehouse, day))
    # Its reference figures are its own, not the champion's stored ones.
    assert tv["reference_mean"] != champion["reference_mean"]
    assert tv["reference_histogram"] != champion["reference_histogram"] or tv["raw_reference_low"] != champion[
        "raw_reference_low"]


def test_a_failed_computation_stores_nothing_and_a_rerun_stores_each_version_once(
    pipeline_warehouse, copy, monkeypatch
) -> None:
    warehouse = DuckDBWarehouse(path=str(copy))
    day = pipeline_warehouse.scoring_dates[0]
    execute(copy, f"drop table {STORED}")
    real = service.fresh_reference_summary

    def tv_fails(w: DuckDBWarehouse, version: str):  # the last version to be scored fails
        if version.startswith("tv-"):
            raise dg.Failure(description="reference scoring interrupted")
        return real(w, version)

    monkeypatch.setattr(service, "fresh_reference_summary", tv_fails)
    with pytest.raises(dg.Failure, match="interrupted"):
        compute_score_distribution(warehouse, day, day)
    assert not warehouse.table_exists(REFERENCE_SCORE_DISTRIBUTION)  # no partial rows (mobile, broadband)
    monkeypatch.setattr(service, "fresh_reference_summary", real)
    compute_score_distribution(warehouse, day, day)
    compute_score_distribution(warehouse, day, day)
    assert sorted(stored(copy)["cohort"].to_list()) == ["broadband", "mobile", "tv"]


def test_a_stored_table_that_breaks_its_schema_fails_the_run_and_is_left_alone(pipeline_warehouse, copy) -> None:
    warehouse = DuckDBWarehouse(path=str(copy))
    day = pipeline_warehouse.scoring_dates[0]
    fine = stored(copy)
    execute(copy, f"insert into {STORED} select * from {STORED} where cohort = 'tv'")  # a re-run that appended
    duplicated = stored(copy)
    with pytest.raises(dg.Failure, match=REFERENCE_SCORE_DISTRIBUTION) as raised:
        compute_score_distribution(warehouse, day, day)
    assert "model_version+ruler_version+reference_date" in str(raised.value.description)
    assert stored(copy).equals(duplicated)  # left for someone to look at, not silently rewritten
    # A summary whose bin counts exceed its reference population is refused when read, too.
    bad = fine.with_columns(
        pl.when(pl.col("cohort") == "mobile").then(1).otherwise(pl.col("reference_rows")).alias("reference_rows")
    )
    warehouse.replace_table(REFERENCE_SCORE_DISTRIBUTION, bad)
    with pytest.raises(dg.Failure, match="counts sum to at most reference_rows"):
        reference_summaries(warehouse, fine["model_version"].to_list())
    assert read_reference_scores(warehouse)["reference_rows"].sort().to_list() == sorted(
        bad["reference_rows"].to_list())

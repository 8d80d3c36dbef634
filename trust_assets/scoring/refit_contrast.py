"""The counterfactual the frozen ruler exists to prevent: a ruler re-fitted on each day's population.

Used by tests and demos to show the contrast: with a re-fitted ruler, a customer whose features did not
change still gets a different score when everyone else changed (an outage elsewhere, a price rise), so a
moving score could no longer be read as a moving customer. Never used to publish scores.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from trust_assets.config import SETTINGS, feature_names
from trust_assets.scoring.arithmetic import ScoringModel, score_frame
from trust_assets.scoring.reference_stats import compute_reference_stats, wide_to_long
from trust_assets.scoring.registry import production_model_row, scoring_model
from trust_assets.tables import feature_table


def refitted_ruler_scores(
    features_day: pl.DataFrame,
    model: ScoringModel,
    cohort: str,
    features: list[str],
    min_segment_support: int,
) -> pl.DataFrame:
    """Scores of one day's rows with a ruler fitted on that same day's rows (and the model's weights).

    Returns ``customer_id, trust_score_refitted, raw_score_refitted``.
    """
    days = features_day["snapshot_date"].unique()
    day = days.min() if days.len() else None
    ruler = compute_reference_stats(
        wide_to_long(features_day, cohort, features),
        ruler_version=f"refitted-{day}",
        period_start=day,  # type: ignore[arg-type]
        period_end=day,  # type: ignore[arg-type]
        min_segment_support=min_segment_support,
    )
    refitted_model = ScoringModel(
        model_version=model.model_version,
        ruler_version=f"refitted-{day}",
        weights=model.weights,
        raw_ref_mean=model.raw_ref_mean,
        raw_ref_stddev=model.raw_ref_stddev,
    )
    scores, _ = score_frame(features_day, ruler, refitted_model, cohort, features, top_k=0)
    return scores.select(
        "customer_id",
        pl.col("trust_score").alias("trust_score_refitted"),
        pl.col("raw_score").alias("raw_score_refitted"),
    )


def score_with_refitted_ruler(path: Path | str, day: date, cohort: str) -> pl.DataFrame:
    """:func:`refitted_ruler_scores` for one day and cohort of a DuckDB warehouse file (production model)."""
    from resources.read_only import ReadOnlyDuckDB
    from trust_assets.store.models import registry_rows, weights_of

    features = feature_names(cohort)
    warehouse = ReadOnlyDuckDB(str(path), SETTINGS.analytics_schema)
    with warehouse.held_open():
        features_day = warehouse.read(
            f"select snapshot_date, customer_id, segment, {', '.join(features)} "
            f"from {{analytics}}.{feature_table(cohort)} where snapshot_date = $d order by customer_id",
            {"d": day},
        )
        row = production_model_row(registry_rows(warehouse, cohort=cohort), cohort)
        weights = weights_of(warehouse, row["model_version"])
    return refitted_ruler_scores(
        features_day, scoring_model(row, weights), cohort, features, SETTINGS.ruler.min_segment_support
    )

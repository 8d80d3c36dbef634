"""The fairness check: score distributions and model error rates across regions and segments.

Per scoring date, cohort, dimension (``region``, ``segment``) and group:

- the distribution of trust_score (n, mean, p10 / p50 / p90) and the share flagged at risk
  (``trust_score < at_risk_trust``);
- the churn model's mean predicted probability and, once the date's outcomes have matured, the realised churn
  rate, their gap (calibration-in-the-large of the group), and the error rates of the at-risk flag against
  realised churn: false positive rate (flagged among customers who stayed) and false negative rate (not
  flagged among customers who churned);
- the **disparity measure**: the standardised mean difference of the group's trust score from its cohort,
  ``|mean_group - mean_cohort| / std_cohort`` (std over the whole cohort that day, ddof=1). Unitless,
  comparable between cohorts and dates, and insensitive to sample size. A group is judged only with at
  least ``min_group_size`` customers; it *exceeds* when the disparity is above ``disparity_threshold``
  (``config.SETTINGS.outcomes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

DIMENSIONS: tuple[str, ...] = ("region", "segment")
DISPARITY_MEASURE = "standardised mean difference of trust_score from the cohort (cohort std units)"

FAIRNESS_SCHEMA: dict[str, pl.DataType] = {
    "scoring_date": pl.Date(),
    "cohort": pl.String(),
    "dimension": pl.String(),
    "group_value": pl.String(),
    "n": pl.Int64(),
    "trust_mean": pl.Float64(),
    "trust_p10": pl.Float64(),
    "trust_p50": pl.Float64(),
    "trust_p90": pl.Float64(),
    "at_risk_share": pl.Float64(),
    "predicted_churn": pl.Float64(),
    "outcomes_matured": pl.Boolean(),
    "realised_churn": pl.Float64(),
    "churn_calibration_gap": pl.Float64(),
    "false_positive_rate": pl.Float64(),
    "false_negative_rate": pl.Float64(),
    "disparity": pl.Float64(),
    "threshold": pl.Float64(),
    "judged": pl.Boolean(),
    "exceeds_threshold": pl.Boolean(),
}

FAIRNESS_DESCRIPTIONS: dict[str, str] = {
    "scoring_date": "Snapshot date whose scores are compared (the partition).",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "dimension": "region or segment.",
    "group_value": "The region or segment (NULL values grouped as '(none)').",
    "n": "Scored customers in the group.",
    "trust_mean": "Mean trust score of the group.",
    "trust_p10": "10th percentile of the group's trust score.",
    "trust_p50": "Median trust score of the group.",
    "trust_p90": "90th percentile of the group's trust score.",
    "at_risk_share": "Share of the group with trust_score below the configured at-risk level.",
    "predicted_churn": "Mean churn probability of the group under the publishing model.",
    "outcomes_matured": "Whether the date's outcome window has closed (realised columns are filled).",
    "realised_churn": "Realised churn rate of the group in the outcome window.",
    "churn_calibration_gap": "predicted_churn - realised_churn.",
    "false_positive_rate": "Flagged at risk among the group's customers who did not churn.",
    "false_negative_rate": "Not flagged at risk among the group's customers who churned.",
    "disparity": "|trust_mean - cohort mean| / cohort trust std (standardised mean difference).",
    "threshold": "Configured disparity threshold.",
    "judged": "Whether the group is large enough to be judged (n >= min_group_size).",
    "exceeds_threshold": "Judged and disparity above the threshold.",
}


def fairness_rows(
    scored: pl.DataFrame,
    scoring_date: date,
    threshold: float,
    min_group_size: int,
    at_risk_trust: float,
    dimensions: Sequence[str] = DIMENSIONS,
) -> pl.DataFrame:
    """``fairness_by_group`` rows of one scoring date.

    ``scored``: one row per cohort and customer with ``cohort, region, segment, trust_score, p_churn`` and
    ``is_churn`` (NULL everywhere when the outcomes have not matured).
    """
    if scored.height == 0:
        return pl.DataFrame(schema=FAIRNESS_SCHEMA)
    matured = scored["is_churn"].null_count() < scored.height
    base = scored.with_columns(
        (pl.col("trust_score") < at_risk_trust).alias("__flag"),
        pl.col("is_churn").cast(pl.Boolean).alias("__churn"),
        pl.col("trust_score").mean().over("cohort").alias("__cohort_mean"),
        pl.col("trust_score").std(ddof=1).over("cohort").alias("__cohort_std"),
    )
    parts: list[pl.DataFrame] = []
    for dimension in dimensions:
        grouped = (
            base.with_columns(pl.col(dimension).cast(pl.String).fill_null("(none)").alias("group_value"))
            .group_by("cohort", "group_value")
            .agg(
                pl.len().cast(pl.Int64).alias("n"),
                pl.col("trust_score").mean().alias("trust_mean"),
                pl.col("trust_score").quantile(0.1, interpolation="linear").alias("trust_p10"),
                pl.col("trust_score").quantile(0.5, interpolation="linear").alias("trust_p50"),
                pl.col("trust_score").quantile(0.9, interpolation="linear").alias("trust_p90"),
                pl.col("__flag").cast(pl.Float64).mean().alias("at_risk_share"),
                pl.col("p_churn").mean().alias("predicted_churn"),
                pl.col("__churn").cast(pl.Float64).mean().alias("realised_churn"),
                pl.col("__flag").filter(pl.col("__churn") == False).cast(pl.Float64).mean()  # noqa: E712
                .alias("false_positive_rate"),
                (~pl.col("__flag")).filter(pl.col("__churn")).cast(pl.Float64).mean().alias("false_negative_rate"),
                pl.col("__cohort_mean").first(),
                pl.col("__cohort_std").first(),
            )
            .with_columns(
                pl.lit(dimension).alias("dimension"),
                pl.lit(scoring_date).alias("scoring_date"),
                pl.lit(matured).alias("outcomes_matured"),
                (pl.col("predicted_churn") - pl.col("realised_churn")).alias("churn_calibration_gap"),
                pl.when(pl.col("__cohort_std") > 0)
                .then((pl.col("trust_mean") - pl.col("__cohort_mean")).abs() / pl.col("__cohort_std"))
                .otherwise(0.0)
                .alias("disparity"),
                pl.lit(float(threshold)).alias("threshold"),
                (pl.col("n") >= min_group_size).alias("judged"),
            )
            .with_columns((pl.col("judged") & (pl.col("disparity") > threshold)).alias("exceeds_threshold"))
        )
        parts.append(grouped)
    out = pl.concat(parts, how="diagonal").sort("cohort", "dimension", "group_value")
    return out.select([pl.col(c).cast(t) for c, t in FAIRNESS_SCHEMA.items()])


def worst_disparity(rows: pl.DataFrame) -> pl.DataFrame:
    """Per cohort and dimension, the largest disparity among judged groups and how many groups exceed."""
    return (
        rows.filter(pl.col("judged"))
        .group_by("cohort", "dimension")
        .agg(
            pl.col("disparity").max().alias("max_disparity"),
            pl.col("group_value").sort_by("disparity", descending=True).first().alias("worst_group"),
            pl.col("exceeds_threshold").sum().cast(pl.Int64).alias("groups_exceeding"),
        )
        .sort("cohort", "dimension")
    )

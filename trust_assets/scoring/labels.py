"""Joining the reference-date features with the outcomes observed after it (the training set).

No leakage by construction: features come from the snapshot at the reference date only, and the outcome
labels describe the window strictly after it (outcome_labels is built that way; the dates are checked here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

LABEL_COLUMNS: tuple[str, ...] = ("is_churn", "is_recontract", "revenue_change")


@dataclass(frozen=True)
class LabelledFrame:
    frame: pl.DataFrame
    n_features: int
    n_labels: int
    n_joined: int
    n_dropped_null_labels: int


def labelled_training_frame(
    features: pl.DataFrame,
    labels: pl.DataFrame,
    cohort: str,
    reference_date: date,
) -> LabelledFrame:
    """Inner join of the cohort's reference-date feature rows with its outcome labels, on customer_id.

    ``features`` may hold other dates (they are filtered out); ``labels`` is the outcome_labels table (other
    cohorts and reference dates are filtered out). Rows with a NULL label are dropped and counted.
    """
    absent = [c for c in ("cohort", "customer_id", "reference_date", *LABEL_COLUMNS) if c not in labels.columns]
    if absent:
        raise ValueError(f"outcome_labels lacks columns {absent}")
    at_reference = features.filter(pl.col("snapshot_date") == reference_date)
    if at_reference.select(pl.col("customer_id").is_duplicated().any()).item():
        raise ValueError(f"{cohort} features hold more than one row per customer on {reference_date}")
    own = labels.filter(
        (pl.col("cohort") == str(cohort)) & (pl.col("reference_date").cast(pl.Date) == reference_date)
    ).select(
        pl.col("customer_id").cast(pl.String),
        pl.col("is_churn").cast(pl.Boolean),
        pl.col("is_recontract").cast(pl.Boolean),
        pl.col("revenue_change").cast(pl.Float64),
    )
    if own.select(pl.col("customer_id").is_duplicated().any()).item():
        raise ValueError(f"outcome_labels hold more than one row per {cohort} customer for {reference_date}")
    joined = at_reference.drop([c for c in LABEL_COLUMNS if c in at_reference.columns]).join(
        own, on="customer_id", how="inner"
    )
    complete = joined.drop_nulls(list(LABEL_COLUMNS))
    return LabelledFrame(
        frame=complete.sort("customer_id"),
        n_features=at_reference.height,
        n_labels=own.height,
        n_joined=joined.height,
        n_dropped_null_labels=joined.height - complete.height,
    )

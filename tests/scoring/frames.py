"""Hand-built frames for the scoring tests: small, seeded, with the shapes of the dbt feature tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import polars as pl

from trust_assets.config import SETTINGS, Cohort, feature_names

SEGMENTS: dict[str, tuple[str, ...]] = {
    "mobile": ("postpaid", "prepaid", "sim_only"),
    "tv": ("basic", "entertainment", "premium"),
    "broadband": ("bb_100", "bb_500", "bb_1000"),
}


def feature_frame(
    cohort: Cohort | str,
    days: Sequence[date],
    customers: int,
    seed: int = 0,
    segment_weights: Sequence[float] = (0.6, 0.3, 0.1),
    null_share: float = 0.05,
) -> pl.DataFrame:
    """A wide feature frame: ``snapshot_date, customer_id, segment`` and one Float64 column per feature.

    Customers keep their segment across days; values drift a little from day to day. Prepaid-like first-or-
    second segments have no contract: ``months_to_contract_end`` is NULL for the second segment.
    """
    cohort = Cohort(cohort)
    rng = np.random.default_rng(seed)
    names = feature_names(cohort)
    segments = rng.choice(SEGMENTS[cohort.value], size=customers, p=np.asarray(segment_weights) / sum(segment_weights))
    base = rng.normal(size=(customers, len(names))) * rng.uniform(0.5, 5.0, size=len(names)) + rng.uniform(
        -3, 10, size=len(names)
    )
    offsets = {s: rng.normal(scale=2.0, size=len(names)) for s in SEGMENTS[cohort.value]}
    parts = []
    for i, day in enumerate(days):
        values = base + np.vstack([offsets[s] for s in segments]) + rng.normal(scale=0.3, size=base.shape) * i
        frame = pl.DataFrame(
            {
                "snapshot_date": [day] * customers,
                "customer_id": [f"{cohort.value[0].upper()}{k:06d}" for k in range(customers)],
                "segment": segments.tolist(),
                **{name: values[:, j] for j, name in enumerate(names)},
            },
            schema={"snapshot_date": pl.Date, "customer_id": pl.String, "segment": pl.String,
                    **{name: pl.Float64 for name in names}},
        )
        nulls = rng.random(size=(customers, len(names))) < null_share
        frame = frame.with_columns(
            [pl.when(pl.Series(nulls[:, j])).then(None).otherwise(pl.col(n)).alias(n) for j, n in enumerate(names)]
        )
        no_contract = pl.col("segment") == SEGMENTS[cohort.value][1]
        frame = frame.with_columns(
            pl.when(no_contract).then(None).otherwise(pl.col("months_to_contract_end")).alias("months_to_contract_end")
        )
        parts.append(frame)
    return pl.concat(parts)


def outcome_labels(features_at_reference: pl.DataFrame, cohort: str, seed: int = 0) -> pl.DataFrame:
    """Outcomes that depend on the features (so the models have something to learn)."""
    rng = np.random.default_rng(seed + 1000)
    names = feature_names(cohort)
    x = features_at_reference.select(names).fill_null(strategy="mean").to_numpy()
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    churn_logit = -1.2 + 0.9 * x[:, 0] - 0.6 * x[:, 1]
    recontract_logit = -0.8 - 0.7 * x[:, 0] + 0.5 * x[:, 2]
    n = len(x)
    return pl.DataFrame(
        {
            "cohort": [cohort] * n,
            "customer_id": features_at_reference["customer_id"],
            "reference_date": [SETTINGS.model.reference_date] * n,
            "is_churn": rng.random(n) < 1 / (1 + np.exp(-churn_logit)),
            "is_recontract": rng.random(n) < 1 / (1 + np.exp(-recontract_logit)),
            "revenue_change": 5.0 * x[:, 2] - 3.0 * x[:, 0] + rng.normal(scale=4.0, size=n),
        }
    )

"""One table, one schema: the three cohort outputs of the trust signal stacked together.

A column a cohort lacks is projected as NULL (docs/architecture.md §7): a Mobile row has no ``icoms_account_uid``, a
TV or Broadband row no ``msisdn``. Dtypes are fixed here so every partition writes the same table shape.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from trust_assets.config import COHORT_IDENTIFIERS, Cohort

# Column order and dtypes of ``customer_trust_signal`` (docs/architecture.md §7).
TRUST_SIGNAL_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_date": pl.Date(),
    "cohort": pl.String(),
    "customer_id": pl.String(),
    "msisdn": pl.String(),
    "icoms_account_uid": pl.String(),
    "segment": pl.String(),
    "region": pl.String(),
    "raw_score": pl.Float64(),
    "trust_score": pl.Float64(),
    "model_version": pl.String(),
    "ruler_version": pl.String(),
    "missing_features": pl.Int64(),
    "top_drivers": pl.String(),
}

TRUST_SIGNAL_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "snapshot_date": "Day the score describes (features as of the end of that day).",
    "cohort": "Product scored: mobile, tv or broadband (a customer with several products has several rows).",
    "customer_id": "CRM customer key, as in customer_360_definition.",
    "msisdn": "Mobile number; NULL on TV and Broadband rows.",
    "icoms_account_uid": "Fixed-line (ICOMS) account id; NULL on Mobile rows.",
    "segment": "Plan, TV package or broadband speed tier the customer was scored in.",
    "region": "Home region from customer_360_definition.",
    "raw_score": "Weighted sum of the customer's z-scored features (sum of weight x z).",
    "trust_score": "The trust index, tanh of the standardised raw score: -1 (eroding) .. +1 (strong).",
    "model_version": "Model version whose weights produced the score.",
    "ruler_version": "Ruler version the features were measured against.",
    "missing_features": "Features without a value for this customer and day (scored at the reference mean).",
    "top_drivers": "Largest weight x z terms, e.g. 'complaints_90d=-0.412; arpu_3m=+0.305'.",
}

ALL_IDENTIFIERS: tuple[str, ...] = ("msisdn", "icoms_account_uid")


def conform_cohort_scores(frame: pl.DataFrame, cohort: Cohort | str) -> pl.DataFrame:
    """One cohort's scored rows in the union schema; identifiers the cohort does not carry become NULL."""
    cohort = Cohort(cohort)
    own = set(COHORT_IDENTIFIERS[cohort])
    absent = [
        name for name in TRUST_SIGNAL_SCHEMA
        if name not in frame.columns and name != "cohort" and not (name in ALL_IDENTIFIERS and name not in own)
    ]
    if absent:
        raise ValueError(f"{cohort.value} scores lack the columns {absent}")
    columns: list[pl.Expr] = []
    for name, dtype in TRUST_SIGNAL_SCHEMA.items():
        if name == "cohort":
            columns.append(pl.lit(cohort.value, dtype=dtype).alias(name))
        elif name in ALL_IDENTIFIERS and name not in own:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
        else:
            columns.append(pl.col(name).cast(dtype))
    return frame.select(columns)


def union_cohort_scores(frames: Mapping[Cohort | str, pl.DataFrame]) -> pl.DataFrame:
    """The cohorts' scored rows in one frame with the fixed schema, ordered by day, cohort and customer."""
    parts = [conform_cohort_scores(frame, cohort) for cohort, frame in frames.items()]
    if not parts:
        return pl.DataFrame(schema=TRUST_SIGNAL_SCHEMA)
    return pl.concat(parts, how="vertical").sort(["snapshot_date", "cohort", "customer_id"])


IDENTITY_KEYS: tuple[str, ...] = ("snapshot_date", "customer_id")


def attach_identifiers(scores: pl.DataFrame, customer_360: pl.DataFrame, cohort: Cohort | str) -> pl.DataFrame:
    """Left-join the cohort's identifiers and region from customer_360 on (snapshot_date, customer_id).

    customer_360 is "who the customer is": identifiers are never re-derived elsewhere. A duplicate key there
    would multiply score rows, so it is refused rather than silently joined. ``has_customer_360`` is NULL on
    rows without a match (the union drops it; callers report it).
    """
    cohort = Cohort(cohort)
    wanted = [*COHORT_IDENTIFIERS[cohort], "region"]
    absent = [c for c in (*IDENTITY_KEYS, *wanted) if c not in customer_360.columns]
    if absent:
        raise ValueError(f"customer_360_definition lacks columns {absent}")
    people = customer_360.select(
        pl.col("snapshot_date").cast(pl.Date),
        pl.col("customer_id").cast(pl.String),
        *[pl.col(c).cast(pl.String) for c in wanted],
        pl.lit(True).alias("has_customer_360"),
    )
    duplicated = people.select(pl.struct(IDENTITY_KEYS).is_duplicated().any()).item()
    if duplicated:
        raise ValueError("customer_360_definition has more than one row for a (snapshot_date, customer_id)")
    return scores.drop([c for c in [*wanted, "has_customer_360"] if c in scores.columns]).join(
        people, on=list(IDENTITY_KEYS), how="left", maintain_order="left"
    )

"""The union of the three cohort outputs: one schema, NULL where a cohort lacks a column."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA, attach_identifiers, union_cohort_scores

DAY = date(2025, 9, 1)


def _scores(prefix: str, n: int = 3) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "snapshot_date": [DAY] * n,
            "customer_id": [f"{prefix}{i}" for i in range(n)],
            "segment": ["s"] * n,
            "raw_score": [0.1 * i for i in range(n)],
            "trust_score": [0.05 * i for i in range(n)],
            "model_version": [f"{prefix}-v"] * n,
            "ruler_version": ["ruler-v1"] * n,
            "missing_features": pl.Series([0, 1, 2][:n], dtype=pl.Int32),
            "top_drivers": ["a=+0.100"] * n,
        }
    )


def _people() -> pl.DataFrame:
    ids = [f"{p}{i}" for p in ("M", "T", "B") for i in range(3)]
    return pl.DataFrame(
        {
            "snapshot_date": [DAY] * len(ids),
            "customer_id": ids,
            "msisdn": [f"4477{i:04d}" for i in range(len(ids))],
            "icoms_account_uid": [f"ICOMS{i}" for i in range(len(ids))],
            "region": ["north"] * len(ids),
        }
    )


def test_union_has_one_schema_and_nulls_identifiers_a_cohort_lacks() -> None:
    frames = {c: attach_identifiers(_scores(p), _people(), c) for c, p in (("mobile", "M"), ("tv", "T"),
                                                                           ("broadband", "B"))}
    union = union_cohort_scores(frames)
    assert union.schema == pl.Schema(TRUST_SIGNAL_SCHEMA)
    assert union.columns == [
        "snapshot_date", "cohort", "customer_id", "msisdn", "icoms_account_uid", "segment", "region",
        "raw_score", "trust_score", "model_version", "ruler_version", "missing_features", "top_drivers",
    ]  # fmt: skip
    mobile = union.filter(pl.col("cohort") == "mobile")
    fixed = union.filter(pl.col("cohort") != "mobile")
    assert mobile["icoms_account_uid"].null_count() == mobile.height == 3
    assert mobile["msisdn"].null_count() == 0
    assert fixed["msisdn"].null_count() == fixed.height == 6
    assert fixed["icoms_account_uid"].null_count() == 0
    assert union["region"].null_count() == 0
    assert union.select(["snapshot_date", "cohort", "customer_id"]).equals(
        union.select(["snapshot_date", "cohort", "customer_id"]).sort(["snapshot_date", "cohort", "customer_id"])
    )


def test_identifiers_a_cohort_lacks_are_nulled_even_if_present() -> None:
    tv = attach_identifiers(_scores("T"), _people(), "tv").with_columns(pl.lit("447700").alias("msisdn"))
    union = union_cohort_scores({"tv": tv})
    assert union["msisdn"].null_count() == union.height


def test_unmatched_rows_keep_null_identifiers_and_duplicates_are_refused() -> None:
    joined = attach_identifiers(_scores("X"), _people(), "mobile")
    assert joined["msisdn"].null_count() == joined.height
    assert joined["has_customer_360"].null_count() == joined.height
    doubled = pl.concat([_people(), _people().head(1)])
    with pytest.raises(ValueError, match="more than one row"):
        attach_identifiers(_scores("M"), doubled, "mobile")


def test_a_missing_score_column_is_an_error_and_empty_union_keeps_schema() -> None:
    with pytest.raises(ValueError, match="lack the columns"):
        union_cohort_scores({"mobile": attach_identifiers(_scores("M"), _people(), "mobile").drop("top_drivers")})
    assert union_cohort_scores({}).schema == pl.Schema(TRUST_SIGNAL_SCHEMA)

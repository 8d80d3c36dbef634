"""The schemas and rules on hand-made frames: every rule reports table, column, rule and example rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from asset_checks import rules
from asset_checks.schemas import (
    PRODUCT_SCHEMAS,
    RAW_SCHEMAS,
    Customer360Schema,
    ModelRegistrySchema,
    ModelWeightsSchema,
    ReferenceScoreDistributionSchema,
    ReferenceStatsSchema,
    TrustSignalSchema,
    feature_model,
    raw_schema,
)
from asset_checks.trust_signal_guard import trust_signal_violations, validate_trust_signal
from asset_checks.validation import validate_frame
from asset_checks.violations import Violation, check_result
from source_contract.raw_tables import MAX_DAYS_BILL_TO_DUE, RAW_TABLES
from tests.guards import frames
from trust_assets.config import COHORTS, feature_names
from trust_assets.monitoring.prediction_distribution import REFERENCE_SCORES_SCHEMA
from trust_assets.scoring.reference_stats import RULER_SCHEMA, ruler_fingerprint
from trust_assets.scoring.registry import REGISTRY_SCHEMA, WEIGHTS_SCHEMA
from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA


def _one(found: list[Violation], column: str | None, rule_part: str) -> Violation:
    hits = [v for v in found if v.column == column and rule_part in v.rule]
    assert len(hits) == 1, f"expected one violation of {column}/{rule_part}, got {found}"
    return hits[0]


# --- the schemas follow the producers and the configuration ------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "producer_schema"),
    [
        (TrustSignalSchema, TRUST_SIGNAL_SCHEMA),
        (ReferenceStatsSchema, RULER_SCHEMA),
        (ModelWeightsSchema, WEIGHTS_SCHEMA),
        (ModelRegistrySchema, REGISTRY_SCHEMA),
        (ReferenceScoreDistributionSchema, REFERENCE_SCORES_SCHEMA),
    ],
)
def test_schemas_accept_the_producers_empty_frames(model, producer_schema) -> None:
    assert validate_frame(pl.DataFrame(schema=producer_schema), model.to_schema(), "t") == []


def test_schemas_cover_every_product_table_and_raw_table() -> None:
    assert set(PRODUCT_SCHEMAS) == {
        "customer_360_definition", "mobile_features", "tv_features", "broadband_features",
        "hierarchical_reference_stats", "trust_model_weights", "model_registry", "customer_trust_signal",
    }  # fmt: skip
    assert set(RAW_SCHEMAS) == {t.name for t in RAW_TABLES}
    for table in RAW_TABLES:
        assert list(raw_schema(table.name).columns) == table.column_names


def test_feature_schemas_follow_the_configured_feature_lists() -> None:
    for cohort in COHORTS:
        columns = list(feature_model(cohort).to_schema().columns)
        assert columns == ["snapshot_date", "customer_id", "segment", *feature_names(cohort)]


@pytest.mark.parametrize(
    ("model", "frame"),
    [
        (Customer360Schema, frames.customer_360()),
        (TrustSignalSchema, frames.trust_signal()),
        (ReferenceStatsSchema, frames.ruler()),
        (ModelWeightsSchema, frames.weights()),
        (ModelRegistrySchema, frames.registry()),
        *[(feature_model(c), frames.features(c.value)) for c in COHORTS],
    ],
)
def test_valid_frames_pass(model, frame) -> None:
    assert rules.schema_violations(frame, model, "t") == []


# --- product rules ----------------------------------------------------------------------------------------------------
def test_trust_score_must_lie_strictly_inside_minus_one_one() -> None:
    frame = frames.trust_signal().with_columns(
        pl.Series("trust_score", [1.0, -1.0, 0.5, 0.0, 1.5, float("nan")])
    )
    found = rules.schema_violations(frame, TrustSignalSchema, "customer_trust_signal")
    upper = _one(found, "trust_score", "less_than(1)")
    lower = _one(found, "trust_score", "greater_than(-1)")
    # NaN sorts above every number in Polars: it breaks the upper bound (and the finite rule) too.
    assert upper.failing_rows == 3 and lower.failing_rows == 1
    assert upper.examples["customer_id"].to_list() == ["C1", "C2", "C3"]  # whole rows, not just the value
    assert _one(found, None, "scores finite").failing_rows == 1


def test_trust_signal_grain_and_identifier_rules() -> None:
    frame = frames.trust_signal()
    doubled = pl.concat([frame, frame.head(1)])
    found = rules.schema_violations(doubled, TrustSignalSchema, "customer_trust_signal")
    grain = _one(found, "snapshot_date+cohort+customer_id", "unique")
    assert grain.failing_rows == 2
    swapped = frame.with_columns(pl.lit(None, dtype=pl.String).alias("msisdn"))
    found = rules.schema_violations(swapped, TrustSignalSchema, "customer_trust_signal")
    assert _one(found, None, "msisdn filled iff cohort is mobile").failing_rows == 2


def test_customer_360_rules() -> None:
    frame = frames.customer_360().with_columns(
        pl.Series("region", ["north", "atlantis", "capital"]),
        pl.Series("has_mobile", [False, False, True]),
    )
    found = rules.schema_violations(frame, Customer360Schema, "customer_360_definition")
    assert _one(found, "region", "isin").examples["customer_id"].to_list() == ["C2"]
    assert _one(found, None, "holds at least one product").examples["customer_id"].to_list() == ["C1"]
    assert _one(found, None, "msisdn filled iff has_mobile").failing_rows == 1


def test_feature_table_rules() -> None:
    frame = frames.features("mobile").with_columns(
        pl.Series("data_gb_28d", [-1.0, float("inf")]), pl.Series("segment", ["postpaid", "gold"])
    )
    found = rules.schema_violations(frame, feature_model("mobile"), "mobile_features")
    assert _one(found, "data_gb_28d", "greater_than_or_equal_to(0)").failing_rows == 1
    assert _one(found, None, "features finite").failing_rows == 1
    assert _one(found, "segment", "isin").failing_rows == 1
    extra = frames.features("mobile").with_columns(pl.lit(1.0).alias("surprise"))
    assert _one(rules.schema_violations(extra, feature_model("mobile"), "mobile_features"), "surprise",
                "no unexpected column")


def test_ruler_rules() -> None:
    ruler = frames.ruler()
    doubled = pl.concat([ruler, ruler.head(1)])  # a cohort row (segment NULL) twice
    grain = rules.grain_violations(doubled, ["ruler_version", "cohort", "segment", "feature"], "r")
    assert grain and grain[0].failing_rows == 2 and grain[0].examples["segment"].is_null().all()
    bad = ruler.with_columns(pl.when(pl.int_range(pl.len()) < 2).then(0.0).otherwise(pl.col("stddev")).alias("stddev"))
    assert rules.stddev_violations(bad)[0].failing_rows == 2
    unknown = ruler.with_columns(pl.lit("shoe_size").alias("feature"))
    assert _one(rules.schema_violations(unknown, ReferenceStatsSchema, "r"), None, "feature belongs")


def test_ruler_fingerprint_rule() -> None:
    ruler = frames.ruler()
    issues = pl.DataFrame({"ruler_version": ["ruler-v1"], "fingerprint": [ruler_fingerprint(ruler)]})
    assert rules.fingerprint_violations(ruler, issues) == []
    moved = ruler.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(9.9).otherwise(pl.col("mean")).alias("mean"))
    found = rules.fingerprint_violations(moved, issues)
    assert found[0].rule == "content unchanged since the ruler was issued"
    assert found[0].examples["issued_fingerprint"][0] == ruler_fingerprint(ruler)
    unissued = pl.concat([ruler, frames.ruler("ruler-v2")])
    assert _one(rules.fingerprint_violations(unissued, issues), "ruler_version", "issue record")


def test_model_rules() -> None:
    weights = frames.weights()
    assert rules.schema_violations(weights, ModelWeightsSchema, "w") == []
    first = pl.int_range(pl.len()) == 0
    off = weights.with_columns(pl.when(first).then(5.0).otherwise(pl.col("weight")).alias("weight"))
    assert _one(rules.schema_violations(off, ModelWeightsSchema, "w"), None, "weight = w_recontract").failing_rows == 1
    features = {c.value: feature_names(c) for c in COHORTS}
    assert rules.weights_coverage_violations(weights, frames.registry(), features) == []
    assert rules.weights_coverage_violations(weights.slice(1), frames.registry(), features)[0].failing_rows == 1
    two = frames.registry({"m1": ("mobile", "production"), "m2": ("mobile", "production"), "t": ("tv", "staging")})
    found = rules.production_violations(two)
    assert found[0].examples.sort("cohort").to_dicts() == [
        {"cohort": "broadband", "production_versions": 0},
        {"cohort": "mobile", "production_versions": 2},
        {"cohort": "tv", "production_versions": 0},
    ]
    bad = frames.registry().with_columns(pl.lit(0.0).alias("raw_ref_stddev"), pl.lit("staging?").alias("status"))
    found = rules.schema_violations(bad, ModelRegistrySchema, "model_registry")
    assert _one(found, "raw_ref_stddev", "greater_than(0)").failing_rows == 3
    assert _one(found, "status", "isin").failing_rows == 3


def test_row_count_rule() -> None:
    counts = pl.DataFrame({"day": [date(2026, 2, 26), date(2026, 2, 27), date(2026, 2, 28)], "rows": [100, 105, 80]})
    found, empty = rules.row_count_violations(counts, date(2026, 2, 27), date(2026, 2, 28), 0.10, "t")
    assert not empty and found[0].failing_rows == 1
    assert found[0].examples.row(0, named=True)["previous_day_rows"] == 105
    found, empty = rules.row_count_violations(counts, date(2026, 2, 27), date(2026, 3, 1), 0.10, "t")
    assert empty and "not empty" in found[0].rule
    # The first partition ever has no previous day: nothing to compare.
    assert rules.row_count_violations(counts.head(1), date(2026, 2, 26), date(2026, 2, 26), 0.1, "t") == ([], False)


def test_missing_share_rule() -> None:
    frame = frames.features("tv").with_columns(pl.lit(None, dtype=pl.Float64).alias("viewing_hours_28d"))
    found = rules.missing_share_violations(frame, feature_names("tv"), 0.35, "tv_features")
    assert [(v.column, v.failing_rows) for v in found] == [("viewing_hours_28d", 1)]
    assert found[0].examples["missing_share"][0] == 1.0


def test_coverage_rule() -> None:
    expected = rules.holders(frames.customer_360())
    scored = frames.trust_signal()
    what = "every customer holding the product in customer_360_definition"
    assert rules.coverage_violations(scored, expected, "s", what) == []
    broken = pl.concat([scored.filter(pl.col("cohort") != "tv"), scored.head(1)])
    found = rules.coverage_violations(broken, expected, "s", what)
    assert _one(found, "customer_id", "has a row").failing_rows == 2
    assert _one(found, "customer_id", "exactly one row").failing_rows == 1
    stranger = scored.with_columns(pl.lit("C9").alias("customer_id")).head(1)
    found = rules.coverage_violations(pl.concat([scored, stranger]), expected, "s", what)
    assert _one(found, "customer_id", "only customer").examples["customer_id"].to_list() == ["C9"]


# --- the pre-write guard and the check result format ------------------------------------------------------------------
def test_validate_trust_signal_refuses_a_bad_frame_with_a_full_message() -> None:
    good = frames.trust_signal()
    assert validate_trust_signal(good) is good
    bad = good.with_columns(pl.lit(1.0).alias("trust_score"))
    with pytest.raises(dg.Failure) as caught:
        validate_trust_signal(bad, start=frames.DAY, end=frames.DAY)
    text = caught.value.description or ""
    assert "customer_trust_signal.trust_score" in text and "less_than(1)" in text and "NOT written" in text
    assert '"customer_id": "C1"' in text  # example rows in the message
    meta = caught.value.metadata
    assert meta["table"].value == "customer_trust_signal" and meta["column"].value == "trust_score"
    assert trust_signal_violations(good.head(0)) != []


def test_check_result_names_table_column_rule_and_examples() -> None:
    frame = frames.trust_signal().with_columns(pl.lit(-3.0).alias("trust_score"))
    found = rules.schema_violations(frame, TrustSignalSchema, "customer_trust_signal")
    result = check_result(found, severity=dg.AssetCheckSeverity.ERROR, passed_text="ok", partition="2026-02-28")
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert "customer_trust_signal.trust_score: rule `greater_than(-1)` broken, 6 row(s)" in (result.description or "")
    violations = result.metadata["violations"].value
    assert violations[0]["examples"][0]["customer_id"] == "C1" and len(violations[0]["examples"]) == 5
    assert result.metadata["partition_window"].value == "2026-02-28"
    assert check_result([], severity=dg.AssetCheckSeverity.ERROR, passed_text="all good").passed


# --- raw contract schemas -----------------------------------------------------------------------------------------
def _bills() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "bill_id": ["B1", "B2", "B3"],
            "customer_id": ["C1", "C2", "C3"],
            "product": ["mobile", "tv", "broadband"],
            "bill_date": [date(2026, 2, 1)] * 3,
            "due_date": [date(2026, 2, 15)] * 3,
            "amount": [20.0, 30.0, 40.0],
            "loaded_at": [datetime(2026, 2, 2, 3)] * 3,
        }
    )


def test_raw_schema_reports_each_kind_of_bad_input() -> None:
    schema = raw_schema("bills")
    assert validate_frame(_bills(), schema, "raw.bills") == []

    dropped = validate_frame(_bills().drop("amount"), schema, "raw.bills")
    assert _one(dropped, "amount", "required column present").detail == "expected type Float64"

    renamed = validate_frame(_bills().rename({"amount": "amount_gbp"}), schema, "raw.bills")
    assert _one(renamed, "amount", "required column present")

    retyped = validate_frame(_bills().with_columns(pl.col("amount").cast(pl.String)), schema, "raw.bills")
    assert _one(retyped, "amount", "type is Float64").detail == "expected Float64, found String"
    assert len(retyped) == 1  # the range rules on the mistyped column are not reported twice

    nulls = validate_frame(_bills().with_columns(pl.Series("customer_id", [None, "C2", None])), schema, "raw.bills")
    assert _one(nulls, "customer_id", "not null").examples["bill_id"].to_list() == ["B1", "B3"]

    doubled = validate_frame(pl.concat([_bills(), _bills().head(1)]), schema, "raw.bills")
    assert _one(doubled, "bill_id+loaded_at", "unique").failing_rows == 2

    absurd = validate_frame(_bills().with_columns(pl.Series("amount", [-5.0, 1e9, 3.0])), schema, "raw.bills")
    assert _one(absurd, "amount", "greater_than_or_equal_to(0)").examples["amount"].to_list() == [-5.0]
    assert _one(absurd, "amount", "less_than_or_equal_to").examples["amount"].to_list() == [1e9]

    wrong = validate_frame(_bills().with_columns(pl.Series("product", ["mobile", "fax", "tv"])), schema, "raw.bills")
    assert _one(wrong, "product", "isin").examples["bill_id"].to_list() == ["B2"]

    backwards = _bills().with_columns(pl.Series("due_date", [date(2026, 1, 1), date(2026, 2, 15), date(2026, 2, 15)]))
    assert _one(validate_frame(backwards, schema, "raw.bills"), None, "due_date on or after bill_date")

    # Due 60 days after issue is within the contract, 61 days is not: the payments look-back rests on it.
    due = [date(2026, 2, 1) + timedelta(days=d) for d in (60, 61, 14)]
    late_due = validate_frame(_bills().with_columns(pl.Series("due_date", due)), schema, "raw.bills")
    assert _one(late_due, None, f"due_date at most {MAX_DAYS_BILL_TO_DUE} days after bill_date").failing_rows == 1
    assert len(late_due) == 1


def test_the_payments_look_back_follows_the_due_date_rule() -> None:
    """The gate and the daily models read the payments of 180 + MAX_DAYS_BILL_TO_DUE days: the late-payment window
    (bills due in the 180 days ending on D) plus the longest a bill may be due after it was issued."""
    import re

    from asset_checks.raw_contract import RAW_WINDOWS
    from trust_assets.dbt_project import DBT_PROJECT_DIR

    assert RAW_WINDOWS["payments"].lookback_days == 180 + MAX_DAYS_BILL_TO_DUE
    macro = (DBT_PROJECT_DIR / "macros" / "raw_partitions.sql").read_text()
    (days,) = re.findall(r"'payments': \('paid_date', 'date', (\d+)\)", macro)
    assert int(days) == 180 + MAX_DAYS_BILL_TO_DUE


def test_raw_schema_future_dates_and_engine_dtypes() -> None:
    future = _bills().with_columns(pl.Series("bill_date", [date(2026, 2, 1), date(2027, 1, 1), date(2026, 2, 1)]))
    found = validate_frame(future, raw_schema("bills", as_of=date(2026, 2, 28)), "raw.bills")
    assert _one(found, "bill_date", "2026-02-28").examples["bill_id"].to_list() == ["B2"]
    # BigQuery hands INT64 and tz-aware timestamps; DuckDB INTEGER and naive ones: both keep the contract.
    usage = pl.DataFrame(
        {
            "icoms_account_uid": ["A1"],
            "week_ending": [date(2026, 2, 22)],
            "viewing_minutes": [600.0],
            "active_days": pl.Series([5], dtype=pl.Int32),
            "buffering_events": pl.Series([2], dtype=pl.Int64),
            "loaded_at": pl.Series([datetime(2026, 2, 23)]).dt.replace_time_zone("UTC"),
        }
    )
    assert validate_frame(usage, raw_schema("tv_viewing_weekly"), "raw.tv_viewing_weekly") == []
    impossible = usage.with_columns(pl.Series("active_days", [9], dtype=pl.Int32))
    assert _one(validate_frame(impossible, raw_schema("tv_viewing_weekly"), "t"), "active_days", "less_than")

"""Small hand-made frames that satisfy the product schemas, for unit tests of the guards."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from trust_assets.config import COHORTS, feature_names
from trust_assets.scoring.reference_stats import RULER_SCHEMA
from trust_assets.scoring.registry import REGISTRY_SCHEMA, WEIGHTS_SCHEMA
from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA

DAY = date(2026, 2, 28)


def customer_360(day: date = DAY) -> pl.DataFrame:
    """Three customers: mobile only, tv + broadband, all three."""
    return pl.DataFrame(
        {
            "snapshot_date": [day] * 3,
            "customer_id": ["C1", "C2", "C3"],
            "region": ["north", "south", "capital"],
            "customer_type": ["consumer", "consumer", "small_business"],
            "signup_date": [date(2020, 1, 1)] * 3,
            "tenure_months": [74.0, 74.0, 74.0],
            "has_mobile": [True, False, True],
            "has_tv": [False, True, True],
            "has_broadband": [False, True, True],
            "msisdn": ["447700000001", None, "447700000003"],
            "mobile_plan_type": ["postpaid", None, "sim_only"],
            "icoms_account_uid": [None, "A2", "A3"],
            "tv_package": [None, "basic", "premium"],
            "broadband_speed_tier": [None, "bb_100", "bb_1000"],
            "monthly_revenue": [20.0, 55.0, 90.0],
        }
    )


def trust_signal(day: date = DAY) -> pl.DataFrame:
    """The scored rows for :func:`customer_360`: one per customer and product held."""
    rows = [
        ("mobile", "C1", "447700000001", None, "postpaid"),
        ("mobile", "C3", "447700000003", None, "sim_only"),
        ("tv", "C2", None, "A2", "basic"),
        ("tv", "C3", None, "A3", "premium"),
        ("broadband", "C2", None, "A2", "bb_100"),
        ("broadband", "C3", None, "A3", "bb_1000"),
    ]
    return pl.DataFrame(
        {
            "snapshot_date": [day] * len(rows),
            "cohort": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "msisdn": [r[2] for r in rows],
            "icoms_account_uid": [r[3] for r in rows],
            "segment": [r[4] for r in rows],
            "region": ["north", "north", "south", "capital", "south", "capital"],
            "raw_score": [0.1, -0.4, 1.2, 0.0, -2.0, 0.3],
            "trust_score": [0.05, -0.2, 0.6, 0.0, -0.9, 0.15],
            "model_version": [f"{r[0]}-v1" for r in rows],
            "ruler_version": ["ruler-v1"] * len(rows),
            "missing_features": [0, 1, 0, 2, 0, 0],
            "top_drivers": ["complaints_90d=-0.100"] * len(rows),
        },
        schema=TRUST_SIGNAL_SCHEMA,
    )


def features(cohort: str, day: date = DAY) -> pl.DataFrame:
    people = {"mobile": [("C1", "postpaid"), ("C3", "sim_only")], "tv": [("C2", "basic"), ("C3", "premium")],
              "broadband": [("C2", "bb_100"), ("C3", "bb_1000")]}[cohort]
    data: dict[str, list] = {
        "snapshot_date": [day] * len(people),
        "customer_id": [p[0] for p in people],
        "segment": [p[1] for p in people],
    }
    for i, name in enumerate(feature_names(cohort)):
        data[name] = [float(i), float(i) + 0.5]
    return pl.DataFrame(data)


def ruler(version: str = "ruler-v1") -> pl.DataFrame:
    rows = []
    for cohort in COHORTS:
        for name in feature_names(cohort):
            rows.append((version, cohort.value, None, name, 100, 1.0, 0.5))
            rows.append((version, cohort.value, "seg", name, 40, 1.1, 0.6))
    return pl.DataFrame(
        {
            "ruler_version": [r[0] for r in rows],
            "cohort": [r[1] for r in rows],
            "segment": [r[2] for r in rows],
            "feature": [r[3] for r in rows],
            "n": [r[4] for r in rows],
            "mean": [r[5] for r in rows],
            "stddev": [r[6] for r in rows],
            "period_start": [date(2025, 2, 1)] * len(rows),
            "period_end": [date(2025, 7, 31)] * len(rows),
        },
        schema=RULER_SCHEMA,
    )


def weights(versions: dict[str, str] | None = None) -> pl.DataFrame:
    versions = versions or {"mobile-v1": "mobile", "tv-v1": "tv", "broadband-v1": "broadband"}
    rows = []
    for version, cohort in versions.items():
        for name in feature_names(cohort):
            w_churn, w_recontract, w_nrc = 0.2, 0.1, 0.05
            rows.append((version, cohort, name, w_churn, w_recontract, w_nrc, w_recontract + w_nrc - w_churn))
    return pl.DataFrame([dict(zip(WEIGHTS_SCHEMA, r, strict=True)) for r in rows], schema=WEIGHTS_SCHEMA)


def registry(statuses: dict[str, tuple[str, str]] | None = None) -> pl.DataFrame:
    statuses = statuses or {
        "mobile-v1": ("mobile", "production"),
        "tv-v1": ("tv", "production"),
        "broadband-v1": ("broadband", "production"),
    }
    rows = []
    for version, (cohort, status) in statuses.items():
        row = {name: None for name in REGISTRY_SCHEMA}
        row.update(
            model_version=version, cohort=cohort, status=status, ruler_version="ruler-v1", raw_ref_mean=0.1,
            raw_ref_stddev=1.3, trained_at=datetime(2026, 2, 1, tzinfo=UTC),
        )
        rows.append(row)
    return pl.DataFrame(rows, schema=REGISTRY_SCHEMA)

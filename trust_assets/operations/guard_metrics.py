"""Guard metrics of a promotion in probation, and the rule that turns them into a regression.

Plain functions over Polars frames, no warehouse and no Dagster: the probation asset feeds them the day's
published rows of the new champion and the previous champion's scores of the same customers, and the automatic
rollback sensor feeds :func:`find_regression` the stored metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from trust_assets.config import ProbationSettings
from trust_assets.operations.shadow import score_psi

GUARD_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_date": pl.Date(),
    "cohort": pl.String(),
    "champion_version": pl.String(),
    "previous_version": pl.String(),
    "customers": pl.Int64(),
    "rank_agreement": pl.Float64(),
    "score_psi": pl.Float64(),
    "outside_share": pl.Float64(),
    "missing_feature_share": pl.Float64(),
    "mean_shift": pl.Float64(),
    "matured_auc_drop": pl.Float64(),
}

GUARD_DESCRIPTIONS: dict[str, str] = {
    "snapshot_date": "Published day in the promotion's probation.",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "champion_version": "The newly promoted version that published the day.",
    "previous_version": "The champion it replaced, scoring the same customers beside it.",
    "customers": "Customers scored by both versions on the day.",
    "rank_agreement": "Spearman rank correlation of the two versions' trust scores (1 = same order).",
    "score_psi": "PSI of the champion's trust scores over deciles of the previous champion's.",
    "outside_share": "Share of the champion's raw scores outside its reference range (registry mean +- k sd).",
    "missing_feature_share": "Share of feature values missing over the champion's rows of the day.",
    "mean_shift": "Mean trust score of the champion minus that of the previous champion, same customers.",
    "matured_auc_drop": "Held-out churn AUC minus the day's matured churn AUC; NULL until the outcome window closes.",
}


@dataclass(frozen=True)
class Guard:
    """One guard: the metric column, its threshold, and whether a value below (``floor``) or above breaches."""

    metric: str
    threshold: float
    floor: bool = False
    # The mean shift breaches in either direction.
    absolute: bool = False

    def breached(self, value: float | None) -> bool:
        """A missing value (no matured outcomes yet, no comparison) never breaches."""
        if value is None or math.isnan(value):
            return False
        if self.floor:
            return value < self.threshold
        return (abs(value) if self.absolute else value) > self.threshold

    def describe(self) -> str:
        if self.floor:
            return f"{self.metric} < {self.threshold}"
        return f"{'|' + self.metric + '|' if self.absolute else self.metric} > {self.threshold}"


def guards(settings: ProbationSettings) -> tuple[Guard, ...]:
    return (
        Guard("rank_agreement", settings.min_rank_agreement, floor=True),
        Guard("score_psi", settings.max_score_psi),
        Guard("outside_share", settings.max_outside_share),
        Guard("missing_feature_share", settings.max_missing_feature_share),
        Guard("mean_shift", settings.max_mean_shift, absolute=True),
        Guard("matured_auc_drop", settings.max_auc_drop),
    )


@dataclass(frozen=True)
class ReferenceRange:
    """A version's raw-score centre and unit from the registry (raw_ref_mean, raw_ref_stddev)."""

    mean: float
    stddev: float


def guard_metrics(
    champion: pl.DataFrame,
    previous: pl.DataFrame,
    feature_counts: Mapping[str, int],
    ranges: Mapping[str, ReferenceRange],
    range_sd: float,
    matured: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per day and cohort, the guard metrics of the published champion against the previous champion.

    ``champion`` and ``previous``: snapshot_date, cohort, customer_id, raw_score, trust_score, model_version,
    missing_features. ``feature_counts``: features per cohort. ``ranges``: reference centre and unit per
    version. ``matured``: snapshot_date, cohort, model_version, roc_auc, heldout_roc_auc of the churn model on
    days whose outcome window has closed (None or empty before any has).
    """
    keys = ["snapshot_date", "cohort", "customer_id"]
    joined = champion.select(
        *keys, "raw_score", "missing_features", pl.col("trust_score").alias("new"), pl.col("model_version").alias("nv")
    ).join(
        previous.select(*keys, pl.col("trust_score").alias("old"), pl.col("model_version").alias("ov")),
        on=keys,
        how="inner",
    )
    auc_drop: dict[tuple[date, str, str], float] = {}
    if matured is not None:
        for row in matured.iter_rows(named=True):
            if row["roc_auc"] is not None and row["heldout_roc_auc"] is not None:
                key = (row["snapshot_date"], row["cohort"], row["model_version"])
                auc_drop[key] = float(row["heldout_roc_auc"]) - float(row["roc_auc"])
    rows = []
    for (day, cohort), part in joined.group_by(["snapshot_date", "cohort"], maintain_order=True):
        version = part["nv"][0]
        centre = ranges[version]
        z = (part["raw_score"] - centre.mean) / centre.stddev
        rows.append(
            {
                "snapshot_date": day,
                "cohort": cohort,
                "champion_version": version,
                "previous_version": part["ov"][0],
                "customers": part.height,
                "rank_agreement": part.select(pl.corr("new", "old", method="spearman")).item(),
                "score_psi": score_psi(part["old"], part["new"]),
                "outside_share": float((z.abs() > range_sd).mean()),  # type: ignore[arg-type]
                "missing_feature_share": float(part["missing_features"].sum()) / (part.height * feature_counts[cohort]),
                "mean_shift": float(part["new"].mean() - part["old"].mean()),  # type: ignore[operator]
                "matured_auc_drop": auc_drop.get((day, cohort, version)),
            }
        )
    return pl.DataFrame(rows, schema=GUARD_SCHEMA).sort("snapshot_date", "cohort")


@dataclass(frozen=True)
class Regression:
    """A guard that breached on ``len(days)`` consecutive days: the evidence of an automatic rollback."""

    cohort: str
    champion_version: str
    guard: Guard
    days: list[date]
    values: list[float]

    def evidence(self) -> dict[str, object]:
        return {
            "metric": self.guard.metric,
            "threshold": self.guard.threshold,
            "rule": self.guard.describe(),
            "days": [d.isoformat() for d in self.days],
            "values": [round(v, 6) for v in self.values],
        }


def find_regression(
    metrics: pl.DataFrame, first_day: date, last_day: date, settings: ProbationSettings
) -> Regression | None:
    """The first guard (by the day its run completes, then in guard order) that breached on
    ``settings.consecutive_days`` consecutive calendar days within [first_day, last_day]; None if none did.

    ``metrics`` holds one cohort's rows for one champion (GUARD_SCHEMA). A day without a row breaks a run: the
    day was not compared, so it is no evidence either way.
    """
    window = metrics.filter(pl.col("snapshot_date").is_between(first_day, last_day)).sort("snapshot_date")
    found: list[tuple[date, int, Regression]] = []
    for order, guard in enumerate(guards(settings)):
        run_days: list[date] = []
        run_values: list[float] = []
        for row in window.iter_rows(named=True):
            day, value = row["snapshot_date"], row[guard.metric]
            if not guard.breached(value):
                run_days, run_values = [], []
                continue
            if run_days and day != run_days[-1] + timedelta(days=1):
                run_days, run_values = [], []
            run_days.append(day)
            run_values.append(float(value))
            if len(run_days) == settings.consecutive_days:
                found.append(
                    (day, order, Regression(row["cohort"], row["champion_version"], guard, run_days, run_values))
                )
                break
    return min(found, key=lambda f: (f[0], f[1]))[2] if found else None

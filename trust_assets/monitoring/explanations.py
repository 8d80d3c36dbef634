"""Per-customer explanations and score-change attribution ("did the customer move, or did the model?").

Explanation of one customer, cohort and date: the published score decomposed into its terms
``contribution_f = w_f * z_f`` (docs/architecture.md §3), computed by the very functions daily scoring uses
(:func:`standardise.standardise` and :mod:`arithmetic`), so ``sum_f contribution_f == raw_score`` and the
largest terms are the row's ``top_drivers``.

Attribution of a change between dates t1 and t2, with ``s(x, m)`` the trust score of feature values ``x``
under model version ``m`` (its weights, raw-score reference and the ruler version it was trained with)::

    total     = s(x2, m2) - s(x1, m1)          the change of the published score
    behaviour = s(x2, m1) - s(x1, m1)          the customer's features moved, model and ruler held at t1's
    model     = s(x2, m2) - s(x2, m1)          the model / ruler version changed, behaviour held at t2's

``behaviour + model == total`` up to floating-point rounding (far below 1e-9). When both dates were scored
with the same version, ``s(x2, m2)`` and ``s(x2, m1)`` are the same computation, so the model part is exactly
0.0 and the behaviour part is exactly the total. The behaviour part is further split per feature on the raw
scale under m1: ``w1_f * (z_f(x2) - z_f(x1))`` sums to the raw-score change under m1 (the trust score is a
tanh of it, so that split is on the raw scale, not the trust scale).

Published scores stand for ``s(x1, m1)`` and ``s(x2, m2)`` where they exist, so the total is exactly the
change a dashboard shows. A recomputed raw score equals the published one bit for bit; a recomputed trust
score may differ from it in the last bit (tanh over a day's batch is vectorised), far below 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from trust_assets.config import SETTINGS, Cohort
from trust_assets.published import describe_dates, nearest_dates
from trust_assets.scoring.arithmetic import raw_score_expr, trust_expr, with_top_drivers
from trust_assets.scoring.feature_reads import FeatureTableError, feature_table, read_features
from trust_assets.scoring.standardise import standardise, z_column
from trust_assets.store.models import ModelVersion, load_model_version, production_version
from trust_assets.store.signal import published_row, scored_dates
from trust_assets.tables import CUSTOMER_360, TRUST_SIGNAL

if TYPE_CHECKING:  # `trust explain` reads through resources.read_only, without Dagster
    from resources.read_only import WarehouseReader





class ExplanationError(LookupError):
    """The customer, date or model version asked about is not in the warehouse; the message says which, and what
    the warehouse holds instead."""


def feature_row(warehouse: WarehouseReader, customer_id: str, cohort: str, day: date) -> pl.DataFrame:
    """The customer's feature row of that date (one row), as scoring reads it."""
    try:
        rows = read_features(
            warehouse, Cohort(cohort), "snapshot_date = $d and customer_id = $id", {"d": day, "id": customer_id}
        )
    except FeatureTableError as exc:
        raise ExplanationError(str(exc)) from exc
    if rows.height == 0:
        raise ExplanationError(why_no_features(warehouse, customer_id, cohort, day))
    if rows.height != 1:
        raise ExplanationError(f"{cohort} features hold {rows.height} rows for customer {customer_id} on {day}")
    return rows


def why_no_features(warehouse: WarehouseReader, customer_id: str, cohort: str, day: date) -> str:
    """Why a customer has no feature row of a cohort on a date, in the order a user would check: the customer
    does not exist, the date was not scored (with the nearest scored dates), or the customer does not hold the
    product on that date (with the products held)."""
    known = warehouse.read(
        f"select count(*) filter (where customer_id = $id) as found, min(customer_id) as example "
        f"from {{analytics}}.{CUSTOMER_360}",
        {"id": customer_id},
    ).row(0, named=True)
    if not known["found"]:
        return (f"unknown customer {customer_id!r}: {CUSTOMER_360} has no such customer_id "
                f"(ids look like {known['example']})")
    has_day = warehouse.read(
        f"select count(*) as n from {{analytics}}.{feature_table(cohort)} where snapshot_date = $d", {"d": day}
    )["n"][0]
    if not has_day:
        scored = scored_dates(warehouse, cohort)
        if not scored:
            return f"{cohort} was not scored on {day}, nor on any other day: {TRUST_SIGNAL} holds no {cohort} rows"
        near = ", ".join(str(d) for d in nearest_dates(scored, day))
        return (f"{cohort} was not scored on {day}: the nearest scored dates are {near} "
                f"(scored {describe_dates(scored)})")
    held = [
        other.value for other in Cohort
        if other.value != cohort and warehouse.read(
            f"select count(*) as n from {{analytics}}.{feature_table(other)} "
            "where snapshot_date = $d and customer_id = $id",
            {"d": day, "id": customer_id},
        )["n"][0]
    ]
    holds = f"on that day they hold {', '.join(held)}" if held else "they hold no scored product on that day"
    return f"customer {customer_id} holds no {cohort} product on {day}: {holds}"


# --- plain functions over frames -------------------------------------------------------------------------------
def contributions(features: pl.DataFrame, version: ModelVersion) -> pl.DataFrame:
    """Long frame ``customer_id, snapshot_date, feature, value, z, weight, contribution`` for every row of a
    wide feature frame, z-scored against the version's ruler exactly as scoring does."""
    names = version.features
    z = standardise(features, version.ruler, version.cohort, names).frame
    long = [
        z.select(
            "customer_id",
            "snapshot_date",
            pl.lit(f).alias("feature"),
            pl.col(f).cast(pl.Float64).alias("value"),
            pl.col(z_column(f)).alias("z"),
            pl.lit(float(version.model.weights[f])).alias("weight"),
            (pl.lit(float(version.model.weights[f])) * pl.col(z_column(f))).alias("contribution"),
        )
        for f in names
    ]
    return pl.concat(long)


def score_rows(features: pl.DataFrame, version: ModelVersion) -> pl.DataFrame:
    """``customer_id, snapshot_date, raw_score, trust_score, top_drivers`` of a wide feature frame under a
    version: the arithmetic of :mod:`arithmetic`, same expressions and order of additions."""
    names = version.features
    z = standardise(features, version.ruler, version.cohort, names).frame
    scored = z.with_columns(raw_score_expr(version.model.weights, names).alias("raw_score")).with_columns(
        trust_expr(pl.col("raw_score"), version.model.raw_ref_mean, version.model.raw_ref_stddev).alias("trust_score")
    )
    scored = with_top_drivers(scored, version.model.weights, names, SETTINGS.model.top_drivers)
    return scored.select("customer_id", "snapshot_date", "raw_score", "trust_score", "top_drivers")


@dataclass(frozen=True)
class Explanation:
    customer_id: str
    cohort: str
    snapshot_date: date
    model_version: str
    ruler_version: str
    raw_score: float
    trust_score: float
    top_drivers: str
    # One row per feature, largest |contribution| first: feature, value, z, weight, contribution.
    terms: pl.DataFrame
    published: Mapping[str, Any] | None

    @property
    def z_raw(self) -> float:
        return math.atanh(self.trust_score) if abs(self.trust_score) < 1 else math.copysign(math.inf, self.trust_score)

    def render(self) -> str:
        lines = [
            f"customer {self.customer_id}, {self.cohort}, {self.snapshot_date}: trust_score {self.trust_score:+.4f} "
            f"(raw_score {self.raw_score:+.4f}) with model {self.model_version}, ruler {self.ruler_version}",
            f"top drivers: {self.top_drivers or '(none)'}",
            "",
            f"{'feature':<26}{'value':>12}{'z':>10}{'weight':>10}{'w*z':>10}",
        ]
        for f, v, z, w, c in self.terms.select("feature", "value", "z", "weight", "contribution").iter_rows():
            shown = "NULL" if v is None or not math.isfinite(v) else f"{v:.3f}"
            lines.append(f"{f:<26}{shown:>12}{z:>+10.3f}{w:>+10.4f}{c:>+10.4f}")
        lines.append(f"{'sum = raw_score':<58}{self.raw_score:>+10.4f}")
        if self.published is not None:
            lines.append(
                f"published: raw_score {self.published['raw_score']:+.4f}, trust_score "
                f"{self.published['trust_score']:+.4f}, top_drivers {self.published['top_drivers']}"
            )
        else:
            lines.append(f"not published: {TRUST_SIGNAL} has no {self.cohort} row of this customer on "
                         f"{self.snapshot_date}; computed from the feature row with model {self.model_version}")
        return "\n".join(lines)


def explain_frame(
    features: pl.DataFrame, version: ModelVersion, published: Mapping[str, Any] | None = None
) -> Explanation:
    """The explanation of a one-row feature frame under a version."""
    if features.height != 1:
        raise ValueError(f"explain one customer at a time, got {features.height} rows")
    terms = contributions(features, version).sort(pl.col("contribution").abs(), descending=True, maintain_order=True)
    scored = score_rows(features, version).row(0, named=True)
    return Explanation(
        customer_id=str(scored["customer_id"]),
        cohort=version.cohort,
        snapshot_date=scored["snapshot_date"],
        model_version=version.model.model_version,
        ruler_version=version.model.ruler_version,
        raw_score=float(scored["raw_score"]),
        trust_score=float(scored["trust_score"]),
        top_drivers=str(scored["top_drivers"]),
        terms=terms.drop("customer_id", "snapshot_date"),
        published=published,
    )


@dataclass(frozen=True)
class Attribution:
    customer_id: str
    cohort: str
    date_from: date
    date_to: date
    model_from: str
    model_to: str
    score_from: float  # s(x1, m1)
    score_to: float  # s(x2, m2)
    score_to_under_old_model: float  # s(x2, m1)
    # Per feature under m1: weight, z_from, z_to, raw_change = w1 * (z_to - z_from).
    behaviour_by_feature: pl.DataFrame

    @property
    def total(self) -> float:
        return self.score_to - self.score_from

    @property
    def behaviour(self) -> float:
        return self.score_to_under_old_model - self.score_from

    @property
    def model(self) -> float:
        return self.score_to - self.score_to_under_old_model

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "cohort": self.cohort,
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "model_from": self.model_from,
            "model_to": self.model_to,
            "trust_from": self.score_from,
            "trust_to": self.score_to,
            "total_change": self.total,
            "behaviour_part": self.behaviour,
            "model_part": self.model,
        }

    def render(self) -> str:
        lines = [
            f"customer {self.customer_id}, {self.cohort}: trust_score {self.score_from:+.4f} on {self.date_from} "
            f"({self.model_from}) -> {self.score_to:+.4f} on {self.date_to} ({self.model_to})",
            f"  total change     {self.total:+.6f}",
            f"  behaviour part   {self.behaviour:+.6f}   features moved, model {self.model_from} held fixed",
            f"  model part       {self.model:+.6f}   model/ruler version change, features of {self.date_to} held",
            "",
            f"behaviour by feature (raw scale, model {self.model_from}):",
        ]
        for f, c in self.behaviour_by_feature.select("feature", "raw_change").iter_rows():
            if c != 0:
                lines.append(f"  {f:<26}{c:>+10.4f}")
        return "\n".join(lines)


def attribute_frames(
    features_from: pl.DataFrame,
    features_to: pl.DataFrame,
    version_from: ModelVersion,
    version_to: ModelVersion,
    published_from: float | None = None,
    published_to: float | None = None,
) -> Attribution:
    """Attribution between two one-row feature frames of one customer (see the module docstring).

    ``published_from`` / ``published_to``: the published trust scores of the two dates, if any. They *are*
    ``s(x1, m1)`` and ``s(x2, m2)``; using them makes the total exactly the change a dashboard shows (a
    recomputation can differ in the last bit, because tanh over a whole day's batch is vectorised). A
    published score further than 1e-9 from its recomputation means the inputs changed since it was published.
    """
    if version_from.cohort != version_to.cohort:
        raise ValueError(f"versions of different cohorts: {version_from.cohort} and {version_to.cohort}")
    s11 = score_rows(features_from, version_from).row(0, named=True)
    s21 = score_rows(features_to, version_from).row(0, named=True)
    # Same version: reuse the very number, so the model part is exactly 0.0 (not merely close).
    same = version_from.model == version_to.model and version_from.ruler.equals(version_to.ruler)
    s22 = s21 if same else score_rows(features_to, version_to).row(0, named=True)
    score_from = _published_or(float(s11["trust_score"]), published_from, "from")
    score_to = _published_or(float(s22["trust_score"]), published_to, "to")
    before = contributions(features_from, version_from).select("feature", "weight", pl.col("z").alias("z_from"))
    after = contributions(features_to, version_from).select("feature", pl.col("z").alias("z_to"))
    by_feature = before.join(after, on="feature", how="left", maintain_order="left").with_columns(
        (pl.col("weight") * pl.col("z_to") - pl.col("weight") * pl.col("z_from")).alias("raw_change")
    ).sort(pl.col("raw_change").abs(), descending=True, maintain_order=True)
    return Attribution(
        customer_id=str(s11["customer_id"]),
        cohort=version_from.cohort,
        date_from=s11["snapshot_date"],
        date_to=s21["snapshot_date"],
        model_from=version_from.model.model_version,
        model_to=version_to.model.model_version,
        score_from=score_from,
        score_to=score_to,
        score_to_under_old_model=score_to if same else float(s21["trust_score"]),
        behaviour_by_feature=by_feature,
    )


def _published_or(computed: float, published: float | None, which: str) -> float:
    if published is None:
        return computed
    if abs(published - computed) > 1e-9:
        raise ExplanationError(
            f"the published {which}-date score {published!r} does not match its recomputation {computed!r}: the "
            "features or the model rows changed after it was published"
        )
    return float(published)


# --- warehouse entry points --------------------------------------------------------------------------------------
def _version_of_date(
    warehouse: WarehouseReader, customer_id: str, cohort: str, day: date, model_version: str | None
) -> tuple[str, dict[str, Any] | None]:
    """The version to explain with: as asked, else the one that published the row, else production."""
    published = published_row(warehouse, customer_id, cohort, day)
    if model_version:
        return model_version, published
    if published is not None:
        return str(published["model_version"]), published
    return production_version(warehouse, cohort), None


def explain(
    warehouse: WarehouseReader, customer_id: str, cohort: str, day: date, model_version: str | None = None
) -> Explanation:
    """The decomposition of a customer's score on a date (by default with the version that published it).

    The customer and date are checked before the version, so a wrong id is named as such whatever else is asked.
    """
    features = feature_row(warehouse, customer_id, cohort, day)
    version_id, published = _version_of_date(warehouse, customer_id, cohort, day, model_version)
    version = load_model_version(warehouse, version_id, cohort)
    return explain_frame(features, version, published)


def attribute(
    warehouse: WarehouseReader,
    customer_id: str,
    cohort: str,
    date_from: date,
    date_to: date,
    model_from: str | None = None,
    model_to: str | None = None,
) -> Attribution:
    """Split a customer's score change between two dates into behaviour and model parts.

    Each date's model version is the one that published that date's score (override with ``model_from`` /
    ``model_to``, e.g. to ask "what would a challenger have changed?").
    """
    features_from = feature_row(warehouse, customer_id, cohort, date_from)
    features_to = feature_row(warehouse, customer_id, cohort, date_to)
    v1, row1 = _version_of_date(warehouse, customer_id, cohort, date_from, model_from)
    v2, row2 = _version_of_date(warehouse, customer_id, cohort, date_to, model_to)
    version_from = load_model_version(warehouse, v1, cohort)
    version_to = version_from if v2 == v1 else load_model_version(warehouse, v2, cohort)

    def _published(row: Mapping[str, Any] | None, version: str) -> float | None:
        # A published score stands for s(x, m) only when m is the version that published it.
        return float(row["trust_score"]) if row is not None and row["model_version"] == version else None

    return attribute_frames(
        features_from,
        features_to,
        version_from,
        version_to,
        published_from=_published(row1, v1),
        published_to=_published(row2, v2),
    )


def parse_drivers(text: str) -> list[tuple[str, float]]:
    """``"a=+0.120; b=-0.045"`` -> ``[("a", 0.12), ("b", -0.045)]`` (the ``top_drivers`` format)."""
    out: list[tuple[str, float]] = []
    for part in (p.strip() for p in (text or "").split(";")):
        if part:
            name, value = part.split("=", 1)
            out.append((name, float(value)))
    return out


def top_terms(terms: pl.DataFrame, k: int) -> Sequence[tuple[str, float]]:
    """The ``k`` largest non-zero |w*z| terms of an explanation (what ``top_drivers`` lists)."""
    nonzero = terms.filter(pl.col("contribution") != 0)
    return list(nonzero.head(k).select("feature", "contribution").iter_rows())

"""z-scores of a cohort's feature frame against the stored ruler (never against today's population).

This is the one code path that turns feature values into model inputs: training and daily scoring both
call :func:`standardise`, so a model is served exactly the inputs it was trained on.

Rules (docs/architecture.md §3):
- the ruler entry of a value is its segment's row where the ruler has one, else the cohort row;
- a missing value (NULL or not finite) scores z = 0, the reference mean, and counts as missing;
- an entry whose stddev is 0 or NULL is unusable: z = 0 (not counted as missing, reported instead).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from trust_assets.scoring.reference_stats import missing_expr

Z_PREFIX = "z__"
MISSING_COLUMN = "missing_features"
# Each row's segment as a small integer: 0 is the cohort level, 1.. the ruler's segments.
SEGMENT_CODE = "__segment_code"


def z_column(feature: str) -> str:
    return f"{Z_PREFIX}{feature}"


@dataclass(frozen=True)
class Standardised:
    """The input frame plus one ``z__<feature>`` column per feature and ``missing_features``."""

    frame: pl.DataFrame
    features: tuple[str, ...]
    # Ruler entries of this cohort that are unusable (stddev 0 or NULL), with the rows they affected.
    unusable: pl.DataFrame

    @property
    def z_columns(self) -> list[str]:
        return [z_column(f) for f in self.features]

    def z_matrix(self) -> pl.DataFrame:
        return self.frame.select(self.z_columns)


def cohort_ruler(ruler: pl.DataFrame, cohort: str, ruler_version: str | None = None) -> pl.DataFrame:
    """The rows of one cohort (and optionally one version) of a stored ruler table."""
    rows = ruler.filter(pl.col("cohort") == str(cohort))
    if ruler_version is not None:
        rows = rows.filter(pl.col("ruler_version") == ruler_version)
    if rows.select("ruler_version").n_unique() > 1:
        raise ValueError(f"ruler rows of {cohort} mix versions {sorted(rows['ruler_version'].unique())}")
    return rows


def _usable(stddev: float | None) -> bool:
    return stddev is not None and math.isfinite(stddev) and stddev != 0


@dataclass(frozen=True)
class _RulerGrid:
    """The ruler as small arrays indexed by [segment code, feature]: code 0 is "no segment row" (the cohort
    level), codes 1.. the ruler's segments. A row's entries are then one gather per feature, not a join."""

    segments: tuple[str, ...]
    means: list[list[float]]  # [code][feature]
    # stddev, NULL where the entry is unusable (so z is 0 there)
    sds: list[list[float | None]]
    # whether the entry is the segment's own row (False: the cohort row stands in)
    own: list[list[bool]]


def _ruler_grid(rules: pl.DataFrame, features: Sequence[str]) -> _RulerGrid:
    cohort_level = {r["feature"]: r for r in rules.filter(pl.col("segment").is_null()).iter_rows(named=True)}
    by_segment: dict[str, dict[str, dict[str, object]]] = {}
    for r in rules.filter(pl.col("segment").is_not_null()).iter_rows(named=True):
        by_segment.setdefault(r["segment"], {}).setdefault(r["feature"], r)
    segments = tuple(sorted(by_segment))
    means: list[list[float]] = []
    sds: list[list[float | None]] = []
    own: list[list[bool]] = []
    for segment in (None, *segments):
        entries = by_segment.get(segment, {}) if segment is not None else {}
        rows = [entries.get(f) or cohort_level[f] for f in features]
        means.append([r["mean"] for r in rows])  # type: ignore[misc]
        sds.append([r["stddev"] if _usable(r["stddev"]) else None for r in rows])  # type: ignore[arg-type,misc]
        own.append([f in entries for f in features])
    return _RulerGrid(segments, means, sds, own)


@dataclass(frozen=True)
class RulerLookup:
    """A cohort's ruler prepared for a feature list: each row's segment becomes a small integer code once
    (:meth:`with_code`), and :meth:`z` is feature ``j``'s z-score as an expression over the coded frame, so
    callers compute what they need from it in one pass without materialising z columns they do not keep."""

    rules: pl.DataFrame
    features: tuple[str, ...]
    grid: _RulerGrid

    def with_code(self, frame: pl.DataFrame) -> pl.DataFrame:
        code = (
            pl.col("segment").cast(pl.String)
            .replace_strict({s: i + 1 for i, s in enumerate(self.grid.segments)}, default=0, return_dtype=pl.UInt32)
            .fill_null(0)
        )
        return frame.with_columns(pl.col("segment").cast(pl.String), code.alias(SEGMENT_CODE))

    def z(self, j: int) -> pl.Expr:
        """z of feature ``j``: 0 where the value is missing or the entry unusable, else (x - mean) / sd with
        the mean and sd gathered from the tiny per-segment arrays by the row's code (a gather, not a join)."""
        sds = [s[j] for s in self.grid.sds]
        mean = pl.lit(pl.Series([m[j] for m in self.grid.means], dtype=pl.Float64)).gather(pl.col(SEGMENT_CODE))
        sd = pl.lit(pl.Series(sds, dtype=pl.Float64)).gather(pl.col(SEGMENT_CODE))
        x = pl.col(self.features[j]).cast(pl.Float64)
        # Present values are the finite ones (is_finite of NULL is NULL, which when() takes as false); the
        # stddev test is only spelled out when the feature has an unusable entry, to save a pass per feature.
        scored = x.is_finite() & sd.is_not_null() if None in sds else x.is_finite()
        return pl.when(scored).then((x - mean) / sd).otherwise(pl.lit(0.0))

    def missing_count(self) -> pl.Expr:
        if not self.features:
            return pl.lit(0, pl.Int64).alias(MISSING_COLUMN)
        flags = [missing_expr(pl.col(f).cast(pl.Float64)) for f in self.features]
        return pl.sum_horizontal(flags).cast(pl.Int64).alias(MISSING_COLUMN)

    def unusable(self, coded: pl.DataFrame) -> pl.DataFrame:
        """Unusable ruler entries of the cohort and how many present values of ``coded`` each one zeroed."""
        return _unusable_report(self.rules, self.features, coded, self.grid)


def ruler_lookup(frame: pl.DataFrame, ruler: pl.DataFrame, cohort: str, features: Sequence[str]) -> RulerLookup:
    """Check that ``ruler`` (one version's rows) covers ``features`` and ``frame`` holds them, and prepare it.

    A feature without a cohort-level ruler row is an error: the ruler and the feature definition disagree.
    """
    features = tuple(features)
    rules = cohort_ruler(ruler, cohort)
    cohort_level = rules.filter(pl.col("segment").is_null())
    absent = sorted(set(features) - set(cohort_level["feature"].to_list()))
    if absent:
        raise ValueError(
            f"the ruler has no cohort-level entry for {cohort} features {absent}: the feature definition "
            "changed since the ruler was issued; issue a new ruler version"
        )
    absent_cols = [c for c in ("segment", *features) if c not in frame.columns]
    if absent_cols:
        raise ValueError(f"{cohort} feature frame lacks columns {absent_cols}")
    return RulerLookup(rules, features, _ruler_grid(rules, features))


def standardise(
    frame: pl.DataFrame,
    ruler: pl.DataFrame,
    cohort: str,
    features: Sequence[str],
) -> Standardised:
    """z-score ``features`` of a wide cohort frame (with a ``segment`` column) against ``ruler``.

    ``ruler`` holds one version's rows (other cohorts' rows are ignored). A feature without a cohort-level
    ruler row is an error: the ruler and the feature definition disagree.
    """
    lookup = ruler_lookup(frame, ruler, cohort, features)
    z_exprs = [lookup.z(j).alias(z_column(f)) for j, f in enumerate(lookup.features)]
    out = lookup.with_code(frame).lazy().with_columns(*z_exprs, lookup.missing_count()).collect()
    return Standardised(frame=out.drop(SEGMENT_CODE), features=lookup.features, unusable=lookup.unusable(out))


def _unusable_report(
    rules: pl.DataFrame, features: Sequence[str], coded: pl.DataFrame, grid: _RulerGrid
) -> pl.DataFrame:
    """Unusable ruler entries of the cohort and how many present values each one zeroed."""
    entries = (
        rules.filter(
            pl.col("feature").is_in(list(features))
            & (pl.col("stddev").is_null() | (pl.col("stddev") == 0) | ~pl.col("stddev").is_finite().fill_null(False))
        )
        .select("cohort", "segment", "feature", "n", "stddev")
        .sort(["cohort", "feature", "segment"], nulls_last=False)
    )
    if entries.height == 0:
        return entries.with_columns(pl.lit(0, pl.Int64).alias("rows_affected"))
    # Present values per segment code and feature (one small aggregation), then each entry sums the codes
    # that resolve to it: its own segment, or (cohort row) every code without its own row for the feature.
    present = coded.group_by(SEGMENT_CODE).agg(
        [(~missing_expr(pl.col(f).cast(pl.Float64))).sum().alias(f) for f in features]
    )
    counts = {row[SEGMENT_CODE]: row for row in present.iter_rows(named=True)}
    index = {f: j for j, f in enumerate(features)}
    affected: list[int] = []
    for segment, feature in entries.select("segment", "feature").iter_rows():
        j = index[feature]
        if segment is None:
            codes = [c for c in range(len(grid.segments) + 1) if not grid.own[c][j]]
        else:
            codes = [grid.segments.index(segment) + 1]
        affected.append(int(sum(counts[c][feature] for c in codes if c in counts)))
    return entries.with_columns(pl.Series("rows_affected", affected, dtype=pl.Int64))


def unusable_features(ruler: pl.DataFrame, cohort: str, features: Sequence[str]) -> list[str]:
    """Features whose cohort-level ruler entry is unusable: a model gives them weight 0."""
    rows = cohort_ruler(ruler, cohort).filter(pl.col("segment").is_null() & pl.col("feature").is_in(list(features)))
    bad = rows.filter(
        pl.col("stddev").is_null() | (pl.col("stddev") == 0) | ~pl.col("stddev").is_finite().fill_null(False)
    )
    return [f for f in features if f in set(bad["feature"].to_list())]

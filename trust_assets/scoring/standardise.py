"""z-scores of a cohort's feature frame against the stored ruler (never against today's population).

This is the one code path that turns feature values into model inputs: training and daily scoring both
call :func:`standardise`, so a model is served exactly the inputs it was trained on.

Rules (spec section 3):
- the ruler entry of a value is its segment's row where the ruler has one, else the cohort row;
- a missing value (NULL or not finite) scores z = 0, the reference mean, and counts as missing;
- an entry whose stddev is 0 or NULL is unusable: z = 0 (not counted as missing, reported instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from trust_assets.scoring.reference_stats import missing_expr

Z_PREFIX = "z__"
MISSING_COLUMN = "missing_features"


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


def _lookup_columns(features: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    return (
        [f"__mean__{f}" for f in features],
        [f"__sd__{f}" for f in features],
        [f"__seg__{f}" for f in features],
    )


def _segment_lookup(ruler: pl.DataFrame, features: Sequence[str]) -> pl.DataFrame:
    """One row per ruler segment with each feature's mean, stddev and whether the segment has the entry."""
    means, sds, has = _lookup_columns(features)
    seg_rows = ruler.filter(pl.col("segment").is_not_null())
    schema = {"segment": pl.String(), **{c: pl.Float64() for c in means + sds},
              **{c: pl.Boolean() for c in has}}
    if seg_rows.height == 0:
        return pl.DataFrame(schema=schema)
    return seg_rows.group_by("segment").agg(
        *[pl.col("mean").filter(pl.col("feature") == f).first().alias(m) for f, m in zip(features, means, strict=True)],
        *[pl.col("stddev").filter(pl.col("feature") == f).first().alias(s) for f, s in zip(features, sds, strict=True)],
        *[(pl.col("feature") == f).any().alias(h) for f, h in zip(features, has, strict=True)],
    ).select([pl.col(c).cast(t) for c, t in schema.items()])


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

    cohort_mean = dict(zip(cohort_level["feature"].to_list(), cohort_level["mean"].to_list(), strict=True))
    cohort_sd = dict(zip(cohort_level["feature"].to_list(), cohort_level["stddev"].to_list(), strict=True))
    means, sds, has = _lookup_columns(features)

    joined = frame.with_columns(pl.col("segment").cast(pl.String)).join(
        _segment_lookup(rules, features), on="segment", how="left", maintain_order="left"
    )
    resolved = joined.with_columns(
        *[
            pl.when(pl.col(h).fill_null(False)).then(pl.col(m)).otherwise(pl.lit(cohort_mean[f], pl.Float64)).alias(m)
            for f, m, h in zip(features, means, has, strict=True)
        ],
        *[
            pl.when(pl.col(h).fill_null(False)).then(pl.col(s)).otherwise(pl.lit(cohort_sd[f], pl.Float64)).alias(s)
            for f, s, h in zip(features, sds, has, strict=True)
        ],
    )

    def _unusable(s: str) -> pl.Expr:
        return pl.col(s).is_null() | (pl.col(s) == 0) | ~pl.col(s).is_finite().fill_null(False)

    z_exprs = [
        pl.when(missing_expr(pl.col(f).cast(pl.Float64)) | _unusable(s))
        .then(pl.lit(0.0))
        .otherwise((pl.col(f).cast(pl.Float64) - pl.col(m)) / pl.col(s))
        .alias(z_column(f))
        for f, m, s in zip(features, means, sds, strict=True)
    ]
    missing_count = pl.sum_horizontal(
        [missing_expr(pl.col(f).cast(pl.Float64)).cast(pl.Int64) for f in features]
    ).alias(MISSING_COLUMN) if features else pl.lit(0, pl.Int64).alias(MISSING_COLUMN)
    out = resolved.with_columns(*z_exprs, missing_count)
    return Standardised(
        frame=out.drop(means + sds + has),
        features=features,
        unusable=_unusable_report(rules, features, out),
    )


def _unusable_report(rules: pl.DataFrame, features: Sequence[str], resolved: pl.DataFrame) -> pl.DataFrame:
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
    # Few entries (a ruler is small), so one count expression per entry, all evaluated in one pass.
    counts: list[pl.Expr] = []
    for i, (segment, feature) in enumerate(entries.select("segment", "feature").iter_rows()):
        has = pl.col(f"__seg__{feature}").fill_null(False)
        uses_entry = (pl.col("segment") == segment) & has if segment is not None else ~has
        present = ~missing_expr(pl.col(feature).cast(pl.Float64))
        counts.append((uses_entry & present).fill_null(False).sum().cast(pl.Int64).alias(str(i)))
    affected = resolved.select(counts).row(0)
    return entries.with_columns(pl.Series("rows_affected", list(affected), dtype=pl.Int64))


def unusable_features(ruler: pl.DataFrame, cohort: str, features: Sequence[str]) -> list[str]:
    """Features whose cohort-level ruler entry is unusable: a model gives them weight 0."""
    rows = cohort_ruler(ruler, cohort).filter(pl.col("segment").is_null() & pl.col("feature").is_in(list(features)))
    bad = rows.filter(
        pl.col("stddev").is_null() | (pl.col("stddev") == 0) | ~pl.col("stddev").is_finite().fill_null(False)
    )
    return [f for f in features if f in set(bad["feature"].to_list())]

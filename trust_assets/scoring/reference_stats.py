"""The fixed ruler: reference means and standard deviations per cohort and per cohort x segment.

The ruler is computed once from the reference period and stored under a ``ruler_version``; daily scoring
only ever reads it. Segment rows exist only for segments with enough reference rows, so a thin segment
never gets a noisy ruler of its own: its customers are measured with the cohort row.

A value is "missing" when it is NULL or not finite (NaN, +-inf); missing values are left out of the
statistics here and are scored as z = 0 (see :mod:`trust_assets.scoring.standardise`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

# Column order and dtypes of the ``hierarchical_reference_stats`` table (docs/architecture.md §7).
RULER_SCHEMA: dict[str, pl.DataType] = {
    "ruler_version": pl.String(),
    "cohort": pl.String(),
    "segment": pl.String(),
    "feature": pl.String(),
    "n": pl.Int64(),
    "mean": pl.Float64(),
    "stddev": pl.Float64(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
}

RULER_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "ruler_version": "Version of the ruler; a version, once issued, never changes.",
    "cohort": "Product cohort: mobile, tv or broadband.",
    "segment": "Plan, package or speed tier; NULL on the cohort-level row every lookup falls back to.",
    "feature": "Behaviour feature the statistics describe.",
    "n": "Non-missing reference values the statistics are computed from.",
    "mean": "Reference mean of the feature (the z = 0 point).",
    "stddev": "Reference sample standard deviation (the z unit); 0 or NULL makes the feature unusable.",
    "period_start": "First day of the reference period.",
    "period_end": "Last day of the reference period.",
}

# Significant digits kept by the fingerprint: far above any real change, far below summation-order noise.
FINGERPRINT_DIGITS = 12

LONG_COLUMNS = ("cohort", "segment", "feature", "value")


def missing_expr(column: str | pl.Expr) -> pl.Expr:
    """True where a feature value is missing: NULL or not finite."""
    col = pl.col(column) if isinstance(column, str) else column
    return ~col.is_finite().fill_null(False)  # is_finite of NULL is NULL: filled as not finite


def wide_to_long(frame: pl.DataFrame, cohort: str, features: Sequence[str]) -> pl.DataFrame:
    """A cohort's wide feature frame (``segment`` + one column per feature) as long rows.

    Returns ``cohort, segment, feature, value`` with one row per input row and feature.
    """
    absent = [f for f in features if f not in frame.columns]
    if absent:
        raise ValueError(f"{cohort} feature frame lacks feature columns {absent}")
    if "segment" not in frame.columns:
        raise ValueError(f"{cohort} feature frame lacks the segment column")
    return (
        frame.select(
            pl.col("segment").cast(pl.String),
            *[pl.col(f).cast(pl.Float64) for f in features],
        )
        .unpivot(on=list(features), index="segment", variable_name="feature", value_name="value")
        .with_columns(pl.lit(str(cohort), dtype=pl.String).alias("cohort"))
        .select(LONG_COLUMNS)
    )


def _segment_supported(min_segment_support: int) -> pl.Expr:
    """Whether a segment's statistics of a feature can stand on their own.

    Support is counted per feature in reference rows that carry a value, so a segment whose customers lack a
    feature (months_to_contract_end of prepaid lines) is measured on the cohort row for it. A segment in which
    the feature never varied (stddev 0) cannot measure a deviation either: the cohort row measures it, so an
    event absent from that segment's reference period (an outage) still registers when it happens.
    """
    return (pl.col("n") >= min_segment_support) & (pl.col("stddev") > 0)


def compute_reference_stats(
    long: pl.DataFrame,
    *,
    ruler_version: str,
    period_start: date,
    period_end: date,
    min_segment_support: int,
) -> pl.DataFrame:
    """The hierarchical ruler from long feature rows (``cohort, segment, feature, value``).

    Cohort rows (segment NULL) exist for every cohort and feature. A segment row exists for a feature when the
    segment has at least ``min_segment_support`` reference rows (all snapshots together) with a value of that
    feature (for a feature without missing values: the segment's row count) and the feature varies within the
    segment (stddev > 0). ``n`` is the number of non-missing values; ``stddev`` is the sample standard
    deviation (ddof = 1), NULL when ``n < 2``.
    """
    missing = [c for c in LONG_COLUMNS if c not in long.columns]
    if missing:
        raise ValueError(f"long feature frame lacks columns {missing}")
    base = long.select(
        pl.col("cohort").cast(pl.String),
        pl.col("segment").cast(pl.String),
        pl.col("feature").cast(pl.String),
        pl.col("value").cast(pl.Float64),
    )
    finite = base.filter(~missing_expr("value"))

    def _stats(keys: list[str]) -> pl.DataFrame:
        # Sorting the values first makes float summation order independent of the input row order.
        return (
            finite.sort([*keys, "value"])
            .group_by(keys, maintain_order=True)
            .agg(
                pl.len().cast(pl.Int64).alias("n"),
                pl.col("value").mean().alias("mean"),
                pl.col("value").std(ddof=1).alias("stddev"),
            )
        )

    cohort_keys = base.select("cohort", "feature").unique()
    cohort_rows = (
        cohort_keys.join(_stats(["cohort", "feature"]), on=["cohort", "feature"], how="left")
        .with_columns(pl.lit(None, dtype=pl.String).alias("segment"))
    )
    segment_rows = _stats(["cohort", "segment", "feature"]).filter(
        pl.col("segment").is_not_null() & _segment_supported(min_segment_support)
    )
    ruler = pl.concat(
        [cohort_rows.select("cohort", "segment", "feature", "n", "mean", "stddev"),
         segment_rows.select("cohort", "segment", "feature", "n", "mean", "stddev")],
        how="vertical",
    ).with_columns(
        pl.col("n").fill_null(0),
        pl.lit(ruler_version, dtype=pl.String).alias("ruler_version"),
        pl.lit(period_start, dtype=pl.Date).alias("period_start"),
        pl.lit(period_end, dtype=pl.Date).alias("period_end"),
    )
    return conform_ruler(ruler)


def compute_reference_stats_from_wide(
    frames: Mapping[str, pl.DataFrame],
    features: Mapping[str, Sequence[str]],
    *,
    ruler_version: str,
    period_start: date,
    period_end: date,
    min_segment_support: int,
) -> pl.DataFrame:
    """The ruler from one wide feature frame per cohort (``features[cohort]`` names the feature columns).

    Same rules as :func:`compute_reference_stats`, aggregated column-wise so that a large reference
    population is never unpivoted into one row per value.
    """
    parts: list[pl.DataFrame] = []
    for cohort, frame in frames.items():
        names = list(features[cohort])
        absent = [c for c in ("segment", *names) if c not in frame.columns]
        if absent:
            raise ValueError(f"{cohort} feature frame lacks columns {absent}")
        wide = frame.select(pl.col("segment").cast(pl.String), *[pl.col(f).cast(pl.Float64) for f in names])
        aggregations = [
            expr
            for i, f in enumerate(names)
            for expr in (
                (~missing_expr(f)).sum().cast(pl.Int64).alias(f"n_{i}"),
                pl.col(f).filter(~missing_expr(f)).mean().alias(f"mean_{i}"),
                pl.col(f).filter(~missing_expr(f)).std(ddof=1).alias(f"stddev_{i}"),
            )
        ]
        by_cohort = wide.select(aggregations).with_columns(pl.lit(None, dtype=pl.String).alias("segment"))
        by_segment = wide.filter(pl.col("segment").is_not_null()).group_by("segment").agg(aggregations)
        summary = pl.concat([by_cohort, by_segment.select(by_cohort.columns)], how="vertical")
        # The summary has one row per segment: reshaping it to one row per (segment, feature) is cheap.
        for i, f in enumerate(names):
            parts.append(
                summary.select(
                    pl.lit(str(cohort), dtype=pl.String).alias("cohort"),
                    pl.col("segment"),
                    pl.lit(f, dtype=pl.String).alias("feature"),
                    pl.col(f"n_{i}").alias("n"),
                    pl.col(f"mean_{i}").alias("mean"),
                    pl.col(f"stddev_{i}").alias("stddev"),
                ).filter(pl.col("segment").is_null() | _segment_supported(min_segment_support))
            )
    ruler = pl.concat(parts, how="vertical").with_columns(
        pl.lit(ruler_version, dtype=pl.String).alias("ruler_version"),
        pl.lit(period_start, dtype=pl.Date).alias("period_start"),
        pl.lit(period_end, dtype=pl.Date).alias("period_end"),
    )
    return conform_ruler(ruler)


def conform_ruler(ruler: pl.DataFrame) -> pl.DataFrame:
    """The ruler with the table's exact columns, dtypes and a deterministic row order."""
    return ruler.select([pl.col(c).cast(t) for c, t in RULER_SCHEMA.items()]).sort(
        ["cohort", "segment", "feature"], nulls_last=False
    )


def ruler_fingerprint(ruler: pl.DataFrame) -> str:
    """sha256 of a ruler's content (not its version), with floats rounded to 12 significant digits.

    The same reference data always gives the same fingerprint, whatever the row order or engine the ruler
    was read back from; any real change of a statistic, a row or the period changes it.
    """
    canonical = conform_ruler(ruler).select(
        pl.concat_str(
            [
                pl.col("cohort"),
                pl.col("segment").fill_null("<cohort>"),
                pl.col("feature"),
                pl.col("n").cast(pl.String),
                rounded_text("mean"),
                rounded_text("stddev"),
                pl.col("period_start").cast(pl.String),
                pl.col("period_end").cast(pl.String),
            ],
            separator="|",
        ).alias("line")
    )
    payload = "\n".join(canonical["line"].to_list())
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def rounded_text(column: str) -> pl.Expr:
    rounded = pl.col(column).round_sig_figs(FINGERPRINT_DIGITS)
    # Signed zero and -0.0 must print alike; NULL prints as a marker so it cannot collide with a number.
    return (
        pl.when(rounded == 0).then(pl.lit("0")).otherwise(rounded.cast(pl.String)).fill_null("<null>")
    )


def describe_ruler_difference(stored: pl.DataFrame, fresh: pl.DataFrame) -> str:
    """A short, human-readable account of how two rulers differ (first differing rows), or "" if equal."""
    keys = ["cohort", "segment", "feature"]
    a, b = conform_ruler(stored), conform_ruler(fresh)
    joined = a.join(b, on=keys, how="full", coalesce=True, nulls_equal=True, suffix="_fresh")
    only_stored = joined.filter(pl.col("n_fresh").is_null() & pl.col("n").is_not_null())
    only_fresh = joined.filter(pl.col("n").is_null() & pl.col("n_fresh").is_not_null())

    def _differs(col: str) -> pl.Expr:
        if col in ("mean", "stddev"):
            left = pl.col(col).round_sig_figs(FINGERPRINT_DIGITS)
            right = pl.col(f"{col}_fresh").round_sig_figs(FINGERPRINT_DIGITS)
        else:
            left, right = pl.col(col), pl.col(f"{col}_fresh")
        return left.ne_missing(right)

    changed = joined.filter(
        pl.col("n").is_not_null() & pl.col("n_fresh").is_not_null()
        & pl.any_horizontal([_differs(c) for c in ("n", "mean", "stddev", "period_start", "period_end")])
    ).sort(keys, nulls_last=False)
    parts: list[str] = []
    if changed.height:
        first = changed.row(0, named=True)
        where = f"{first['cohort']}/{first['segment'] or '<cohort level>'}/{first['feature']}"
        parts.append(
            f"{changed.height} ruler row(s) changed; first: {where}: stored n={first['n']} "
            f"mean={first['mean']!r} stddev={first['stddev']!r}, fresh n={first['n_fresh']} "
            f"mean={first['mean_fresh']!r} stddev={first['stddev_fresh']!r}"
            + (
                f", period stored {first['period_start']}..{first['period_end']} "
                f"vs fresh {first['period_start_fresh']}..{first['period_end_fresh']}"
                if (first["period_start"], first["period_end"])
                != (first["period_start_fresh"], first["period_end_fresh"])
                else ""
            )
        )
    for label, rows in (("only in the stored ruler", only_stored), ("only in the fresh ruler", only_fresh)):
        if rows.height:
            first = rows.sort(keys, nulls_last=False).row(0, named=True)
            parts.append(
                f"{rows.height} row(s) {label}; first: "
                f"{first['cohort']}/{first['segment'] or '<cohort level>'}/{first['feature']}"
            )
    return "; ".join(parts)


def unusable_entries(ruler: pl.DataFrame) -> pl.DataFrame:
    """Ruler rows whose stddev is 0 or NULL: a feature measured with such a row scores z = 0."""
    return conform_ruler(ruler).filter(pl.col("stddev").is_null() | (pl.col("stddev") == 0)).select(
        "cohort", "segment", "feature", "n", "stddev"
    )

"""The rules beyond column types, as pure functions over Polars frames (unit-tested on hand-made frames).

The Dagster checks in :mod:`asset_checks.product_checks` read the partition window from the warehouse and
hand the frames to these functions; :func:`asset_checks.trust_signal_guard.validate_trust_signal` applies
the same functions to a freshly computed frame before it is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandera.polars as pa
import polars as pl

from asset_checks.validation import validate_frame
from asset_checks.violations import EXAMPLE_ROWS, Violation
from trust_assets.config import COHORTS
from trust_assets.scoring.reference_stats import ruler_fingerprint, unusable_entries
from trust_assets.tables import MODEL_REGISTRY, MODEL_WEIGHTS, RULER

HOLDING_COLUMNS: dict[str, str] = {c.value: f"has_{c.value}" for c in COHORTS}


def schema_violations(frame: pl.DataFrame, model: type[pa.DataFrameModel], table: str) -> list[Violation]:
    return validate_frame(frame, model.to_schema(), table)


def grain_violations(frame: pl.DataFrame, keys: Sequence[str], table: str) -> list[Violation]:
    """Rows sharing a grain key, with NULLs compared as equal (the ruler's cohort rows have segment NULL)."""
    if frame.height == 0 or not set(keys) <= set(frame.columns):
        return []
    counts = frame.group_by(list(keys)).agg(pl.len().alias("rows")).filter(pl.col("rows") > 1)
    if counts.height == 0:
        return []
    duplicated = frame.join(counts.select(keys), on=list(keys), how="semi", nulls_equal=True)
    return [
        Violation(table, "+".join(keys), "unique", duplicated.height,
                  duplicated.sort(list(keys), nulls_last=False).head(EXAMPLE_ROWS))
    ]


def daily_counts(frame: pl.DataFrame, column: str = "snapshot_date") -> pl.DataFrame:
    return frame.group_by(column).agg(pl.len().alias("rows")).rename({column: "day"})


def row_count_violations(
    counts: pl.DataFrame, start: date, end: date, tolerance: float, table: str, max_drop: float | None = None
) -> tuple[list[Violation], bool]:
    """Each day's rows within ``tolerance`` of the day before (``counts``: day, rows; may include start - 1).

    Returns the violations and whether the window must not be used: a day is empty, or (given ``max_drop``)
    its rows fell by more than ``max_drop`` against the day before. Any other moved count is a warning.
    """
    by_day = {d: int(n) for d, n in zip(counts["day"].to_list(), counts["rows"].to_list(), strict=True)}
    rows: list[dict[str, object]] = []
    empty = dropped = False
    day = start
    while day <= end:
        have = by_day.get(day, 0)
        before = by_day.get(day - timedelta(days=1))
        if have == 0:
            empty = True
            rows.append({"day": day, "rows": 0, "previous_day_rows": before, "change": None})
        elif before:
            change = (have - before) / before
            if abs(change) > tolerance:
                rows.append({"day": day, "rows": have, "previous_day_rows": before, "change": round(change, 4)})
                dropped = dropped or (max_drop is not None and -change > max_drop)
        day += timedelta(days=1)
    if not rows:
        return [], False
    examples = pl.DataFrame(rows, schema={"day": pl.Date, "rows": pl.Int64, "previous_day_rows": pl.Int64,
                                          "change": pl.Float64})
    rule = f"row count within {tolerance:.0%} of the previous partition" + (" and not empty" if empty else "")
    if dropped:
        rule += f", never more than {max_drop:.0%} below it"
    return [Violation(table, None, rule, len(rows), examples.head(EXAMPLE_ROWS))], empty or dropped


def cohort_drop_violations(
    counts: pl.DataFrame, previous: pl.DataFrame, max_drop: float, table: str
) -> list[Violation]:
    """Rows per cohort and day at most ``max_drop`` below the cohort's previous day.

    ``counts``: ``day``, ``cohort``, ``rows`` of the days about to be published; ``previous``: the same for the
    last published day before them (empty when nothing was published yet: the first day has no baseline).
    Each day is compared with the day before it in ``counts``, the first with ``previous``.
    """
    # A cohort of the previous day that is absent from a day about to be published counts as 0 rows.
    grid = counts.select("day").unique().join(
        pl.concat([previous.select("cohort"), counts.select("cohort")]).unique(), how="cross"
    )
    counts = grid.join(counts.select("day", "cohort", "rows"), on=["day", "cohort"], how="left").with_columns(
        pl.col("rows").fill_null(0)
    )
    both = pl.concat([previous.select("day", "cohort", "rows"), counts.select("day", "cohort", "rows")],
                     how="vertical_relaxed").with_columns(pl.col("rows").cast(pl.Int64))
    series = both.sort("cohort", "day").with_columns(
        pl.col("day").shift(1).over("cohort").alias("previous_day"),
        pl.col("rows").shift(1).over("cohort").alias("previous_rows"),
    )
    judged = series.join(counts.select("day", "cohort"), on=["day", "cohort"], how="semi")
    bad = judged.filter(
        pl.col("previous_rows").is_not_null() & (pl.col("rows") < (1 - max_drop) * pl.col("previous_rows"))
    ).with_columns((pl.col("rows") / pl.col("previous_rows") - 1).round(4).alias("change")).sort("day", "cohort")
    if not bad.height:
        return []
    first = bad.row(0, named=True)
    return [
        Violation(
            table, "cohort", f"rows per cohort at most {max_drop:.0%} below the previous published day",
            int(bad.height), bad.select("day", "cohort", "rows", "previous_day", "previous_rows", "change")
            .head(EXAMPLE_ROWS),
            detail=f"{first['cohort']} has {first['rows']} rows on {first['day']}, {first['previous_rows']} on "
            f"{first['previous_day']} ({first['change']:+.0%})",
        )
    ]


def _missing(column: str) -> pl.Expr:
    return pl.col(column).is_null() | ~pl.col(column).is_finite().fill_null(False)


def missing_share_violations(
    frame: pl.DataFrame, features: Sequence[str], limit: float, table: str
) -> list[Violation]:
    """Per day and feature, the share of missing values (NULL or not finite) is at most ``limit``."""
    present = [f for f in features if f in frame.columns]
    if frame.height == 0 or not present:
        return []
    shares = frame.group_by("snapshot_date").agg(
        pl.len().alias("rows"), *[_missing(f).mean().alias(f) for f in present]
    )
    return share_violations(shares, present, limit, table)


def share_violations(shares: pl.DataFrame, features: Sequence[str], limit: float, table: str) -> list[Violation]:
    """:func:`missing_share_violations` from the per-day shares (``snapshot_date, rows, <feature>...``), for a
    check that aggregates in the warehouse and reads one row per day instead of the partition."""
    present = [f for f in features if f in shares.columns]
    if shares.height == 0 or not present:
        return []
    shares = (
        shares.select("snapshot_date", "rows", *[pl.col(f).cast(pl.Float64) for f in present])
        .unpivot(index=["snapshot_date", "rows"], on=present, variable_name="feature", value_name="missing_share")
        .filter(pl.col("missing_share") > limit)
        .sort("missing_share", "feature", "snapshot_date", descending=[True, False, False])
    )
    out: list[Violation] = []
    for feature in shares["feature"].unique(maintain_order=True).to_list():
        rows = shares.filter(pl.col("feature") == feature)
        worst = rows["missing_share"].max()
        out.append(
            Violation(table, feature, f"missing share at most {limit:.0%}", rows.height,
                      rows.head(EXAMPLE_ROWS), detail=f"up to {worst:.1%} missing")
        )
    return out


def holders(customer_360: pl.DataFrame, cohorts: Sequence[str] | None = None) -> pl.DataFrame:
    """(snapshot_date, cohort, customer_id) of every customer holding each product, from customer_360 rows."""
    parts = []
    for cohort in cohorts or list(HOLDING_COLUMNS):
        flag = HOLDING_COLUMNS[cohort]
        parts.append(
            customer_360.filter(pl.col(flag).fill_null(False)).select(
                pl.col("snapshot_date").cast(pl.Date),
                pl.lit(cohort, dtype=pl.String).alias("cohort"),
                pl.col("customer_id").cast(pl.String),
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame(
        schema={"snapshot_date": pl.Date, "cohort": pl.String, "customer_id": pl.String}
    )


def coverage_violations(scored: pl.DataFrame, expected: pl.DataFrame, table: str, what: str) -> list[Violation]:
    """Every expected (snapshot_date, cohort, customer_id) appears exactly once in ``scored``, and nothing else.

    ``what`` names the expectation, e.g. "every customer holding the product in customer_360_definition".
    """
    keys = ["snapshot_date", "cohort", "customer_id"]
    got = scored.select(
        pl.col("snapshot_date").cast(pl.Date), pl.col("cohort").cast(pl.String), pl.col("customer_id").cast(pl.String)
    ).group_by(keys).agg(pl.len().alias("rows"))
    want = expected.select(keys).unique().with_columns(pl.lit(True).alias("expected"))
    joined = want.join(got, on=keys, how="full", coalesce=True)
    return key_count_violations(joined, table, what)


def key_count_violations(joined: pl.DataFrame, table: str, what: str) -> list[Violation]:
    """:func:`coverage_violations` from (snapshot_date, cohort, customer_id, rows, expected) per key; keys that
    are fine may be left out, so a check can compare in the warehouse and read only the broken keys."""
    keys = ["snapshot_date", "cohort", "customer_id"]
    joined = joined.with_columns(pl.col("rows").fill_null(0), pl.col("expected").fill_null(False))
    out: list[Violation] = []
    cases = [
        (pl.col("expected") & (pl.col("rows") == 0), f"{what} has a row"),
        (pl.col("rows") > 1, "exactly one row per snapshot_date, cohort and customer_id"),
        (~pl.col("expected") & (pl.col("rows") > 0), f"only {what.removeprefix('every ')}"),
    ]
    for predicate, rule in cases:
        bad = joined.filter(predicate).sort(keys)
        if bad.height:
            per_cohort = bad.group_by("cohort").agg(pl.len().alias("n")).sort("cohort")
            detail = ", ".join(f"{c}: {n}" for c, n in per_cohort.iter_rows())
            out.append(Violation(table, "customer_id", rule, bad.height, bad.head(EXAMPLE_ROWS), detail=detail))
    return out


# --- the ruler and the models -----------------------------------------------------------------------------------
def fingerprint_violations(ruler: pl.DataFrame, issues: pl.DataFrame) -> list[Violation]:
    """Each issued ruler version still has the content it was issued with, and every stored version was issued."""
    out: list[Violation] = []
    issued = {r["ruler_version"]: r["fingerprint"] for r in issues.iter_rows(named=True)}
    stored_versions = sorted(set(ruler["ruler_version"].to_list())) if ruler.height else []
    changed: list[dict[str, object]] = []
    for version in sorted(issued):
        rows = ruler.filter(pl.col("ruler_version") == version)
        now = ruler_fingerprint(rows) if rows.height else None
        if now != issued[version]:
            changed.append({"ruler_version": version, "issued_fingerprint": issued[version],
                            "current_fingerprint": now, "rows": rows.height})
    if changed:
        out.append(Violation(RULER, None, "content unchanged since the ruler was issued",
                             len(changed), pl.DataFrame(changed)))
    unissued = [v for v in stored_versions if v not in issued]
    if unissued:
        out.append(Violation(RULER, "ruler_version", "every version has an issue record",
                             len(unissued), pl.DataFrame({"ruler_version": unissued})))
    return out


def stddev_violations(ruler: pl.DataFrame) -> list[Violation]:
    """Ruler rows whose stddev is 0 or NULL: the feature then gets weight 0 (docs/architecture.md §3)."""
    if ruler.height == 0:
        return []
    bad = unusable_entries(ruler)
    if bad.height == 0:
        return []
    return [Violation(RULER, "stddev", "stddev > 0 and not NULL", bad.height,
                      bad.head(EXAMPLE_ROWS))]


def production_violations(registry: pl.DataFrame) -> list[Violation]:
    """Exactly one production model version per cohort."""
    counts = {c.value: 0 for c in COHORTS}
    prod = registry.filter(pl.col("status") == "production") if registry.height else registry
    for cohort in prod["cohort"].to_list() if prod.height else []:
        counts[cohort] = counts.get(cohort, 0) + 1
    bad = {c: n for c, n in counts.items() if n != 1}
    if not bad:
        return []
    examples = pl.DataFrame({"cohort": list(bad), "production_versions": list(bad.values())})
    return [Violation(MODEL_REGISTRY, "status", "exactly one production version per cohort", len(bad), examples)]


def weights_coverage_violations(
    weights: pl.DataFrame, registry: pl.DataFrame, features: dict[str, list[str]]
) -> list[Violation]:
    """Every registered version has one weight per configured feature of its cohort, and no other."""
    if registry.height == 0:
        return []
    expected = pl.DataFrame(
        [
            {"model_version": v, "cohort": c, "feature": f}
            for v, c in registry.select("model_version", "cohort").iter_rows()
            for f in features.get(c, [])
        ],
        schema={"model_version": pl.String, "cohort": pl.String, "feature": pl.String},
    )
    got = weights.select("model_version", "cohort", "feature") if weights.height else expected.head(0)
    missing = expected.join(got, on=["model_version", "feature"], how="anti")
    extra = got.join(expected, on=["model_version", "feature"], how="anti")
    out: list[Violation] = []
    if missing.height:
        out.append(Violation(MODEL_WEIGHTS, "feature", "a weight for every configured feature of the version",
                             missing.height, missing.head(EXAMPLE_ROWS)))
    if extra.height:
        out.append(Violation(MODEL_WEIGHTS, "feature", "only configured features of registered versions",
                             extra.height, extra.head(EXAMPLE_ROWS)))
    return out

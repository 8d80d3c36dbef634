"""Publishing ``customer_trust_signal``: score a window with each cohort's production model (and a canary's
candidate where one runs), validate, and atomically replace the published days, in chunks of bounded size.

The daily asset and a rollback's re-scoring share :func:`publish_scores`; the shadow, the gate and probation score
with chosen versions through :func:`score_chunk`. :func:`daily_signal_metadata` gives each published day its
figures for the partition view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import dagster as dg
import polars as pl

from asset_checks.trust_signal_guard import validate_trust_signal
from resources.warehouse import WarehouseResource
from trust_assets.asset_metadata import markdown_table
from trust_assets.config import COHORT_IDENTIFIERS, COHORTS, SETTINGS, Cohort, feature_names
from trust_assets.operations.canary import canary_versions, mix_canary
from trust_assets.partitions import missing_days
from trust_assets.scoring.arithmetic import ScoringModel, score_frame
from trust_assets.scoring.feature_reads import feature_table
from trust_assets.scoring.registry import ModelLoadError
from trust_assets.scoring.union import attach_identifiers, union_cohort_scores
from trust_assets.services.features import feature_columns_or_fail, read_feature_rows
from trust_assets.store.models import load_staging, production_models
from trust_assets.tables import CUSTOMER_360, TRUST_SIGNAL

# A long backfill is scored and written in runs of consecutive days of at most this many feature rows (all
# cohorts), each run one atomic replace: memory stays bounded and a re-run replaces rather than duplicates.
# A daily run is a single write.
MAX_ROWS_PER_WRITE = 1_000_000


def plan_chunks(rows_per_day: dict[date, int], max_rows: int) -> list[tuple[date, date]]:
    """Consecutive inclusive day ranges covering every day given, each with at most ``max_rows`` rows
    (a single day larger than that is a range of its own)."""
    out: list[tuple[date, date]] = []
    start: date | None = None
    last: date | None = None
    total = 0
    for day in sorted(rows_per_day):
        n = rows_per_day[day]
        if start is not None and last is not None and total + n > max_rows:
            out.append((start, last))
            start, total = None, 0
        start = day if start is None else start
        last, total = day, total + n
    if start is not None and last is not None:
        out.append((start, last))
    return out


def check_coverage(warehouse: WarehouseResource, start: date, end: date) -> dict[date, int]:
    """Feature rows per day of the window (all cohorts together).

    Refuses the whole window if any cohort lacks feature rows on any day: an empty day must not publish.
    """
    per_day: dict[date, int] = {}
    for cohort in COHORTS:
        feature_columns_or_fail(warehouse, cohort)
        counts = warehouse.read(
            f"select snapshot_date, count(*) as n from {{analytics}}.{feature_table(cohort)} "
            "where snapshot_date between $start and $end group by snapshot_date",
            {"start": start, "end": end},
        ).with_columns(pl.col("snapshot_date").cast(pl.Date))
        absent = missing_days(set(counts["snapshot_date"].to_list()), start, end)
        if absent:
            shown = ", ".join(d.isoformat() for d in absent[:10]) + (" ..." if len(absent) > 10 else "")
            raise dg.Failure(
                description=(
                    f"No {cohort.value} feature rows for {shown} in {feature_table(cohort)}: refusing to publish "
                    f"{TRUST_SIGNAL} for {start} .. {end}. Materialise the {cohort.value} features for "
                    "those days (and check the upstream loads) before re-running this partition."
                ),
                metadata={"cohort": cohort.value, "missing_dates": shown},
            )
        for day, n in counts.iter_rows():
            per_day[day] = per_day.get(day, 0) + int(n)
    return per_day


def read_customer_360(warehouse: WarehouseResource, start: date, end: date) -> pl.DataFrame:
    """The identifiers, region and product flags of [start, end]: the scores' identifiers and, for the pre-write
    guard, the holders of each product (one read of customer 360 for both)."""
    identifiers = sorted({c for ids in COHORT_IDENTIFIERS.values() for c in ids})
    flags = [f"has_{c.value}" for c in COHORTS]
    return warehouse.read(
        f"select snapshot_date, customer_id, {', '.join(identifiers)}, region, {', '.join(flags)} "
        f"from {{analytics}}.{CUSTOMER_360} where snapshot_date between $start and $end",
        {"start": start, "end": end},
    )


def score_chunk(
    warehouse: WarehouseResource,
    models: dict[Cohort, tuple[ScoringModel, pl.DataFrame]],
    start: date,
    end: date,
    people: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, list[pl.DataFrame]]:
    """The chunk's scores, its feature rows without a customer_360 row (snapshot_date, cohort, rows) and the
    unusable-ruler reports; ``people``: the chunk's :func:`read_customer_360`, read here when not given."""
    people = read_customer_360(warehouse, start, end) if people is None else people
    scored: dict[Cohort, pl.DataFrame] = {}
    unmatched: list[pl.DataFrame] = []
    unusable: list[pl.DataFrame] = []
    for cohort, (model, ruler) in models.items():
        features = read_feature_rows(
            warehouse, cohort, "snapshot_date between $start and $end", {"start": start, "end": end}
        )
        try:
            scores, report = score_frame(
                features, ruler, model, cohort.value, feature_names(cohort), SETTINGS.model.top_drivers
            )
            joined = attach_identifiers(scores, people, cohort)
        except ValueError as exc:
            raise dg.Failure(description=f"Scoring {cohort.value} for {start} .. {end} failed: {exc}") from exc
        unmatched.append(
            joined.filter(~pl.col("has_customer_360").fill_null(False))
            .group_by("snapshot_date")
            .agg(pl.len().cast(pl.Int64).alias("rows"))
            .select("snapshot_date", pl.lit(cohort.value).alias("cohort"), "rows")
        )
        unusable.append(report)
        scored[cohort] = joined
    return union_cohort_scores(scored), pl.concat(unmatched), unusable


def score_distribution_by_day(stats: pl.DataFrame) -> pl.DataFrame:
    """Rows, mean, p10/p50/p90 and the missing-value share per day and cohort."""
    return (
        stats.group_by("snapshot_date", "cohort")
        .agg(
            pl.len().alias("rows"),
            pl.col("trust_score").mean().alias("mean"),
            pl.col("trust_score").quantile(0.1, interpolation="linear").alias("p10"),
            pl.col("trust_score").quantile(0.5, interpolation="linear").alias("p50"),
            pl.col("trust_score").quantile(0.9, interpolation="linear").alias("p90"),
            pl.col("missing_features").sum().alias("missing_values"),
        )
        .with_columns(
            (
                pl.col("missing_values")
                / (
                    pl.col("rows")
                    * pl.col("cohort").replace_strict(
                        {c.value: len(feature_names(c)) for c in COHORTS}, return_dtype=pl.Int64
                    )
                )
            ).alias("missing_share")
        )
        .sort("snapshot_date", "cohort")
    )


@dataclass(frozen=True)
class PublishedWindow:
    """What :func:`publish_scores` wrote: the models used and per-chunk statistics for metadata."""

    models: dict[Cohort, tuple[ScoringModel, pl.DataFrame]]
    rows: int
    stats: list[pl.DataFrame]
    unusable: list[pl.DataFrame]
    # Feature rows without a customer_360_definition row: snapshot_date, cohort, rows.
    unmatched: pl.DataFrame
    # Staging versions that scored their cohort's canary customers (empty without a canary).
    canaries: dict[Cohort, tuple[ScoringModel, pl.DataFrame]] = field(default_factory=dict)

    @property
    def unmatched_total(self) -> dict[str, int]:
        totals = self.unmatched.group_by("cohort").agg(pl.col("rows").sum())
        return {c.value: 0 for c in COHORTS} | {c: int(n) for c, n in totals.iter_rows()}


def publish_scores(
    warehouse: WarehouseResource, start: date, end: date, log: Callable[[str], None] = lambda _: None
) -> PublishedWindow:
    """Score [start, end] with each cohort's production model, validate, and atomically replace the published
    partitions. The daily asset and a rollback's re-scoring share this one path."""
    try:
        models = production_models(warehouse)
        canaries = load_staging(warehouse, canary_versions(warehouse), "canary model")
    except ModelLoadError as exc:
        raise dg.Failure(description=f"Cannot score: {exc}") from exc
    rows_per_day = check_coverage(warehouse, start, end)

    stats: list[pl.DataFrame] = []
    unmatched_parts: list[pl.DataFrame] = []
    unusable: list[pl.DataFrame] = []
    rows = 0
    for chunk_start, chunk_end in plan_chunks(rows_per_day, MAX_ROWS_PER_WRITE):
        people = read_customer_360(warehouse, chunk_start, chunk_end)
        frame, unmatched, reports = score_chunk(warehouse, models, chunk_start, chunk_end, people)
        if canaries:
            # The canary customers of a cohort in canary get the candidate's rows; model_version says which.
            candidate, _, _ = score_chunk(warehouse, canaries, chunk_start, chunk_end, people)
            frame = mix_canary(frame, candidate)
        # Never overwrite a good published partition with a bad one: validate before the atomic write.
        validate_trust_signal(frame, warehouse=warehouse, start=chunk_start, end=chunk_end, customer_360=people)
        warehouse.replace_partitions(TRUST_SIGNAL, frame, chunk_start, chunk_end)
        log(f"published {frame.height} rows for {chunk_start} .. {chunk_end}")
        rows += frame.height
        stats.append(frame.select("snapshot_date", "cohort", "trust_score", "missing_features"))
        unusable.extend(reports)
        unmatched_parts.append(unmatched)
    return PublishedWindow(models, rows, stats, unusable, pl.concat(unmatched_parts), canaries)


def daily_signal_metadata(stats: pl.DataFrame, unmatched: pl.DataFrame) -> dict[date, dict[str, object]]:
    """Each day's row count, rows per cohort, score quantiles and missing shares, named so the UI plots them.

    ``stats``: snapshot_date, cohort, trust_score, missing_features of the published rows; ``unmatched``:
    snapshot_date, cohort, rows of feature rows without a customer_360_definition row.
    """
    dist = score_distribution_by_day(stats)
    out: dict[date, dict[str, object]] = {}
    for (day,), part in dist.group_by("snapshot_date", maintain_order=True):
        without_360 = {c.value: 0 for c in COHORTS} | {
            c: int(n) for c, n in unmatched.filter(pl.col("snapshot_date") == day).select("cohort", "rows").iter_rows()
        }
        meta: dict[str, object] = {
            "dagster/row_count": int(part["rows"].sum()),
            "score_distribution": dg.MetadataValue.md(markdown_table(part.drop("snapshot_date"))),
            "rows_without_customer_360": dg.MetadataValue.json(without_360),
        }
        for row in part.iter_rows(named=True):  # one row per cohort
            cohort = row["cohort"]
            meta[f"{cohort}_rows"] = int(row["rows"])
            meta[f"{cohort}_missing_share"] = float(row["missing_share"])
            for key in ("mean", "p10", "p50", "p90"):
                meta[f"{cohort}_trust_{key}"] = float(row[key])
        out[day] = meta
    return out

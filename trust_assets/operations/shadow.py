"""Shadow mode: each cohort's ``staging`` version scores every daily partition beside the champion into
``customer_trust_signal_shadow``, a table nothing downstream reads, and the two are compared day by day."""

from __future__ import annotations

from datetime import date

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS, Cohort
from trust_assets.monitoring.drift import psi
from trust_assets.operations.serving import Models, score_window
from trust_assets.scoring.registry import ModelStatus
from trust_assets.store.models import load_version, read_registry
from trust_assets.store.signal import signal_rows

SHADOW_TABLE = SETTINGS.operations.shadow_table
DECILES = 10
# Keeps the logarithm of an empty PSI bin finite.

COMPARISON_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_date": pl.Date(),
    "cohort": pl.String(),
    "champion_version": pl.String(),
    "challenger_version": pl.String(),
    "customers": pl.Int64(),
    "spearman": pl.Float64(),
    "mean_shift": pl.Float64(),
    "score_psi": pl.Float64(),
    "decile_moved_share": pl.Float64(),
}


def staging_models(warehouse: WarehouseResource) -> Models:
    """The staging version of every cohort that has one."""
    registry = read_registry(warehouse).filter(pl.col("status") == ModelStatus.STAGING.value)
    out: Models = {}
    for row in registry.sort("cohort").iter_rows(named=True):
        cohort = Cohort(row["cohort"])
        if cohort in out:
            raise ValueError(f"{cohort.value} has more than one staging version; archive all but one")
        out[cohort] = load_version(warehouse, row).scoring_pair
    return out


def _deciles(scores: pl.Expr) -> pl.Expr:
    # Rank-based deciles within the day: 0 (lowest tenth) .. 9 (highest tenth).
    return ((scores.rank("ordinal") - 1) * DECILES // pl.len()).cast(pl.Int64)


def score_psi(expected: pl.Series, actual: pl.Series, bins: int = DECILES) -> float:
    """PSI of ``actual`` against ``expected`` over the expected distribution's quantile bins, with the monitoring's
    PSI (:func:`trust_assets.monitoring.drift.psi`), so a shadow comparison and the daily score monitor agree."""
    if expected.len() == 0 or actual.len() == 0:
        return float("nan")
    qs = [expected.quantile(i / bins, interpolation="linear") for i in range(1, bins)]
    edges = sorted({float(q) for q in qs if q is not None})

    def _shares(values: pl.Series) -> list[float]:
        idx = values.cut(edges, labels=[str(i) for i in range(len(edges) + 1)]).cast(pl.String).cast(pl.Int64)
        counts = idx.value_counts().sort(idx.name)
        by_bin = dict(zip(counts[idx.name].to_list(), counts["count"].to_list(), strict=True))
        return [by_bin.get(i, 0) / values.len() for i in range(len(edges) + 1)]

    return psi(_shares(expected), _shares(actual), SETTINGS.monitoring.psi_share_floor)


def compare_scores(champion: pl.DataFrame, challenger: pl.DataFrame) -> pl.DataFrame:
    """Per day and cohort: Spearman rank correlation, mean shift (challenger - champion), score PSI of the
    challenger against the champion and the share of customers whose decile moved."""
    keys = ["snapshot_date", "cohort", "customer_id"]
    joined = champion.select(*keys, pl.col("trust_score").alias("champ"), pl.col("model_version").alias("cv")).join(
        challenger.select(*keys, pl.col("trust_score").alias("chall"), pl.col("model_version").alias("xv")),
        on=keys,
        how="inner",
    )
    rows = []
    for (day, cohort), part in joined.group_by(["snapshot_date", "cohort"], maintain_order=True):
        moved = part.select((_deciles(pl.col("champ")) != _deciles(pl.col("chall"))).mean()).item()
        rows.append(
            {
                "snapshot_date": day,
                "cohort": cohort,
                "champion_version": part["cv"][0],
                "challenger_version": part["xv"][0],
                "customers": part.height,
                "spearman": part.select(pl.corr("champ", "chall", method="spearman")).item(),
                "mean_shift": float(part["chall"].mean() - part["champ"].mean()),  # type: ignore[operator]
                "score_psi": score_psi(part["champ"], part["chall"]),
                "decile_moved_share": float(moved),
            }
        )
    return pl.DataFrame(rows, schema=COMPARISON_SCHEMA).sort("snapshot_date", "cohort")


def run_shadow(warehouse: WarehouseResource, start: date, end: date) -> pl.DataFrame:
    """Score [start, end] with every staging version into the shadow table and compare with the published
    champion scores. Returns the comparison (empty when no cohort has a staging version)."""
    models = staging_models(warehouse)
    if not models:
        return pl.DataFrame(schema=COMPARISON_SCHEMA)
    frame = score_window(warehouse, models, start, end)
    warehouse.replace_partitions(SHADOW_TABLE, frame, start, end)
    cohorts = [c.value for c in models]
    columns = ("snapshot_date", "cohort", "customer_id", "trust_score", "model_version")
    champion = signal_rows(warehouse, start, end, columns).filter(pl.col("cohort").is_in(cohorts))
    # During a canary the challenger's own published rows are not the champion's: compare the champion's only.
    champion = champion.filter(~pl.col("model_version").is_in([model.model_version for model, _ in models.values()]))
    return compare_scores(champion.with_columns(pl.col("snapshot_date").cast(pl.Date)), frame)


def shadow_days(warehouse: WarehouseResource, model_version: str) -> list[date]:
    """The days a version has scored in shadow, as the shadow table shows them."""
    if not warehouse.table_exists(SHADOW_TABLE):
        return []
    days = warehouse.read(
        f"select distinct snapshot_date from {{analytics}}.{SHADOW_TABLE} where model_version = $v "
        "order by snapshot_date",
        {"v": model_version},
    )
    return [d for d in days["snapshot_date"].cast(pl.Date).to_list()]

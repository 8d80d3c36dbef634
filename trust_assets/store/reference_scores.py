"""Reads and writes of ``reference_score_distribution``: the stored summary of each model version's reference
population, which ``score_distribution`` compares every day with (docs/monitoring.md).

The table is small (one row per model version and setting) and is read and rewritten whole, as the gate's records
are: a rewrite is one atomic write, so a failed run leaves the previous rows and a re-run replaces the rows of its
keys instead of adding duplicates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from trust_assets.monitoring.prediction_distribution import REFERENCE_SCORES_KEY, REFERENCE_SCORES_SCHEMA
from trust_assets.tables import REFERENCE_SCORE_DISTRIBUTION

if TYPE_CHECKING:
    from resources.warehouse import WarehouseResource


def read_reference_scores(warehouse: WarehouseResource) -> pl.DataFrame:
    """Every stored summary as stored (the guard judges its columns and types); empty before the first one."""
    if not warehouse.table_exists(REFERENCE_SCORE_DISTRIBUTION):
        return pl.DataFrame(schema=REFERENCE_SCORES_SCHEMA)
    return warehouse.read(f"select * from {{analytics}}.{REFERENCE_SCORE_DISTRIBUTION}")


def with_rows(stored: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """``stored`` with ``rows`` added, each replacing a stored row of the same key."""
    columns = list(REFERENCE_SCORES_SCHEMA)
    kept = stored.select(columns).cast(REFERENCE_SCORES_SCHEMA)  # type: ignore[arg-type]
    kept = kept.join(rows.select(REFERENCE_SCORES_KEY), on=list(REFERENCE_SCORES_KEY), how="anti", nulls_equal=True)
    fresh = rows.select(columns).cast(REFERENCE_SCORES_SCHEMA)  # type: ignore[arg-type]
    return pl.concat([kept, fresh]).sort("cohort", "model_version", "computed_at")


def write_reference_scores(warehouse: WarehouseResource, table: pl.DataFrame) -> None:
    """Replace the whole table by ``table`` (from :func:`with_rows`) in one write."""
    warehouse.replace_table(REFERENCE_SCORE_DISTRIBUTION, table)

"""Reading a cohort's feature rows as scoring reads them, without Dagster.

The trust-signal and reference assets, retraining and the explanations all read features through
:func:`read_features`, so an explanation sees exactly the values a score was computed from. The asset wrapper
(``trust_assets.assets.reference.read_feature_rows``) turns :class:`FeatureTableError` into a Dagster failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

from trust_assets.config import Cohort, feature_names

if TYPE_CHECKING:
    from resources.read_only import WarehouseReader

KEY_COLUMNS: tuple[str, ...] = ("snapshot_date", "customer_id", "segment")


class FeatureTableError(LookupError):
    """A cohort's feature table is missing or lacks columns that the feature definition expects."""

    def __init__(self, message: str, table: str, absent: list[str]) -> None:
        super().__init__(message)
        self.table = table
        self.absent = absent


def feature_table(cohort: Cohort | str) -> str:
    return f"{Cohort(cohort).value}_features"


def feature_columns(cohort: Cohort | str) -> list[str]:
    """The columns a cohort's scoring reads: the keys, then the configured features in order."""
    return [*KEY_COLUMNS, *feature_names(cohort)]


def checked_feature_columns(warehouse: WarehouseReader, cohort: Cohort | str) -> list[str]:
    """:func:`feature_columns`, after checking that the table has them all (raises :class:`FeatureTableError`)."""
    table = feature_table(cohort)
    wanted = feature_columns(cohort)
    if not warehouse.table_exists(table):
        raise FeatureTableError(f"The feature table {table} does not exist: materialise the features first.",
                                table, wanted)
    present = set(warehouse.columns(table))
    absent = [c for c in wanted if c not in present]
    if absent:
        raise FeatureTableError(
            f"{table} lacks the columns {absent} that the feature definition of {Cohort(cohort).value} "
            "(trust_assets/config.py FEATURES) expects: the upstream model changed shape. Fix the dbt model "
            "or, for an intended feature change, issue a new ruler version and retrain.",
            table,
            absent,
        )
    return wanted


def read_features(
    warehouse: WarehouseReader, cohort: Cohort | str, where: str, params: Mapping[str, object]
) -> pl.DataFrame:
    """A cohort's feature rows (key columns and the configured features), in a deterministic order."""
    columns = checked_feature_columns(warehouse, cohort)
    frame = warehouse.read(
        f"select {', '.join(columns)} from {{analytics}}.{feature_table(cohort)} where {where}"
        " order by snapshot_date, customer_id",
        params,
    )
    return frame.with_columns(
        pl.col("snapshot_date").cast(pl.Date),
        pl.col("customer_id").cast(pl.String),
        pl.col("segment").cast(pl.String),
        *[pl.col(f).cast(pl.Float64) for f in feature_names(cohort)],
    )

"""Feature reads for runs: :mod:`trust_assets.scoring.feature_reads` with its :class:`FeatureTableError` turned into
a Dagster failure that names the table and the missing columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import dagster as dg
import polars as pl

from trust_assets.config import Cohort
from trust_assets.scoring.feature_reads import FeatureTableError, checked_feature_columns, read_features

if TYPE_CHECKING:
    from resources.read_only import WarehouseReader


def feature_columns_or_fail(warehouse: WarehouseReader, cohort: Cohort | str) -> list[str]:
    """The columns a cohort's scoring reads; fails the run clearly if the feature table changed shape."""
    try:
        return checked_feature_columns(warehouse, cohort)
    except FeatureTableError as exc:
        raise _failure(exc) from exc


def read_feature_rows(
    warehouse: WarehouseReader, cohort: Cohort | str, where: str, params: Mapping[str, object]
) -> pl.DataFrame:
    """A cohort's feature rows (key columns and the configured features), in a deterministic order."""
    try:
        return read_features(warehouse, cohort, where, params)
    except FeatureTableError as exc:
        raise _failure(exc) from exc


def _failure(exc: FeatureTableError) -> dg.Failure:
    return dg.Failure(description=str(exc), metadata={"table": exc.table, "missing_columns": ", ".join(exc.absent)})

"""A short, printable summary of what the pipeline published (used by ``trust demo`` and ``trust summary``).

Plain reads with DuckDB and Polars (``trust summary`` starts without the Dagster code location); the tables are
laid out for a 120-column terminal and always show every column, p10 (the low tail, where trust erodes) included.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from trust_assets.cli_commands.common import TABLE_WIDTH, render_table
from trust_assets.scoring.registry import ModelStatus
from trust_assets.store.models import registry_rows
from trust_assets.store.signal import cohort_summary
from trust_assets.tables import TRUST_SIGNAL

if TYPE_CHECKING:  # `trust summary` reads through resources.read_only, without Dagster
    from resources.read_only import WarehouseReader


def production_models(warehouse: WarehouseReader) -> pl.DataFrame:
    columns = ("model_version", "cohort", "status", "ruler_version", "metrics")
    registry = registry_rows(warehouse, columns=columns, status=ModelStatus.PRODUCTION, order_by="cohort")
    metrics = [json.loads(m) for m in registry["metrics"].to_list()]
    return registry.drop("metrics").with_columns(
        pl.Series("churn_auc", [round(m.get("churn_auc", float("nan")), 3) for m in metrics]),
        pl.Series("recontract_auc", [round(m.get("recontract_auc", float("nan")), 3) for m in metrics]),
        pl.Series("nrc_r2", [round(m.get("nrc_r2", float("nan")), 3) for m in metrics]),
    )


def render_summary(warehouse: WarehouseReader, start: date, end: date) -> str:
    scores = render_table(cohort_summary(warehouse, start, end), TABLE_WIDTH)
    models = render_table(production_models(warehouse), TABLE_WIDTH)
    return (
        f"{TRUST_SIGNAL} {start} .. {end}\n"
        f"{scores}\n\n"
        f"production models (held-out metrics)\n{models}\n"
    )

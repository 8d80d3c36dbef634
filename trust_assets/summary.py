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
from trust_assets.tables import MODEL_REGISTRY, TRUST_SIGNAL

if TYPE_CHECKING:  # `trust summary` reads through resources.read_only, without Dagster
    from resources.read_only import WarehouseReader

def trust_signal_summary(warehouse: WarehouseReader, start: date, end: date) -> pl.DataFrame:
    return warehouse.read(
        f"""
        select cohort,
               count(*) as rows,
               count(distinct snapshot_date) as days,
               round(avg(trust_score), 3) as mean_score,
               round(quantile_cont(trust_score, 0.1), 3) as p10,
               round(quantile_cont(trust_score, 0.5), 3) as p50,
               round(quantile_cont(trust_score, 0.9), 3) as p90,
               round(avg(missing_features), 2) as mean_missing,
               min(model_version) as model_version
        from {{analytics}}.{TRUST_SIGNAL}
        where snapshot_date between $start and $end
        group by cohort
        order by cohort
        """,
        {"start": start, "end": end},
    )


def production_models(warehouse: WarehouseReader) -> pl.DataFrame:
    registry = warehouse.read(
        f"select model_version, cohort, status, ruler_version, metrics from {{analytics}}.{MODEL_REGISTRY}"
        " where status = 'production' order by cohort"
    )
    metrics = [json.loads(m) for m in registry["metrics"].to_list()]
    return registry.drop("metrics").with_columns(
        pl.Series("churn_auc", [round(m.get("churn_auc", float("nan")), 3) for m in metrics]),
        pl.Series("recontract_auc", [round(m.get("recontract_auc", float("nan")), 3) for m in metrics]),
        pl.Series("nrc_r2", [round(m.get("nrc_r2", float("nan")), 3) for m in metrics]),
    )


def render_summary(warehouse: WarehouseReader, start: date, end: date) -> str:
    scores = render_table(trust_signal_summary(warehouse, start, end), TABLE_WIDTH)
    models = render_table(production_models(warehouse), TABLE_WIDTH)
    return (
        f"{TRUST_SIGNAL} {start} .. {end}\n"
        f"{scores}\n\n"
        f"production models (held-out metrics)\n{models}\n"
    )

"""Model versions made for the operating-loop tests: a copy of a champion with its weights scaled per feature."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from resources.warehouse import DuckDBWarehouse
from trust_assets.store.models import read_registry


def champion(wh: DuckDBWarehouse, cohort: str) -> str:
    reg = read_registry(wh).filter((pl.col("cohort") == cohort) & (pl.col("status") == "production"))
    return reg["model_version"][0]


def register_variant(path: Path, source: str, new: str, factor: str, status: str = "staging") -> None:
    """A copy of ``source`` (registered with ``status``) whose weights are multiplied by ``factor`` (an SQL
    expression of the feature's row number ``i``); its registry row, held-out metrics included, is the source's."""
    con = duckdb.connect(str(path))
    try:
        con.execute("insert into analytics.model_registry select * replace (? as model_version, ? as status) "
                    "from analytics.model_registry where model_version = ?", [new, status, source])
        con.execute(
            "insert into analytics.trust_model_weights by name select * exclude (i) replace (? as model_version, "
            f"weight * ({factor}) as weight, w_churn * ({factor}) as w_churn, w_recontract * ({factor}) as "
            f"w_recontract, w_nrc * ({factor}) as w_nrc) from (select *, row_number() over (order by feature) as i "
            "from analytics.trust_model_weights where model_version = ?)",
            [new, source],
        )
    finally:
        con.close()

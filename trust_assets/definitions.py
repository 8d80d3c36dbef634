"""The code location: every asset, check, job, schedule and resource of the trust index."""

from __future__ import annotations

import dagster as dg

from asset_checks import ASSET_CHECKS, GUARD_ASSETS
from resources import Target, current_target, warehouse_resource
from trust_assets.assets.dbt_models import dbt_resource, trust_dbt_daily_models, trust_dbt_models
from trust_assets.assets.raw_sources import RAW_SOURCE_SPECS
from trust_assets.assets.trust_index import TRUST_INDEX_ASSETS
from trust_assets.jobs import JOBS, SCHEDULES

defs = dg.Definitions(
    assets=[*RAW_SOURCE_SPECS, *GUARD_ASSETS, trust_dbt_models, trust_dbt_daily_models, *TRUST_INDEX_ASSETS],
    asset_checks=ASSET_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    resources={"warehouse": warehouse_resource(), "dbt": dbt_resource()},
    # One process per run: DuckDB has a single writer, and per-step processes cost ~8 s each on 2 cores.
    executor=dg.in_process_executor if current_target() is Target.DUCKDB else dg.multiprocess_executor,
)

"""The code location: every asset, check, job, schedule and resource of the trust index."""

from __future__ import annotations

import dagster as dg

from asset_checks.catalog import ASSET_CHECKS, GUARD_ASSETS
from resources import Target, current_target, warehouse_resource
from trust_assets.assets.dbt_models import dbt_resource, trust_dbt_daily_models, trust_dbt_models
from trust_assets.assets.monitoring_drift import MONITORING_DRIFT_ASSETS
from trust_assets.assets.monitoring_outcomes import (
    OUTCOME_MONITORING_ASSETS,
    OUTCOME_MONITORING_JOBS,
    OUTCOME_MONITORING_SCHEDULES,
)
from trust_assets.assets.raw_sources import RAW_SOURCE_SPECS
from trust_assets.assets.trust_index import TRUST_INDEX_ASSETS
from trust_assets.jobs import JOBS, SCHEDULES
from trust_assets.operations.assets import OPERATIONS_ASSETS
from trust_assets.operations.gate import CodeLocationHandle
from trust_assets.operations.jobs import OPERATIONS_SENSORS
from trust_assets.operations.probation_assets import PROBATION_ASSETS
from trust_assets.sensors import SENSORS

# The readiness gate's evidence includes this location's jobs and sensors; its ops get it as a resource.
CODE_LOCATION = CodeLocationHandle()

defs = dg.Definitions(
    assets=[
        *RAW_SOURCE_SPECS,
        *GUARD_ASSETS,
        trust_dbt_models,
        trust_dbt_daily_models,
        *TRUST_INDEX_ASSETS,
        *OUTCOME_MONITORING_ASSETS,
        *MONITORING_DRIFT_ASSETS,
        *OPERATIONS_ASSETS,
        *PROBATION_ASSETS,
    ],
    asset_checks=ASSET_CHECKS,
    jobs=[*JOBS, *OUTCOME_MONITORING_JOBS],
    schedules=[*SCHEDULES, *OUTCOME_MONITORING_SCHEDULES],
    sensors=[*SENSORS, *OPERATIONS_SENSORS],
    resources={"warehouse": warehouse_resource(), "dbt": dbt_resource(), "code_location": CODE_LOCATION},
    # One process per run: DuckDB has a single writer, and a process per step would load the code location again
    # for every step (docs/performance.md, "Figures behind choices in the code").
    executor=dg.in_process_executor if current_target() is Target.DUCKDB else dg.multiprocess_executor,
)
CODE_LOCATION.bind(defs)

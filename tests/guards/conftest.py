"""Fixtures of the guard tests: private copies of the session warehouse and the real daily job run against them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

# The tables a daily run writes, with the order that makes their fingerprint independent of storage order.
DAILY_TABLES: dict[str, str] = {
    "analytics.customer_360_definition": "snapshot_date, customer_id",
    "analytics.mobile_features": "snapshot_date, customer_id",
    "analytics.tv_features": "snapshot_date, customer_id",
    "analytics.broadband_features": "snapshot_date, customer_id",
    "analytics.customer_trust_signal": "snapshot_date, cohort, customer_id",
}


def table_hash(path: Path, table: str, order_by: str, where: str = "true") -> str:
    """Row count and md5 of every row's full text in a fixed order: equal hashes mean bit-identical rows.

    Computed in DuckDB (doubles print in their shortest round-trip form), so hashing a whole table is cheap.
    """
    con = duckdb.connect(str(path), read_only=True)
    try:
        count, digest = con.execute(
            f"select count(*), md5(coalesce(string_agg(cast(t as varchar), chr(10) order by {order_by}), '')) "
            f"from {table} as t where {where}"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    return f"{count}:{digest}"


# The daily runs of the tests touch February 2026 only; the reference-period partitions (2025) are large and
# no test run can reach them, so they are left out of the hashes.
RECENT = "snapshot_date >= DATE '2026-02-01'"


def fingerprints(path: Path, where: str = "true", tables: dict[str, str] | None = None) -> dict[str, str]:
    """Hashes of the daily tables' February 2026 rows (and ``where``)."""
    return {t: table_hash(path, t, order, f"{RECENT} and ({where})") for t, order in (tables or DAILY_TABLES).items()}


@dataclass(frozen=True)
class DailyRun:
    result: dg.ExecuteInProcessResult

    @property
    def success(self) -> bool:
        return self.result.success

    def failed_steps(self) -> list[str]:
        return [e.step_key or "" for e in self.result.get_step_failure_events()]

    def failure_text(self) -> str:
        """Every step failure's message, description and metadata, as the run log shows them."""
        parts: list[str] = []
        for event in self.result.get_step_failure_events():
            data = event.step_failure_data
            if data.user_failure_data is not None:
                parts.append(data.user_failure_data.description or "")
                parts.extend(f"{k}: {v.value}" for k, v in data.user_failure_data.metadata.items())
            if data.error is not None:
                parts.append(data.error.message)
        return "\n".join(parts)

    def materialized(self) -> set[str]:
        return {
            e.event_specific_data.materialization.asset_key.to_user_string()  # type: ignore[union-attr]
            for e in self.result.all_events
            if e.event_type_value == "ASSET_MATERIALIZATION"
        }

    def check_evaluations(self) -> list:
        return [
            e.event_specific_data
            for e in self.result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        ]

    def failed_checks(self) -> dict[str, object]:
        return {
            f"{ev.asset_key.to_user_string()}:{ev.check_name}": ev
            for ev in self.check_evaluations()
            if not ev.passed
        }


RunDaily = Callable[..., DailyRun]


@pytest.fixture(scope="session")
def run_daily() -> RunDaily:
    """Run the code location's ``daily_trust_job`` (its assets and their checks) against another warehouse file.

    The same job definition the schedule launches, with the resources pointed at ``path``; like
    ``materialize_on`` but with the job's asset checks included.
    """
    from resources.warehouse import DuckDBWarehouse
    from trust_assets.assets.dbt_models import dbt_resource
    from trust_assets.config import SETTINGS
    from trust_assets.definitions import defs

    def run(path: Path, start: date, end: date | None = None, job: str = "daily_trust_job") -> DailyRun:
        end = end or start
        tags = {ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat()}
        local = dg.Definitions(
            assets=list(defs.assets or []),
            asset_checks=list(defs.asset_checks or []),
            jobs=list(defs.jobs or []),
            resources={
                **(defs.resources or {}),  # the location's own (code_location), the two below pointed at ``path``
                "warehouse": DuckDBWarehouse(path=str(path), analytics_schema=SETTINGS.analytics_schema),
                "dbt": dbt_resource(),
            },
            executor=dg.in_process_executor,
        )
        previous = os.environ["TRUST_DUCKDB_PATH"]
        os.environ["TRUST_DUCKDB_PATH"] = str(path)  # dbt reads it in its own process
        try:
            with dg.DagsterInstance.ephemeral() as instance:
                result = local.resolve_job_def(job).execute_in_process(
                    tags=tags, instance=instance, raise_on_error=False
                )
        finally:
            os.environ["TRUST_DUCKDB_PATH"] = previous
        return DailyRun(result)

    return run


@pytest.fixture
def private_copy(pipeline_warehouse, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the session warehouse that a test may damage."""
    yield pipeline_warehouse.copy_to(tmp_path / "warehouse")

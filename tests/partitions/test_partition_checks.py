"""A multi-day run reports each day's check results on that day: real checks, real dbt tests, a real Dagster
instance, on a private copy of the session warehouse with one day broken."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

SIGNAL = "customer_trust_signal"


@pytest.fixture
def broken_copy(
    pipeline_warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, list[date]]]:
    """A copy whose second scored day lost its mobile scores and holds a duplicated TV feature row."""
    path = pipeline_warehouse.copy_to(tmp_path / "warehouse")
    days = pipeline_warehouse.scoring_dates[:3]
    bad = days[1]
    with duckdb.connect(str(path)) as con:
        con.execute(f"delete from analytics.{SIGNAL} where snapshot_date = ? and cohort = 'mobile'", [bad])
        con.execute(
            "insert into analytics.tv_features select * from analytics.tv_features where snapshot_date = ? limit 1",
            [bad],
        )
    monkeypatch.setenv("TRUST_DUCKDB_PATH", str(path))  # dbt reads it in its own process
    yield path, days


def _statuses(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> dict[str, AssetCheckExecutionRecordStatus]:
    infos = instance.event_log_storage.get_asset_check_partition_info([key])
    return {i.partition_key: i.latest_execution_status for i in infos if i.partition_key}


def test_a_blocking_failure_on_one_day_shows_on_that_day_only(broken_copy: tuple[Path, list[date]]) -> None:
    from resources.warehouse import DuckDBWarehouse
    from trust_assets.assets.dbt_models import dbt_resource
    from trust_assets.definitions import defs

    path, days = broken_copy
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        selection=dg.AssetSelection.checks_for_assets(SIGNAL),
        resources={"warehouse": DuckDBWarehouse(path=str(path)), "dbt": dbt_resource()},
        instance=instance,
        tags={
            ASSET_PARTITION_RANGE_START_TAG: days[0].isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: days[-1].isoformat(),
        },
        raise_on_error=False,
    )
    assert not result.success, "a blocking check failed on one day: the run must fail"
    coverage = _statuses(instance, dg.AssetCheckKey(dg.AssetKey(SIGNAL), "scored_once_per_product"))
    assert coverage == {
        days[0].isoformat(): AssetCheckExecutionRecordStatus.SUCCEEDED,
        days[1].isoformat(): AssetCheckExecutionRecordStatus.FAILED,
        days[2].isoformat(): AssetCheckExecutionRecordStatus.SUCCEEDED,
    }
    provenance = _statuses(instance, dg.AssetCheckKey(dg.AssetKey(SIGNAL), "provenance"))
    assert set(provenance.values()) == {AssetCheckExecutionRecordStatus.SUCCEEDED}, provenance
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    evaluations = [e for e in evaluations if e.check_name == "scored_once_per_product"]
    failed = [e for e in evaluations if not e.passed]
    assert [e.partition for e in failed] == [days[1].isoformat()]
    assert "mobile" in (failed[0].description or ""), failed[0].description

    # The closing text of `trust run` / `trust demo` names exactly the checks and days the UI shows as failed.
    from trust_assets.check_report import checks_not_passed, render_checks_not_passed

    reported = checks_not_passed(instance, [result.run_id])
    keys = {
        dg.AssetCheckKey(e.event_specific_data.asset_key, e.event_specific_data.check_name)
        for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    shown_failed = {
        (key.asset_key.to_user_string(), key.name, day)
        for key in keys for day, status in _statuses(instance, key).items()
        if status == AssetCheckExecutionRecordStatus.FAILED
    }
    assert {(r.asset, r.check, day) for r in reported for day in r.days} == shown_failed
    coverage_line = next(r for r in reported if r.check == "scored_once_per_product")
    assert (coverage_line.severity, coverage_line.days) == ("ERROR", (days[1].isoformat(),))
    text = " ".join(render_checks_not_passed(reported).split())  # lines wrap at 118 columns
    assert f"{SIGNAL} scored_once_per_product: failed on {days[1].isoformat()}" in text
    assert "what to do: the day was not published downstream of this check" in text
    assert "provenance" not in text


def test_dbt_tests_are_rerun_to_find_the_failing_day(broken_copy: tuple[Path, list[date]]) -> None:
    from trust_assets.assets.dbt_models import MANIFEST, dbt_resource
    from trust_assets.services.dbt_daily_results import dbt_test_runner, failing_days

    _, days = broken_copy
    unique_tests = [
        uid for uid, node in MANIFEST["nodes"].items()
        if node["resource_type"] == "test" and node.get("attached_node") == "model.trust_index.tv_features"
        and "unique_combination" in uid
    ]  # fmt: skip
    assert len(unique_tests) == 1, unique_tests
    run = dbt_test_runner(dbt_resource(), MANIFEST)
    assert run(days[0], days[-1], unique_tests) == set(unique_tests)
    assert failing_days(run, days[0], days[-1], unique_tests) == {unique_tests[0]: [days[1]]}
    # The search ran dbt on real windows: the clean first day passes alone.
    assert run(days[0], days[0], unique_tests) == set()

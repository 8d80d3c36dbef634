"""How blocking asset checks gate a run, measured on a toy graph shaped like ours.

raw/t (external AssetSpec) -> stg (unpartitioned view, not in the daily job) -> daily (partitioned, in the job).
Findings that decide where the raw contract lives (docs/checks.md, "Why a gate asset"):

1. A daily job selected by groups does not include checks on the external raw assets at all.
2. Even when the job selects them, a failing blocking check on raw/t stops only steps that take raw/t as a
   direct input; ``daily`` reads it through ``stg`` and runs anyway.
3. A gate asset that ``daily`` depends on, whose blocking checks fail, stops ``daily``.
"""

from __future__ import annotations

import dagster as dg
import pytest

PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-01-01")
RAW = dg.AssetSpec(dg.AssetKey(["raw", "t"]), group_name="raw_sources")
GATE = dg.AssetKey("gate")
RAN: list[str] = []


@dg.asset(deps=[RAW.key], group_name="staging")
def stg() -> None:
    RAN.append("stg")


@dg.asset(deps=["stg"], partitions_def=PARTITIONS, group_name="daily")
def daily() -> None:
    RAN.append("daily")


@dg.asset(deps=[RAW.key], partitions_def=PARTITIONS, group_name="direct")
def direct_child() -> None:
    RAN.append("direct_child")


@dg.asset_check(asset=RAW.key, blocking=True)
def raw_contract() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description="broken")


@dg.multi_asset(
    specs=[dg.AssetSpec(GATE, deps=[RAW.key], skippable=True, group_name="gated")],
    check_specs=[dg.AssetCheckSpec("contract", asset=GATE, blocking=True)],
    partitions_def=PARTITIONS,
)
def gate():
    RAN.append("gate")
    yield dg.AssetCheckResult(asset_key=GATE, check_name="contract", passed=False,
                              severity=dg.AssetCheckSeverity.ERROR)
    raise dg.Failure("raw.t.col: rule broken")


@dg.asset(deps=[GATE], partitions_def=PARTITIONS, group_name="gated")
def gated_daily() -> None:
    RAN.append("gated_daily")


DEFS = dg.Definitions(
    assets=[RAW, stg, daily, direct_child, gate, gated_daily],
    asset_checks=[raw_contract],
    jobs=[
        dg.define_asset_job("by_groups", selection=dg.AssetSelection.groups("daily")),
        dg.define_asset_job(
            "with_raw_checks",
            selection=dg.AssetSelection.groups("daily", "direct") | dg.AssetSelection.checks(raw_contract),
        ),
        dg.define_asset_job("gated", selection=dg.AssetSelection.groups("gated")),
    ],
    executor=dg.in_process_executor,
)


def _run(job: str) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    RAN.clear()
    result = DEFS.resolve_job_def(job).execute_in_process(
        partition_key="2026-01-02", raise_on_error=False, instance=dg.DagsterInstance.ephemeral()
    )
    return result, list(RAN)


def test_group_selection_leaves_out_checks_on_external_raw_assets() -> None:
    job = DEFS.resolve_job_def("by_groups")
    assert [n.name for n in job.graph.nodes] == ["daily"]
    result, ran = _run("by_groups")
    assert result.success and ran == ["daily"]


@pytest.mark.filterwarnings("ignore")
def test_blocking_raw_check_gates_only_direct_children() -> None:
    result, ran = _run("with_raw_checks")
    assert not result.success  # the check's step fails ...
    assert "daily" in ran  # ... but the model reading raw through staging ran anyway,
    assert "direct_child" not in ran  # while a direct child of raw/t was held back.


def test_gate_asset_with_blocking_checks_stops_its_dependents() -> None:
    result, ran = _run("gated")
    assert not result.success
    assert ran == ["gate"]
    evaluations = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(evaluations) == 1 and not evaluations[0].event_specific_data.passed
    assert not result.asset_materializations_for_node("gated_daily")

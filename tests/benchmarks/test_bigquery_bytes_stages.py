"""benchmarks/bigquery_bytes.py measures the whole daily job: its four stages together run exactly the steps of
daily_trust_job, stage 4 without running dbt again, and the printed whole-run total is the sum of the four stages.
The benchmark itself takes a minute on a prepared warehouse and is not run here."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import bigquery_bytes as bb
from benchmarks.bigquery_bytes import GIB, Line
from trust_assets.assets.dbt_models import trust_dbt_daily_models

DBT_TABLES = ("customer_360_definition", "mobile_features", "tv_features", "broadband_features")


def _nodes(job: Any) -> set[str]:  # an unresolved asset job
    return {node.name for node in bb.local_definitions(job).resolve_job_def(job.name).nodes}


def test_stage_four_holds_the_checks_on_the_dbt_tables_and_the_daily_monitoring() -> None:
    part = bb.daily_job_rest()
    names = set(part.names())
    for table in DBT_TABLES:
        assert {f"{table}:schema", f"{table}:row_count_stable"} <= names
    for table in DBT_TABLES[1:]:
        assert {f"{table}:covers_customer_360", f"{table}:missing_share"} <= names
    assert {"feature_drift", "feature_drift:drift_bands", "score_distribution", "monitoring_report"} <= names
    # Nothing of stages 1-3: no dbt model or dbt test, not the gate, not the trust signal or its checks.
    assert part.checks.isdisjoint(trust_dbt_daily_models.check_keys)
    assert not part.assets & trust_dbt_daily_models.keys
    assert not any(n.split(":")[0] in ("raw_source_contract", "customer_trust_signal") for n in names)


def test_the_four_stages_run_exactly_the_steps_of_the_daily_job() -> None:
    from trust_assets.definitions import defs

    rest = _nodes(bb.daily_job_rest().job())
    # Stage 4 executes single steps of its own: selecting the checks on the dbt models does not run dbt.
    assert not rest & {trust_dbt_daily_models.op.name, "raw_source_contract"}
    trust_signal = _nodes(bb.trust_signal_job())
    daily = {node.name for node in defs.resolve_job_def("daily_trust_job").nodes}
    # Stage 1 is the dbt step (its dbt build), stage 2 the gate's step.
    assert daily == {trust_dbt_daily_models.op.name, "raw_source_contract"} | trust_signal | rest
    assert not trust_signal & rest


def test_the_whole_run_is_the_sum_of_the_four_stages_in_gib_and_gb(capsys: pytest.CaptureFixture[str]) -> None:
    scales = [1.0, 2.0, 3.0]
    billed = {"dbt": 100 * 10**9, "gate": 20 * 10**9, "python": 10 * 10**9, "rest": 5 * 10**9}
    lines = {(stage, "origin", "analytics.t"): Line(1, n, {s: round(n * s) for s in scales})
             for stage, n in billed.items()}
    bb.print_report(lines, scales, ["here", "x2", "x3"], [], "legend", unmeasured=["a shadow scoring"])
    out = capsys.readouterr().out
    whole = next(line for line in out.splitlines() if line.strip().startswith("whole daily run: stages"))
    assert "stages 1 + 2 + 3 + 4" in whole
    assert whole.split()[-2:] == ["405.00", "GB"]  # 135 GB x 3
    assert f"{135 * 10**9 * 3 / GIB:.2f} GiB" in whole
    assert "  not measured: a shadow scoring" in out

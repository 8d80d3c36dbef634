"""benchmarks/bigquery_bytes.py measures the whole daily job: its four stages together run exactly the steps of
daily_trust_job, stage 4 without running dbt again, and the printed whole-run total is the sum of the four stages;
stage 1 bills what dbt-bigquery's insert_overwrite sends for each daily model's config as parsed for BigQuery.
The benchmark itself takes a minute on a prepared warehouse and is not run here."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from benchmarks import bigquery_bytes as bb
from benchmarks.bigquery_bytes import GIB, Line
from resources.bigquery_billing import Catalogue, Partitioning, query_reads
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


DAY = date(2026, 2, 28)
MERGE = "temporary table: MERGE"
PARTITIONS_READ = "temporary table: partitions to replace"
# The BigQuery config's partitions, as dbt-bigquery's static mode takes them (DATE literals).
STATIC = [f"date '{DAY + timedelta(days=i)}'" for i in range(3)]
COLUMNS = {"snapshot_date": "DATE", "customer_id": "VARCHAR", "feature": "DOUBLE"}


@pytest.fixture(scope="module")
def bigquery_configs() -> dict[str, dict[str, Any]]:
    """The incremental models' configs as dbt parses the project for BigQuery."""
    return bb.bigquery_model_configs()


def _node(unique_id: str) -> dict[str, Any]:
    name = unique_id.split(".")[-1]
    return {"name": name, "schema": "analytics", "alias": name}


def _reads(sql: str, table: str) -> tuple[frozenset[str], set[date]]:
    """The columns and partitions of ``analytics.<table>`` one statement bills, as the billing rule reads them."""
    catalogue = Catalogue(columns={("analytics", table): COLUMNS},
                          partitioning={("analytics", table): Partitioning("snapshot_date")})
    (query,) = query_reads(sql, catalogue)
    (read,) = query.reads
    assert read.name == f"analytics.{table}", sql
    days: set[date] = set()
    for bounds in read.days:
        assert bounds.first is not None and bounds.last is not None, sql  # never every partition
        days |= {bounds.first + timedelta(days=i) for i in range((bounds.last - bounds.first).days + 1)}
    return read.columns, days


def test_copy_partitions_bill_the_partitions_to_replace_and_no_merge(
    bigquery_configs: dict[str, dict[str, Any]],
) -> None:
    """The daily models' parsed config: dynamic insert_overwrite with copy_partitions. dbt-bigquery reads which
    partitions the temporary table holds (its partition column, for the day) and copies each into the target
    with a copy job, which bills nothing: no MERGE reads the temporary table."""
    assert {key.split(".")[-1] for key in bigquery_configs} == set(DBT_TABLES) | {"int_common_features"}
    for key, config in bigquery_configs.items():
        name = key.split(".")[-1]
        assert (config["incremental_strategy"], config["partition_by"]["copy_partitions"]) == ("insert_overwrite",
                                                                                                True), name
        assert config.get("partitions") is None and config["on_schema_change"] == "fail", name
        issued = bb._insert_overwrite(_node(key), config, DAY)
        assert [item.note for item in issued] == [PARTITIONS_READ], name
        assert _reads(issued[0].sql, name) == (frozenset({"snapshot_date"}), {DAY}), issued[0].sql


@pytest.mark.parametrize(
    ("change", "notes", "merged_days"),
    [
        # Without copy_partitions the MERGE script reads the partitions, then all of the temporary table.
        ({"copy_partitions": False}, [PARTITIONS_READ, MERGE], {DAY}),
        # The dynamic MERGE script creates the temporary table even when on_schema_change would not.
        ({"copy_partitions": False, "on_schema_change": "ignore"}, [PARTITIONS_READ, MERGE], {DAY}),
        # Copies bill nothing: dynamic reads only which partitions to copy, static takes them from the literals.
        ({"copy_partitions": True}, [PARTITIONS_READ], set()),
        ({"partitions": STATIC, "copy_partitions": True}, [], set()),
        # Static MERGE: from the temporary table for exactly the listed partitions, or inline (the model's line).
        ({"partitions": STATIC, "copy_partitions": False}, [MERGE], {DAY + timedelta(days=i) for i in range(3)}),
        ({"partitions": STATIC, "copy_partitions": False, "on_schema_change": "ignore"}, [], set()),
    ],
)
def test_insert_overwrite_statements_follow_the_config(
    bigquery_configs: dict[str, dict[str, Any]], change: dict[str, Any], notes: list[str], merged_days: set[date],
) -> None:
    """What dbt-bigquery's materialisation issues for variants of the same model's parsed config (its macros
    incremental.sql and insert_overwrite.sql); each variant sets copy_partitions itself."""
    key = "model.trust_index.mobile_features"
    config = {**bigquery_configs[key], **{k: v for k, v in change.items() if k != "copy_partitions"}}
    if "copy_partitions" in change:
        config["partition_by"] = {**config["partition_by"], "copy_partitions": change["copy_partitions"]}
    issued = bb._insert_overwrite(_node(key), config, DAY)
    assert [item.note for item in issued] == notes
    for item in issued:
        columns, days = _reads(item.sql, "mobile_features")
        if item.note == PARTITIONS_READ:
            assert (columns, days) == (frozenset({"snapshot_date"}), {DAY}), item.sql
        else:
            assert (columns, days) == (frozenset(COLUMNS), merged_days), item.sql


def test_a_model_that_is_not_insert_overwrite_is_refused(bigquery_configs: dict[str, dict[str, Any]]) -> None:
    key = "model.trust_index.tv_features"
    with pytest.raises(bb.MeasurementError, match="tv_features is not insert_overwrite"):
        bb._insert_overwrite(_node(key), {**bigquery_configs[key], "incremental_strategy": "merge"}, DAY)

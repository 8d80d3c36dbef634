"""Every SQL statement the Python code issues runs on BigQuery as well as on DuckDB.

The statements are not listed by hand: the code location's Python assets and their checks (all of them, also
those added later) run on a copy of the session warehouse through a recording DuckDB warehouse, the CLI summary
too, and each distinct statement is then checked for BigQuery (tests/bigquery/recording.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from resources.sql_dialect import bigquery_sql, duckdb_sql
from tests.bigquery.recording import RECORDED, RecordingDuckDBWarehouse, Statement, statement_problems
from tests.support import PRODUCT_ASSETS

# The modules whose statements must be among those recorded: proof that the run exercised them.
EXPECTED_ORIGINS = (
    "asset_checks/raw_contract.py",
    "asset_checks/reads.py",
    "trust_assets/assets/models.py",
    "trust_assets/services/publishing.py",
    "trust_assets/store/models.py",
    "trust_assets/store/signal.py",
)
# Python-computed assets the run must materialise (the others are built by dbt).
PYTHON_PRODUCT_ASSETS = {"raw_source_contract", *PRODUCT_ASSETS} - {
    "customer_360_definition", "mobile_features", "tv_features", "broadband_features",
}


@dataclass(frozen=True)
class Recording:
    statements: list[Statement]
    materialized: set[str]
    failed_steps: list[str]
    seconds: float


def _partition_key(partitions_def: dg.PartitionsDefinition, day: date) -> str:
    now = datetime.combine(day + timedelta(days=1), datetime.min.time())
    keys = partitions_def.get_partition_keys(current_time=now)
    return day.isoformat() if day.isoformat() in keys else keys[-1]


def _run_python_assets(path: Path, day: date) -> tuple[set[str], list[str]]:
    """Materialise every non-dbt asset of the code location (with its checks), one run per partitioning."""
    from trust_assets.assets.dbt_models import dbt_resource
    from trust_assets.config import SETTINGS
    from trust_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    groups: list[tuple[dg.PartitionsDefinition | None, list[dg.AssetKey]]] = []
    for key in sorted(graph.executable_asset_keys):
        node = graph.get(key)
        if "dbt" in node.kinds:
            continue  # dbt's SQL has its own portability tests (tests/dbt/test_portability.py)
        for partitions_def, keys in groups:
            if partitions_def == node.partitions_def:
                keys.append(key)
                break
        else:
            groups.append((node.partitions_def, [key]))
    groups.sort(key=lambda group: group[0] is not None)  # the ruler and models first, then the days
    jobs = [dg.define_asset_job(f"record_sql_{i}", selection=dg.AssetSelection.assets(*keys))
            for i, (_, keys) in enumerate(groups)]
    local = dg.Definitions(
        assets=list(defs.assets or []),
        asset_checks=list(defs.asset_checks or []),
        jobs=jobs,
        resources={
            "warehouse": RecordingDuckDBWarehouse(path=str(path), analytics_schema=SETTINGS.analytics_schema),
            "dbt": dbt_resource(),
        },
        executor=dg.in_process_executor,
    )
    materialized: set[str] = set()
    failed: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance:
        for job, (partitions_def, _) in zip(jobs, groups, strict=True):
            key = _partition_key(partitions_def, day) if partitions_def else None
            result = local.resolve_job_def(job.name).execute_in_process(
                instance=instance, partition_key=key, raise_on_error=False
            )
            materialized |= {
                e.asset_key.to_user_string() for e in result.all_events if e.is_step_materialization and e.asset_key
            }
            failed += [e.step_key for e in result.all_events if e.is_step_failure and e.step_key]
    return materialized, failed


@pytest.fixture(scope="module")
def recording(pipeline_warehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    from trust_assets.summary import render_summary

    path = pipeline_warehouse.copy_to(tmp_path_factory.mktemp("recorded_sql"))
    day = pipeline_warehouse.scoring_dates[-1]
    RECORDED.clear()
    started = time.monotonic()
    materialized, failed = _run_python_assets(path, day)
    render_summary(RecordingDuckDBWarehouse(path=str(path)), pipeline_warehouse.scoring_dates[0], day)
    yield Recording(list(RECORDED), materialized, failed, time.monotonic() - started)
    RECORDED.clear()


def test_the_python_assets_ran_and_their_statements_were_recorded(recording: Recording) -> None:
    assert recording.materialized >= PYTHON_PRODUCT_ASSETS, recording.failed_steps
    origins = {s.origin.split(":")[0] for s in recording.statements}
    assert set(EXPECTED_ORIGINS) <= origins, sorted(origins)
    print(  # shown with -s: what the run covered and what it cost
        f"\nrecorded {len(recording.statements)} statements ({len({s.sql for s in recording.statements})} distinct) "
        f"from {len(origins)} modules in {recording.seconds:.1f} s; materialised {sorted(recording.materialized)}; "
        f"failed steps {recording.failed_steps}"
    )


def test_every_statement_the_python_code_issues_is_valid_bigquery_sql(recording: Recording) -> None:
    distinct = {(s.sql, s.params): s.origin for s in recording.statements}
    assert len(distinct) > 30
    problems = [p for (sql, params), origin in distinct.items() for p in statement_problems(sql, params, origin)]
    assert problems == []


DUCKDB_ONLY = {
    "aggregate filter": "select count(*) filter (where is_complaint) as n from {analytics}.t",
    "list function": "select list_sum(list(x)) as s from {raw}.t",
    "cast shorthand": "select snapshot_date::date as d from {analytics}.t",
    "interval arithmetic": "select snapshot_date + interval 1 day as d from {analytics}.t",
    "aggregate median": "select median(trust_score) as m from {analytics}.t",
    "DuckDB-only function": "select histogram(region) as h from {raw}.bills",
    "parameter not passed": "select * from {analytics}.t where snapshot_date = $day",
}


@pytest.mark.parametrize("construct", sorted(DUCKDB_ONLY))
def test_the_check_rejects_duckdb_only_statements(construct: str) -> None:
    assert statement_problems(DUCKDB_ONLY[construct]), construct


def test_the_dialect_layer_renders_the_differences_for_bigquery() -> None:
    sql = (
        "select cohort, count(*) as rows, round(quantile_cont(trust_score, 0.9), 3) as p90 "
        "from {analytics}.customer_trust_signal where snapshot_date between $start and $end group by cohort"
    )
    assert statement_problems(sql, ("end", "start")) == []
    rendered = bigquery_sql(sql, "acme-prod", "trust", "landing")
    # Reserved word quoted, @parameters, the aggregate quantile BigQuery has, tables in the configured datasets.
    assert "AS `rows`" in rendered and "BETWEEN @start AND @end" in rendered
    assert "approx_quantiles(trust_score, 100)[OFFSET(90)]" in rendered.replace("APPROX_QUANTILES", "approx_quantiles")
    assert "`acme-prod`.trust.customer_trust_signal" in rendered
    raw = bigquery_sql("select * from {raw}.bills limit 0", "acme-prod", "trust", "landing")
    assert raw == "SELECT * FROM `acme-prod`.landing.bills LIMIT 0"
    # DuckDB runs the statement as written: its exact quantile, unchanged.
    assert duckdb_sql(sql, "analytics", "raw") == sql.replace("{analytics}", "analytics")

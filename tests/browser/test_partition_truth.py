"""What the Dagster UI says about each day equals what the warehouse holds for that day.

The session's warehouse was built as a user builds it: the main pipeline scores seven days in ONE run. Through
the real webserver (GraphQL, then the real pages in headless Chromium), each daily partition must carry its own
day's figures, each daily check must show a result for each day it checked, and the pipeline's runs must be
filed under their jobs.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import save_screenshot
from tests.browser.webserver import DagsterWebserver

if TYPE_CHECKING:
    from tests.browser.conftest import SessionWarehouse

pytestmark = pytest.mark.browser

SIGNAL = "customer_trust_signal"
COHORTS = ("broadband", "mobile", "tv")
# Every daily asset of daily_trust_job and the table (schema.table) that holds its rows per snapshot_date;
# None where the asset stores no rows of its own.
DAILY_ASSETS: dict[tuple[str, ...], str | None] = {
    ("raw_source_contract",): None,
    ("customer_360_definition",): "analytics.customer_360_definition",
    ("int_common_features",): "intermediate.int_common_features",
    ("mobile_features",): "analytics.mobile_features",
    ("tv_features",): "analytics.tv_features",
    ("broadband_features",): "analytics.broadband_features",
    (SIGNAL,): f"analytics.{SIGNAL}",
    ("customer_trust_signal_shadow",): "analytics.customer_trust_signal_shadow",
    ("customer_trust_signal_previous_champion",): "analytics.customer_trust_signal_previous_champion",
    ("probation_guard_metrics",): "analytics.probation_guard_metrics",
    ("feature_drift",): "analytics.feature_drift",
    ("score_distribution",): "analytics.score_distribution",
    ("monitoring_report",): None,
}
GOOD_STATUSES = {"SUCCEEDED", "FAILED"}  # FAILED with WARN severity is a warning in the UI

MATERIALIZATION_QUERY = """
query Partition($path: [String!]!, $partition: String!) {
  assetNodeOrError(assetKey: {path: $path}) {
    __typename
    ... on AssetNode {
      assetMaterializations(partitions: [$partition], limit: 1) {
        partition
        runId
        metadataEntries {
          label
          __typename
          ... on IntMetadataEntry { intValue }
          ... on FloatMetadataEntry { floatValue }
          ... on TextMetadataEntry { text }
          ... on PathMetadataEntry { path }
        }
      }
    }
  }
}
"""

CHECKS_QUERY = """
query Checks($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    __typename
    ... on AssetNode {
      assetChecksOrError {
        __typename
        ... on AssetChecks {
          checks {
            name
            blocking
            partitionStatuses {
              __typename
              ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
            }
          }
        }
      }
    }
  }
}
"""

JOB_RUNS_QUERY = """
query JobRuns($job: String!) {
  pipelineOrError(
    params: {pipelineName: $job, repositoryName: "__repository__", repositoryLocationName: "trust_index"}
  ) {
    __typename
    ... on Pipeline { runs { runId status tags { key value } } }
    ... on PythonError { message }
  }
}
"""


# -- GraphQL: every daily asset, every scored day ------------------------------------------------------------


def test_each_daily_partition_carries_its_own_days_figures(
    dagster_ui: DagsterWebserver, pipeline_warehouse: SessionWarehouse
) -> None:
    days = pipeline_warehouse.scoring_dates
    per_day = _warehouse_rows_per_day(pipeline_warehouse, days)
    mismatches: list[str] = []
    for path, table in DAILY_ASSETS.items():
        for day in days:
            meta = _partition_metadata(dagster_ui, path, day)
            if table is None:
                continue
            shown, held = meta.get("dagster/row_count"), per_day[table].get(day, 0)
            if shown != held:
                mismatches.append(f"{'/'.join(path)} {day}: UI row count {shown}, warehouse {held}")
    assert not mismatches, "\n".join(mismatches)
    # A multi-day run must not give every day the window's total: the days differ in the warehouse.
    assert len({per_day[f"analytics.{SIGNAL}"][d] for d in days}) > 1


def test_trust_signal_partitions_show_each_days_cohort_figures(
    dagster_ui: DagsterWebserver, pipeline_warehouse: SessionWarehouse
) -> None:
    with duckdb.connect(str(pipeline_warehouse.duckdb_path), read_only=True) as con:
        signal = con.sql(f"select snapshot_date, cohort, trust_score from analytics.{SIGNAL}").pl()
        drift = con.sql("select snapshot_date, cohort, max(psi) as max_psi from analytics.feature_drift "
                        "group by all").pl()  # fmt: skip
    for day in pipeline_warehouse.scoring_dates:
        meta = _partition_metadata(dagster_ui, (SIGNAL,), day)
        drift_meta = _partition_metadata(dagster_ui, ("feature_drift",), day)
        for cohort in COHORTS:
            scores = signal.filter((pl.col("snapshot_date") == day) & (pl.col("cohort") == cohort))["trust_score"]
            assert meta[f"{cohort}_rows"] == scores.len(), (day, cohort)
            for q, key in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
                expected = scores.quantile(q, interpolation="linear")
                assert meta[f"{cohort}_trust_{key}"] == pytest.approx(expected, abs=1e-12), (day, cohort, key)
            psi = drift.filter((pl.col("snapshot_date") == day) & (pl.col("cohort") == cohort))["max_psi"][0]
            assert drift_meta[f"{cohort}_max_psi"] == pytest.approx(psi, abs=1e-12), (day, cohort)
        report = _partition_metadata(dagster_ui, ("monitoring_report",), day)["report"]
        assert str(report).endswith(f"monitoring_{day.isoformat()}.html"), (day, report)


def test_every_daily_check_has_a_result_for_each_day(
    dagster_ui: DagsterWebserver, pipeline_warehouse: SessionWarehouse
) -> None:
    days = [d.isoformat() for d in pipeline_warehouse.scoring_dates]
    problems: list[str] = []
    checked = 0
    for path in DAILY_ASSETS:
        for check in _checks(dagster_ui, path):
            statuses = _statuses_by_day(check["partitionStatuses"], days)
            checked += 1
            for day in days:
                if statuses.get(day) not in GOOD_STATUSES:
                    problems.append(f"{'/'.join(path)}.{check['name']} {day}: {statuses.get(day, 'no result')}")
            if check["blocking"]:
                failed = [d for d in days if statuses.get(d) == "FAILED"]
                # The run succeeded, so no blocking check failed on any of its days.
                if failed:
                    problems.append(f"blocking {'/'.join(path)}.{check['name']} failed on {failed}")
    assert checked >= 30, f"only {checked} daily checks found"
    assert not problems, "\n".join(problems[:40])


def test_the_pipelines_runs_are_listed_under_their_jobs(
    dagster_ui: DagsterWebserver, pipeline_warehouse: SessionWarehouse
) -> None:
    first, last = pipeline_warehouse.scoring_dates[0], pipeline_warehouse.scoring_dates[-1]
    for job in ("foundation_job", "features_job", "ruler_and_models_job", "daily_trust_job"):
        data = dagster_ui.graphql(JOB_RUNS_QUERY, {"job": job})["pipelineOrError"]
        assert data["__typename"] == "Pipeline", data
        assert data["runs"], f"{job} lists no runs"
    _ranged_run(dagster_ui, first, last)


# -- the pages a user reads --------------------------------------------------------------------------------------


def test_partition_view_shows_each_days_row_count_and_check_statuses(
    dagster_ui: DagsterWebserver, page: Page, pipeline_warehouse: SessionWarehouse
) -> None:
    days = pipeline_warehouse.scoring_dates
    counts = _warehouse_rows_per_day(pipeline_warehouse, days)[f"analytics.{SIGNAL}"]
    checks = _checks(dagster_ui, (SIGNAL,))
    assert len(checks) >= 4, checks
    for day in (days[0], days[3], days[-1]):
        key = day.isoformat()
        # Catalog > customer_trust_signal > Partitions, the day selected: its materialisation's metadata.
        page.goto(f"{dagster_ui.base_url}/assets/{SIGNAL}?view=partitions&partition={key}")
        expect(page.locator(f":text-is('{key}'):visible").first).to_be_visible()
        row = page.locator("tr", has=page.locator(":text-is('dagster/row_count')"))
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(1)).to_have_text(re.compile(rf"^\s*{counts[day]}\s*$"))
        save_screenshot(page, f"partition-{key}")

        # Checks > <check> > Partitions, the day selected: that day's own result.
        for check in checks:
            expected = _ui_words(_statuses_by_day(check["partitionStatuses"], [key]).get(key))
            page.goto(f"{dagster_ui.base_url}/assets/{SIGNAL}?view=checks&checkDetail={check['name']}")
            page.locator("button[role=tab]", has_text="Partitions").click()
            page.get_by_placeholder("Filter by partition").fill(key)
            page.locator(f":text-is('{key}'):visible").last.click()
            shown = page.locator(", ".join(f":text-is('{word}'):visible" for word in expected))
            expect(shown.first).to_be_visible()
            expect(page.get_by_text(re.compile(rf"for {key}")).first).to_be_visible()
            for wrong in {"Passed", "Failed", "Warning", "Skipped"} - expected:
                expect(page.locator(f":text-is('{wrong}'):visible")).to_have_count(0)
        save_screenshot(page, f"check-partition-{key}")

    # Jobs > daily_trust_job > Runs lists the run that scored the days together.
    run_id = _ranged_run(dagster_ui, days[0], days[-1])
    page.goto(f"{dagster_ui.base_url}/locations/trust_index/jobs/daily_trust_job/runs")
    expect(page.get_by_role("link", name=run_id[:8]).first).to_be_visible()
    save_screenshot(page, "daily-trust-job-runs")


# -- helpers -----------------------------------------------------------------------------------------------


def _warehouse_rows_per_day(warehouse: SessionWarehouse, days: list[date]) -> dict[str, dict[date, int]]:
    out: dict[str, dict[date, int]] = {}
    with duckdb.connect(str(warehouse.duckdb_path), read_only=True) as con:
        for table in filter(None, DAILY_ASSETS.values()):
            schema, name = table.split(".")
            exists = con.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchone()
            if not exists or not exists[0]:
                out[table] = {}
                continue
            rows = con.execute(
                f"select snapshot_date, count(*) from {table} where snapshot_date between ? and ? group by 1",
                [days[0], days[-1]],
            ).fetchall()
            out[table] = {d: int(n) for d, n in rows}
    return out


def _partition_metadata(server: DagsterWebserver, path: tuple[str, ...], day: date) -> dict[str, Any]:
    node = server.graphql(MATERIALIZATION_QUERY, {"path": list(path), "partition": day.isoformat()})[
        "assetNodeOrError"
    ]
    assert node["__typename"] == "AssetNode", node
    events = node["assetMaterializations"]
    assert events, f"{'/'.join(path)} has no materialisation for {day}"
    assert events[0]["partition"] == day.isoformat()
    out: dict[str, Any] = {}
    for entry in events[0]["metadataEntries"]:
        for field in ("intValue", "floatValue", "text", "path"):
            if field in entry:
                out[entry["label"]] = entry[field]
    return out


def _checks(server: DagsterWebserver, path: tuple[str, ...]) -> list[dict[str, Any]]:
    node = server.graphql(CHECKS_QUERY, {"path": list(path)})["assetNodeOrError"]
    assert node["__typename"] == "AssetNode", node
    checks = node["assetChecksOrError"]
    assert checks["__typename"] == "AssetChecks", checks
    return checks["checks"]


def _statuses_by_day(statuses: dict[str, Any] | None, days: list[str]) -> dict[str, str]:
    """The status the partition view shows for each day (ranges are inclusive of both keys)."""
    if not statuses or "ranges" not in statuses:
        return {}
    out: dict[str, str] = {}
    for day in days:
        for r in statuses["ranges"]:
            if r["startKey"] <= day <= r["endKey"]:
                out[day] = r["status"]
    return out


def _ranged_run(server: DagsterWebserver, first: date, last: date) -> str:
    """The one successful daily_trust_job run listed under the job that covered first .. last."""
    runs = server.graphql(JOB_RUNS_QUERY, {"job": "daily_trust_job"})["pipelineOrError"]["runs"]
    ranged = []
    for run in runs:
        tags = {t["key"]: t["value"] for t in run["tags"]}
        if (tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")) == (
            first.isoformat(), last.isoformat()
        ):
            ranged.append(run)
    assert [r["status"] for r in ranged] == ["SUCCESS"], runs
    return ranged[0]["runId"]


def _ui_words(status: str | None) -> set[str]:
    """What the check's partition panel may show for a GraphQL partition status (a failed WARN check warns)."""
    return {"SUCCEEDED": {"Passed"}, "FAILED": {"Failed", "Warning"}}.get(status or "", {"Skipped"})

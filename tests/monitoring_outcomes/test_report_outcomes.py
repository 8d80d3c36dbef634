"""The monitoring report of a recent day shows the outcome evidence that exists: the fairness figures of the day
and, since outcomes are known only months later, the decile lift and model performance of the latest scoring
date whose outcome window has closed, named as such. Values are compared with the warehouse's tables."""

from __future__ import annotations

import html
import re
from datetime import date

import duckdb

from tests.monitoring_outcomes.conftest import OutcomeCopy
from trust_assets.main_pipeline import latest_matured_date, main_steps, plan_main_run


def _section_rows(page: str, section: str) -> list[list[str]]:
    """The cells of every body row of the tables in one section of the page."""
    found = re.search(rf"<section id='{section}'>(.*?)</section>", page, re.S)
    assert found, f"no {section} section"
    body = "".join(re.findall(r"<tbody>(.*?)</tbody>", found.group(1), re.S))
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    return [[html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)] for row in rows]


def _rows(outcome_copy: OutcomeCopy, sql: str, day: date) -> list[tuple]:
    with duckdb.connect(str(outcome_copy.path), read_only=True) as con:
        return con.execute(sql, [day]).fetchall()


def test_a_recent_days_report_shows_its_fairness_and_the_latest_matured_outcomes(outcome_copy, materialize_on) -> None:
    day = outcome_copy.open_date
    result = materialize_on(outcome_copy.path, ["monitoring_report"], day)
    assert result.success
    page = (outcome_copy.path.parent / "reports" / f"monitoring_{day.isoformat()}.html").read_text()

    assert "not yet available" not in page
    assert f"Scores of {outcome_copy.matured_date.isoformat()}: the latest scoring date whose outcome window" in page
    performance = _rows(outcome_copy, """
        select cohort, model, n, roc_auc from analytics.matured_outcome_performance where scoring_date = ?
        order by cohort, model""", outcome_copy.matured_date)
    shown = {(r[1], r[2]): r for r in _section_rows(page, "outcomes")}
    assert len(shown) == len(performance) > 0
    for cohort, model, n, auc in performance:
        row = shown[(cohort, model)]
        assert row[0] == outcome_copy.matured_date.isoformat()
        assert str(n) in row and (auc is None or f"{auc:.3f}" in row), (cohort, model, row)

    deciles = _rows(outcome_copy, "select count(*) from analytics.trust_decile_outcomes where scoring_date = ?",
                    outcome_copy.matured_date)
    decile_rows = _section_rows(page, "deciles")
    assert len(decile_rows) == deciles[0][0] > 0
    assert {r[0] for r in decile_rows} == {outcome_copy.matured_date.isoformat()}

    fairness = _rows(outcome_copy, "select count(*) from analytics.fairness_by_group where scoring_date = ?", day)
    fairness_rows = _section_rows(page, "fairness")
    assert len(fairness_rows) == min(fairness[0][0], 60) > 0
    assert {r[0] for r in fairness_rows} == {day.isoformat()}


def test_the_main_job_ends_with_the_outcome_monitors() -> None:
    end = date(2026, 2, 28)
    plan = plan_main_run(end, scoring_days=7)
    # 2025-08-31's window (2025-09-01 .. 2026-02-28) closed on the last day of data; 2025-09-01's did not.
    assert plan.matured_date == latest_matured_date(end, plan.scoring_start) == date(2025, 8, 31)
    steps = main_steps(plan)
    assert [(s.job_name, dict(s.tags)) for s in steps[-5:]] == [
        ("daily_trust_job", {"dagster/partition": "2025-08-31"}),
        ("outcome_monitoring_job", {"dagster/partition": "2025-08-31"}),
        ("outcome_monitoring_job", {"dagster/asset_partition_range_start": "2026-02-22",
                                    "dagster/asset_partition_range_end": "2026-02-28"}),
        ("monitoring_report_job", {"dagster/asset_partition_range_start": "2026-02-22",
                                   "dagster/asset_partition_range_end": "2026-02-28"}),
        # The matured date's report, written when it was scored, again once its outcomes are judged.
        ("monitoring_report_job", {"dagster/partition": "2025-08-31"}),
    ]
    assert main_steps(plan, with_outcome_monitoring=False) == steps[:-5]
    # Dates that would be the models' own training population are never taken as the matured date.
    assert latest_matured_date(date(2026, 12, 1), date(2025, 8, 1)) is None


def test_the_matured_dates_report_written_again_has_no_empty_section(outcome_copy, materialize_on) -> None:
    # The main job scores the matured date with the daily job (drift and score monitors included), judges its
    # outcomes, then re-writes its report (the last step of the plan above).
    day = outcome_copy.matured_date
    assert materialize_on(outcome_copy.path, ["feature_drift", "score_distribution", "monitoring_report"], day).success
    page = (outcome_copy.path.parent / "reports" / f"monitoring_{day.isoformat()}.html").read_text()
    assert "not yet available" not in page
    deciles = _rows(outcome_copy, "select count(*) from analytics.trust_decile_outcomes where scoring_date = ?", day)
    assert len(_section_rows(page, "deciles")) == deciles[0][0] > 0
    assert {r[0] for r in _section_rows(page, "fairness")} == {day.isoformat()}

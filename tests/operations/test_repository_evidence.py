"""The readiness gate's repository evidence: recorded as an artefact when the code is set up or tested, and read
from that artefact only, so a deployed image without tests/ and docs/ is judged on what its build recorded."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

from resources.warehouse import DuckDBWarehouse
from tests.operations.variants import champion
from tests.support import EVIDENCE_FIXTURE
from trust_assets.config import PROJECT_ROOT
from trust_assets.definitions import defs
from trust_assets.operations.gate import evaluate_gate
from trust_assets.operations.repository_evidence import EVIDENCE_ENV, evidence_path, junit_results, load, main, record

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="tests.dbt.test_dbt_build" name="test_a"/>
  <testcase classname="tests.dbt.test_dbt_build" name="test_b"><failure message="boom"/></testcase>
  <testcase classname="tests.dbt.test_sources" name="test_c"><skipped message="no"/></testcase>
  <testcase classname="tests.scoring.test_arithmetic" name="test_d"><failure message="elsewhere"/></testcase>
</testsuite></testsuites>
"""


def _tree(tmp_path: Path, runbook: str | None) -> Path:
    root = tmp_path / "checkout"
    (root / "tests" / "dbt").mkdir(parents=True)
    (root / "tests" / "dbt" / "test_dbt_build.py").write_text("")
    if runbook is not None:
        (root / "docs").mkdir()
        (root / "docs" / "runbook.md").write_text(runbook)
    return root


def test_junit_results_count_the_feature_tests_only(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(JUNIT)
    results = junit_results(report)
    assert (results.passed, results.failed, results.skipped) == (1, 1, 1)


def test_recorded_evidence_reads_back_and_names_what_the_runbook_lacks(tmp_path: Path) -> None:
    root = _tree(tmp_path, "## Rollback\n`trust models rollback tv`\n")
    report = tmp_path / "junit.xml"
    report.write_text(JUNIT)
    written = record(tmp_path / "evidence.json", root=root, junit=report)
    read = load(tmp_path / "evidence.json")
    assert read == written
    assert read is not None and read.feature_test_files == ["test_dbt_build.py"]
    assert read.runbook_topics_missing == ["promot", "07:00"] and read.rollback_command_documented
    assert load(tmp_path / "absent.json") is None


def test_the_test_sessions_fixture_is_evidence_of_a_passing_build(tmp_path: Path) -> None:
    # tests/conftest.py points the gate at this artefact: it has the shape a build records, and passes.
    fixture = load(EVIDENCE_FIXTURE)
    assert os.environ[EVIDENCE_ENV] == str(EVIDENCE_FIXTURE) and evidence_path() == EVIDENCE_FIXTURE
    assert fixture is not None and fixture.feature_test_files and fixture.feature_test_results is not None
    assert fixture.feature_test_results.failed == 0 and fixture.feature_test_results.passed > 0
    assert fixture.runbook_present and not fixture.runbook_topics_missing and fixture.rollback_command_documented
    assert set(json.loads(EVIDENCE_FIXTURE.read_text())) == set(asdict(record(tmp_path / "e.json")))


def test_the_command_refuses_a_missing_report_in_one_line(tmp_path: Path, capsys) -> None:
    assert main(["record", "--junit", str(tmp_path / "none.xml"), "--out", str(tmp_path / "e.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not (tmp_path / "e.json").exists()


def test_the_gate_reads_the_artefact_not_the_source_tree(pipeline_warehouse, tmp_path: Path) -> None:
    wh = DuckDBWarehouse(path=str(pipeline_warehouse.duckdb_path))
    version = champion(wh, "tv")
    # A deployed image: no tests/ and no docs/ beside the code; its build recorded the evidence.
    image = tmp_path / "image"
    image.mkdir()
    shutil.copytree(PROJECT_ROOT / "trust_assets", image / "trust_assets")
    recorded = tmp_path / "recorded.json"
    record(recorded)  # what this checkout's build records
    report = evaluate_gate(wh, version, defs, root=image, evidence_file=recorded)
    by_number = {i.number: i for i in report.items}
    assert by_number[1].passed and "files in tests/dbt" in by_number[1].evidence, by_number[1]
    assert by_number[10].passed, by_number[10]
    assert "`trust models rollback` documented" in by_number[9].evidence, by_number[9]

    # No artefact: the three items fail and say how to record it.
    report = evaluate_gate(wh, version, defs, root=PROJECT_ROOT, evidence_file=tmp_path / "none.json")
    failing = {i.number: i.evidence for i in report.failing}
    assert {1, 9, 10} <= set(failing), failing
    assert all("no repository evidence recorded" in failing[n] for n in (1, 9, 10)), failing

    # A recorded test run with a failing feature test fails item 1.
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    record(tmp_path / "failed.json", junit=junit)
    item = evaluate_gate(wh, version, defs, evidence_file=tmp_path / "failed.json").items[0]
    assert not item.passed and "1 passed, 1 failed, 1 skipped" in item.evidence, item

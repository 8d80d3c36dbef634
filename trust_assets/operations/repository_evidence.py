"""What the readiness gate needs to know about the repository, recorded when the code is built or tested.

Three gate items rest on files that a deployed image does not carry (tests/, docs/): the feature pipeline's
tests, the runbook's sections and the documented rollback command. Reading the source tree when a model is
promoted would fail those items wherever the tree is absent, and would say nothing about whether the tests
passed. So the facts are recorded as an artefact instead, by ``scripts/dev.sh setup`` (what exists) and by
``scripts/dev.sh test`` after the suite (what passed, from pytest's JUnit report), and the gate reads only the
artefact. A build that ships the code location records it the same way and ships the file.

    python -m trust_assets.operations.repository_evidence record [--junit artifacts/junit.xml]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from trust_assets.config import PROJECT_ROOT

EVIDENCE_ENV = "TRUST_REPOSITORY_EVIDENCE"
DEFAULT_FILE = PROJECT_ROOT / "artifacts" / "repository_evidence.json"
FEATURE_TESTS = "tests/dbt"
RUNBOOK = "docs/runbook.md"
# What the runbook must cover (item 10) and the command it must document (item 9).
RUNBOOK_TOPICS = ("rollback", "promot", "07:00")
ROLLBACK_COMMAND = "trust models rollback"


@dataclass(frozen=True)
class TestResults:
    """Outcome of the last recorded test run of one folder (from a JUnit report)."""

    __test__ = False  # not a pytest test class

    passed: int
    failed: int
    skipped: int
    recorded_from: str


@dataclass(frozen=True)
class RepositoryEvidence:
    recorded_at: str
    feature_test_files: list[str]
    runbook_present: bool
    runbook_topics_missing: list[str]
    rollback_command_documented: bool
    feature_test_results: TestResults | None = None


def evidence_path() -> Path:
    raw = os.environ.get(EVIDENCE_ENV)
    return Path(raw) if raw else DEFAULT_FILE


def junit_results(report: Path, folder: str = FEATURE_TESTS) -> TestResults:
    """Passed, failed and skipped test cases of ``folder`` in a pytest JUnit XML report."""
    prefix = folder.replace("/", ".") + "."
    passed = failed = skipped = 0
    for case in ET.parse(report).getroot().iter("testcase"):
        if not (case.get("classname") or "").startswith(prefix):
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return TestResults(passed, failed, skipped, str(report))


def collect(root: Path = PROJECT_ROOT, junit: Path | None = None) -> RepositoryEvidence:
    runbook = root / RUNBOOK
    text = runbook.read_text(encoding="utf-8") if runbook.is_file() else ""
    return RepositoryEvidence(
        recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        feature_test_files=sorted(p.name for p in (root / FEATURE_TESTS).glob("test_*.py")),
        runbook_present=runbook.is_file(),
        runbook_topics_missing=[t for t in RUNBOOK_TOPICS if t not in text.lower()],
        rollback_command_documented=ROLLBACK_COMMAND in text,
        feature_test_results=junit_results(junit) if junit is not None else None,
    )


def record(path: Path, root: Path = PROJECT_ROOT, junit: Path | None = None) -> RepositoryEvidence:
    """Collect and write the evidence atomically (a gate reading meanwhile sees the old file or the new one)."""
    evidence = collect(root, junit)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(asdict(evidence), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return evidence


def load(path: Path) -> RepositoryEvidence | None:
    """The recorded evidence, or None when none was recorded (or the file is not evidence)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        results = raw.pop("feature_test_results", None)
        return RepositoryEvidence(**raw, feature_test_results=TestResults(**results) if results else None)
    except (OSError, ValueError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record the repository evidence the readiness gate reads.")
    parser.add_argument("action", choices=["record"])
    parser.add_argument("--junit", type=Path, default=None, help="pytest JUnit report of the test run to record")
    parser.add_argument("--out", type=Path, default=None, help=f"evidence file (default ${EVIDENCE_ENV} or "
                        f"{DEFAULT_FILE.relative_to(PROJECT_ROOT)})")
    args = parser.parse_args(argv)
    if args.junit is not None and not args.junit.is_file():
        print(f"{args.junit} does not exist: run the tests with --junitxml first", file=sys.stderr)
        return 2
    out = args.out or evidence_path()
    evidence = record(out, junit=args.junit)
    tests = evidence.feature_test_results
    print(f"repository evidence recorded in {out}: {len(evidence.feature_test_files)} feature test files"
          + (f", {tests.passed} passed and {tests.failed} failed" if tests else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

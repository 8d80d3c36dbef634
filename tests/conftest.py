"""Shared fixtures: one small synthetic warehouse per test session, built through the real pipeline.

The warehouse location is fixed in the environment before any test module imports the code location
(the definitions read ``TRUST_DUCKDB_PATH`` at import), so every test and every subprocess sees the same file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SESSION_DIR = Path(tempfile.mkdtemp(prefix="trust-tests-"))
TEST_END_DATE = date(2026, 2, 28)
TEST_CUSTOMERS = int(os.environ.get("TRUST_TEST_CUSTOMERS", "4000"))
TEST_SEED = 42
SCORING_DAYS = 7


def pytest_configure(config: pytest.Config) -> None:
    os.environ["TRUST_DUCKDB_PATH"] = str(SESSION_DIR / "warehouse.duckdb")
    os.environ["TRUST_END_DATE"] = TEST_END_DATE.isoformat()
    os.environ["TRUST_TARGET"] = "duckdb"
    os.environ["DAGSTER_HOME"] = str(SESSION_DIR / "dagster_home")
    # The readiness gate reads the repository evidence a build records (scripts/dev.sh setup and test); the tests
    # point it at a fixed artefact of a passing build instead, so no test depends on the developer's artifacts/
    # or on the checkout's state, and nothing is recorded when pytest starts. What a build records, and the gate
    # judging a missing or failing record, are tested in tests/operations/test_repository_evidence.py.
    from tests.support import EVIDENCE_FIXTURE
    from trust_assets.operations.repository_evidence import EVIDENCE_ENV

    os.environ[EVIDENCE_ENV] = str(EVIDENCE_FIXTURE)
    (SESSION_DIR / "dagster_home").mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", SESSION_DIR / "dagster_home" / "dagster.yaml")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


@dataclass(frozen=True)
class PipelineWarehouse:
    """The session's warehouse after the main pipeline ran over it."""

    duckdb_path: Path
    dagster_home: Path
    # The instance that holds the pipeline's own runs (and nothing else): what the UI tests read.
    pipeline_dagster_home: Path
    end_date: date
    scoring_dates: list[date]
    customers: int
    seed: int
    env: dict[str, str] = field(default_factory=dict)

    def copy_to(self, target_dir: Path) -> Path:
        """A private copy of the warehouse file for tests that change data."""
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / "warehouse.duckdb"
        shutil.copy(self.duckdb_path, target)
        return target


@pytest.fixture(scope="session")
def pipeline_warehouse() -> Iterator[PipelineWarehouse]:
    from dagster import DagsterInstance

    from synthetic_telco.generate import generate_telco
    from trust_assets.main_pipeline import run_main

    path = Path(os.environ["TRUST_DUCKDB_PATH"])
    generate_telco(path, customers=TEST_CUSTOMERS, seed=TEST_SEED, end_date=TEST_END_DATE, progress=False)
    # The pipeline's runs go to an instance of their own: other tests run assets on copies of the warehouse
    # through the session instance, and must not change what a partition's latest materialisation says.
    pipeline_home = SESSION_DIR / "pipeline_dagster_home"
    pipeline_home.mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", pipeline_home / "dagster.yaml")
    with DagsterInstance.from_config(str(pipeline_home)) as instance:
        # Without the outcome-monitoring steps: the suite's tests expect exactly the scored days in the tables;
        # tests/monitoring_outcomes/ runs those steps on a copy (conftest.outcome_copy).
        plan = run_main(
            TEST_END_DATE, scoring_days=SCORING_DAYS, instance=instance, log=lambda _: None,
            with_outcome_monitoring=False,
        )
    scoring_dates = [plan.scoring_start + timedelta(days=i) for i in range(SCORING_DAYS)]
    yield PipelineWarehouse(
        duckdb_path=path,
        dagster_home=Path(os.environ["DAGSTER_HOME"]),
        pipeline_dagster_home=pipeline_home,
        end_date=TEST_END_DATE,
        scoring_dates=scoring_dates,
        customers=TEST_CUSTOMERS,
        seed=TEST_SEED,
        env={k: os.environ[k] for k in ("TRUST_DUCKDB_PATH", "TRUST_END_DATE", "TRUST_TARGET", "DAGSTER_HOME")},
    )


@pytest.fixture(scope="session")
def materialize_on():
    """Materialise assets of the real code location against another warehouse file (a private copy).

    Returns ``run(path, selection, start=None, end=None)``; ``start``/``end`` select a partition range.
    """
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from resources.warehouse import DuckDBWarehouse
    from trust_assets.assets.dbt_models import dbt_resource
    from trust_assets.definitions import defs

    assets = list(defs.assets or [])

    def run(path: Path, selection: str | list[str], start: date | None = None, end: date | None = None):
        tags = {}
        if start is not None:
            end = end or start
            tags = {ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat()}
        previous = os.environ["TRUST_DUCKDB_PATH"]
        os.environ["TRUST_DUCKDB_PATH"] = str(path)  # dbt reads it in its own process
        try:
            return dg.materialize(
                assets,
                selection=selection,
                resources={"warehouse": DuckDBWarehouse(path=str(path)), "dbt": dbt_resource()},
                tags=tags,
                instance=dg.DagsterInstance.ephemeral(),
                raise_on_error=False,
            )
        finally:
            os.environ["TRUST_DUCKDB_PATH"] = previous

    return run


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (the system package, driven by Playwright) for every browser test of the session:
    Playwright's sync API allows one instance per thread."""
    from playwright.sync_api import sync_playwright

    from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/install_chromium.sh` (Debian package chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()

"""Fixtures for the browser tests: the real Dagster webserver over the test warehouse, and headless Chromium."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Protocol

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.chromium import ARTIFACTS, REPO_ROOT, VIEWPORT, save_screenshot
from tests.browser.webserver import DagsterWebserver, write_instance_yaml


class SessionWarehouse(Protocol):
    """What these tests use of the session's ``pipeline_warehouse`` (tests/conftest.py)."""

    duckdb_path: Path
    pipeline_dagster_home: Path
    end_date: date
    scoring_dates: list[date]
    env: dict[str, str]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The UI test materialises a partition into the shared session warehouse: run it after every test
    # that only reads that warehouse (and the slow tests last is quicker feedback anyway).
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def dagster_workspace() -> Path:
    return REPO_ROOT / "workspace.yaml"


@pytest.fixture(scope="session")
def dagster_ui(
    pipeline_warehouse: SessionWarehouse, dagster_workspace: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterWebserver]:
    """``dagster-webserver`` over the session's test warehouse and the runs that built it.

    Its DAGSTER_HOME is new (a run coordinator that needs no daemon), its storage the pipeline's instance, so
    the UI shows the multi-day runs that materialised the warehouse, as a user sees them after the demo.
    """
    dagster_home = tmp_path_factory.mktemp("dagster_home")
    write_instance_yaml(dagster_home, storage_dir=pipeline_warehouse.pipeline_dagster_home)
    env = {
        **os.environ,
        **pipeline_warehouse.env,
        "DAGSTER_HOME": str(dagster_home),
        "TRUST_DUCKDB_PATH": str(pipeline_warehouse.duckdb_path),
        "TRUST_END_DATE": pipeline_warehouse.end_date.isoformat(),
    }
    server = DagsterWebserver(
        workspace=dagster_workspace,
        cwd=dagster_workspace.parent,
        env=env,
        log_path=ARTIFACTS / "logs" / "dagster-webserver.log",
    )
    server.start()
    try:
        server.dismiss_nux()
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)  # fresh profile per test: no shared local storage
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            # The page as it was when the test failed: CI keeps artifacts/, so a red run is diagnosable.
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            save_screenshot(page, f"FAILED-{name}")
        context.close()

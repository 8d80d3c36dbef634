"""Fixtures of the dbt tests: a tiny hand-made raw warehouse, built once per session with the real dbt CLI.

dbt runs as a subprocess with ``--profiles-dir dbt_project``, the project's own profile (target duckdb) and
``TRUST_DUCKDB_PATH`` pointing at a temporary file; its artifacts go to a temporary target path so the
project's own ``dbt_project/target`` (the manifest Dagster loads) is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tests.dbt.raw_fixture import SNAPSHOT, load_tiny_raw
from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_executable
from trust_assets.partitions import dbt_window_env, fixed_dbt_vars

# dbt-duckdb names the catalog after the file stem and views refer to it: every copy keeps this file name.
WAREHOUSE_FILE = "warehouse.duckdb"


@dataclass(frozen=True)
class DbtSandbox:
    """Runs the real dbt CLI against a chosen warehouse file, with artifacts in a temporary folder."""

    root: Path

    @property
    def target_path(self) -> Path:
        return self.root / "target"

    def run(
        self,
        warehouse: Path,
        args: Sequence[str],
        dbt_vars: Mapping[str, str] | None = None,
        target: str = "duckdb",
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        command = [
            dbt_executable(),
            *args,
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target", target,
            "--target-path", str(self.target_path),
            "--log-path", str(self.root / "logs"),
        ]
        if dbt_vars:
            command += ["--vars", json.dumps(dict(dbt_vars))]
        env = {
            **os.environ,
            "TRUST_DUCKDB_PATH": str(warehouse),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",
            **(extra_env or {}),
        }
        result = subprocess.run(
            command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
        return result

    def build_window(
        self, warehouse: Path, start: date, end: date, select: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``dbt build`` of the window start..end (unit tests excluded: they have their own test)."""
        args = ["build", "--exclude-resource-type", "unit_test"]
        if select:
            args += ["--select", select]
        return self.run(warehouse, args, fixed_dbt_vars(), extra_env=dbt_window_env(start, end))


@pytest.fixture(scope="session")
def dbt_sandbox(tmp_path_factory: pytest.TempPathFactory) -> DbtSandbox:
    return DbtSandbox(tmp_path_factory.mktemp("dbt"))


@pytest.fixture(scope="session")
def built_warehouse(dbt_sandbox: DbtSandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny raw telco with the whole project built (all models and data tests) for the snapshot D."""
    path = tmp_path_factory.mktemp("built") / WAREHOUSE_FILE
    load_tiny_raw(path)
    dbt_sandbox.build_window(path, SNAPSHOT, SNAPSHOT)
    return path


@pytest.fixture
def warehouse_copy(built_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the built warehouse for a test that changes it."""
    target = tmp_path / WAREHOUSE_FILE
    shutil.copy(built_warehouse, target)
    return target

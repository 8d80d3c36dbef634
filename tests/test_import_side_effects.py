"""Importing the product does nothing beyond defining things.

Every module of the four packages is imported in a fresh interpreter whose PATH holds no dbt (as with
``.venv/bin/dagster dev`` from an environment that is not activated) and which says it runs under ``dagster dev``
(where dagster-dbt's own pattern would re-parse the project on load): the imports succeed, no module of the
product writes ``os.environ``, and nothing under ``dbt_project/target`` is written. The code location also loads
with the packages of the ``bigquery`` extra blocked, and without trying to import any of them on DuckDB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from trust_assets.dbt_project import DBT_PROJECT_DIR, TRUST_DBT_PROJECT, prepare

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("trust_assets", "asset_checks", "resources", "synthetic_telco")
TARGET = DBT_PROJECT_DIR / "target"


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _target_files() -> dict[str, tuple[int, int]]:
    """Every file under dbt_project/target with its modification time and size."""
    if not TARGET.exists():
        return {}
    return {
        str(p.relative_to(TARGET)): (p.stat().st_mtime_ns, p.stat().st_size) for p in TARGET.rglob("*") if p.is_file()
    }


def _probe(tmp_path: Path, modules: list[str], *flags: str) -> dict[str, Any]:
    """Import ``modules`` in a fresh interpreter (tests/import_probe.py) and return its report."""
    out = tmp_path / "probe.json"
    no_dbt = tmp_path / "bin"
    no_dbt.mkdir(exist_ok=True)
    env = {**os.environ, "PATH": str(no_dbt), "DAGSTER_IS_DEV_CLI": "1", "TRUST_TARGET": "duckdb"}
    env.pop("TRUST_DBT_TARGET", None)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.import_probe", str(out), *flags, *modules],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text())


def _product_file(location: str) -> bool:
    path = Path(location.rsplit(":", 1)[0])
    return path.is_absolute() and any(path.is_relative_to(ROOT / package) for package in PACKAGES)


@pytest.fixture(scope="module")
def prepared_manifest() -> None:
    # The explicit step the setup runs; the imports below must find the manifest, never make it.
    if not TRUST_DBT_PROJECT.manifest_path.exists():
        prepare()


def test_every_module_imports_without_side_effects(prepared_manifest: None, tmp_path: Path) -> None:
    modules = _modules()
    assert "trust_assets.definitions" in modules and "trust_assets.dbt_project" in modules
    target_before = _target_files()
    report = _probe(tmp_path, modules)

    assert report["failed"] == {}, "\n".join(report["failed"].values())[-4000:]
    assert [w for w in report["writes"] if _product_file(w[1])] == []
    # Whatever changed was written by a library's own import (polars and scikit-learn set allocator variables).
    before, after = report["environ_before"], report["environ_after"]
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed <= {name for name, _ in report["writes"]}
    assert "PATH" not in changed and "TRUST_DUCKDB_PATH" not in changed
    assert _target_files() == target_before


def test_the_code_location_loads_without_the_bigquery_extra(prepared_manifest: None, tmp_path: Path) -> None:
    report = _probe(tmp_path, ["trust_assets.definitions"], "--block-bigquery-extra")
    assert report["failed"] == {}, "\n".join(report["failed"].values())[-4000:]
    # Not merely tolerated: on DuckDB nothing even tries to import dagster-gcp, dbt-bigquery or a Google client.
    assert report["bigquery_extra_imports"] == []


def test_the_blocker_blocks(tmp_path: Path) -> None:
    report = _probe(tmp_path, ["json", "google.cloud.bigquery", "dagster_gcp"], "--block-bigquery-extra")
    assert set(report["failed"]) == {"google.cloud.bigquery", "dagster_gcp"}
    assert "dagster_gcp" in report["bigquery_extra_imports"]

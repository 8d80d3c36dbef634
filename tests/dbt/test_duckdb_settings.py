"""dbt's DuckDB connections and the Python assets' apply the same resource settings (config.SETTINGS.duckdb).

The memory limit keeps the daily dbt build of 1M customers under 4 GiB (docs/performance.md); a profile that
drifts from the configuration, or a Python connection without the limit, would silently undo that.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from resources.warehouse import DuckDBWarehouse
from tests.dbt.conftest import WAREHOUSE_FILE, DbtSandbox
from trust_assets import config
from trust_assets.dbt_project import DBT_PROJECT_DIR

SHOW_SETTINGS = (
    "select current_setting('memory_limit') as memory_limit, current_setting('temp_directory') as temp_dir, "
    "current_setting('disabled_optimizers') as disabled_optimizers"
)


def _reported(memory_limit: str) -> str:
    """How DuckDB reports a memory limit once set (e.g. '3GB' -> '2.7 GiB')."""
    with duckdb.connect() as con:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        row = con.execute("select current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def _python_settings(path: Path) -> dict[str, str]:
    warehouse = DuckDBWarehouse(path=str(path))
    warehouse.execute("select 1")  # a write connection creates the file; reads never do
    frame = warehouse.read(SHOW_SETTINGS)
    return {k: str(v) for k, v in frame.row(0, named=True).items()}


def _dbt_settings(sandbox: DbtSandbox, path: Path, env: dict[str, str]) -> dict[str, str]:
    result = sandbox.run(path, ["show", "--inline", SHOW_SETTINGS, "--output", "json", "--log-format", "json"],
                         extra_env=env)
    for line in result.stdout.splitlines():
        preview = json.loads(line).get("data", {}).get("preview") if line.startswith("{") else None
        if preview:
            (row,) = json.loads(preview)
            return {k: str(v) for k, v in row.items()}
    raise AssertionError(f"no preview in dbt show output:\n{result.stdout[-3000:]}")


def test_profile_defaults_are_the_configuration() -> None:
    duck = config.SETTINGS.duckdb
    settings = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["trust_index"]["outputs"]["duckdb"][
        "settings"
    ]
    assert f"env_var('{duck.memory_limit_env}', '{duck.memory_limit}')" in settings["memory_limit"]
    expected = f"env_var('{duck.disabled_optimizers_env}', '{duck.disabled_optimizers}')"
    assert expected in settings["disabled_optimizers"]
    # DuckDB refuses to switch its temp directory after a spill, and dbt-duckdb SETs settings on every cursor.
    assert "temp_directory" not in settings


def test_python_connections_apply_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    duck = config.SETTINGS.duckdb
    path = tmp_path / WAREHOUSE_FILE
    monkeypatch.delenv(duck.memory_limit_env, raising=False)
    monkeypatch.delenv(duck.disabled_optimizers_env, raising=False)
    assert _python_settings(path) == {"memory_limit": _reported(duck.memory_limit), "temp_dir": f"{path}.tmp",
                                      "disabled_optimizers": duck.disabled_optimizers}

    monkeypatch.setenv(duck.memory_limit_env, "1GB")
    monkeypatch.setenv(duck.disabled_optimizers_env, "top_n")
    assert _python_settings(path) == {"memory_limit": _reported("1GB"), "temp_dir": f"{path}.tmp",
                                      "disabled_optimizers": "top_n"}


def test_dbt_connections_apply_the_same_settings(
    dbt_sandbox: DbtSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One dbt invocation (each parses the project): overridden values prove that the profile reads the same
    # variables as the Python side; the defaults are pinned by the two tests above.
    duck = config.SETTINGS.duckdb
    path = tmp_path / WAREHOUSE_FILE
    env = {duck.memory_limit_env: "1GB", duck.disabled_optimizers_env: "top_n"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _dbt_settings(dbt_sandbox, path, env) == _python_settings(path) == {
        "memory_limit": _reported("1GB"), "temp_dir": f"{path}.tmp", "disabled_optimizers": "top_n"
    }

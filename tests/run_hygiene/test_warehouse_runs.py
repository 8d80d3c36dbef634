"""Dagster runs over a broken or busy warehouse fail before their first step, with the file's one-line problem.

The real gate asset (``raw_source_contract``, the first step of the daily job) over a missing, empty or
truncated warehouse, and a second run while a first one holds the warehouse. Small DuckDB files made here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from asset_checks.catalog import GUARD_ASSETS
from resources import DuckDBWarehouse
from resources.warehouse_file import owner_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-02-27"


def _listing(folder: Path) -> list[str]:
    return sorted(f"{p.relative_to(folder)}:{p.stat().st_size if p.is_file() else 'dir'}" for p in folder.rglob("*"))


def _gate_run(path: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        GUARD_ASSETS, partition_key=DAY, resources={"warehouse": DuckDBWarehouse(path=str(path))},
        raise_on_error=False,
    )


def _failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.is_failure or event.event_type_value in ("RESOURCE_INIT_FAILURE", "STEP_FAILURE", "RUN_FAILURE"):
            error = getattr(event.event_specific_data, "error", None)
            messages.append(error.message.strip() if error else (event.message or ""))
    return messages


def _the_error(result: dg.ExecuteInProcessResult) -> str:
    """The one error the run reports (Dagster prefixes the exception's class name)."""
    assert not result.success
    errors = [m for m in _failure_messages(result) if "WarehouseFileError" in m]
    assert errors, _failure_messages(result)
    return errors[0]


@pytest.mark.parametrize("kind", ["missing", "empty", "truncated"])
def test_the_gate_run_fails_with_the_file_problem_not_with_broken_rules(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "warehouse.duckdb"
    if kind != "missing":
        con = duckdb.connect(str(path))
        con.execute("create table t as select range as i from range(200000)")
        con.close()
        data = path.read_bytes()
        path.write_bytes(b"" if kind == "empty" else data[: len(data) // 2])
    before = _listing(folder)
    result = _gate_run(path)
    error = _the_error(result)
    assert str(path) in error and {"missing": "does not exist", "empty": "is empty", "truncated": "is truncated"}[
        kind] in error
    assert "rules broken" not in error and "\n" not in error
    # Refused before the step ran: no check result claims the raw data is at fault.
    assert not result.get_asset_check_evaluations()
    assert _listing(folder) == before  # not even the owner file: the file was refused before the lock


RUN_HOLDER = """
import sys, time
import dagster as dg
from resources import DuckDBWarehouse

@dg.asset
def long_write(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> None:
    print("HOLDING", context.run_id, flush=True)
    time.sleep(300)

dg.materialize([long_write], resources={"warehouse": DuckDBWarehouse(path=sys.argv[1])})
"""


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).execute("create table t as select 1 as i").close()
    return path


@pytest.fixture
def first_run(healthy: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_HOLDER, str(healthy)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    assert line[:1] == ["HOLDING"], line
    yield process, line[1]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_a_second_run_is_refused_with_the_first_runs_id(
    healthy: Path, first_run: tuple[subprocess.Popen[str], str]
) -> None:
    process, run_id = first_run
    error = _the_error(_gate_run(healthy))
    assert f"is in use by Dagster run {run_id} (job __ephemeral_asset_job__, pid {process.pid}" in error
    assert "wait for it to finish" in error and "\n" not in error


def test_the_lock_goes_with_the_run(healthy: Path) -> None:
    @dg.asset
    def quick(warehouse: DuckDBWarehouse) -> None:
        warehouse.table_exists("t")

    resources = {"warehouse": DuckDBWarehouse(path=str(healthy))}
    assert dg.materialize([quick], resources=resources).success
    assert owner_file(healthy).read_text() == ""  # released at the end of the run
    assert dg.materialize([quick], resources=resources).success  # and a next run takes it

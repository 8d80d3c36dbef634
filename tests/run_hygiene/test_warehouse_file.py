"""The warehouse file's problems, each as one line that names the path and the fix; nothing is ever created.

Unit tests of resources/warehouse_file.py on small DuckDB files made here (no pipeline warehouse needed), the
owner lock between processes, and the ``trust`` commands over each broken file (exit code, one line on stderr,
no traceback, the folder unchanged).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from resources import warehouse_file
from resources.warehouse_file import (
    DuckDBHeader,
    WarehouseFileError,
    WarehouseOwnerLock,
    command_problem,
    demo_problem,
    diagnose,
    owner_file,
    prepare_for_generation,
    read_header,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRUST = Path(sys.executable).parent / "trust"


def _listing(folder: Path) -> list[str]:
    """Every path under ``folder`` with its size: the before/after picture of "nothing was created"."""
    return sorted(f"{p.relative_to(folder)}:{p.stat().st_size if p.is_file() else 'dir'}" for p in folder.rglob("*"))


def _duckdb_file(path: Path, rows: int = 200_000) -> Path:
    con = duckdb.connect(str(path))
    con.execute(f"create table t as select range as i, range * 2 as j from range({rows})")
    con.close()
    return path


@pytest.fixture
def broken(tmp_path: Path) -> dict[str, Path]:
    """One file per kind of problem, in a folder of its own."""
    folder = tmp_path / "files"
    folder.mkdir()
    good = _duckdb_file(folder / "good.duckdb")
    data = good.read_bytes()
    (folder / "empty.duckdb").write_bytes(b"")
    (folder / "foreign.duckdb").write_bytes(b"SQLite format 3\x00" + b"\x00" * 8000)
    (folder / "truncated.duckdb").write_bytes(data[: len(data) // 2])
    (folder / "cut_in_header.duckdb").write_bytes(data[:5000])
    (folder / "a_folder.duckdb").mkdir()
    return {p.stem: p for p in folder.iterdir()} | {
        "missing": folder / "missing.duckdb",
        "missing_folder": folder / "no_such_folder" / "warehouse.duckdb",
    }


CASES = {
    "missing": ("missing", "does not exist", "bash scripts/dev.sh demo"),
    "missing_folder": ("missing", "nor does its folder", "bash scripts/dev.sh demo"),
    "a_folder": ("folder", "is a folder", "TRUST_DUCKDB_PATH"),
    "empty": ("empty", "is empty (0 bytes)", "trust demo --regenerate"),
    "foreign": ("foreign", "is not a DuckDB database (it starts with 'SQLite format 3')", "trust demo --regenerate"),
    "truncated": ("truncated", "is truncated", "trust demo --regenerate"),
    "cut_in_header": ("truncated", "is truncated", "trust demo --regenerate"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_problem_is_one_line_naming_the_path_and_the_fix(broken: dict[str, Path], name: str) -> None:
    folder = broken["good"].parent
    before = _listing(folder)
    kind, what, fix = CASES[name]
    problem = diagnose(broken[name])
    assert problem is not None and problem.kind == kind
    assert str(broken[name]) in problem.message and what in problem.message and fix in problem.message
    assert "\n" not in problem.message
    assert _listing(folder) == before


def test_a_healthy_file_has_no_problem(broken: dict[str, Path]) -> None:
    assert diagnose(broken["good"]) is None
    assert diagnose(broken["good"], for_write=True) is None


def test_truncation_is_told_with_the_sizes_from_the_header(broken: dict[str, Path]) -> None:
    # DuckDB's own error for such a file is "Could not read enough bytes ... from location N", or nothing until a
    # query reaches the missing blocks: the header says how long the file must be.
    size = broken["truncated"].stat().st_size
    expected = broken["good"].stat().st_size
    assert f"{size:,} bytes of the {expected:,} its header records" in str(diagnose(broken["truncated"]))


def test_a_file_whose_missing_tail_is_free_blocks_is_whole(tmp_path: Path) -> None:
    # When a checkpoint frees the last blocks, DuckDB shortens the file but its header still counts them (seen on
    # a test warehouse after a table was rewritten): such a file is whole and must not be refused as truncated.
    path = tmp_path / "trimmed.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table kept as select range as i from range(1000)")
    con.execute("checkpoint")
    con.execute("create table dropped as select range as i, random() as r from range(2000000)")
    con.execute("checkpoint")
    con.execute("drop table dropped")
    con.execute("checkpoint")
    con.close()
    header = read_header(path)
    assert isinstance(header, DuckDBHeader) and path.stat().st_size < header.expected_size - 10 * header.block_size
    assert diagnose(path, for_write=True) is None
    with duckdb.connect(str(path), read_only=True) as readback:
        assert readback.execute("select count(*), sum(i) from kept").fetchone() == (1000, 499500)


def test_read_only_file_system_is_reported_for_writers_only(
    broken: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.statvfs

    class ReadOnly:
        def __init__(self, result: os.statvfs_result) -> None:
            self.f_flag = result.f_flag | os.ST_RDONLY

    # A read-only mount cannot be made without privileges; the check reads the mount flags, so fake those.
    monkeypatch.setattr(os, "statvfs", lambda p: ReadOnly(real(p)))
    assert diagnose(broken["good"]) is None
    problem = diagnose(broken["good"], for_write=True)
    assert problem is not None and problem.kind == "read_only"
    assert "read-only file system" in problem.message and str(broken["good"]) in problem.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_read_only_file_is_reported_for_writers(broken: dict[str, Path]) -> None:
    broken["good"].chmod(0o444)
    problem = diagnose(broken["good"], for_write=True)
    assert problem is not None and problem.kind == "read_only"


# --- who holds the warehouse --------------------------------------------------------------------------------

Holder = Callable[[str], "subprocess.Popen[str]"]

HOLDER = """
import sys, time
from pathlib import Path
from resources.warehouse_file import WarehouseOwnerLock
import duckdb
path = Path(sys.argv[1])
WarehouseOwnerLock(path, run_id=sys.argv[2] or None, job="daily_trust_job").acquire() if sys.argv[2] else None
con = duckdb.connect(str(path))
print("HOLDING", flush=True)
time.sleep(300)
"""


@pytest.fixture
def holder(broken: dict[str, Path]) -> Iterator[Holder]:
    started: list[subprocess.Popen[str]] = []

    def start(run_id: str = "") -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(broken["good"]), run_id], cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE, text=True, start_new_session=True,
        )
        started.append(process)
        assert process.stdout is not None and process.stdout.readline().strip() == "HOLDING"
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_a_dagster_run_holding_the_warehouse_is_named_with_its_run_id(broken: dict[str, Path], holder: Holder) -> None:
    process = holder("0f1e2d3c-run")
    with pytest.raises(WarehouseFileError) as refused:
        WarehouseOwnerLock(broken["good"], run_id="second-run").acquire()
    message = str(refused.value)
    assert "in use by Dagster run 0f1e2d3c-run (job daily_trust_job, pid " + str(process.pid) in message
    assert "wait for it to finish" in message and "\n" not in message
    # A reader meets DuckDB's lock, and is told the same.
    line = command_problem(broken["good"], "summary")
    assert line is not None and "Dagster run 0f1e2d3c-run" in line and "Traceback" not in line


def test_a_killed_holder_leaves_no_stale_lock(broken: dict[str, Path], holder: Holder) -> None:
    process = holder("dead-run")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    lock = WarehouseOwnerLock(broken["good"], run_id="next-run")
    lock.acquire()  # the kernel dropped the dead process's flock
    try:
        assert '"next-run"' in owner_file(broken["good"]).read_text()
    finally:
        lock.release()
    assert owner_file(broken["good"]).read_text() == ""


def test_a_plain_process_holding_duckdb_is_named_with_its_command(broken: dict[str, Path], holder: Holder) -> None:
    process = holder("")
    line = command_problem(broken["good"], "models list")
    assert line is not None and f"in use by process {process.pid}" in line and "python" in line
    assert f"kill {process.pid}" in line


def test_the_owner_lock_is_reentrant_within_a_process(broken: dict[str, Path]) -> None:
    outer, inner = WarehouseOwnerLock(broken["good"], "outer"), WarehouseOwnerLock(broken["good"], "inner")
    outer.acquire()
    inner.acquire()
    inner.release()
    assert '"outer"' in owner_file(broken["good"]).read_text()
    outer.release()


# --- generation and the demo --------------------------------------------------------------------------------

def test_regeneration_replaces_a_broken_file_but_never_a_foreign_one(broken: dict[str, Path]) -> None:
    prepare_for_generation(broken["empty"])
    prepare_for_generation(broken["truncated"])
    assert not broken["empty"].exists() and not broken["truncated"].exists()
    with pytest.raises(WarehouseFileError, match="is not a DuckDB database"):
        prepare_for_generation(broken["foreign"])
    assert broken["foreign"].stat().st_size > 0
    before = _listing(broken["good"].parent)
    prepare_for_generation(broken["missing_folder"])
    assert _listing(broken["good"].parent) == before


def _with_schemas(path: Path, tables: dict[str, list[str]]) -> Path:
    con = duckdb.connect(str(path))
    for schema, names in tables.items():
        con.execute(f"create schema if not exists {schema}")
        for name in names:
            con.execute(f"create table {schema}.{name} as select 1 as i")
    con.close()
    return path


def test_demo_over_a_warehouse_without_raw_data_says_to_regenerate(broken: dict[str, Path], tmp_path: Path) -> None:
    ran_once = _with_schemas(tmp_path / "ran.duckdb", {"analytics": ["model_registry"], "raw": ["customers"]})
    line = demo_problem(ran_once, "raw", ["customers", "bills"])
    assert line is not None and "holds no raw data (1 of 2 raw tables missing: raw.bills)" in line
    assert "trust demo --regenerate" in line
    foreign = demo_problem(broken["good"], "raw", ["customers", "bills"])
    assert foreign is not None and "not a trust index warehouse" in foreign and "--regenerate" in foreign
    assert demo_problem(broken["missing"], "raw", ["customers"]) is None
    assert "is empty" in (demo_problem(broken["empty"], "raw", ["customers"]) or "")


# --- the command line ---------------------------------------------------------------------------------------

READ_COMMANDS = {
    "summary": ["summary", "--start", "2026-02-01", "--end", "2026-02-07"],
    "explain": ["explain", "--customer", "C0000001", "--cohort", "tv", "--date", "2026-02-07"],
    "attribute": ["attribute", "--customer", "C0000001", "--cohort", "tv", "--from", "2026-02-01",
                  "--to", "2026-02-07"],
    "models list": ["models", "list"],
    "models audit": ["models", "audit"],
}


def _trust(args: list[str], warehouse: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRUST_DUCKDB_PATH": str(warehouse), "TRUST_TARGET": "duckdb"}
    return subprocess.run([str(TRUST), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=PROJECT_ROOT)


@pytest.mark.parametrize("command", sorted(READ_COMMANDS))
def test_read_commands_over_a_missing_warehouse_exit_with_one_line(broken: dict[str, Path], command: str) -> None:
    folder = broken["good"].parent
    before = _listing(folder)
    result = _trust(READ_COMMANDS[command], broken["missing_folder"])
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert str(broken["missing_folder"]) in lines[0] and "bash scripts/dev.sh demo" in lines[0]
    assert _listing(folder) == before


@pytest.mark.parametrize("name", ["empty", "foreign", "truncated", "a_folder"])
def test_models_list_over_a_broken_warehouse_exits_with_one_line(broken: dict[str, Path], name: str) -> None:
    folder = broken["good"].parent
    before = _listing(folder)
    result = _trust(READ_COMMANDS["models list"], broken[name])
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert CASES[name][1] in result.stderr
    assert _listing(folder) == before


def test_command_problem_lets_creating_commands_through(broken: dict[str, Path]) -> None:
    assert command_problem(broken["missing_folder"], "demo") is None
    assert command_problem(broken["missing_folder"], "generate") is None
    assert "does not exist" in (command_problem(broken["missing_folder"], "run") or "")


def test_the_checks_import_neither_dagster_nor_duckdb() -> None:
    # Every `trust` command runs them first; the read-only commands are meant to start fast.
    code = "import sys, resources.warehouse_file; print(sorted({'dagster', 'duckdb', 'polars'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                            timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
    assert warehouse_file.__name__ == "resources.warehouse_file"


def test_demo_over_someone_elses_duckdb_file_exits_at_once_with_one_line(broken: dict[str, Path]) -> None:
    before = _listing(broken["good"].parent)
    result = _trust(["demo"], broken["good"], timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "not a trust index warehouse" in line and "trust demo --regenerate" in line and str(broken["good"]) in line
    assert _listing(broken["good"].parent) == before


def test_generation_holds_the_warehouse_against_runs(broken: dict[str, Path]) -> None:
    with warehouse_file.regenerating(broken["empty"]):
        assert not broken["empty"].exists()  # the empty file was removed for the generator to start afresh
        with pytest.raises(WarehouseFileError, match=r"in use by process \d+ \(`trust generate`"):
            # The same process would re-enter its own lock: ask as another process would, through the record.
            raise WarehouseFileError(warehouse_file.holder_message(broken["empty"]))
    assert owner_file(broken["empty"]).read_text() == ""


def test_a_file_error_is_found_behind_the_errors_dagster_wraps_it_in() -> None:
    inner = WarehouseFileError("warehouse file /x does not exist")
    try:
        try:
            raise inner
        except WarehouseFileError as error:
            raise RuntimeError("Error executing resource_fn on ResourceDefinition warehouse") from error
    except RuntimeError as outer:
        assert warehouse_file.file_error_in(outer) is inner
    assert warehouse_file.file_error_in(ValueError("other")) is None


def test_read_commands_over_a_warehouse_that_was_never_run_say_so(broken: dict[str, Path], tmp_path: Path) -> None:
    raw_only = _with_schemas(tmp_path / "raw_only.duckdb", {"raw": ["customers"]})
    for command in ("summary", "models list"):
        line = command_problem(raw_only, command)
        assert line is not None and "holds the raw data but no trust index yet" in line and "`trust run`" in line
    foreign = command_problem(broken["good"], "explain")
    assert foreign is not None and "not a trust index warehouse" in foreign
    built = _with_schemas(tmp_path / "built.duckdb", {"raw": ["customers"],
                                                      "analytics": ["customer_trust_signal", "model_registry"]})
    assert all(command_problem(built, c) is None for c in ("summary", "explain", "models list", "models audit"))


def test_a_read_command_while_another_process_writes_is_one_line(broken: dict[str, Path], holder: Holder) -> None:
    # Exit status 1: the file is busy, not wrong (README); a retry later works.
    process = holder("")
    result = _trust(READ_COMMANDS["models list"], broken["good"])
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"is in use by process {process.pid}" in line and "wait for it to finish" in line


PARENT_WITH_CHILD = """
import subprocess, sys, time
from pathlib import Path
from resources.warehouse_file import WarehouseOwnerLock
WarehouseOwnerLock(Path(sys.argv[1]), run_id="run-with-dbt", job="daily_trust_job").acquire()
child = subprocess.Popen([sys.executable, "-c",
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('HOLDING', flush=True); time.sleep(300)",
    sys.argv[1]], stdout=subprocess.PIPE, text=True)
print(child.stdout.readline().strip(), child.pid, flush=True)
time.sleep(300)
"""


def test_a_run_whose_dbt_child_holds_duckdb_is_named_as_the_run(broken: dict[str, Path]) -> None:
    # Inside a run, dbt (a child process) holds DuckDB's lock: the line names the run, then the child.
    process = subprocess.Popen([sys.executable, "-c", PARENT_WITH_CHILD, str(broken["good"])], cwd=PROJECT_ROOT,
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        word, child = process.stdout.readline().split()
        assert word == "HOLDING"
        line = command_problem(broken["good"], "summary")
        assert line is not None and "in use by Dagster run run-with-dbt (job daily_trust_job" in line
        assert f"through its child process {child}" in line and f"kill {process.pid}" in line
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

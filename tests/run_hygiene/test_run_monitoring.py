"""A run whose process died is marked FAILED and the queue (one run at a time) moves on.

A real ``dagster-daemon run`` (own process group) against a fresh DAGSTER_HOME holding the project's
dagster.yaml; only the run-monitoring poll interval is shortened, so the test waits seconds rather than a
minute. The code location is a test-only one (tests/run_hygiene/hygiene_location.py) whose sensor queues a run
that sleeps and, behind it, a run that returns at once: the warehouse plays no part in this.

- ``worker``: the run's worker process is killed (``kill -9``), the daemon and its code server live on.
- ``deployment``: the daemon, its code server and the worker are all killed, then a new daemon starts (a
  killed ``dagster dev``, a reboot): only run monitoring with the worker health check of
  trust_assets/run_launcher.py can tell that the STARTED run is dead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import dagster as dg
import pytest
import yaml
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter
from dagster._core.instance.ref import InstanceRef

T = TypeVar("T")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POLL_SECONDS = 2
# Generous: on a busy two-core machine a code server takes up to a minute to load even this location.
START_BOUND_SECONDS = 300
RECOVERY_BOUND_SECONDS = 300


def _write_home(home: Path) -> None:
    """The project's instance settings; only the monitoring poll interval is shortened for the test."""
    settings = yaml.safe_load((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text())
    assert settings["run_queue"]["max_concurrent_runs"] == 1
    assert settings["run_monitoring"]["enabled"] is True
    settings["run_monitoring"]["poll_interval_seconds"] = POLL_SECONDS
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings))


def _workspace(path: Path) -> Path:
    path.write_text(yaml.safe_dump({"load_from": [{"python_module": {
        "module_name": "tests.run_hygiene.hygiene_location",
        "working_directory": str(PROJECT_ROOT),
        "location_name": "run_hygiene_tests",
    }}]}))
    return path


class Daemon:
    """``dagster-daemon run`` in its own process group; ended by group, then waited for."""

    def __init__(self, home: Path, workspace: Path, log: Path) -> None:
        env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT)}
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL to the whole group: daemon, code server and run worker die without cleaning up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        _wait_until(lambda: not _group_members(self.process.pid), 30, "the killed process group to vanish")

    def stop(self) -> None:
        if self.process.poll() is not None and not _group_members(self.process.pid):
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=60)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        if _group_members(self.process.pid):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _wait_until(predicate: Callable[[], T | None], seconds: float, what: str, log: Path | None = None) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {seconds} s waiting for {what}\n{tail}")


def _runs(instance: dg.DagsterInstance, job: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(RunsFilter(job_name=job)))


def _worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    for record in instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT).records:
        metadata = getattr(record.event_log_entry.dagster_event.event_specific_data, "metadata", None) or {}
        if "pid" in metadata:
            return int(metadata["pid"].value)
    return None


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "dagster_home"
    _write_home(home)
    yield home


def _started(instance: dg.DagsterInstance, job: str) -> dg.DagsterRun | None:
    return next((r for r in _runs(instance, job) if r.status == DagsterRunStatus.STARTED), None)


def _succeeded(instance: dg.DagsterInstance, job: str) -> dg.DagsterRun | None:
    return next((r for r in _runs(instance, job) if r.status == DagsterRunStatus.SUCCESS), None)


def _failed(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun | None:
    run = instance.get_run_by_id(run_id)
    return run if run is not None and run.status == DagsterRunStatus.FAILURE else None


@pytest.mark.slow
@pytest.mark.parametrize("kill_scope", ["worker", "deployment"])
def test_killed_run_is_marked_failed_and_the_queue_drains(home: Path, tmp_path: Path, kill_scope: str) -> None:
    workspace = _workspace(tmp_path / "workspace.yaml")
    log = tmp_path / "daemon.log"
    # The instance's storage is created here, before the daemon starts: both creating it at once race on the
    # SQLite schema ("table ... already exists").
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        daemons = [Daemon(home, workspace, log)]
        try:
            slow = _wait_until(lambda: _started(instance, "slow_job"), START_BOUND_SECONDS, "slow_job to start", log)
            pid = _wait_until(lambda: _worker_pid(instance, slow.run_id), 60, "the worker's pid", log)
            # The queue holds the second run back while the first one is in progress.
            assert [r.status for r in _runs(instance, "quick_job")] == [DagsterRunStatus.QUEUED]

            killed_at = time.monotonic()
            if kill_scope == "worker":
                os.kill(pid, signal.SIGKILL)
            else:
                daemons[0].kill()
                # Nobody is left to notice: the dead run still claims the only slot.
                assert instance.get_run_by_id(slow.run_id).status == DagsterRunStatus.STARTED
                daemons.append(Daemon(home, workspace, log))

            _wait_until(lambda: _failed(instance, slow.run_id), RECOVERY_BOUND_SECONDS,
                        "the killed run to be marked FAILED", log)
            marked_after = time.monotonic() - killed_at
            _wait_until(lambda: _succeeded(instance, "quick_job"), RECOVERY_BOUND_SECONDS,
                        "the queued run to start and succeed", log)
            drained_after = time.monotonic() - killed_at
            print(f"{kill_scope}: marked FAILED after {marked_after:.0f} s, next run done after {drained_after:.0f} s")
            if kill_scope == "deployment":
                # Marked by run monitoring's worker health check, not by a code server.
                messages = [e.message for e in instance.all_logs(slow.run_id) if e.message]
                assert any(f"(pid {pid}) no longer exists" in m for m in messages), messages[-5:]
        finally:
            for daemon in daemons:
                daemon.stop()

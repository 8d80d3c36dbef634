"""A real Dagster webserver for the browser tests: start it, talk GraphQL to it, stop it cleanly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

# The webserver alone runs no daemon, so the default QueuedRunCoordinator would leave launched runs queued
# forever. The DefaultRunCoordinator hands each run straight to the DefaultRunLauncher (one subprocess per
# run). Without a daemon no schedule, sensor or automation condition can start a run either, so the only run
# is the one a test launches: DuckDB's single writer is never contended.
INSTANCE_YAML = """\
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
run_launcher:
  module: dagster._core.launcher
  class: DefaultRunLauncher
telemetry:
  enabled: false
"""

_LOCATIONS_QUERY = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message stack } }
      }
    }
    ... on PythonError { message }
  }
}
"""


class WebserverError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_instance_yaml(dagster_home: Path, storage_dir: Path | None = None) -> None:
    """The webserver's instance; with ``storage_dir``, it reads and writes the runs and events stored there
    (another instance's sqlite storage), so the UI shows that instance's runs and materialisations."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    storage = f"storage:\n  sqlite:\n    base_dir: {storage_dir}\n" if storage_dir else ""
    (dagster_home / "dagster.yaml").write_text(INSTANCE_YAML + storage)


class DagsterWebserver:
    """``dagster-webserver`` in its own process group, so that stopping it also stops its code server."""

    def __init__(
        self,
        *,
        workspace: Path,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        port: int | None = None,
    ) -> None:
        self.workspace = workspace
        self.cwd = cwd
        self.env = dict(env)
        self.log_path = log_path
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: TextIO | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self, timeout_s: float = 240.0) -> None:
        # The console scripts of the interpreter running pytest: the same venv as the code under test.
        exe = Path(sys.executable).parent / "dagster-webserver"
        cmd = [str(exe), "-w", str(self.workspace), "-h", "127.0.0.1", "-p", str(self.port)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: one signal reaches the code server and runs too
        )
        deadline = time.monotonic() + timeout_s
        try:
            self._wait_for_http(deadline)
            self._wait_for_locations(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout_s: float = 30.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            pgid = proc.pid  # start_new_session made it the group leader
            _signal_group(pgid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(pgid, signal.SIGKILL)
                proc.wait(timeout=10)
            # Children (code server, run workers) may outlive the leader for a moment; do not orphan them.
            deadline = time.monotonic() + timeout_s
            while _group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _group_alive(pgid):
                _signal_group(pgid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, n_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""

    # -- GraphQL ---------------------------------------------------------------------------------------

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None, timeout_s: float = 60.0) -> Any:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            payload = json.load(response)
        if payload.get("errors"):
            raise WebserverError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def dismiss_nux(self) -> None:
        """The "Join the Dagster community" dialog covers a fresh instance's UI; mark it seen up front."""
        self.graphql("mutation { setNuxSeen }")
        if self.graphql("query { shouldShowNux }")["shouldShowNux"]:
            raise WebserverError("setNuxSeen did not stick: the community dialog would still show")

    # -- internals -------------------------------------------------------------------------------------

    def _check_alive(self) -> None:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise WebserverError(f"dagster-webserver exited with {self._proc.returncode}:\n{self.log_tail()}")

    def _wait_for_http(self, deadline: float) -> None:
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.base_url}/server_info", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise WebserverError(f"/server_info did not answer in time:\n{self.log_tail()}")
            time.sleep(0.5)

    def _wait_for_locations(self, deadline: float) -> None:
        # The HTTP server answers before the code location has loaded; a page opened now would show
        # an empty graph, and an import error would only appear as a UI banner.
        while True:
            self._check_alive()
            data = self.graphql(_LOCATIONS_QUERY)["workspaceOrError"]
            if data["__typename"] != "Workspace":
                raise WebserverError(f"workspace failed to load: {data}")
            entries = data["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [e for e in entries if (e["locationOrLoadError"] or {}).get("__typename") == "PythonError"]
                if errors:
                    details = "\n\n".join(
                        f"{e['name']}: {e['locationOrLoadError']['message']}\n"
                        f"{''.join(e['locationOrLoadError']['stack'])}"
                        for e in errors
                    )
                    raise WebserverError(f"code location failed to load:\n{details}")
                return
            if time.monotonic() > deadline:
                raise WebserverError(f"code locations still loading: {entries}\n{self.log_tail()}")
            time.sleep(1.0)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""The local run launcher: Dagster's default launcher, plus a health check of the run's worker process.

Why: with ``run_queue.max_concurrent_runs: 1`` a run that stays STARTED after its process died blocks every
later run, the schedule included. Dagster's default launcher has no worker health check, so its run monitoring
only applies timeouts (``max_runtime_seconds``, hours here). The code server that started a worker notices the
worker's death within a second, but only while that code server lives: when the whole local deployment dies
(``dagster dev`` or the daemon killed, a reboot, the OOM killer taking the process group), or when the run was
executed in another process (``trust demo`` runs with ``execute_in_process``), nothing marks the run failed.

Every Dagster run worker records its process id in an engine event ("Started process for run (pid: N)",
"Executing steps in process (pid: N)"). The daemon's run monitoring calls :meth:`check_run_worker_health`
every ``run_monitoring.poll_interval_seconds``: if that process no longer exists (or the id now belongs to a
process started after the run), the run is marked FAILED and the queue moves on. Process ids only mean
something on one machine, which is what this launcher is for: the local instance in dagster_home/.

Imported by every process that opens the instance (webserver, daemon, CLI): it imports Dagster only.
"""

from __future__ import annotations

import time

from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

from trust_assets.processes import is_same_process_alive


class LocalRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose runs' workers are health-checked by run monitoring (see the module doc)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def _recorded_worker(self, run: DagsterRun) -> tuple[int, float] | None:
        """The first process id the run recorded in an engine event, and when."""
        records = self._instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=20, ascending=True
        ).records
        for record in records:
            event = record.event_log_entry.dagster_event
            data = getattr(event, "event_specific_data", None) if event else None
            pid = (getattr(data, "metadata", None) or {}).get("pid")
            if pid is not None and str(pid.value).isdigit():
                return int(pid.value), record.event_log_entry.timestamp
        return None

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        recorded = self._recorded_worker(run)
        if recorded is None:
            # No worker has started yet (or it never said so): only the start and runtime timeouts apply.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker process recorded yet")
        pid, recorded_at = recorded
        if is_same_process_alive(pid, recorded_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} is alive", run_worker_id=str(pid))
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run worker process (pid {pid}) no longer exists: it was killed or crashed "
            f"({time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC)",
            run_worker_id=str(pid),
        )

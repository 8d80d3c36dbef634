"""A test-only code location: two trivial jobs, so the run-queue tests pay for Dagster, not for the warehouse.

``slow_job`` sleeps (its worker is killed by the test); ``quick_job`` returns at once (it must start once the
killed run is marked failed). The sensor queues one run of each, so the test needs no launch command.
"""

from __future__ import annotations

import time

import dagster as dg


@dg.op
def wait_a_long_time() -> None:
    # Long enough that only a kill ends it within the test's bounds.
    time.sleep(600)


@dg.op
def return_at_once() -> int:
    return 1


@dg.job
def slow_job() -> None:
    wait_a_long_time()


@dg.job
def quick_job() -> None:
    return_at_once()


@dg.sensor(jobs=[slow_job, quick_job], minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING)
def queue_both() -> list[dg.RunRequest]:
    """Queues each job once (run keys), the slow one first: the daemon then runs them one at a time."""
    return [
        dg.RunRequest(run_key="slow", job_name="slow_job"),
        # Lower priority: the queue launches it only after the slow run, never first.
        dg.RunRequest(run_key="quick", job_name="quick_job", tags={"dagster/priority": "-1"}),
    ]


defs = dg.Definitions(jobs=[slow_job, quick_job], sensors=[queue_both])

"""Run a job of this code location from Python so that the UI files the run under its job.

``JobDefinition.execute_in_process`` records a run without a code-location origin: the UI lists it under Runs
but not under its job's Runs tab or on the overview timeline. Here the run is created with the origin the
webserver itself gives the job (workspace.yaml: module ``trust_assets.definitions``, location ``trust_index``)
and then executed in this process with the job's own executor, exactly as ``dagster job launch`` would
execute it in a run worker.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODULE = "trust_assets.definitions"
DEFINITIONS_ATTRIBUTE = "defs"
# The names workspace.yaml gives the code location; a plain Definitions object is one repository of this name.
LOCATION_NAME = "trust_index"
REPOSITORY_NAME = "__repository__"


def job_origin(job_name: str) -> RemoteJobOrigin:
    """The origin the webserver assigns to ``job_name`` when it loads workspace.yaml."""
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        loadable_target_origin=LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name=MODULE,
            working_directory=str(PROJECT_ROOT),
        ),
        location_name=LOCATION_NAME,
    )
    return RemoteRepositoryOrigin(location, REPOSITORY_NAME).get_job_origin(job_name)


def reconstructable_job(job_name: str) -> ReconstructableJob:
    repository = ReconstructableRepository.for_module(MODULE, DEFINITIONS_ATTRIBUTE, str(PROJECT_ROOT))
    return repository.get_reconstructable_job(job_name)


def run_job(
    job_name: str,
    instance: dg.DagsterInstance,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, object] | None = None,
) -> dg.DagsterRun:
    """Create the run under its job's origin and execute it here; returns the finished run record."""
    recon_job = reconstructable_job(job_name)
    run = instance.create_run_for_job(
        job_def=recon_job.get_definition(),
        run_config=dict(run_config or {}),
        tags=dict(tags or {}),
        remote_job_origin=job_origin(job_name),
        job_code_origin=recon_job.get_python_origin(),
    )
    execute_run(recon_job, run, instance)
    finished = instance.get_run_by_id(run.run_id)
    if finished is None:  # the instance lost the run it just created: storage is broken
        raise RuntimeError(f"run {run.run_id} of {job_name} is not in the Dagster instance")
    return finished


__all__ = ["job_origin", "run_job"]

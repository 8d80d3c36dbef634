"""The dbt project as Dagster sees it: where it lives, which target it runs, the dbt resource, and how its
manifest is made.

Kept free of ``@dbt_assets`` so that preparing the manifest (``python -m trust_assets.dbt_project prepare``, which
``scripts/dev.sh setup`` runs whenever a dbt file changed) imports nothing heavy. Importing this module does no
work: the manifest is prepared only by that explicit step, and must exist before ``trust_assets.definitions`` is
imported. Nothing here changes this process's ``PATH`` or environment: every dbt command gets the dbt executable
of this environment and the warehouse settings from :class:`TrustDbtCliResource`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging import version

from trust_assets.config import duckdb_path as configured_duckdb_path
from trust_assets.partitions import fixed_vars_arguments

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

# profiles.yml reads the DuckDB warehouse file from this variable (dbt's cwd is dbt_project/).
DUCKDB_PATH_ENV = "TRUST_DUCKDB_PATH"


def dbt_executable() -> str:
    """The dbt CLI of this interpreter's environment, else whatever ``dbt`` is on PATH."""
    sibling = Path(sys.executable).with_name("dbt")
    return str(sibling) if sibling.exists() else "dbt"


def dbt_target() -> str:
    """The dbt target: ``TRUST_DBT_TARGET``, else the code location's ``TRUST_TARGET``, else ``duckdb``.

    Targets in profiles.yml are named after the environments, so one switch moves dbt and Python together.
    """
    return (os.environ.get("TRUST_DBT_TARGET") or os.environ.get("TRUST_TARGET") or "duckdb").strip().lower()


# Parsed with the vars every run passes: dagster-dbt hands each run the parse saved here (partial_parse.msgpack),
# and dbt re-uses it only when the vars are the same (the window reaches dbt in the environment).
PARSE_ARGUMENTS = ["parse", "--quiet", *fixed_vars_arguments()]

# Reads dbt_project.yml only; the manifest it points at is written by prepare() below.
TRUST_DBT_PROJECT = DbtProject(
    project_dir=DBT_PROJECT_DIR, target=dbt_target(), prepare_project_cli_args=PARSE_ARGUMENTS
)


# Whether a dbt command started in this context loads dbt's adapter into the run process (dagster-dbt does so
# before every command, for the row-count and column reads after dbt exits; docs/performance.md). The daily
# models and their test re-runs read nothing through it: their partitions carry their own day's row counts, and
# their columns are fixed by the enforced contract that the definitions already show.
_ADAPTER_IN_PROCESS: ContextVar[bool] = ContextVar("dbt_adapter_in_process", default=True)


@contextmanager
def without_adapter_in_process() -> Iterator[None]:
    """dbt commands started in this block do not load dbt's adapter into this process."""
    token = _ADAPTER_IN_PROCESS.set(False)
    try:
        yield
    finally:
        _ADAPTER_IN_PROCESS.reset(token)


def adapter_in_process() -> bool:
    return _ADAPTER_IN_PROCESS.get()


def duckdb_environment(path: str | Path | None = None) -> dict[str, str]:
    """What a dbt process needs to build into the DuckDB warehouse file ``path`` (default: the configured file).

    profiles.yml resolves a relative path against dbt_project/ (dbt's cwd), trust_assets.config against the
    repository root: dbt is handed the absolute file the Python assets use.
    """
    resolved = Path(os.path.abspath(path)) if path is not None else configured_duckdb_path()
    return {DUCKDB_PATH_ENV: str(resolved)}


@contextmanager
def _environment_while_dbt_starts(extra: Mapping[str, str]) -> Iterator[None]:
    # dagster-dbt builds a dbt command's environment from os.environ when it starts the command (the child
    # process's environment and the profile of the adapter it loads in this process) and takes no environment
    # of its own; the variables are therefore there only while the command starts, and restored at once.
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class TrustDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, handing every dbt command its warehouse explicitly, told the dbt version
    instead of asking for it, and loading dbt's adapter into the run process only where metadata is read
    through it.

    ``duckdb_path``: the DuckDB warehouse file dbt builds into (``None``: the configured file, resolved when a
    command starts; unused on BigQuery, whose profile reads its own variables). :meth:`cli` takes an ``env`` of
    further variables for that one command (the partition window).

    dagster-dbt runs ``dbt --version`` in a subprocess before every dbt command of every run (it decides between
    dbt Core and the Fusion engine from it; its cost is in docs/performance.md). When the executable is this
    environment's own dbt, its version is the installed dbt-core's. It also loads dbt and its adapter into the run
    process before every command for the reads after dbt exits; commands started under
    ``without_adapter_in_process`` skip that.
    """

    duckdb_path: str | None = None

    def command_environment(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The variables a dbt command of this resource gets on top of the inherited environment."""
        warehouse = duckdb_environment(self.duckdb_path) if self.target == "duckdb" else {}
        return {**warehouse, **(env or {})}

    def cli(  # type: ignore[override]
        self, args: Sequence[str], *, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> DbtCliInvocation:
        with _environment_while_dbt_starts(self.command_environment(env)):
            return super().cli(args, **kwargs)

    @cached_property
    def _cli_version(self) -> version.Version:
        own = Path(dbt_executable())
        if own.exists() and Path(self.dbt_executable).resolve() == own.resolve():
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        # None: dagster-dbt then starts dbt at once and reads no metadata through the adapter afterwards.
        return super()._initialize_dbt_core_adapter(args) if adapter_in_process() else None


def dbt_resource(duckdb_path: str | Path | None = None) -> TrustDbtCliResource:
    """The ``dbt`` resource: the project above, its target (duckdb or bigquery) and this environment's dbt,
    building into ``duckdb_path`` (default: the configured warehouse file) on DuckDB."""
    return TrustDbtCliResource(
        project_dir=TRUST_DBT_PROJECT,
        target=TRUST_DBT_PROJECT.target,
        dbt_executable=dbt_executable(),
        duckdb_path=None if duckdb_path is None else str(duckdb_path),
    )


def prepare() -> Path:
    """Parse the dbt project and write ``dbt_project/target/manifest.json`` (no warehouse connection).

    dbt-duckdb records the catalog (the warehouse file's stem) in the manifest: the parse is made against the
    file the code location uses, resolved the way trust_assets.config resolves it.
    """
    project = TRUST_DBT_PROJECT
    with without_adapter_in_process():
        dbt_resource().cli(PARSE_ARGUMENTS, target_path=project.target_path).wait()
    if not project.manifest_path.exists():
        raise RuntimeError(f"dbt parse did not write {project.manifest_path}")
    return project.manifest_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trust_assets.dbt_project", description=__doc__)
    parser.add_argument("command", choices=["prepare"], help="prepare: write the dbt manifest")
    parser.parse_args(argv)
    print(prepare())
    return 0


if __name__ == "__main__":
    sys.exit(main())

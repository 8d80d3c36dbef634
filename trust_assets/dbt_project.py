"""The dbt project as Dagster sees it: where it lives, which target it runs, and how its manifest is made.

Kept free of ``@dbt_assets`` so that preparing the manifest (``python -m trust_assets.dbt_project prepare``
or ``dagster-dbt project prepare-and-package --file trust_assets/dbt_project.py``) imports nothing heavy.
The manifest must exist before ``trust_assets.definitions`` is imported outside ``dagster dev``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from dagster_dbt import DbtProject

from trust_assets.config import duckdb_path
from trust_assets.partitions import fixed_vars_arguments

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


def dbt_executable() -> str:
    """The dbt CLI of this interpreter's environment, else whatever ``dbt`` is on PATH."""
    sibling = Path(sys.executable).with_name("dbt")
    return str(sibling) if sibling.exists() else "dbt"


def _ensure_dbt_on_path() -> None:
    # dagster-dbt's preparer (prepare_if_dev) calls plain `dbt`; a virtualenv used without activation
    # (`.venv/bin/dagster dev`) does not have it on PATH.
    if shutil.which("dbt") is None and Path(dbt_executable()).exists():
        os.environ["PATH"] = os.pathsep.join([str(Path(dbt_executable()).parent), os.environ.get("PATH", "")])


def dbt_target() -> str:
    """The dbt target: ``TRUST_DBT_TARGET``, else the code location's ``TRUST_TARGET``, else ``duckdb``.

    Targets in profiles.yml are named after the environments, so one switch moves dbt and Python together.
    """
    return (os.environ.get("TRUST_DBT_TARGET") or os.environ.get("TRUST_TARGET") or "duckdb").strip().lower()


# Parsed with the vars every run passes: dagster-dbt hands each run the parse saved here (partial_parse.msgpack),
# and dbt re-uses it only when the vars are the same (the window reaches dbt in the environment).
PARSE_ARGUMENTS = ["parse", "--quiet", *fixed_vars_arguments()]

_ensure_dbt_on_path()
TRUST_DBT_PROJECT = DbtProject(
    project_dir=DBT_PROJECT_DIR, target=dbt_target(), prepare_project_cli_args=PARSE_ARGUMENTS
)
# Under `dagster dev` the manifest is re-parsed on load so model edits show up; elsewhere this is a no-op.
TRUST_DBT_PROJECT.prepare_if_dev()


# Whether a dbt command started in this context loads dbt's adapter into the run process (dagster-dbt does so
# before every command, about 3 s, for the row-count and column reads after dbt exits). The daily models and
# their test re-runs read nothing through it: their partitions carry their own day's row counts, and their
# columns are fixed by the enforced contract that the definitions already show.
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


def prepare() -> Path:
    """Parse the dbt project and write ``dbt_project/target/manifest.json`` (no warehouse connection)."""
    # dbt-duckdb records the catalog (the warehouse file's stem) in the manifest: parse against the file the
    # code location uses, resolved the way trust_assets.config resolves it.
    os.environ["TRUST_DUCKDB_PATH"] = str(duckdb_path())
    TRUST_DBT_PROJECT.preparer.prepare(TRUST_DBT_PROJECT)
    if not TRUST_DBT_PROJECT.manifest_path.exists():
        raise RuntimeError(f"dbt parse did not write {TRUST_DBT_PROJECT.manifest_path}")
    return TRUST_DBT_PROJECT.manifest_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trust_assets.dbt_project", description=__doc__)
    parser.add_argument("command", choices=["prepare"], help="prepare: write the dbt manifest")
    parser.parse_args(argv)
    print(prepare())
    return 0


if __name__ == "__main__":
    sys.exit(main())

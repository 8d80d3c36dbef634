"""Running ``trust`` as a user does: a real process, against the session's test warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The entry point of this environment (what `trust` is after setup), else the module.
_TRUST = Path(sys.executable).parent / "trust"
TRUST: list[str] = [str(_TRUST)] if _TRUST.exists() else [sys.executable, "-m", "trust_assets.cli"]


@dataclass(frozen=True)
class Ran:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def files_under(*folders: Path) -> set[Path]:
    """Every file and folder below the given folders (what a command must not add to)."""
    found: set[Path] = set()
    for folder in folders:
        if folder.exists():
            found |= set(folder.rglob("*"))
    return found


def run_command(argv: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> Ran:
    done = subprocess.run(list(argv), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return Ran(list(argv), done.returncode, done.stdout, done.stderr)


@pytest.fixture
def trust(pipeline_warehouse, tmp_path: Path) -> Callable[..., Ran]:
    """``trust(*args, env=None)``: run ``trust args...`` in an empty working folder against the session warehouse
    (``env`` adds or overrides variables)."""

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        merged = {**os.environ, **pipeline_warehouse.env, **(env or {})}
        return run_command([*TRUST, *args], merged, tmp_path)

    return run

"""What the long commands (``trust demo``, ``trust run``) show a person, and where the rest goes.

The terminal gets one progress bar per stage with its elapsed time. Everything else that the work prints,
Dagster's event stream, dbt's output (dbt runs as a child process and inherits the file descriptors) and library
warnings, goes to a log file whose path the command prints; the runs themselves are in the Dagster UI.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

BAR_FORMAT = "{desc:<34} |{bar:24}| {n_fmt}/{total_fmt} {elapsed}"


def log_file_for(command: str, logs_dir: Path) -> Path:
    """A new log file for one invocation of ``command``."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    return logs_dir / f"trust-{command}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"


@contextmanager
def output_to_log(log_path: Path) -> Iterator[TextIO]:
    """Point this process's stdout and stderr (and so its children's) at ``log_path``; yield the terminal.

    Redirected at the file-descriptor level, so output written by C code, child processes and loggers that
    captured ``sys.stderr`` at import also lands in the log.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    with open(log_path, "a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


class StageProgress:
    """One bar per stage ("2/5 reference features |######    | 3/6 01:10") on the terminal."""

    def __init__(self, terminal: TextIO, stages: list[tuple[str, int]]) -> None:
        self._terminal = terminal
        self._stages = stages
        self._index = 0
        self._bar: tqdm | None = None
        self.started = time.perf_counter()

    def start(self, stage: str) -> None:
        """Open the bar of ``stage`` (closing the previous one) if it is not the current stage."""
        if self._bar is not None and self._bar.desc.endswith(stage):
            return
        self.close()
        names = [name for name, _ in self._stages]
        self._index = names.index(stage) + 1
        total = self._stages[self._index - 1][1]
        self._bar = tqdm(
            total=total,
            desc=f"{self._index}/{len(self._stages)} {stage}",
            file=self._terminal,
            bar_format=BAR_FORMAT,
            ascii=" #",
            dynamic_ncols=False,
            ncols=80,
        )

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def say(self, line: str) -> None:
        """A plain line between bars (never inside one)."""
        self.close()
        print(line, file=self._terminal)


__all__ = ["StageProgress", "log_file_for", "output_to_log"]

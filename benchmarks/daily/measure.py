"""Wall time, CPU time and peak memory of a block of work.

Peak memory is the resident set of this process *and its children* (dbt runs as a subprocess), sampled every
few milliseconds by a background thread; DuckDB and Polars allocate natively, so ``tracemalloc`` would miss
most of it. The peak of a stage is the largest sample taken while the stage ran, so stages measured one after
the other in the same process include what earlier stages still hold (run them in fresh processes when that
matters). ``ru_maxrss`` of the process and of its largest child are reported too, as a cross-check.
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field

import psutil

SAMPLE_SECONDS = 0.02


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        total += process.memory_info().rss
        for child in process.children(recursive=True):
            with suppress(psutil.Error):
                total += child.memory_info().rss
    except psutil.Error:
        pass
    return total


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def maxrss_bytes() -> dict[str, int]:
    """ru_maxrss of this process and of its largest finished child (Linux reports KiB)."""
    return {
        "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "largest_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    }


class MemorySampler:
    """Samples the resident memory of this process tree in a daemon thread."""

    def __init__(self, interval: float = SAMPLE_SECONDS) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._lock = threading.Lock()
        self._peak = _tree_rss(self._process)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            rss = _tree_rss(self._process)
            with self._lock:
                self._peak = max(self._peak, rss)

    def reset(self) -> None:
        """Start a new peak from the current resident size."""
        with self._lock:
            self._peak = _tree_rss(self._process)

    def peak(self) -> int:
        rss = _tree_rss(self._process)
        with self._lock:
            self._peak = max(self._peak, rss)
            return self._peak

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Measurement:
    """One measured block: seconds of wall and CPU time, peak resident bytes, rows processed."""

    name: str
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0
    rows: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "rows_per_second": self.rows_per_second}


@contextmanager
def measured(name: str, sampler: MemorySampler, rows: int = 0) -> Iterator[Measurement]:
    """Measure the body; set ``.rows`` (and ``.extra``) on the yielded object inside it."""
    out = Measurement(name=name, rows=rows)
    sampler.reset()
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    try:
        yield out
    finally:
        out.wall_seconds = time.perf_counter() - wall0
        out.cpu_seconds = cpu_seconds() - cpu0
        out.peak_rss_bytes = sampler.peak()

"""Safe writes: a killed write leaves the previous partition intact, a bad frame is refused before the write, and
re-materialising a day gives identical tables."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from tests.guards.conftest import table_hash

DAY = date(2026, 2, 28)
SIGNAL = "analytics.customer_trust_signal"
SIGNAL_ORDER = "snapshot_date, cohort, customer_id"
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The child replaces the day's trust-signal rows with a rewritten copy (optionally blown up to many rows), through
# the real DuckDBWarehouse.replace_partitions. Its connection is wrapped so that it announces each statement on
# stdout and stops inside the open transaction: with pause_after_delete right after the DELETE; with
# pause_mid_insert half-way through the INSERT, whose rows DuckDB is then reading batch by batch from a stream
# that blocks (so the kill lands inside the statement, whatever the machine's speed). The parent kills it there
# with SIGKILL, the way an OOM killer or a lost node would.
CHILD = textwrap.dedent(
    """
    import sys, time
    from contextlib import contextmanager
    from datetime import date, timedelta

    import polars as pl
    import pyarrow as pa

    from resources.warehouse import DuckDBWarehouse

    path, mode, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    day = date(2026, 2, 28)


    class Announcing:
        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def execute(self, sql, *args, **kwargs):
            verb = sql.strip().split()[0].lower()
            print(f"BEFORE {verb}", flush=True)
            out = self._con.execute(sql, *args, **kwargs)
            print(f"AFTER {verb}", flush=True)
            if verb == "delete" and mode == "pause_after_delete":
                time.sleep(600)
            return out

        def register(self, name, table):
            if mode == "pause_mid_insert" and table.num_rows:
                batches = table.to_batches(max_chunksize=2048)

                def stream():
                    for i, batch in enumerate(batches):
                        if i == len(batches) // 2:
                            print(f"DURING insert, {i} of {len(batches)} batches read", flush=True)
                            time.sleep(600)
                        yield batch

                table = pa.RecordBatchReader.from_batches(table.schema, stream())
            return self._con.register(name, table)


    class AnnouncingWarehouse(DuckDBWarehouse):
        @contextmanager
        def connect(self, read_only=False):
            with super().connect(read_only) as con:
                yield Announcing(con)


    warehouse = DuckDBWarehouse(path=path)
    frame = warehouse.read(
        "select * from {analytics}.customer_trust_signal where snapshot_date = $d", {"d": day}
    ).with_columns(pl.lit(0.0).alias("trust_score"), pl.lit("crash-test").alias("model_version"))
    if repeat > 1:
        frame = pl.concat([frame] * repeat)
    print(f"READY {frame.height}", flush=True)
    AnnouncingWarehouse(path=path).replace_partitions("customer_trust_signal", frame, day, day)
    print("COMMITTED", flush=True)
    """
)


def _start_child(path: Path, mode: str, repeat: int) -> subprocess.Popen[str]:
    script = path.parent / "child_write.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), str(path), mode, str(repeat)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: killed alone, never the test runner
    )


def _wait_for(child: subprocess.Popen[str], marker: str, timeout: float = 120) -> list[str]:
    """The child's stdout lines up to and including the first that starts with ``marker``."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.put(line.strip())
            if line.startswith(marker):
                return
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if line.startswith(marker):
            return seen
    _kill(child)
    raise AssertionError(f"the child never printed {marker!r}; it printed {seen}")


def _kill(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGKILL)  # the child's own group (start_new_session), nothing else
    child.wait(timeout=30)


def _crash_rows(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute(f"select count(*) from {SIGNAL} where model_version = 'crash-test'").fetchone()[0])
    finally:
        con.close()


def test_a_write_killed_after_the_delete_leaves_the_old_partition(private_copy: Path) -> None:
    before = table_hash(private_copy, SIGNAL, SIGNAL_ORDER)
    child = _start_child(private_copy, "pause_after_delete", 1)
    seen = _wait_for(child, "AFTER delete")
    _kill(child)
    assert "COMMITTED" not in seen
    assert table_hash(private_copy, SIGNAL, SIGNAL_ORDER) == before
    assert _crash_rows(private_copy) == 0


def test_a_write_killed_mid_insert_of_a_large_frame_leaves_the_old_partition(private_copy: Path) -> None:
    before = table_hash(private_copy, SIGNAL, SIGNAL_ORDER)
    # ~12k rows x 20 copies, read by the INSERT in batches of 2,048: the child stops half-way through them.
    child = _start_child(private_copy, "pause_mid_insert", 20)
    seen = _wait_for(child, "DURING insert")
    assert seen[-2] == "BEFORE insert", seen
    _kill(child)
    rest = child.stdout.read() if child.stdout else ""
    assert "AFTER insert" not in rest and "COMMITTED" not in rest, rest
    assert table_hash(private_copy, SIGNAL, SIGNAL_ORDER) == before
    assert _crash_rows(private_copy) == 0


def test_the_same_write_completes_when_not_killed(private_copy: Path) -> None:
    """Control for the two crash tests: the child's write does land when it is left alone."""
    child = _start_child(private_copy, "run", 1)
    seen = _wait_for(child, "COMMITTED")
    child.wait(timeout=60)
    assert seen[-1] == "COMMITTED" and child.returncode == 0
    assert _crash_rows(private_copy) > 1000


def test_trust_signal_refuses_a_bad_frame_before_writing(private_copy: Path, materialize_on) -> None:
    """A corrupt feature value drives a few scores to exactly +-1.0: the frame is refused before the atomic
    write, and the published partition stays as it was."""
    con = duckdb.connect(str(private_copy))
    try:
        con.execute(
            "update analytics.mobile_features set arpu_3m = 1e15 where snapshot_date = $d and customer_id in "
            "(select customer_id from analytics.mobile_features where snapshot_date = $d order by customer_id "
            "limit 3)",
            {"d": DAY},
        )
    finally:
        con.close()
    before = table_hash(private_copy, SIGNAL, SIGNAL_ORDER)
    result = materialize_on(private_copy, ["customer_trust_signal"], start=DAY)

    assert not result.success
    failures = result.get_step_failure_events()
    assert len(failures) == 1
    data = failures[0].step_failure_data.user_failure_data
    assert data is not None, failures[0].step_failure_data.error
    text = data.description or ""
    assert "NOT written" in text
    assert "customer_trust_signal.trust_score" in text
    assert "less_than(1)" in text or "greater_than(-1)" in text
    assert '"cohort": "mobile"' in text  # example rows
    assert data.metadata["table"].value == "customer_trust_signal"
    assert table_hash(private_copy, SIGNAL, SIGNAL_ORDER) == before


def test_rematerialising_the_trust_signal_gives_identical_tables(private_copy: Path, materialize_on) -> None:
    """Re-materialise a published day twice, then its whole week in one window: bit-identical every time.

    (The dbt models are re-materialised over published days by the 30-day backfill in test_backfill.py.)
    """
    published = table_hash(private_copy, SIGNAL, SIGNAL_ORDER)
    for start in (DAY, DAY, DAY - timedelta(days=6)):
        result = materialize_on(private_copy, ["customer_trust_signal"], start=start, end=DAY)
        assert result.success
        assert table_hash(private_copy, SIGNAL, SIGNAL_ORDER) == published, f"window {start} .. {DAY}"

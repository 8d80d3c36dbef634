"""Facts about local processes, from /proc: whether a recorded process id still names the same process.

Shared by the run launcher's worker health check and the warehouse's lock messages; imports nothing heavy,
because every process that opens the Dagster instance imports the launcher.
"""

from __future__ import annotations

import os
from pathlib import Path

# A process id recorded at time T names the same process only if that process started before T (plus the
# clock-tick resolution of /proc and some slack for clock adjustments); a later start means the id was reused.
START_SLACK_SECONDS = 5.0


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds); None if there is no such (living) process.

    Without /proc (not Linux) an existing process gets 0.0, "old enough": pid reuse is then not detected.
    """
    if not Path("/proc/self/stat").exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0.0
        return 0.0
    try:
        # The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":  # a zombie has exited; only its parent has not collected it yet
        return None
    started_ticks = int(fields[19])  # field 22 of stat: start time in clock ticks since boot
    boot_time = next(
        float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
    )
    return boot_time + started_ticks / os.sysconf("SC_CLK_TCK")


def is_same_process_alive(pid: int, recorded_at: float) -> bool:
    """Whether the process that recorded its id ``pid`` at ``recorded_at`` (epoch seconds) still runs."""
    started = process_start_time(pid)
    return started is not None and started <= recorded_at + START_SLACK_SECONDS


def process_command(pid: int, width: int = 80) -> str | None:
    """The command line of ``pid``, shortened to ``width`` characters; None if unknown."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    # Whitespace collapsed: an argument may hold newlines (python -c), and the command goes into one line.
    command = " ".join(raw.decode(errors="replace").replace("\0", " ").split())
    if not command:
        return None
    return command if len(command) <= width else command[: width - 3] + "..."


def parent_pid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def is_descendant(pid: int, ancestor: int) -> bool:
    """Whether ``pid`` is ``ancestor`` or one of its children, grandchildren, ... (dbt runs as a child of a run)."""
    seen = 0
    current: int | None = pid
    while current and current > 1 and seen < 64:
        if current == ancestor:
            return True
        current = parent_pid(current)
        seen += 1
    return False

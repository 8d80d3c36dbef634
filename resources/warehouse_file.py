"""What is wrong with the local warehouse file, in one line that names the path and the command that fixes it.

Before a run writes to the DuckDB file or a command reads it, :func:`diagnose` looks at the file itself
(never creating it or its folder): missing, a folder, empty, not a DuckDB database, truncated, unreadable or
read-only. Errors DuckDB raises on open (the one-writer lock above all) are turned into the same kind of line
by :func:`explain_open_error`. The line is meant for on-call and for a newcomer: it says what is wrong with the
file, not "12 rules broken", and never ends in a traceback.

Who holds the warehouse: a Dagster run writing to it holds :class:`WarehouseOwnerLock`, an advisory lock
(``flock``) on ``<warehouse>.owner`` beside the file, recording its process id, run id and job. The kernel drops
the lock when the process dies, so a killed run never leaves a stale lock. A second run is refused at its start
with the holder's run id; a reader that meets DuckDB's own lock is told the same.

For the command line: :func:`command_problem` (every ``trust`` command but ``demo`` and ``generate``; the
read-only ones also need the published tables they read), :func:`demo_problem` (an existing file without raw
data) and :func:`regenerating` (``trust generate``: replaces an empty or truncated file, holds the lock).

Plain functions on paths, so every case is unit-testable without Dagster; importing this module loads neither
Dagster nor DuckDB (the checks run first in every ``trust`` command).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

from trust_assets.processes import is_descendant, is_same_process_alive, process_command
from trust_assets.tables import MODEL_REGISTRY, TRUST_SIGNAL

CREATE_HINT = "create it with `bash scripts/dev.sh demo` (or `trust demo`; `trust generate` writes the raw data only)"
REBUILD_HINT = "rebuild it with `trust demo --regenerate` (or `trust generate` for the raw data only)"
POINT_HINT = "point TRUST_DUCKDB_PATH at the warehouse"

# DuckDB's file layout (storage version 64 and later): a main header block whose bytes 8..12 are "DUCK", then two
# database headers (4 KiB each) of which the one with the higher iteration is current; each holds the number of
# blocks and the block size, so a complete file is at least 3 * 4 KiB + blocks * block size long.
_HEADER_SIZE = 4096
_MAGIC = b"DUCK"
_DB_HEADER = struct.Struct("<QQQQQQ")  # checksum, iteration, meta block, free list, block count, block alloc size


class WarehouseFileError(RuntimeError):
    """The warehouse file cannot be used; ``str()`` is the one-line message for the user."""


@dataclass(frozen=True)
class FileProblem:
    """What is wrong with the file: ``kind`` for code (missing, folder, unreadable, empty, foreign, truncated,
    read_only), ``message`` (also ``str()``) for people."""

    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class DuckDBHeader:
    block_count: int
    block_size: int

    @property
    def expected_size(self) -> int:
        return 3 * _HEADER_SIZE + self.block_count * self.block_size


def read_header(path: Path) -> DuckDBHeader | bool | None:
    """The current database header of a DuckDB file; False if the file is not a DuckDB file, None if its header
    is of a layout this code does not know (then DuckDB itself judges the file)."""
    with path.open("rb") as handle:
        head = handle.read(3 * _HEADER_SIZE)
    if len(head) < 12 or head[8:12] != _MAGIC:
        return False
    if len(head) < 3 * _HEADER_SIZE:
        return DuckDBHeader(block_count=0, block_size=0)  # cut inside the headers: see diagnose()
    headers = [_DB_HEADER.unpack_from(head, offset) for offset in (_HEADER_SIZE, 2 * _HEADER_SIZE)]
    _, _, _, _, block_count, block_size = max(headers, key=lambda h: h[1])
    # Only trust a layout that looks like one: power-of-two blocks of 16 KiB .. 16 MiB, a plausible count.
    if not (16_384 <= block_size <= 16 * 2**20 and block_size & (block_size - 1) == 0 and block_count < 2**40):
        return None
    return DuckDBHeader(block_count=block_count, block_size=block_size)


def _short_by_free_blocks_only(path: Path, header: DuckDBHeader, size: int) -> bool:
    """Whether a file shorter than its header's block count is still whole: the header counts the blocks DuckDB
    has allocated, free ones included, and a file whose last blocks are free may end before them. Then DuckDB
    opens it and counts at least as many free blocks as are missing; an interrupted copy loses blocks in use, or
    cannot be opened at all. A file another process holds for writing cannot be looked into: DuckDB itself will
    judge it when the run opens it."""
    if not header.block_size:
        return False
    missing = -(-(header.expected_size - size) // header.block_size)
    import duckdb  # only on this rare path: the read-only commands check files without importing it

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            free = con.execute(
                "select free_blocks from pragma_database_size() where database_name = current_database()"
            ).fetchone()
    except duckdb.Error as error:
        return is_in_use(str(error))
    return free is not None and int(free[0]) >= missing


def _first_bytes(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(16)
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in head).rstrip(".")
    return f" (it starts with {text!r})" if text.strip(".") else ""


def _is_read_only(path: Path) -> str | None:
    """Why a run could not write the file (DuckDB also writes a .wal file and spills beside it), or None."""
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return "is on a read-only file system"
    except OSError:
        pass
    if not os.access(path, os.W_OK):
        return "is read-only (no write permission on the file)"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"is in a read-only folder (no write permission on {path.parent})"
    return None


def diagnose(path: Path, *, for_write: bool = False) -> FileProblem | None:
    """The one-line problem with the warehouse file at ``path``, or None if it looks usable.

    Looks only: nothing is created, opened for writing or locked. ``for_write`` adds the checks a run needs.
    """
    where = f"warehouse file {path}"
    if not path.exists():
        if not path.parent.is_dir():
            return FileProblem("missing", f"{where} does not exist (nor does its folder {path.parent}): "
                               f"{CREATE_HINT}, or {POINT_HINT}.")
        return FileProblem("missing", f"{where} does not exist: {CREATE_HINT}, or {POINT_HINT}.")
    if path.is_dir():
        return FileProblem("folder", f"{where} is a folder, not a DuckDB file: {POINT_HINT} file "
                           f"(e.g. {path / 'warehouse.duckdb'}).")
    if not os.access(path, os.R_OK):
        return FileProblem("unreadable", f"{where} is not readable (permissions "
                           f"{oct(path.stat().st_mode & 0o777)}): fix its permissions.")
    size = path.stat().st_size
    if size == 0:
        return FileProblem("empty", f"{where} is empty (0 bytes), not a warehouse: {REBUILD_HINT}.")
    try:
        header = read_header(path)
    except OSError as error:
        return FileProblem("unreadable", f"{where} cannot be read ({error.strerror or error}): check the disk "
                           "and the file's permissions.")
    if header is False:
        return FileProblem("foreign", f"{where} is not a DuckDB database{_first_bytes(path)}: {POINT_HINT}, "
                           f"or move it away and {REBUILD_HINT}.")
    if isinstance(header, DuckDBHeader) and size < header.expected_size and not _short_by_free_blocks_only(
        path, header, size
    ):
        what = f"{size:,} bytes of the {header.expected_size:,} its header records" if header.block_size else (
            f"{size:,} bytes, shorter than DuckDB's headers"
        )
        return FileProblem("truncated", f"{where} is truncated ({what}; an interrupted copy or a full disk?): "
                           f"restore it from a copy, or {REBUILD_HINT}.")
    if for_write and (why := _is_read_only(path)):
        return FileProblem("read_only", f"{where} {why}: a run writes to it; make it writable, or point "
                           "TRUST_DUCKDB_PATH at a writable copy.")
    return None


def require_usable(path: Path, *, for_write: bool = False) -> None:
    """Raise :class:`WarehouseFileError` with the one-line problem, if any (see :func:`diagnose`)."""
    problem = diagnose(path, for_write=for_write)
    if problem:
        raise WarehouseFileError(str(problem))


# --- who holds the warehouse ----------------------------------------------------------------------------------

def owner_file(path: Path) -> Path:
    return path.with_name(path.name + ".owner")


def _recorded_owner(path: Path) -> dict[str, Any] | None:
    """The owner recorded beside the warehouse, if its process still runs (a dead one's record is stale)."""
    try:
        owner = json.loads(owner_file(path).read_text() or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return None
    return owner if is_same_process_alive(owner["pid"], float(owner.get("since", 0))) else None


def _describe_owner(owner: dict[str, Any]) -> str:
    since = time.strftime("%H:%M:%S UTC", time.gmtime(float(owner.get("since", 0))))
    if owner.get("run_id"):
        job = f"job {owner['job']}, " if owner.get("job") else ""
        return f"Dagster run {owner['run_id']} ({job}pid {owner['pid']}, since {since})"
    what = owner.get("job") or owner.get("command") or "?"
    return f"process {owner['pid']} (`{what}`, since {since})"


_STOP_HINT = (
    "wait for it to finish and try again; if it is stuck, stop it (Dagster UI > Runs > Terminate, or "
    "`kill {pid}`)"
)


# The two wordings of a busy file: :func:`is_in_use` recognises the lines :func:`holder_message` writes.
_IN_USE, _LOCKED = " is in use by ", " is locked by another process"


def holder_message(path: Path, duckdb_pid: int | None = None) -> str:
    """One line: which run or process holds the warehouse, and what to do."""
    owner = _recorded_owner(path)
    if owner and (duckdb_pid is None or is_descendant(duckdb_pid, owner["pid"])):
        holder = _describe_owner(owner)
        if duckdb_pid is not None and duckdb_pid != owner["pid"]:
            holder += f" through its child process {duckdb_pid} (`{process_command(duckdb_pid, 40) or '?'}`)"
        pid = owner["pid"]
    elif duckdb_pid is not None:
        holder = f"process {duckdb_pid} (`{process_command(duckdb_pid) or 'command unknown'}`)"
        pid = duckdb_pid
    else:
        return f"warehouse file {path}{_LOCKED}: wait for it to finish and try again."
    return f"warehouse file {path}{_IN_USE}{holder}: {_STOP_HINT.format(pid=pid)}."


def is_in_use(message: str) -> bool:
    """Whether a one-line problem says the file is busy (a retry later will do) rather than wrong."""
    return _IN_USE in message or _LOCKED in message


_LOCK_PID = re.compile(r"Conflicting lock is held in .*\(PID (\d+)\)")


def explain_open_error(path: Path, error: BaseException) -> str:
    """One line for an error DuckDB raised while opening or using ``path``."""
    text = str(error)
    if "Could not set lock on file" in text:
        found = _LOCK_PID.search(text)
        return holder_message(path, int(found.group(1)) if found else None)
    if "Read-only file system" in text or "Permission denied" in text:
        why = "is on a read-only file system" if "Read-only" in text else "cannot be written (permission denied)"
        return f"warehouse file {path} {why}: make it writable, or point TRUST_DUCKDB_PATH at a writable copy."
    if "database does not exist" in text or "No such file" in text:
        return f"warehouse file {path} does not exist: {CREATE_HINT}, or {POINT_HINT}."
    if "not a valid DuckDB database file" in text:
        return f"warehouse file {path} is not a DuckDB database: {REBUILD_HINT}."
    if "Could not read enough bytes" in text or "Corrupt database file" in text or "checksum" in text.lower():
        return f"warehouse file {path} is truncated or corrupt: restore it from a copy, or {REBUILD_HINT}."
    if "version number" in text or ("serialization" in text.lower() and "version" in text.lower()):
        return f"warehouse file {path} was written by another DuckDB version ({text.splitlines()[0]}): {REBUILD_HINT}."
    first = text.splitlines()[0] if text else type(error).__name__
    return f"warehouse file {path} cannot be opened ({first})."


class WarehouseOwnerLock:
    """The advisory writer lock of a warehouse file (see the module doc); re-entrant within one process."""

    # Locks this process holds, by owner file: a run nested in another (tests) must not refuse its parent.
    _held: ClassVar[dict[Path, tuple[IO[str], int]]] = {}

    def __init__(self, path: Path, run_id: str | None = None, job: str | None = None) -> None:
        self.path = path
        self.run_id = run_id
        self.job = job

    def acquire(self) -> None:
        key = owner_file(self.path).resolve()
        if key in self._held:
            handle, count = self._held[key]
            self._held[key] = (handle, count + 1)
            return
        try:
            handle = key.open("a+")
        except OSError as error:
            raise WarehouseFileError(
                f"warehouse file {self.path}: cannot write its owner record {key} ({error.strerror or error}): "
                "a run writes beside the file; make the folder writable, or point TRUST_DUCKDB_PATH at a "
                "writable copy."
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.close()
            if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise WarehouseFileError(holder_message(self.path)) from None
            raise
        handle.seek(0)
        handle.truncate()
        json.dump({"pid": os.getpid(), "run_id": self.run_id, "job": self.job, "since": time.time(),
                   "command": process_command(os.getpid())}, handle)
        handle.flush()
        self._held[key] = (handle, 1)

    def release(self) -> None:
        key = owner_file(self.path).resolve()
        if key not in self._held:
            return
        handle, count = self._held[key]
        if count > 1:
            self._held[key] = (handle, count - 1)
            return
        del self._held[key]
        # The record is emptied rather than the file removed: removing a locked file lets a second writer lock a
        # new file of the same name while a third still waits on the old one.
        handle.seek(0)
        handle.truncate()
        handle.flush()
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


# --- the command line ------------------------------------------------------------------------------------------

# `trust` commands that only read the warehouse; `demo` and `generate` create it, the others write to it.
READ_COMMANDS = frozenset({"summary", "explain", "attribute", "models list", "models audit"})
CREATING_COMMANDS = frozenset({"demo", "generate"})


def probe_open(path: Path) -> str | None:
    """Open the existing file read-only and close it (nothing is created): DuckDB's own refusal, as one line."""
    import duckdb  # here, not at the top: the launcher-free checks above need no DuckDB

    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as error:
        return explain_open_error(path, error)
    return None


# The published tables each read-only command needs; without them it could only print an empty table.
_NEEDED_TABLES = {
    "summary": (TRUST_SIGNAL, MODEL_REGISTRY),
    "explain": (TRUST_SIGNAL, MODEL_REGISTRY),
    "attribute": (TRUST_SIGNAL, MODEL_REGISTRY),
    "models list": (MODEL_REGISTRY,),
    "models audit": (MODEL_REGISTRY,),
}


def _tables_by_schema(path: Path) -> dict[str, set[str]]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    finally:
        con.close()
    found: dict[str, set[str]] = {}
    for schema, table in rows:
        found.setdefault(schema, set()).add(table)
    return found


def unbuilt_problem(
    path: Path, command: str, analytics_schema: str = "analytics", raw_schema: str = "raw"
) -> str | None:
    """Why a read-only command finds nothing to read in a healthy DuckDB file: not a trust index warehouse at
    all (someone else's database), or generated but never run. None if its tables are there."""
    needed = _NEEDED_TABLES.get(command, ())
    tables = _tables_by_schema(path)
    missing = [t for t in needed if t not in tables.get(analytics_schema, set())]
    if not missing:
        return None
    first = f"{analytics_schema}.{missing[0]}"
    if not tables.get(raw_schema) and not tables.get(analytics_schema):
        return (
            f"warehouse file {path} is a DuckDB database but not a trust index warehouse (no {raw_schema} or "
            f"{analytics_schema} tables): {POINT_HINT}, or {CREATE_HINT}."
        )
    if not tables.get(analytics_schema):
        return (
            f"warehouse file {path} holds the raw data but no trust index yet ({first} is missing): build it with "
            "`trust run` (or `trust demo`)."
        )
    return (
        f"warehouse file {path} has no {first} yet: build it with `trust run` (or `trust demo`), "
        "or point TRUST_DUCKDB_PATH at a warehouse that has been run."
    )


def command_problem(
    path: Path, command: str, analytics_schema: str = "analytics", raw_schema: str = "raw"
) -> str | None:
    """Why ``trust <command>`` cannot use the warehouse at ``path`` (one line), or None.

    ``command`` is the command, with the models subcommand (``"models list"``). Nothing is created.
    """
    if command.split()[0] in CREATING_COMMANDS:
        return None
    problem = diagnose(path, for_write=command not in READ_COMMANDS)
    if problem:
        return str(problem)
    refused = probe_open(path)
    if refused or command not in READ_COMMANDS:
        return refused
    return unbuilt_problem(path, command, analytics_schema, raw_schema)


def demo_problem(path: Path, raw_schema: str, tables: list[str]) -> str | None:
    """Why ``trust demo`` (without ``--regenerate``) cannot run over the existing warehouse, or None.

    A missing file is no problem (the demo generates it). A broken file, or one without the raw data, would
    make every dbt model fail minutes later: say so now, and that ``--regenerate`` rebuilds it.
    """
    if not path.exists():
        return None
    problem = diagnose(path, for_write=True)
    if problem:
        return str(problem)
    if (refused := probe_open(path)) is not None:
        return refused
    present = _tables_by_schema(path)
    missing = [t for t in tables if t not in present.get(raw_schema, set())]
    if not missing:
        return None
    if not present.get(raw_schema) and not any(schema in present for schema in ("analytics", "truth")):
        return (
            f"warehouse file {path} is a DuckDB database but not a trust index warehouse (no {raw_schema} "
            f"tables): {POINT_HINT} or at a new file, or run `trust demo --regenerate` to add the synthetic "
            "telco to it (its other schemas are kept)."
        )
    shown = ", ".join(f"{raw_schema}.{t}" for t in missing[:3]) + (", ..." if len(missing) > 3 else "")
    return (
        f"warehouse file {path} holds no raw data ({len(missing)} of {len(tables)} raw tables missing: "
        f"{shown}): run `trust demo --regenerate` to generate the synthetic telco into it."
    )


def prepare_for_generation(path: Path) -> None:
    """Before the generator (re)writes ``path``: remove a file that is broken beyond use (empty or truncated:
    DuckDB cannot even open it to replace its tables); refuse to overwrite a file that is not a DuckDB database
    (it may be someone's data) or that another process holds."""
    problem = diagnose(path, for_write=True)
    if problem is None:
        refused = probe_open(path)
        if refused:
            raise WarehouseFileError(refused)
        return
    if problem.kind in ("empty", "truncated"):
        path.unlink()
        Path(f"{path}.wal").unlink(missing_ok=True)
        return
    if problem.kind != "missing":
        raise WarehouseFileError(str(problem))


@contextmanager
def regenerating(path: Path) -> Iterator[None]:
    """Around the generator's (re)write of ``path``: :func:`prepare_for_generation`, then the owner lock for the
    whole generation, so a run starting meanwhile is refused instead of reading half-written raw tables."""
    prepare_for_generation(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # generating creates the warehouse, and its folder
    lock = WarehouseOwnerLock(path, job="trust generate")
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def file_error_in(error: BaseException) -> WarehouseFileError | None:
    """The :class:`WarehouseFileError` behind ``error`` (Dagster wraps a resource's error in its own), if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, WarehouseFileError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None

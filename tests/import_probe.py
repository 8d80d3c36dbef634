"""Import modules of the product in a fresh interpreter and report what the imports did.

Run by tests/test_import_side_effects.py: ``python -m tests.import_probe OUT.json [--block-bigquery-extra]
MODULE...``. Writes to OUT.json: the modules that failed to import (with their traceback), every write to
``os.environ`` made while importing (the variable and the file and line that wrote it), the environment before
and after, and with ``--block-bigquery-extra`` every attempt to import a package of the ``bigquery`` extra; such
an import fails as it would where the extra is not installed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import os
import sys
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

# The packages the `bigquery` extra installs (dagster-gcp, dbt-bigquery, the Google Cloud client libraries).
# google.protobuf is not among them: dbt-core itself needs protobuf.
BIGQUERY_EXTRA = ("google", "dagster_gcp", "dbt.adapters.bigquery", "dbt.include.bigquery")
NOT_IN_THE_EXTRA = ("google.protobuf", "google._upb")


def _in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


class BlockBigQueryExtra(importlib.abc.MetaPathFinder):
    """Fails every import of a package of the bigquery extra as if it were not installed, and records it."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if _in(name, BIGQUERY_EXTRA) and not _in(name, NOT_IN_THE_EXTRA):
            self.attempts.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} (the bigquery extra is blocked)", name=name)
        return None


def _writer(frame: FrameType | None) -> str:
    """File and line of the first caller outside os and collections.abc (whose update/setdefault/pop write)."""
    while frame is not None and frame.f_code.co_filename in (os.__file__, "<frozen os>", "<frozen _collections_abc>"):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"


def record_environ_writes() -> list[list[str]]:
    writes: list[list[str]] = []
    environ_class = type(os.environ)
    set_item, del_item = environ_class.__setitem__, environ_class.__delitem__

    def setitem(self: Any, key: str, value: str) -> None:
        writes.append([key, _writer(sys._getframe(1))])
        set_item(self, key, value)

    def delitem(self: Any, key: str) -> None:
        writes.append([key, _writer(sys._getframe(1))])
        del_item(self, key)

    environ_class.__setitem__ = setitem  # type: ignore[method-assign]
    environ_class.__delitem__ = delitem  # type: ignore[method-assign]
    return writes


def main(argv: list[str]) -> None:
    out, args = Path(argv[0]), argv[1:]
    blocker = None
    if "--block-bigquery-extra" in args:
        args.remove("--block-bigquery-extra")
        blocker = BlockBigQueryExtra()
        sys.meta_path.insert(0, blocker)
    before = dict(os.environ)
    writes = record_environ_writes()
    failed: dict[str, str] = {}
    for module in args:
        try:
            importlib.import_module(module)
        except BaseException:
            failed[module] = traceback.format_exc()
    out.write_text(
        json.dumps(
            {
                "failed": failed,
                "writes": writes,
                "environ_before": before,
                "environ_after": dict(os.environ),
                "bigquery_extra_imports": blocker.attempts if blocker else [],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])

"""What every ``trust`` command shares: the one-line error of a mistaken command, argument types, date
suggestions and plain-text tables that fit a terminal."""

from __future__ import annotations

import argparse
import math
import textwrap
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

# Exit status of a command that names something the warehouse does not hold (an id, a date, a version, a range),
# the same status argparse gives a malformed command line. 1 stays "refused" / "a check failed".
MISTAKE_EXIT = 2
# Terminal width every table is laid out for.
TABLE_WIDTH = 120


class CommandError(Exception):
    """A command that cannot be answered as asked; the message says what was wrong and what would work."""

    def __init__(self, message: str, exit_code: int = MISTAKE_EXIT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def iso_date(value: str) -> date:
    """argparse type of every date option: a calendar date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-02-28") from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render_table(
    frame: pl.DataFrame,
    width: int = TABLE_WIDTH,
    squeeze: Sequence[str] = (),
    notes: Sequence[str | None] | None = None,
) -> str:
    """A frame as plain text at most ``width`` characters wide: a header, a rule, one line per row, columns two
    spaces apart, numbers right-aligned. Every column stays visible (Polars' own repr replaces columns by ``…``
    instead). When the table is too wide, the widest of the ``squeeze`` columns (free text such as an actor) is cut
    first, down to 8 characters, then the widest text column; a cut value ends in ``…``. ``notes``: one optional
    free text per row, printed under it, indented and wrapped (a long reason, readable in full)."""
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    cells = [[_cell(v) for v in row] for row in frame.iter_rows()]
    names = frame.columns
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    gap = 2
    for candidates, floor_of in (
        ([i for i, n in enumerate(names) if n in squeeze], lambda i: max(len(names[i]), 8)),
        ([i for i, n in enumerate(names) if n not in numeric], lambda i: len(names[i])),
    ):
        while sum(widths) + gap * (len(widths) - 1) > width:
            shrinkable = [i for i in candidates if widths[i] > floor_of(i)]
            if not shrinkable:
                break
            widths[max(shrinkable, key=lambda i: widths[i])] -= 1

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, value in enumerate(values):
            value = _fit(value, widths[i])
            parts.append(value.rjust(widths[i]) if names[i] in numeric else value.ljust(widths[i]))
        return _fit((" " * gap).join(parts).rstrip(), width)

    out = [line(names), _fit((" " * gap).join("-" * w for w in widths), width)]
    for k, row in enumerate(cells):
        out.append(line(row))
        note = notes[k] if notes is not None else None
        if note:
            out += textwrap.wrap(note, width, initial_indent="    ", subsequent_indent="    ")
    if not cells:
        out.append("(no rows)")
    return "\n".join(out)

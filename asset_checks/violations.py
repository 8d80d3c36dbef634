"""What a failed rule looks like, everywhere: table, column, rule, how many rows, and the first offending rows.

Every check in this package reduces its findings to a list of :class:`Violation` and turns that list into an
``AssetCheckResult`` (a check in the UI) or a ``dg.Failure`` (a guard that stops a write) with the same
description and metadata, so the on-call engineer reads one format whatever tripped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import dagster as dg
import polars as pl

EXAMPLE_ROWS = 5
# Descriptions are shown in run logs and the check's panel; keep them readable.
_MAX_LISTED = 8
_MAX_CELL = 80


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``table.column`` breaks ``rule`` in ``failing_rows`` rows; ``examples`` shows some."""

    table: str
    column: str | None
    rule: str
    failing_rows: int
    examples: pl.DataFrame = field(default_factory=pl.DataFrame)
    detail: str = ""

    @property
    def where(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table

    def headline(self) -> str:
        rows = f"{self.failing_rows} row(s)" if self.failing_rows else "table-level"
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.where}: rule `{self.rule}` broken, {rows}{extra}"

    def example_records(self) -> list[dict[str, Any]]:
        return [_jsonable_row(r) for r in self.examples.head(EXAMPLE_ROWS).iter_rows(named=True)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "rule": self.rule,
            "failing_rows": self.failing_rows,
            "detail": self.detail,
            "examples": self.example_records(),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, str) and len(value) > _MAX_CELL:
        return value[: _MAX_CELL - 3] + "..."
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _jsonable_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in row.items()}


def examples_markdown(violation: Violation) -> str:
    records = violation.example_records()
    if not records:
        return f"**{violation.headline()}**"
    columns = list(records[0])
    head = "| " + " | ".join(columns) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join("" if r[c] is None else str(r[c]) for c in columns) + " |" for r in records]
    return "\n".join([f"**{violation.headline()}**", "", head, rule, *body])


def describe(violations: Sequence[Violation], passed_text: str) -> str:
    """A description naming every broken rule, with the first example rows of the first few."""
    if not violations:
        return passed_text
    lines = [f"{len(violations)} rule(s) broken:"]
    for v in violations[:_MAX_LISTED]:
        lines.append(f"- {v.headline()}")
        records = v.example_records()
        if records:
            lines.append(f"  examples: {json.dumps(records, default=str)}")
    if len(violations) > _MAX_LISTED:
        lines.append(f"- ... and {len(violations) - _MAX_LISTED} more (see the 'violations' metadata)")
    return "\n".join(lines)


def violations_metadata(violations: Sequence[Violation]) -> dict[str, Any]:
    first = violations[0] if violations else None
    meta: dict[str, Any] = {
        "failing_rules": len(violations),
        "failing_rows": int(sum(v.failing_rows for v in violations)),
        "violations": dg.MetadataValue.json([v.as_dict() for v in violations]),
    }
    if first is not None:
        # The first broken rule also as plain fields, so the UI's check table shows them without opening JSON.
        meta.update(
            {
                "table": first.table,
                "column": first.column or "",
                "rule": first.rule,
                "examples": dg.MetadataValue.md("\n\n".join(examples_markdown(v) for v in violations[:_MAX_LISTED])),
            }
        )
    return meta


def check_result(
    violations: Sequence[Violation],
    *,
    severity: dg.AssetCheckSeverity,
    passed_text: str,
    asset_key: dg.AssetKey | None = None,
    check_name: str | None = None,
    partition: str | None = None,
    extra_metadata: Mapping[str, Any] | None = None,
) -> dg.AssetCheckResult:
    meta: dict[str, Any] = dict(extra_metadata or {})
    if partition:
        meta["partition_window"] = partition
    meta.update(violations_metadata(violations))
    return dg.AssetCheckResult(
        passed=not violations,
        severity=severity,
        description=describe(violations, passed_text),
        metadata=meta,
        asset_key=asset_key,
        check_name=check_name,
    )


def failure(violations: Sequence[Violation], what: str, advice: str) -> dg.Failure:
    """A step failure that carries the same description and metadata as a failed check."""
    return dg.Failure(
        description=f"{what}\n{describe(violations, '')}\n{advice}",
        metadata=violations_metadata(violations),
        allow_retries=False,
    )

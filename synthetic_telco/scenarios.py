"""Scenarios: deliberate, documented changes to the synthetic world, for tests and demos.

Each scenario changes what it claims and nothing else (the generator's randomness is addressed per customer,
so a run with a scenario is bit-identical to the run without it outside the scenario's reach):

- ``RegionalOutage``: outage rows for one region and product on consecutive days; customers holding that product
  in that region get outage-driven fault tickets and care contacts on the outage days and a latent experience
  shock (so their usage, contacts, payments and contract outcomes after the outage may change).
- ``PriceRise``: a ``price_change`` contract event for every subscription of the product active on the date,
  and every fee and bill of that product from the date on multiplied by ``1 + pct`` (payments follow bills).
  Behaviour is unchanged: the latent experience does not react to the price.
- ``SchemaChange``: an ``ALTER TABLE`` on one raw table after generation, as an upstream system changing shape
  overnight (the 07:00 incident of the runbook).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

from source_contract.raw_tables import PRODUCTS, RAW_TABLES_BY_NAME, REGIONS

SchemaChangeKind = Literal["rename", "retype", "drop"]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+(\s*,\s*\d+)?\s*\))?$")


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass(frozen=True)
class RegionalOutage:
    region: str
    product: str
    start_date: date
    days: int = 3
    minutes_per_day: float = 600.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_date", _as_date(self.start_date))
        if self.region not in REGIONS:
            raise ValueError(f"unknown region {self.region!r}; expected one of {REGIONS}")
        if self.product not in PRODUCTS:
            raise ValueError(f"unknown product {self.product!r}; expected one of {PRODUCTS}")
        if self.days < 1:
            raise ValueError("an outage lasts at least one day")
        if not 0 < self.minutes_per_day <= 1440:
            raise ValueError("minutes_per_day must be in (0, 1440]")

    @classmethod
    def parse(cls, text: str) -> RegionalOutage:
        """``region:product:start_date[:days[:minutes_per_day]]``, e.g. ``north:mobile:2026-02-10:3``."""
        parts = text.split(":")
        if not 3 <= len(parts) <= 5:
            raise ValueError(f"expected region:product:start_date[:days[:minutes_per_day]], got {text!r}")
        extra: dict[str, Any] = {}
        if len(parts) > 3:
            extra["days"] = int(parts[3])
        if len(parts) > 4:
            extra["minutes_per_day"] = float(parts[4])
        return cls(parts[0], parts[1], date.fromisoformat(parts[2]), **extra)


@dataclass(frozen=True)
class PriceRise:
    product: str
    effective_date: date
    pct: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "effective_date", _as_date(self.effective_date))
        if self.product not in PRODUCTS:
            raise ValueError(f"unknown product {self.product!r}; expected one of {PRODUCTS}")
        if not -0.9 < self.pct < 10:
            raise ValueError("pct is a fraction, e.g. 0.08 for +8%")

    @classmethod
    def parse(cls, text: str) -> PriceRise:
        """``product:effective_date:pct``, e.g. ``broadband:2026-01-01:0.08``."""
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"expected product:effective_date:pct, got {text!r}")
        return cls(parts[0], date.fromisoformat(parts[1]), float(parts[2]))


@dataclass(frozen=True)
class SchemaChange:
    table: str
    kind: SchemaChangeKind
    column: str
    new_name: str | None = None
    new_type: str | None = None

    def __post_init__(self) -> None:
        raw = RAW_TABLES_BY_NAME.get(self.table)
        if raw is None:
            raise ValueError(f"unknown raw table {self.table!r}")
        if self.column not in raw.column_names:
            raise ValueError(f"{self.table} has no column {self.column!r}")
        if self.kind == "rename":
            if not self.new_name or not _IDENTIFIER.match(self.new_name):
                raise ValueError("rename needs new_name, a plain identifier")
            if self.new_name in raw.column_names:
                raise ValueError(f"{self.table} already has a column {self.new_name!r}")
        elif self.kind == "retype":
            if not self.new_type or not _TYPE.match(self.new_type):
                raise ValueError("retype needs new_type, a DuckDB type such as VARCHAR or DECIMAL(10,2)")
        elif self.kind != "drop":
            raise ValueError(f"kind must be rename, retype or drop, got {self.kind!r}")

    def sql(self, schema: str = "raw") -> str:
        target = f'{schema}."{self.table}"'
        if self.kind == "rename":
            return f'ALTER TABLE {target} RENAME COLUMN "{self.column}" TO "{self.new_name}"'
        if self.kind == "retype":
            return f'ALTER TABLE {target} ALTER COLUMN "{self.column}" SET DATA TYPE {self.new_type}'
        return f'ALTER TABLE {target} DROP COLUMN "{self.column}"'

    @classmethod
    def parse(cls, text: str) -> SchemaChange:
        """``table:rename:column:new_name``, ``table:retype:column:NEW_TYPE`` or ``table:drop:column``."""
        parts = text.split(":")
        if len(parts) < 3:
            raise ValueError(f"expected table:kind:column[:new_name|new_type], got {text!r}")
        table, kind, column, *rest = parts
        arg = ":".join(rest) or None
        if kind == "rename":
            return cls(table, "rename", column, new_name=arg)
        if kind == "retype":
            return cls(table, "retype", column, new_type=arg)
        if kind == "drop" and arg is None:
            return cls(table, "drop", column)
        raise ValueError(f"cannot parse schema change {text!r}")


Scenario = RegionalOutage | PriceRise | SchemaChange


def describe(scenario: Scenario) -> dict[str, Any]:
    """JSON-friendly description, recorded in ``truth.scenarios`` and the generation report."""
    out: dict[str, Any] = {"kind": type(scenario).__name__}
    for key, value in asdict(scenario).items():
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out

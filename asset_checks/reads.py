"""Reads of the product tables for the checks: only the partition window's rows, filtered in the warehouse."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from asset_checks import rules
from asset_checks.violations import Violation
from resources.warehouse import WarehouseResource
from trust_assets.config import Cohort

CUSTOMER_360 = "customer_360_definition"
TRUST_SIGNAL = "customer_trust_signal"
RULER = "hierarchical_reference_stats"
RULER_ISSUES = "ruler_issues"
WEIGHTS = "trust_model_weights"
REGISTRY = "model_registry"


def feature_table(cohort: Cohort | str) -> str:
    return f"{Cohort(cohort).value}_features"


# --- reads ---------------------------------------------------------------------------------------------------------
class MissingTable(Exception):
    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.violation = Violation(table, None, "table exists", 0, detail=f"{table} is not in the warehouse")


def read_window(warehouse: WarehouseResource, table: str, start: date, end: date, columns: str = "*") -> pl.DataFrame:
    """The rows of a daily table in [start, end]; the filter runs in the warehouse."""
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    return warehouse.read(
        f"select {columns} from {{analytics}}.{table} where snapshot_date between $start and $end",
        {"start": start, "end": end},
    )


def read_table(warehouse: WarehouseResource, table: str) -> pl.DataFrame:
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    return warehouse.read(f"select * from {{analytics}}.{table}")


def read_daily_counts(warehouse: WarehouseResource, table: str, start: date, end: date) -> pl.DataFrame:
    if not warehouse.table_exists(table):
        raise MissingTable(table)
    return warehouse.read(
        f"select snapshot_date as day, count(*) as rows from {{analytics}}.{table} "
        "where snapshot_date between $start and $end group by snapshot_date",
        {"start": start - timedelta(days=1), "end": end},
    )


def read_holders(
    warehouse: WarehouseResource, start: date, end: date, cohorts: list[str] | None = None
) -> pl.DataFrame:
    flags = ", ".join(rules.HOLDING_COLUMNS.values())
    people = read_window(warehouse, CUSTOMER_360, start, end, f"snapshot_date, customer_id, {flags}")
    return rules.holders(people, cohorts)



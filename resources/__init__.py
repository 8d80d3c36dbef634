"""Resources of the code location: the warehouse (DuckDB or BigQuery) and the choice between them.

The names are imported on first use: ``resources.warehouse_file`` (the file checks every ``trust`` command runs
first) must not pay for Dagster, DuckDB and Polars, and the BigQuery warehouse pulls in the Google clients.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "BigQueryWarehouse": "resources.bigquery_warehouse",
    "DuckDBWarehouse": "resources.warehouse",
    "Target": "resources.environment",
    "WarehouseResource": "resources.warehouse",
    "current_target": "resources.environment",
    "warehouse_resource": "resources.environment",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(name)


__all__ = sorted(_HOMES)

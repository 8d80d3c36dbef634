"""Resources of the code location: the warehouse (DuckDB or BigQuery) and the choice between them.

Every name is imported on first use (PEP 562): ``resources.warehouse`` pulls in Dagster (its resource base class)
and ``resources.bigquery_warehouse`` the Google client libraries, while the read-only commands of ``trust`` need
neither (``resources.read_only``) and must start in well under two seconds.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resources.bigquery_warehouse import BigQueryWarehouse
    from resources.environment import Target, current_target, warehouse_resource
    from resources.warehouse import DuckDBWarehouse, WarehouseResource

_HOMES: dict[str, str] = {
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
    raise AttributeError(f"module 'resources' has no attribute {name!r}")


__all__ = [
    "BigQueryWarehouse",
    "DuckDBWarehouse",
    "Target",
    "WarehouseResource",
    "current_target",
    "warehouse_resource",
]

"""Resources of the code location: the warehouse (DuckDB or BigQuery) and the choice between them."""

from typing import Any

from resources.environment import Target, current_target, warehouse_resource
from resources.warehouse import DuckDBWarehouse, WarehouseResource


def __getattr__(name: str) -> Any:
    # The BigQuery warehouse pulls in the Google client libraries: import it only when asked for.
    if name == "BigQueryWarehouse":
        from resources.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse
    raise AttributeError(name)


__all__ = [
    "BigQueryWarehouse",
    "DuckDBWarehouse",
    "Target",
    "WarehouseResource",
    "current_target",
    "warehouse_resource",
]

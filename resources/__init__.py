"""Resources of the code location: the warehouse (DuckDB or BigQuery) and the choice between them."""

from resources.environment import Target, current_target, warehouse_resource
from resources.warehouse import BigQueryWarehouse, DuckDBWarehouse, WarehouseResource

__all__ = [
    "BigQueryWarehouse",
    "DuckDBWarehouse",
    "Target",
    "WarehouseResource",
    "current_target",
    "warehouse_resource",
]

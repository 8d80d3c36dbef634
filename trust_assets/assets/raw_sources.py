"""The start of the lineage: the operator's raw source systems, as external assets.

They are loaded outside Dagster (by the operator's ingestion, or by the synthetic generator locally), so they
are declared rather than materialised. Their columns come from the source contract.
"""

from __future__ import annotations

import dagster as dg

from source_contract.raw_tables import RAW_TABLES, RawTable
from trust_assets.owners import DATA_ENGINEERING


def _column_schema(table: RawTable) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(c.name, c.type.lower(), description=c.description,
                           constraints=dg.TableColumnConstraints(nullable=c.nullable))
            for c in table.columns
        ]
    )


RAW_SOURCE_SPECS: list[dg.AssetSpec] = [
    dg.AssetSpec(
        key=dg.AssetKey(["raw", table.name]),
        description=f"{table.description} Grain: one row per {', '.join(table.grain)}.",
        group_name="raw_sources",
        owners=[DATA_ENGINEERING],
        kinds={"duckdb"},
        tags={"layer": "raw"},
        metadata={"dagster/column_schema": _column_schema(table), "source_contract": "docs/source_contract.md"},
    )
    for table in RAW_TABLES
]

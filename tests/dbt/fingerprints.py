"""Order-independent fingerprints of the daily tables a dbt build leaves in a DuckDB warehouse.

A fingerprint is the MD5 of every row rendered as text, sorted, joined by newlines. DOUBLE columns are rounded
to 9 decimals first: a parallel sum may differ in its last bits from run to run, a changed result does not.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Every table the daily run writes, by schema.
DAILY_TABLES: tuple[str, ...] = (
    "analytics.customer_360_definition",
    "intermediate.int_common_features",
    "analytics.mobile_features",
    "analytics.tv_features",
    "analytics.broadband_features",
)


def _row_text(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    columns = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    parts = [
        f"coalesce(cast(round({name}, 9) as varchar), '∅')" if kind == "DOUBLE"
        else f"coalesce(cast({name} as varchar), '∅')"
        for name, kind in columns
    ]
    return " || '|' || ".join(parts)


def table_fingerprints(path: Path) -> dict[str, tuple[int, str]]:
    """(row count, fingerprint) of every daily table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        result = {}
        for qualified in DAILY_TABLES:
            schema, table = qualified.split(".")
            row = _row_text(con, schema, table)
            count, digest = con.execute(
                f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), ''))"
                f" from (select {row} as r from {qualified}) as rows"
            ).fetchone()
            result[qualified] = (count, digest)
        return result
    finally:
        con.close()

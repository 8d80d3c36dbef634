"""Render the raw source contract (source_contract/raw_tables.py) as docs/source_contract.md.

``python -m source_contract.contract_doc`` rewrites the file; a test fails when it is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from source_contract.raw_tables import RAW_TABLES, RawTable, partition_expression

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "source_contract.md"

# BigQuery types of the DuckDB types the contract uses.
BIGQUERY_TYPES = {
    "VARCHAR": "STRING",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "DOUBLE": "FLOAT64",
    "INTEGER": "INT64",
    "BOOLEAN": "BOOL",
}

INTRO = """# The source contract: bring your own raw tables

The pipeline reads twelve raw tables from the schema (BigQuery: dataset) `raw`. Locally the synthetic telco
generator writes them; in production your ingestion does. Provide these tables with these names, columns and
types, and the whole graph runs unchanged. Extra columns are ignored; a missing, renamed or retyped column stops
the daily run at the staging layer with a message that names it (see docs/runbook.md).

Rules that hold for every table:
- `loaded_at` is the time the row landed in the warehouse (UTC). Source freshness is checked on it.
- Dates are calendar dates in the operator's time zone; timestamps are UTC.
- Rows may arrive more than once: staging keeps the latest `loaded_at` per grain (grain keys in their canonical
  form, below).
- A re-delivered event keeps the date it is partitioned by (below): a correction re-sends the event with its
  own date. The daily run reads only the partitions of its window and deduplicates inside them, so a re-delivery
  that moved an event to another day would leave the stale copy counted on the old day.
- On BigQuery the event tables are partitioned by day on their event date and clustered as each table says
  below ([the DDL](#bigquery-ddl-for-the-raw-tables)); the daily run's cost depends on it
  (docs/scaling.md). Customers, subscriptions and contract events, which every daily run reads whole, are
  partitioned by the day their rows landed (`loaded_at`): a landed row is never edited in place (a change
  arrives as a new row), so the raw-contract gate re-checks only the day's new partition.
- History must reach back to 2025-02-01 minus the longest feature window (180 days), i.e. 2024-08-01, for the
  reference period to be computed; outcomes need data to 2026-01-31.

Referential keys are matched across tables in a canonical form that staging restores, so that a system
writing a key slightly differently does not lose the join (the customer's usage, bills or contacts would
silently drop out of the features):
- `customer_id`, `icoms_account_uid`, `bill_id`: leading and trailing spaces removed, upper case
  (` c0000001` is `C0000001`).
- `msisdn`: leading and trailing spaces removed, then a leading `+` (or several) or `00` (the international call
  prefix) removed: `+447700000001`, `00447700000001` and `447700000001` are one line. This is unambiguous because a
  number in international format never starts with 0. A number in national format (`07700000001`) is left as
  it is: completing it needs the country, so it matches no line (an orphan key, not a guess).
- Other differences (spaces or punctuation inside a key, another prefix) are not repaired.

The staged tables carry the canonical keys; other ids (`payment_id`, `contact_id`, ...) are taken as delivered.

This page is generated from `source_contract/raw_tables.py` by `python -m source_contract.contract_doc`.
"""


def bigquery_ddl(table: RawTable, dataset: str = "raw") -> str:
    """CREATE TABLE for BigQuery with the contract's types, day partitioning and clustering."""
    columns = ",\n  ".join(f"{c.name} {BIGQUERY_TYPES[c.type]}" for c in table.columns)
    layout = ""
    if table.partition_by:
        layout += f"\nPARTITION BY {partition_expression(table)}"
    if table.cluster_by:
        layout += f"\nCLUSTER BY {', '.join(table.cluster_by)}"
    return f"CREATE TABLE IF NOT EXISTS {dataset}.{table.name} (\n  {columns}\n){layout};"


def _layout(table: RawTable) -> str:
    if table.partition_by is None:
        return "BigQuery layout: not partitioned (read whole by every daily run).\n"
    clustered = ", ".join(f"`{c}`" for c in table.cluster_by)
    if table.read_whole:
        return (
            f"BigQuery layout: partitioned by the day each row landed (`{table.partition_by}`), clustered by "
            f"{clustered}. Every daily run reads all of it (the latest load per key); the raw-contract gate "
            "re-checks only the partitions written since it validated the others.\n"
        )
    return f"BigQuery layout: partitioned by day on `{table.partition_by}`, clustered by {clustered}.\n"


DDL_INTRO = """
## BigQuery DDL for the raw tables

Create the partitioned tables before the first load (a table cannot be partitioned afterwards without a
copy). The event tables are partitioned on the event's date: a daily run reads only the days its features
look back over. Customers, subscriptions and contract events are partitioned on the day each row landed
(`loaded_at`): a change to a customer or a line lands as a new row with its own `loaded_at` (the latest load
per key wins), so a day's changes fill one new partition, and the raw-contract gate proves the older partitions
unchanged from BigQuery's partition metadata instead of reading them again. `require_partition_filter` stays
off: the staging views read the whole history on purpose.
"""


def render() -> str:
    parts = [INTRO]
    for table in RAW_TABLES:
        parts.append(
            f"\n## `raw.{table.name}`\n\n{table.description}\n\nGrain: one row per "
            f"{', '.join(f'`{g}`' for g in table.grain)}. {_layout(table)}"
        )
        parts.append("| column | DuckDB type | BigQuery type | nullable | meaning |\n| --- | --- | --- | --- | --- |")
        for c in table.columns:
            parts.append(
                f"| `{c.name}` | {c.type} | {BIGQUERY_TYPES[c.type]} | {'yes' if c.nullable else 'no'} "
                f"| {c.description} |"
            )
    parts.append(DDL_INTRO)
    parts.append("```sql\n" + "\n\n".join(bigquery_ddl(t) for t in RAW_TABLES if t.partition_by) + "\n```")
    return "\n".join(parts) + "\n"


def main() -> int:
    DOC_PATH.write_text(render())
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does BigQuery prune the partitioned tables a query reads? Decided on the sqlglot AST of the query.

BigQuery skips a partition only for a filter it can evaluate before reading: a condition on the partition
column against a constant, in the WHERE of the SELECT that scans the table. A bound in a join condition, one
that compares with another row's column (correlated), or one applied above the subquery that scans the table
(after a window function, say) leaves every partition to be read. The check is therefore strict: each reference
to a partitioned table must be the FROM of a SELECT whose WHERE has, among its AND-ed conditions, a lower and an
upper bound of the partition column by constants. The rule is the same for the raw event tables and for the
project's own daily tables (partitioned by snapshot_date on BigQuery) that a daily model reads.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp

from resources.bigquery_billing import where_bounds


def _partition_column(table: exp.Table, partitioned: Mapping[str, str], schema: str | None) -> str | None:
    if schema is None:
        return partitioned.get(f"{table.db.lower()}.{table.name.lower()}")
    return partitioned.get(table.name.lower()) if table.db.lower() == schema else None


def pruning_problems(
    sql: str, partitioned: Mapping[str, str], schema: str | None = "raw", origin: str = ""
) -> list[str]:
    """Every reference to a partitioned table that BigQuery could not prune, with the reason.

    `partitioned` maps table name (of `schema`) to partition column; with `schema` None its keys are qualified
    names, "dataset.table", so tables of several datasets are checked at once. `sql` is BigQuery SQL.
    """
    tree = sqlglot.parse_one(sql, read="bigquery")
    problems = []
    for table in tree.find_all(exp.Table):
        column = _partition_column(table, partitioned, schema)
        if column is None:
            continue
        name = f"{origin}: {table.db}.{table.name}"
        select = table.find_ancestor(exp.Select)
        scope = table.find_ancestor(exp.Join, exp.From)
        if select is None or not isinstance(scope, exp.From) or scope.parent is not select:
            problems.append(f"{name} is joined, not the one table in the FROM of its SELECT")
            continue
        # The bounds are read as the billing rule reads them (resources/bigquery_billing.py).
        kinds = {b.kind for b in where_bounds(select.args.get("where"), column) if b.constant}
        missing = [kind for kind in ("lower", "upper") if kind not in kinds]
        if missing:
            problems.append(f"{name} has no constant {' and no '.join(missing)} bound on {column} in its WHERE")
    return problems


def raw_tables_read(sql: str, schema: str = "raw") -> set[str]:
    return {t.name.lower() for t in sqlglot.parse_one(sql, read="bigquery").find_all(exp.Table)
            if t.db.lower() == schema}


def tables_read(sql: str) -> set[str]:
    """The tables a query references, as "dataset.table"."""
    return {f"{t.db.lower()}.{t.name.lower()}" for t in sqlglot.parse_one(sql, read="bigquery").find_all(exp.Table)
            if t.db}

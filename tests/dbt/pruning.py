"""Does BigQuery prune the partitioned raw tables a query reads? Decided on the sqlglot AST of the query.

BigQuery skips a partition only for a filter it can evaluate before reading: a condition on the partition
column against a constant, in the WHERE of the SELECT that scans the table. A bound in a join condition, one
that compares with another row's column (correlated), or one applied above the subquery that scans the table
(after a window function, say) leaves every partition to be read. The check is therefore strict: each reference
to a partitioned raw table must be the FROM of a SELECT whose WHERE has, among its AND-ed conditions, a lower
and an upper bound of the partition column by constants.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp

# Operators that bound the column from below / above when the column is on the left.
_LOWER = (exp.GT, exp.GTE)
_UPPER = (exp.LT, exp.LTE)
# Functions whose value depends on the time of the query, not on the SQL text alone.
_NOT_CONSTANT = (exp.Column, exp.Select, exp.Subquery, exp.CurrentDate, exp.CurrentTimestamp,
                 exp.CurrentDatetime, exp.Anonymous)


def _is_constant(node: exp.Expression) -> bool:
    return not any(isinstance(n, _NOT_CONSTANT) for n in node.walk())


def _conjuncts(where: exp.Where | None) -> list[exp.Expression]:
    if where is None:
        return []
    return list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]


def _bound_kind(condition: exp.Expression, column: str) -> str | None:
    """'lower' or 'upper' when the condition bounds `column` by a constant, else None."""
    if isinstance(condition, exp.Paren):
        return _bound_kind(condition.this, column)
    if not isinstance(condition, _LOWER + _UPPER):
        return None
    left, right = condition.left, condition.right
    for side, other, flipped in ((left, right, False), (right, left, True)):
        if isinstance(side, exp.Column) and side.name.lower() == column.lower() and _is_constant(other):
            lower = isinstance(condition, _LOWER) != flipped
            return "lower" if lower else "upper"
    return None


def pruning_problems(sql: str, partitioned: Mapping[str, str], schema: str = "raw", origin: str = "") -> list[str]:
    """Every reference to a partitioned table of `schema` that BigQuery could not prune, with the reason.

    `partitioned` maps table name to partition column; `sql` is BigQuery SQL.
    """
    tree = sqlglot.parse_one(sql, read="bigquery")
    problems = []
    for table in tree.find_all(exp.Table):
        if table.db.lower() != schema or table.name.lower() not in partitioned:
            continue
        name = f"{origin}: {schema}.{table.name}"
        column = partitioned[table.name.lower()]
        select = table.find_ancestor(exp.Select)
        scope = table.find_ancestor(exp.Join, exp.From)
        if select is None or not isinstance(scope, exp.From) or scope.parent is not select:
            problems.append(f"{name} is joined, not the one table in the FROM of its SELECT")
            continue
        kinds = {_bound_kind(c, column) for c in _conjuncts(select.args.get("where"))}
        missing = [kind for kind in ("lower", "upper") if kind not in kinds]
        if missing:
            problems.append(f"{name} has no constant {' and no '.join(missing)} bound on {column} in its WHERE")
    return problems


def raw_tables_read(sql: str, schema: str = "raw") -> set[str]:
    return {t.name.lower() for t in sqlglot.parse_one(sql, read="bigquery").find_all(exp.Table)
            if t.db.lower() == schema}

"""Raw input that keeps the contract but looks different must publish exactly what the clean input publishes.

Each test changes the raw tables of a private copy of the session warehouse, re-materialises the last day's
dbt models and trust signal on it (the gate is left out: these inputs are meant to pass it) and compares the
fingerprints of every daily table with the untouched session warehouse:

- extra columns: every raw table gains a column named after every name the compiled models define (column
  aliases, CTE, subquery and table aliases), collected with sqlglot rather than listed by hand;
- drifted keys: the referential keys arrive with spaces, in lower case and with international prefixes, as
  docs/source_contract.md allows, and staging restores their canonical form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlglot
from sqlglot import exp

from source_contract.raw_tables import RAW_TABLES
from tests.dbt.conftest import DbtSandbox
from tests.guards.conftest import DAILY_TABLES, fingerprints
from tests.support import forget_validated_loads
from trust_assets.partitions import dbt_window_env, fixed_dbt_vars

DAY = date(2026, 2, 28)
DAILY_SELECTION = dg.AssetSelection.groups("customer_360", "cohort_features", "trust_signal")
# The shared feature families are rebuilt with the cohort features: compare them too.
TABLES = {**DAILY_TABLES, "intermediate.int_common_features": "snapshot_date, customer_id, product"}
# Any value but NULL, 0 or 1 would do: a column that bound in place of a defined name changes the result.
EXTRA_VALUE = 2


@pytest.fixture(scope="module")
def published(pipeline_warehouse) -> dict[str, str]:
    return fingerprints(pipeline_warehouse.duckdb_path, tables=TABLES)


def _execute(path: Path, statements: Iterable[str]) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _rebuild_day(materialize_on, path: Path) -> None:
    result = materialize_on(path, DAILY_SELECTION, DAY)
    assert result.success, [e.message for e in result.get_step_failure_events()]


# --- extra columns named after the models' own names ---------------------------------------------------------


def defined_names(sql: str) -> set[str]:
    """Every name a compiled model defines: column aliases, CTE names and table or subquery aliases."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    names = {alias.alias for alias in tree.find_all(exp.Alias)}
    names |= {alias.name for alias in tree.find_all(exp.TableAlias)}
    return {name.lower() for name in names if name}


def compiled_models(sandbox: DbtSandbox, warehouse: Path) -> dict[str, str]:
    """The compiled SQL of every model of the project, by model name."""
    sandbox.run(warehouse, ["compile"], fixed_dbt_vars(), extra_env=dbt_window_env(DAY, DAY))
    manifest = json.loads((sandbox.target_path / "manifest.json").read_text())
    return {
        node["name"]: node["compiled_code"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def _raw_columns(path: Path, table: str) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [table],
        ).fetchall()
    finally:
        con.close()
    return {r[0].lower() for r in rows}


def add_columns_sql(table: str, names: Iterable[str]) -> str:
    """Rewrite raw.<table> with the extra columns appended, in one pass (rows keep their order)."""
    extra = ", ".join(f'{EXTRA_VALUE} as "{name}"' for name in sorted(names))
    return f"create or replace table raw.{table} as select *, {extra} from raw.{table}"


def test_extra_raw_columns_named_like_the_models_names_change_nothing(
    pipeline_warehouse, materialize_on, published: dict[str, str], tmp_path: Path
) -> None:
    copy = pipeline_warehouse.copy_to(tmp_path / "warehouse")
    models = compiled_models(DbtSandbox(tmp_path / "dbt"), copy)
    names = set().union(*(defined_names(sql) for sql in models.values()))
    # The name that once emptied the mobile usage view, and the aliases of the staging and feature layers.
    assert {"load_rank", "ranked", "source", "holding_rank", "in_last_4_weeks", "usage_volume"} <= names
    assert len(names) > 100, sorted(names)

    added: dict[str, set[str]] = {}
    for table in RAW_TABLES:
        added[table.name] = names - _raw_columns(copy, table.name)
    _execute(copy, [add_columns_sql(table, extra) for table, extra in added.items()])
    assert "load_rank" in _raw_columns(copy, "mobile_usage_weekly")

    _rebuild_day(materialize_on, copy)
    assert fingerprints(copy, tables=TABLES) == published


# --- referential keys with whitespace, case and prefix drift --------------------------------------------------

# Each statement drifts one key of one table on part of its rows; every form is one docs/source_contract.md
# maps back to the canonical key. The windows reach into the features' trailing windows of DAY.
KEY_DRIFT: tuple[str, ...] = (
    # The reported case: a `+` on half of the latest usage week's lines, and a trailing space on recent bills.
    "update raw.mobile_usage_weekly set msisdn = '+' || msisdn "
    "where week_ending = (select max(week_ending) from raw.mobile_usage_weekly) and hash(msisdn) % 2 = 0",
    "update raw.bills set customer_id = customer_id || ' ' where bill_date > DATE '2026-01-28'",
    # The international call prefix and padding on the master table of mobile lines.
    "update raw.mobile_subscriptions set msisdn = ' 00' || msisdn where hash(msisdn) % 3 = 0",
    "update raw.bills set bill_id = lower(bill_id) where hash(bill_id) % 2 = 0",
    "update raw.payments set bill_id = ' ' || bill_id, customer_id = lower(customer_id) "
    "where hash(payment_id) % 2 = 0",
    "update raw.care_contacts set customer_id = lower(customer_id) || '  ' where hash(contact_id) % 2 = 0",
    "update raw.fault_tickets set customer_id = ' ' || customer_id where hash(ticket_id) % 2 = 0",
    "update raw.contract_events set customer_id = lower(customer_id) where hash(event_id) % 2 = 0",
    "update raw.fixed_subscriptions set icoms_account_uid = lower(icoms_account_uid), customer_id = customer_id || ' ' "
    "where hash(icoms_account_uid) % 2 = 0",
    "update raw.tv_viewing_weekly set icoms_account_uid = icoms_account_uid || ' ' "
    "where hash(icoms_account_uid) % 2 = 1",
    "update raw.broadband_usage_weekly set icoms_account_uid = lower(icoms_account_uid) "
    "where week_ending > DATE '2026-01-31'",
    "update raw.customers set customer_id = ' ' || lower(customer_id) where hash(customer_id) % 4 = 0",
    # A stale re-delivery under a drifted key must still lose to the latest load of the same customer: staging
    # ranks the loads on the canonical key. Were it kept, these customers would move to another region.
    "insert into raw.customers (customer_id, signup_date, region, network_area, birth_year, customer_type, loaded_at) "
    "select lower(trim(customer_id)) || ' ', signup_date, 'capital', 'capital-001', birth_year, customer_type, "
    "loaded_at - interval 30 day from raw.customers where hash(trim(customer_id)) % 5 = 0",
)


def _drifted_rows(path: Path) -> int:
    """Rows of the copy whose key differs from its canonical form (a sanity check that the drift landed)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        (usage,) = con.execute("select count(*) from raw.mobile_usage_weekly where msisdn like '+%'").fetchone()
        (bills,) = con.execute("select count(*) from raw.bills where customer_id like '% '").fetchone()
    finally:
        con.close()
    return min(usage, bills)


def test_drifted_referential_keys_publish_what_clean_keys_publish(
    pipeline_warehouse, materialize_on, published: dict[str, str], tmp_path: Path
) -> None:
    copy = pipeline_warehouse.copy_to(tmp_path / "warehouse")
    _execute(copy, KEY_DRIFT)
    forget_validated_loads(copy)  # the keys arrived drifted: a delivered history, not an edit after the gate
    assert _drifted_rows(copy) > 100

    _rebuild_day(materialize_on, copy)
    assert fingerprints(copy, tables=TABLES) == published


# --- a warehouse file of another name ---------------------------------------------------------------------------


def test_a_warehouse_file_of_another_name_publishes_the_same_day(
    pipeline_warehouse, materialize_on, published: dict[str, str], tmp_path: Path
) -> None:
    """TRUST_DUCKDB_PATH may name any file: a warehouse copied to another name and folder keeps working.

    DuckDB names the catalog after the file, so a view that stored its catalog would point at the old name;
    every view of the session warehouse must resolve in the renamed copy, and the day rebuilds identically.
    """
    renamed = tmp_path / "elsewhere" / "trust_prod.duckdb"
    renamed.parent.mkdir()
    renamed.write_bytes(pipeline_warehouse.duckdb_path.read_bytes())
    con = duckdb.connect(str(renamed), read_only=True)
    try:
        views = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'VIEW'"
        ).fetchall()
        assert len(views) >= 10, views
        for schema, name in views:
            con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
    finally:
        con.close()

    _rebuild_day(materialize_on, renamed)
    assert fingerprints(renamed, tables=TABLES) == published

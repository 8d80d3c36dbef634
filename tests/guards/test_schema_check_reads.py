"""The daily schema check reads only the columns its rules read, and its result is the whole rows' result.

On BigQuery every column a query names is billed. The schema check judges a window on the columns the schema's
rules read values of (asset_checks/reads.py ``schema_columns``): not the columns a non-strict schema does not
name, nor the type-only columns of ``TYPE_ONLY_COLUMNS``, whose type comes from the catalogue. A window that
fails is read whole again. These tests run the check on a small DuckDB warehouse, record what it reads, and hold
its result to the whole-row validation, on good and on damaged data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandera.polars as pa
import polars as pl
import pytest

from asset_checks import rules
from asset_checks.product_checks import schema_check_violations
from asset_checks.reads import read_window, schema_columns
from asset_checks.schemas import (
    PRODUCT_SCHEMAS,
    TYPE_ONLY_COLUMNS,
    Customer360Schema,
    TrustSignalSchema,
    feature_model,
)
from asset_checks.validation import validate_frame
from asset_checks.violations import Violation
from resources.warehouse import DuckDBWarehouse
from tests.guards import frames
from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA
from trust_assets.tables import CUSTOMER_360, TRUST_SIGNAL

DAY = frames.DAY
READS: list[str] = []  # module-level: Dagster-style resources are copied, a list on the instance would not be


class ReadRecordingWarehouse(DuckDBWarehouse):
    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        READS.append(sql)
        return super().read(sql, params)


def _summary(found: list[Violation]) -> list[tuple[str | None, str, int, list[dict[str, Any]], str]]:
    return sorted(
        ((v.column, v.rule, v.failing_rows, v.examples.to_dicts(), v.detail) for v in found),
        key=lambda t: (t[0] or "", t[1]),
    )


def _whole_rows(warehouse: DuckDBWarehouse, table: str, model: type[pa.DataFrameModel]) -> list[Violation]:
    """The check as it was: every column of the window."""
    return rules.schema_violations(read_window(warehouse, table, DAY, DAY), model, table)


def _customer_360_with_unnamed_columns() -> pl.DataFrame:
    # The dbt model carries columns the schema does not name (network area, start and contract-end dates).
    return frames.customer_360().with_columns(
        pl.Series("network_area", ["N1", "S2", "C3"]),
        pl.Series("mobile_start_date", [date(2021, 5, 1), None, date(2022, 1, 9)]),
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> ReadRecordingWarehouse:
    found = ReadRecordingWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    found.replace_partitions(TRUST_SIGNAL, frames.trust_signal(), DAY, DAY)
    found.replace_partitions(CUSTOMER_360, _customer_360_with_unnamed_columns(), DAY, DAY)
    found.replace_partitions("mobile_features", frames.features("mobile"), DAY, DAY)
    READS.clear()
    return found


def _damage(warehouse: DuckDBWarehouse, sql: str) -> None:
    with duckdb.connect(warehouse.path) as con:
        con.execute(sql)


# --- which columns ------------------------------------------------------------------------------------------------
def test_type_only_columns_are_read_by_no_rule() -> None:
    """Each declared column is nullable, has no value check, is in no unique key, and no frame-wide check reads
    it: the schema without it accepts a valid frame without it."""
    valid = {TRUST_SIGNAL: frames.trust_signal()}
    for table, columns in TYPE_ONLY_COLUMNS.items():
        schema = PRODUCT_SCHEMAS[table].to_schema()
        for name in columns:
            column = schema.columns[name]
            assert column.nullable and not column.checks and not column.unique, (table, name)
            assert name not in (schema.unique or ()), (table, name)
            without = schema.remove_columns([name])
            assert validate_frame(valid[table].drop(name), without, table) == [], (table, name)


@pytest.mark.parametrize("string_type", ["VARCHAR", "STRING"])  # DuckDB's and BigQuery's catalogue names
def test_the_published_signal_is_judged_without_its_drivers(string_type: str) -> None:
    types = {c: "DOUBLE" if t == pl.Float64() else string_type for c, t in TRUST_SIGNAL_SCHEMA.items()}
    read, fills = schema_columns(TrustSignalSchema.to_schema(), types, TYPE_ONLY_COLUMNS[TRUST_SIGNAL]) or ([], {})
    assert read == [c for c in TRUST_SIGNAL_SCHEMA if c != "top_drivers"]
    assert fills == {"top_drivers": pl.String()}


def test_the_whole_rows_are_read_when_the_catalogue_cannot_vouch_for_them() -> None:
    signal = TrustSignalSchema.to_schema()
    types = dict.fromkeys(TRUST_SIGNAL_SCHEMA, "VARCHAR")
    # top_drivers of another type: its type rule must see it.
    assert schema_columns(signal, {**types, "top_drivers": "BIGINT"}, ["top_drivers"]) is None
    # A schema column missing from the table: the whole rows report it.
    assert schema_columns(signal, {c: t for c, t in types.items() if c != "region"}, ["top_drivers"]) is None
    # A strict schema (the feature tables) names every column: nothing to leave out; an unexpected column
    # must be reported.
    features = feature_model("mobile").to_schema()
    exact = dict.fromkeys(features.columns, "DOUBLE")
    assert schema_columns(features, exact) is None
    assert schema_columns(features, {**exact, "extra": "DOUBLE"}) is None


def test_columns_a_non_strict_schema_does_not_name_are_not_read() -> None:
    types = dict.fromkeys(_customer_360_with_unnamed_columns().columns, "VARCHAR")
    read, fills = schema_columns(Customer360Schema.to_schema(), types) or ([], {})
    assert read == list(frames.customer_360().columns) and fills == {}


# --- what the check reads and what it reports ---------------------------------------------------------------------
def test_a_passing_day_reads_only_the_columns_the_rules_read(warehouse: ReadRecordingWarehouse) -> None:
    assert schema_check_violations(warehouse, TRUST_SIGNAL, TrustSignalSchema, DAY, DAY) == []
    assert schema_check_violations(warehouse, CUSTOMER_360, Customer360Schema, DAY, DAY) == []
    assert schema_check_violations(warehouse, "mobile_features", feature_model("mobile"), DAY, DAY) == []
    signal_read, c360_read, features_read = READS
    assert "top_drivers" not in signal_read and "*" not in signal_read and "trust_score" in signal_read
    assert "network_area" not in c360_read and "mobile_start_date" not in c360_read and "*" not in c360_read
    assert features_read.startswith("select * from")  # every column is the rules', read once as before
    for table, model in ((TRUST_SIGNAL, TrustSignalSchema), (CUSTOMER_360, Customer360Schema)):
        assert _whole_rows(warehouse, table, model) == []


@pytest.mark.parametrize(
    ("table", "model", "damage"),
    [
        (TRUST_SIGNAL, TrustSignalSchema, "update analytics.customer_trust_signal set trust_score = 1.5, "
                                          "top_drivers = 'x=9' where customer_id = 'C2' and cohort = 'tv'"),
        (TRUST_SIGNAL, TrustSignalSchema, "update analytics.customer_trust_signal set msisdn = null "
                                          "where cohort = 'mobile' and customer_id = 'C1'"),
        (TRUST_SIGNAL, TrustSignalSchema, "insert into analytics.customer_trust_signal "
                                          "select * from analytics.customer_trust_signal where customer_id = 'C3'"),
        (TRUST_SIGNAL, TrustSignalSchema, "alter table analytics.customer_trust_signal drop column region"),
        (TRUST_SIGNAL, TrustSignalSchema, "alter table analytics.customer_trust_signal drop column top_drivers"),
        (CUSTOMER_360, Customer360Schema, "update analytics.customer_360_definition set region = 'atlantis' "
                                          "where customer_id = 'C2'"),
    ],
)
def test_a_failing_day_reports_what_the_whole_rows_report(
    warehouse: ReadRecordingWarehouse, table: str, model: type[pa.DataFrameModel], damage: str
) -> None:
    _damage(warehouse, damage)
    found = schema_check_violations(warehouse, table, model, DAY, DAY)
    assert found
    assert _summary(found) == _summary(_whole_rows(warehouse, table, model))
    # The examples are whole rows: the columns the narrow read leaves out are in them.
    left_out = {TRUST_SIGNAL: "top_drivers", CUSTOMER_360: "network_area"}[table]
    if "drop column" not in damage:
        assert all(left_out in v.examples.columns for v in found if v.examples.height)


def test_a_missing_table_is_reported_as_before(tmp_path: Path) -> None:
    from asset_checks.reads import MissingTable

    empty = ReadRecordingWarehouse(path=str(tmp_path / "none.duckdb"))
    with pytest.raises(MissingTable):
        schema_check_violations(empty, TRUST_SIGNAL, TrustSignalSchema, DAY, DAY)

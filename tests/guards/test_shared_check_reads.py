"""The checks of a daily table share one read of its window and report exactly what their own reads reported.

The checks of customer_360_definition, of the three feature tables and of customer_trust_signal each run as one
``multi_asset_check`` step (asset_checks/product_checks.py) on :class:`asset_checks.window_reads.WindowReads`:
the schema check's rows give the daily counts, the missing shares, the coverage keys and the versions used;
customer_360_definition's holders are read once for every coverage check. Here every check is evaluated both
ways on a damaged copy of the session warehouse (NULL and infinite features, a missing holder, a duplicate row,
a non-holder's row, a collapsed cohort, a bad score, an unregistered model version), over the damaged day and
over a two-day window, and must give the same violations, example rows, details and severities per day. The
per-check reads are the previous checks' (tests/guards/warehouse_aggregates.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest

from asset_checks import product_checks, rules
from asset_checks.daily_checks import Evaluation, WindowEvaluation, evaluate_days
from asset_checks.reads import feature_table, read_schema_columns, read_window
from asset_checks.schemas import TYPE_ONLY_COLUMNS, Customer360Schema, TrustSignalSchema, feature_model
from asset_checks.violations import describe
from asset_checks.window_reads import WindowReads
from resources.warehouse import DuckDBWarehouse
from tests.guards.warehouse_aggregates import (
    mobile_holders_and_outsider,
    read_coverage_problems,
    read_daily_counts,
    read_missing_shares,
    versions_used,
)
from trust_assets.config import COHORTS, SETTINGS, feature_names
from trust_assets.tables import CUSTOMER_360, TRUST_SIGNAL

ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
COHORT_NAMES = [c.value for c in COHORTS]
STATEMENTS: list[str] = []  # module-level: Dagster-style resources are copied, a list on the instance would not be


class RecordingWarehouse(DuckDBWarehouse):
    def read(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        STATEMENTS.append(sql)
        return super().read(sql, params)


@pytest.fixture(scope="module")
def broken(pipeline_warehouse, tmp_path_factory) -> tuple[Path, date, date]:
    """A copy whose last scored day breaks a rule of every check; the day before it is left as published."""
    path = pipeline_warehouse.copy_to(tmp_path_factory.mktemp("shared_reads"))
    day = pipeline_warehouse.scoring_dates[-1]
    with duckdb.connect(str(path)) as con:
        *ids, outsider = mobile_holders_and_outsider(con, day)
        for sql in (
            # mobile: a holder without a row, a holder with two rows, a non-holder with a row; missing values.
            "delete from analytics.mobile_features where snapshot_date = $day and customer_id = $a",
            "insert into analytics.mobile_features select * from analytics.mobile_features "
            "where snapshot_date = $day and customer_id = $b",
            "insert into analytics.mobile_features select * replace ($outsider as customer_id) "
            "from analytics.mobile_features where snapshot_date = $day and customer_id = $b",
            "update analytics.mobile_features set dropped_call_rate_28d = null "
            "where snapshot_date = $day and hash(customer_id) % 4 <> 0",
            "update analytics.mobile_features set data_gb_28d = 'nan'::double "
            "where snapshot_date = $day and hash(customer_id) % 5 = 0",
            "update analytics.mobile_features set voice_minutes_28d = 'inf'::double "
            "where snapshot_date = $day and hash(customer_id) % 2 = 0",
            # tv: the day collapses (row count, coverage).
            "delete from analytics.tv_features where snapshot_date = $day and hash(customer_id) % 3 <> 0",
            # customer 360: a NULL region and a duplicated customer (schema); the holders keep their flags.
            "update analytics.customer_360_definition set region = null "
            "where snapshot_date = $day and customer_id = $a",
            "insert into analytics.customer_360_definition select * from analytics.customer_360_definition "
            "where snapshot_date = $day and customer_id = $b",
            # the signal: a lost score, a duplicated one, a score out of range, an unregistered model version.
            "delete from analytics.customer_trust_signal where snapshot_date = $day and customer_id = $a",
            "insert into analytics.customer_trust_signal select * from analytics.customer_trust_signal "
            "where snapshot_date = $day and customer_id = $b and cohort = 'mobile'",
            "update analytics.customer_trust_signal set trust_score = 1.5 "
            "where snapshot_date = $day and customer_id = $outsider",
            "update analytics.customer_trust_signal set model_version = 'mobile-unregistered' "
            "where snapshot_date = $day and cohort = 'mobile' and hash(customer_id) % 7 = 0",
        ):
            params = {"day": day, "a": ids[0], "b": ids[1], "outsider": outsider}
            con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    return path, day - timedelta(days=1), day


# --- the checks as they were: one read (or aggregate) per check ----------------------------------------------------
def _per_check_reads(warehouse: DuckDBWarehouse) -> dict[dg.AssetCheckKey, WindowEvaluation]:
    tolerance = SETTINGS.monitoring.row_count_tolerance
    max_drop = SETTINGS.raw_guards.max_published_row_drop
    limit = SETTINGS.monitoring.max_missing_share

    def schema(table: str, model: Any) -> WindowEvaluation:
        def evaluate(start: date, end: date) -> Evaluation:
            narrow = read_schema_columns(warehouse, table, start, end, model.to_schema(),
                                         TYPE_ONLY_COLUMNS.get(table, ()))
            if narrow is not None and not rules.schema_violations(narrow, model, table):
                return [], ERROR
            return rules.schema_violations(read_window(warehouse, table, start, end), model, table), ERROR
        return evaluate

    def row_count(table: str) -> WindowEvaluation:
        def evaluate(start: date, end: date) -> Evaluation:
            counts = read_daily_counts(warehouse, table, start, end)
            found, unusable = rules.row_count_violations(counts, start, end, tolerance, table, max_drop)
            return found, ERROR if unusable else WARN
        return evaluate

    def coverage(table: str, cohorts: list[str], what: str) -> WindowEvaluation:
        def evaluate(start: date, end: date) -> Evaluation:
            problems = read_coverage_problems(warehouse, table, start, end, cohorts)
            return rules.key_count_violations(problems, table, what), ERROR
        return evaluate

    def missing_share(table: str, features: list[str]) -> WindowEvaluation:
        def evaluate(start: date, end: date) -> Evaluation:
            shares = read_missing_shares(warehouse, table, start, end, features)
            return rules.share_violations(shares, features, limit, table), WARN
        return evaluate

    def provenance(start: date, end: date) -> Evaluation:
        return product_checks.provenance_violations(warehouse, versions_used(warehouse, start, end)), ERROR

    key = dg.AssetCheckKey
    out: dict[dg.AssetCheckKey, WindowEvaluation] = {
        key(dg.AssetKey(CUSTOMER_360), "schema"): schema(CUSTOMER_360, Customer360Schema),
        key(dg.AssetKey(CUSTOMER_360), "row_count_stable"): row_count(CUSTOMER_360),
        key(dg.AssetKey(TRUST_SIGNAL), "schema"): schema(TRUST_SIGNAL, TrustSignalSchema),
        key(dg.AssetKey(TRUST_SIGNAL), "scored_once_per_product"): coverage(
            TRUST_SIGNAL, COHORT_NAMES, "every customer holding the product in customer_360_definition"),
        key(dg.AssetKey(TRUST_SIGNAL), "provenance"): provenance,
        key(dg.AssetKey(TRUST_SIGNAL), "row_count_stable"): row_count(TRUST_SIGNAL),
    }
    for c in COHORTS:
        table = feature_table(c)
        out[key(dg.AssetKey(table), "schema")] = schema(table, feature_model(c))
        out[key(dg.AssetKey(table), "covers_customer_360")] = coverage(
            table, [c.value], f"every customer with has_{c.value} in customer_360_definition")
        out[key(dg.AssetKey(table), "missing_share")] = missing_share(table, feature_names(c))
        out[key(dg.AssetKey(table), "row_count_stable")] = row_count(table)
    return out


def _shared_reads(warehouse: DuckDBWarehouse, start: date, end: date) -> dict[dg.AssetCheckKey, WindowEvaluation]:
    """The three steps' checks, each step on reads of its own, as Dagster runs them."""
    checks = {
        **product_checks._table_checks(WindowReads(warehouse, start, end), CUSTOMER_360, Customer360Schema),
        **product_checks._all_feature_checks(WindowReads(warehouse, start, end), COHORT_NAMES),
        **product_checks._trust_signal_checks(WindowReads(warehouse, start, end)),
    }
    return {k: v.evaluate for k, v in checks.items()}


def _reported(evaluate: WindowEvaluation, start: date, end: date) -> dict[date, tuple[str, str, list[Any], list]]:
    """Per day: severity, the check's description, every violation as its metadata shows it and the examples'
    column order."""
    return {
        day: (severity.value, describe(found, "passed"), [v.as_dict() for v in found],
              [v.examples.columns for v in found])
        for day, (found, severity) in evaluate_days(evaluate, start, end).items()
    }


@pytest.mark.parametrize("days", [1, 2], ids=["the broken day", "the day before and the broken day"])
def test_every_check_reports_what_its_own_reads_reported(broken: tuple[Path, date, date], days: int) -> None:
    path, before, day = broken
    warehouse = DuckDBWarehouse(path=str(path))
    start = day - timedelta(days=days - 1)
    per_check = _per_check_reads(warehouse)
    shared = _shared_reads(warehouse, start, day)
    assert set(shared) == set(per_check) == {s.key for c in product_checks.DAILY_CHECKS for s in c.check_specs}
    failed: set[str] = set()
    for key, evaluate in per_check.items():
        expected = _reported(evaluate, start, day)
        assert _reported(shared[key], start, day) == expected, key.to_user_string()
        if expected[day][2]:
            failed.add(key.to_user_string())
        if days == 2:  # the day before keeps passing, on its own
            assert expected[before][2] == [], key.to_user_string()
    assert failed == {
        "customer_360_definition:schema", "mobile_features:schema", "mobile_features:covers_customer_360",
        "mobile_features:missing_share", "tv_features:covers_customer_360", "tv_features:row_count_stable",
        "customer_trust_signal:schema", "customer_trust_signal:scored_once_per_product",
        "customer_trust_signal:provenance",
    }


def test_the_broken_day_reports_its_faults(broken: tuple[Path, date, date]) -> None:
    """What the damage must look like in the shared path's results: the values, not only that something failed."""
    path, _, day = broken
    shared = _shared_reads(DuckDBWarehouse(path=str(path)), day, day)

    def found(table: str, name: str) -> tuple[list, dg.AssetCheckSeverity]:
        return shared[dg.AssetCheckKey(dg.AssetKey(table), name)](day, day)

    coverage, severity = found("mobile_features", "covers_customer_360")
    assert severity == ERROR
    assert [(v.rule, v.failing_rows, v.detail) for v in coverage] == [
        ("every customer with has_mobile in customer_360_definition has a row", 1, "mobile: 1"),
        # The holder's duplicate and the non-holder's two rows (copied from the duplicated holder).
        ("exactly one row per snapshot_date, cohort and customer_id", 2, "mobile: 2"),
        ("only customer with has_mobile in customer_360_definition", 1, "mobile: 1"),
    ]
    shares, severity = found("mobile_features", "missing_share")
    assert severity == WARN
    assert {v.column for v in shares} == {"dropped_call_rate_28d", "voice_minutes_28d"}
    assert all(float(v.examples["missing_share"][0]) > SETTINGS.monitoring.max_missing_share for v in shares)
    counts, severity = found("tv_features", "row_count_stable")
    assert severity == ERROR and counts[0].examples["change"][0] < -0.6
    scored, _ = found(TRUST_SIGNAL, "scored_once_per_product")
    assert [(v.failing_rows, v.detail) for v in scored] == [(1, "mobile: 1"), (1, "mobile: 1")]
    provenance, _ = found(TRUST_SIGNAL, "provenance")
    assert [v.column for v in provenance] == ["model_version"]
    assert provenance[0].examples["model_version"].to_list() == ["mobile-unregistered"]


def test_each_table_window_is_read_once_per_step(broken: tuple[Path, date, date]) -> None:
    """On a passing window (the day before), the statements each step sends, by table: the checks' own rows,
    customer_360_definition's holders once for every coverage check, the day before the window for the counts."""
    path, before, _ = broken
    warehouse = RecordingWarehouse(path=str(path))

    def statements(checks: Mapping[dg.AssetCheckKey, Any]) -> dict[str, int]:
        STATEMENTS.clear()
        for check in checks.values():
            assert evaluate_days(check.evaluate, before, before)[before][0] == []
        tables = [CUSTOMER_360, TRUST_SIGNAL, "model_registry", "hierarchical_reference_stats", "ruler_issues",
                  *(feature_table(c) for c in COHORTS)]
        return {t: n for t in tables if (n := sum(bool(re.search(rf"\{{analytics\}}\.{t}\b", s)) for s in STATEMENTS))}

    reads = WindowReads(warehouse, before, before)
    assert statements(product_checks._table_checks(reads, CUSTOMER_360, Customer360Schema)) == {CUSTOMER_360: 2}
    reads = WindowReads(warehouse, before, before)
    # Before: 4 statements on each feature table (schema, missing shares, two days' counts, coverage keys) and
    # 3 on customer 360 (each coverage check's holders).
    assert statements(product_checks._all_feature_checks(reads, COHORT_NAMES)) == {
        CUSTOMER_360: 1, "mobile_features": 2, "tv_features": 2, "broadband_features": 2,
    }
    reads = WindowReads(warehouse, before, before)
    assert statements(product_checks._trust_signal_checks(reads)) == {
        TRUST_SIGNAL: 2, CUSTOMER_360: 1, "model_registry": 1, "hierarchical_reference_stats": 1, "ruler_issues": 1,
    }
    # The signal's rows are read without the drivers, and the holders name only the keys and the flags.
    (signal,) = (s for s in STATEMENTS if f"{{analytics}}.{TRUST_SIGNAL} " in s and "count(*)" not in s)
    assert "top_drivers" not in signal and "model_version" in signal
    (holders,) = (s for s in STATEMENTS if f"{{analytics}}.{CUSTOMER_360} " in s)
    assert holders.startswith("select snapshot_date, customer_id, has_mobile, has_tv, has_broadband from")


def test_a_failed_blocking_check_in_a_shared_step_still_blocks_downstream(
    broken: tuple[Path, date, date], tmp_path: Path
) -> None:
    """The feature tables' checks run as one step: failed coverage checks hold customer_trust_signal back, and
    every check of the step records its own result for the day, with the description its own read gave."""
    from trust_assets.definitions import defs

    source, _, day = broken
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(source, path)
    feature_checks = {s.key for s in product_checks.cohort_feature_checks.check_specs}
    result = dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        selection=dg.AssetSelection.checks(*feature_checks) | dg.AssetSelection.assets(TRUST_SIGNAL).without_checks(),
        resources={**(defs.resources or {}), "warehouse": DuckDBWarehouse(path=str(path))},
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=day.isoformat(),
        raise_on_error=False,
    )
    assert not result.success
    assert [e.step_key for e in result.get_step_failure_events()] == ["cohort_feature_checks"]
    assert not [e for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]
    evaluations = {
        dg.AssetCheckKey(e.event_specific_data.asset_key, e.event_specific_data.check_name): e.event_specific_data
        for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert set(evaluations) == feature_checks
    failed = {k.to_user_string(): e.severity.value for k, e in evaluations.items() if not e.passed}
    assert failed == {
        "mobile_features:schema": "ERROR", "mobile_features:covers_customer_360": "ERROR",
        "mobile_features:missing_share": "WARN", "tv_features:covers_customer_360": "ERROR",
        "tv_features:row_count_stable": "ERROR",
    }
    expected = _per_check_reads(DuckDBWarehouse(path=str(path)))
    for key, evaluation in evaluations.items():
        found, _ = expected[key](day, day)
        assert evaluation.partition == day.isoformat()
        assert evaluation.blocking == (key.name != "missing_share")
        if found:
            assert evaluation.description == describe(found, ""), key.to_user_string()
        else:
            assert evaluation.passed and day.isoformat() in (evaluation.description or ""), key.to_user_string()


def test_the_pre_write_guard_judges_coverage_on_the_scoring_read_of_customer_360(
    broken: tuple[Path, date, date], tmp_path: Path
) -> None:
    """The scoring reads customer 360 once per chunk, with the product flags, and hands the rows to the guard;
    the guard finds what its own read of the holders found, on the broken day's signal (a lost score, a
    duplicated one), and publish_scores sends a single statement to customer 360 per chunk."""
    from asset_checks.trust_signal_guard import trust_signal_violations
    from trust_assets.services.publishing import publish_scores, read_customer_360

    source, _, day = broken
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(source, path)  # the day before is re-published below
    warehouse = RecordingWarehouse(path=str(path))
    frame = read_window(warehouse, TRUST_SIGNAL, day, day)
    own = trust_signal_violations(frame, warehouse=warehouse, start=day, end=day)
    shared = trust_signal_violations(
        frame, warehouse=warehouse, start=day, end=day, customer_360=read_customer_360(warehouse, day, day)
    )
    assert [v.as_dict() for v in shared] == [v.as_dict() for v in own]
    coverage = [v for v in own if v.column == "customer_id"]
    assert [(v.failing_rows, v.detail) for v in coverage] == [(1, "mobile: 1"), (1, "mobile: 1")]

    STATEMENTS.clear()
    good_day = day - timedelta(days=1)
    published = publish_scores(warehouse, good_day, good_day)
    assert published.rows == read_window(warehouse, TRUST_SIGNAL, good_day, good_day).height > 0
    assert sum(bool(re.search(rf"\{{analytics\}}\.{CUSTOMER_360}\b", s)) for s in STATEMENTS) == 1

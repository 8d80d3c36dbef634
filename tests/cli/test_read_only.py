"""The read-only commands: same answers as the code location's warehouse resource, without importing it; tables
that fit 120 columns and show every column; the summary's default range."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import duckdb
import polars as pl
import pytest

from resources.read_only import ReadOnlyDuckDB, bind_literals, sql_literal
from resources.warehouse import DuckDBWarehouse
from tests.cli.conftest import ROOT
from trust_assets.cli_commands.common import CommandError
from trust_assets.cli_commands.summary import resolve_range

PRODUCT_TABLES = ("customer_360_definition", "mobile_features", "tv_features", "broadband_features",
                  "hierarchical_reference_stats", "trust_model_weights", "model_registry", "customer_trust_signal",
                  "model_audit_trail")
READ_COMMANDS = {
    "summary": ["summary"],
    "explain": ["explain", "--customer", "{mobile}", "--cohort", "mobile", "--date", "2026-02-28"],
    "attribute": ["attribute", "--customer", "{mobile}", "--cohort", "mobile", "--from", "2026-02-22", "--to",
                  "2026-02-28"],
    "models list": ["models", "list"],
    "models audit": ["models", "audit"],
}


@pytest.fixture(scope="module")
def mobile_customer(pipeline_warehouse) -> str:
    from tests.support import query

    return query(pipeline_warehouse.duckdb_path,
                 "select min(customer_id) as c from analytics.customer_trust_signal where cohort = 'mobile' "
                 "and snapshot_date = '2026-02-22' and customer_id in (select customer_id from "
                 "analytics.customer_trust_signal where cohort = 'mobile' and snapshot_date = '2026-02-28')")["c"][0]


@pytest.mark.parametrize("table", PRODUCT_TABLES)
def test_reader_frames_equal_the_resource_frames(pipeline_warehouse, table: str) -> None:
    path = str(pipeline_warehouse.duckdb_path)
    sql = f"select * from {{analytics}}.{table} where $on order by all limit 5000"
    reader, resource = ReadOnlyDuckDB(path=path), DuckDBWarehouse(path=path)
    expected = resource.read(sql, {"on": True})
    expected_types = resource.column_types(table)
    # One process may not hold a read-only and a read-write connection to one file at once: read-write first.
    with reader.held_open():
        got = reader.read(sql, {"on": True})
        got_types = reader.column_types(table)
        assert reader.columns(table) == list(expected_types)
        assert reader.table_exists(table) and not reader.table_exists(table + "_nope")
    assert got_types == expected_types
    assert got.schema == expected.schema
    assert got.equals(expected)


@pytest.mark.parametrize("value", [
    "C0000001", "O'Brien", "'; drop table x; --", "back\\slash", "ünïcødé ✓", "", "$name",
    0, -7, 2**31, -(2**62), 0.1, -1e-300, 1.0 / 3.0, float("inf"), True, False, None,
    date(2026, 2, 28), datetime(2026, 2, 28, 7, 30, 1, 123456), datetime(2026, 2, 28, 7, 30, tzinfo=UTC),
])
def test_a_literal_binds_like_a_parameter(value: object) -> None:
    """Each literal is the very value, of the very type, that DuckDB's parameter binding gives."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        expected = con.execute("select $v as v, typeof($v) as t", {"v": value}).fetchall()
        got = con.execute(bind_literals("select $v as v, typeof($v) as t", {"v": value})).fetchall()
    finally:
        con.close()
    assert got == expected, (sql_literal(value), got, expected)


def test_a_parameter_without_a_value_is_an_error() -> None:
    with pytest.raises(KeyError, match=r"\$day"):
        bind_literals("select $day", {"d": date(2026, 2, 28)})


@pytest.mark.parametrize("command", list(READ_COMMANDS))
def test_read_only_commands_do_not_import_the_code_location(command, pipeline_warehouse, mobile_customer) -> None:
    """What keeps them fast, asserted without a clock (benchmarks/cli_startup.py measures the time)."""
    args = [a.format(mobile=mobile_customer) for a in READ_COMMANDS[command]]
    probe = (
        "import contextlib, io, json, sys\n"
        "from trust_assets.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({args!r})\n"
        "heavy = ['dagster', 'dagster_dbt', 'dbt', 'sklearn', 'scipy', 'pandas', 'pyarrow', 'sqlglot',\n"
        "         'trust_assets.definitions', 'resources.warehouse']\n"
        "print(json.dumps({'code': code, 'loaded': [m for m in heavy if m in sys.modules]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **pipeline_warehouse.env}, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "loaded": []}


@pytest.mark.parametrize("command", list(READ_COMMANDS))
def test_tables_fit_120_columns_without_warnings(command, trust, mobile_customer) -> None:
    ran = trust(*[a.format(mobile=mobile_customer) for a in READ_COMMANDS[command]])
    assert ran.returncode == 0, ran.output
    assert ran.stderr == "", "no warnings, no log lines"
    if command in ("summary", "models list", "models audit"):
        assert max(len(line) for line in ran.stdout.splitlines()) <= 120
        assert "shape:" not in ran.stdout and "…  " not in ran.stdout.splitlines()[0]


def test_summary_defaults_to_the_latest_7_scored_days_and_shows_the_quantiles(trust) -> None:
    ran = trust("summary")
    assert ran.returncode == 0, ran.output
    lines = ran.stdout.splitlines()
    assert lines[0] == "Summary of the latest 7 scored days (choose others with --start and --end)."
    assert lines[1] == "customer_trust_signal 2026-02-22 .. 2026-02-28"
    header = lines[2].split()
    assert header[:7] == ["cohort", "rows", "days", "mean_score", "p10", "p50", "p90"]
    rows = {line.split()[0]: line.split() for line in lines[4:7]}
    assert set(rows) == {"mobile", "tv", "broadband"}
    for cells in rows.values():
        assert cells[2] == "7"
        p10, p50, p90 = (float(c) for c in cells[4:7])
        assert -1 < p10 <= p50 <= p90 < 1
    explicit = trust("summary", "--start", "2026-02-22", "--end", "2026-02-28")
    assert explicit.stdout.splitlines() == lines[1:], "a range given is not announced; the table is the same"


def test_demo_summary_fits_120_columns(pipeline_warehouse) -> None:
    from trust_assets.summary import render_summary

    text = render_summary(DuckDBWarehouse(path=str(pipeline_warehouse.duckdb_path)),
                          pipeline_warehouse.scoring_dates[0], pipeline_warehouse.end_date)
    assert max(len(line) for line in text.splitlines()) <= 120
    assert all(name in text.splitlines()[1].split() for name in ("p10", "p50", "p90"))


SCORED = [date(2026, 2, d) for d in range(15, 29)]


@pytest.mark.parametrize(("start", "end", "expected", "note"), [
    (None, None, (date(2026, 2, 22), date(2026, 2, 28)), "the latest 7 scored days"),
    (None, date(2026, 2, 20), (date(2026, 2, 15), date(2026, 2, 20)), "the latest 6 scored days up to 2026-02-20"),
    (date(2026, 2, 27), None, (date(2026, 2, 27), date(2026, 2, 28)), None),
    (date(2026, 2, 1), date(2026, 2, 16), (date(2026, 2, 1), date(2026, 2, 16)), None),
])
def test_summary_range(start, end, expected, note) -> None:
    chosen = resolve_range(SCORED, start, end)
    assert (chosen.start, chosen.end) == expected
    assert (chosen.note or "").startswith(note or "")
    assert (chosen.note is None) == (note is None)


@pytest.mark.parametrize(("scored", "start", "end", "says"), [
    (SCORED, date(2026, 2, 20), date(2026, 2, 19), "reversed"),
    (SCORED, date(2026, 3, 1), None, "after the latest scored day 2026-02-28"),
    (SCORED, date(2026, 1, 1), date(2026, 1, 31), "no scores for 2026-01-01 .. 2026-01-31"),
    (SCORED, None, date(2026, 2, 1), "no scores for up to 2026-02-01"),
    ([], None, None, "holds no scores yet"),
])
def test_summary_range_refusals(scored, start, end, says) -> None:
    with pytest.raises(CommandError, match=says):
        resolve_range(scored, start, end)


def test_a_table_shows_every_column_within_its_width() -> None:
    from trust_assets.cli_commands.common import render_table

    frame = pl.DataFrame({"cohort": ["mobile"], "n": [1234567], "p10": [-0.5], "actor": ["x" * 300],
                          "p90": [0.75]})
    lines = render_table(frame, width=60, squeeze=("actor",)).splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert lines[0].split() == ["cohort", "n", "p10", "actor", "p90"]
    assert lines[2].split()[:3] == ["mobile", "1,234,567", "-0.500"] and lines[2].endswith("0.750")
    assert "…" in lines[2]

"""The synthetic telco generator: contract, determinism, ground truth and scenario isolation.

Small real warehouses (3,000 customers, history 2024-08-01 .. 2026-02-28) are generated once per module and
compared with DuckDB: no mocks.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from scipy import stats

from source_contract.raw_tables import (
    BROADBAND_TIERS,
    MOBILE_PLAN_TYPES,
    RAW_TABLES,
    RAW_TABLES_BY_NAME,
    TV_PACKAGES,
)
from synthetic_telco import generate as generate_module
from synthetic_telco.generate import GenerationReport, generate_telco
from synthetic_telco.population import AREAS_PER_REGION
from synthetic_telco.scenarios import PriceRise, RegionalOutage, SchemaChange
from synthetic_telco.truth import TRUTH_DDL
from trust_assets.config import SETTINGS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
END = date(2026, 2, 28)
CUSTOMERS = 3_000
SEED = 42
OUTAGE = RegionalOutage("north", "mobile", date(2025, 10, 6), days=3, minutes_per_day=600)
PRICE_RISE = PriceRise("broadband", date(2025, 10, 1), 0.08)
SCHEMA_CHANGES = (
    SchemaChange("bills", "rename", "amount", new_name="bill_amount"),
    SchemaChange("care_contacts", "retype", "is_complaint", new_type="VARCHAR"),
    SchemaChange("fault_tickets", "drop", "resolved_ts"),
)
TRUTH_TABLES = tuple(f"truth.{name}" for name in TRUTH_DDL)


def _generate(tmp: Path, name: str, **kwargs: object) -> tuple[Path, GenerationReport]:
    path = tmp / f"{name}.duckdb"
    params: dict = {"customers": CUSTOMERS, "seed": SEED, "end_date": END, "progress": False, **kwargs}
    return path, generate_telco(path, **params)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, GenerationReport]]:
    tmp = tmp_path_factory.mktemp("telco")
    out = {
        "base": _generate(tmp, "base"),
        "other_seed": _generate(tmp, "other_seed", seed=SEED + 1),
        "outage": _generate(tmp, "outage", scenarios=[OUTAGE]),
        "price": _generate(tmp, "price", scenarios=[PRICE_RISE]),
        "schema": _generate(tmp, "schema", scenarios=SCHEMA_CHANGES),
    }
    # Same seed again, but in smaller chunks spread over two worker processes: the output must not move.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(generate_module, "CHUNK_CUSTOMERS", 1_000)
        out["rerun"] = _generate(tmp, "rerun", workers=2)
    return out


@pytest.fixture(scope="module")
def con(runs: dict[str, tuple[Path, GenerationReport]]) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    for name, (path, _) in runs.items():
        c.execute(f"ATTACH '{path}' AS {name} (READ_ONLY)")
    yield c
    c.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def _fingerprint(con: duckdb.DuckDBPyConnection, db: str, table: str) -> tuple:
    qualified = table if "." in table else f"raw.{table}"
    return con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {db}.{qualified} t").fetchone()


def _differences(con: duckdb.DuckDBPyConnection, a: str, b: str, table: str, where: str = "TRUE",
                 columns: str | None = None) -> tuple[int, int]:
    """Rows only in a, rows only in b (multiset difference) of a filtered table."""
    cols = columns or ", ".join(RAW_TABLES_BY_NAME[table].column_names)
    only_a = _one(con, f"SELECT count(*) FROM (SELECT {cols} FROM {a}.raw.{table} WHERE {where} "
                       f"EXCEPT ALL SELECT {cols} FROM {b}.raw.{table} WHERE {where})")
    only_b = _one(con, f"SELECT count(*) FROM (SELECT {cols} FROM {b}.raw.{table} WHERE {where} "
                       f"EXCEPT ALL SELECT {cols} FROM {a}.raw.{table} WHERE {where})")
    return int(only_a), int(only_b)


# ---------------------------------------------------------------------------------------------------------
# Run time, determinism, contract


def test_a_run_reports_what_it_generated(runs: dict[str, tuple[Path, GenerationReport]]) -> None:
    # The generator's speed is measured by benchmarks/generator_scale.py, not asserted here.
    report = runs["base"][1]
    assert report.rows["customers"] == CUSTOMERS
    assert report.params["end_date"] == END.isoformat()
    assert "mobile_usage_weekly" in report.as_table()


def test_same_seed_gives_identical_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in [t.name for t in RAW_TABLES] + list(TRUTH_TABLES):
        assert _fingerprint(con, "base", table) == _fingerprint(con, "rerun", table), table
    for table in RAW_TABLES:
        assert _differences(con, "base", "rerun", table.name) == (0, 0), table.name


def test_different_seed_gives_different_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in [t.name for t in RAW_TABLES] + ["truth.latent_experience"]:
        assert _fingerprint(con, "base", table) != _fingerprint(con, "other_seed", table), table


def test_raw_tables_follow_the_source_contract(con: duckdb.DuckDBPyConnection) -> None:
    tables = con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'base' "
                         "AND table_schema = 'raw'")
    assert sorted(r[0] for r in tables.fetchall()) == sorted(t.name for t in RAW_TABLES)
    for table in RAW_TABLES:
        got = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'base' "
            "AND table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position", [table.name]).fetchall()
        assert got == [(c.name, c.type) for c in table.columns], table.name
        assert _one(con, f"SELECT count(*) FROM base.raw.{table.name}") > 0, table.name
        grain = ", ".join(table.grain)
        assert _one(con, f"SELECT count(*) - count(DISTINCT ({grain})) FROM base.raw.{table.name}") == 0, table.name
        for column in table.columns:
            if not column.nullable:
                nulls = _one(con, f"SELECT count(*) FROM base.raw.{table.name} WHERE {column.name} IS NULL")
                assert nulls == 0, f"{table.name}.{column.name}"


def test_everything_happens_inside_the_history(con: duckdb.DuckDBPyConnection) -> None:
    end = f"DATE '{END}'"
    start = f"DATE '{SETTINGS.history_start}'"
    for table, column in (("mobile_usage_weekly", "week_ending"), ("tv_viewing_weekly", "week_ending"),
                          ("broadband_usage_weekly", "week_ending"), ("bills", "bill_date"),
                          ("payments", "paid_date"), ("care_contacts", "contact_ts"),
                          ("fault_tickets", "opened_ts"), ("fault_tickets", "resolved_ts"),
                          ("network_outages", "start_ts"), ("contract_events", "event_date")):
        lo, hi = con.execute(f"SELECT min({column})::DATE, max({column})::DATE FROM base.raw.{table}").fetchone()
        assert hi <= END, (table, column)
        if table != "contract_events":  # recontracts before the history are kept as context
            assert lo >= SETTINGS.history_start, (table, column)
    for table in ("mobile_usage_weekly", "tv_viewing_weekly", "broadband_usage_weekly"):
        assert _one(con, f"SELECT count(*) FROM base.raw.{table} WHERE isodow(week_ending) <> 7") == 0
    # Rows land after their business date and before the 06:00 run of the day after the end date.
    late = _one(con, f"SELECT count(*) FROM base.raw.bills WHERE loaded_at <= bill_date "
                     f"OR loaded_at > {end} + INTERVAL 30 HOUR")
    assert late == 0
    assert _one(con, f"SELECT min(week_ending) FROM base.raw.mobile_usage_weekly WHERE week_ending >= {start}")


def test_population_shape(con: duckdb.DuckDBPyConnection) -> None:
    holdings = con.execute("""
        SELECT avg((m.customer_id IS NOT NULL)::INT), avg((b.customer_id IS NOT NULL)::INT),
               avg((t.customer_id IS NOT NULL)::INT),
               sum((t.customer_id IS NOT NULL AND b.customer_id IS NOT NULL)::INT)
                 / sum((t.customer_id IS NOT NULL)::INT),
               sum((m.customer_id IS NULL AND b.customer_id IS NULL AND t.customer_id IS NULL)::INT)
        FROM base.raw.customers c
        LEFT JOIN base.raw.mobile_subscriptions m USING (customer_id)
        LEFT JOIN (SELECT * FROM base.raw.fixed_subscriptions WHERE product = 'broadband') b USING (customer_id)
        LEFT JOIN (SELECT * FROM base.raw.fixed_subscriptions WHERE product = 'tv') t USING (customer_id)
    """).fetchone()
    mobile, broadband, tv, tv_with_broadband, none = holdings
    assert abs(mobile - 0.70) < 0.03 and abs(broadband - 0.50) < 0.03 and abs(tv - 0.30) < 0.03
    assert tv_with_broadband > 0.85
    assert none == 0

    segments = dict(con.execute("SELECT plan_type, count(*) FROM base.raw.mobile_subscriptions GROUP BY 1").fetchall())
    segments |= dict(con.execute("SELECT package, count(*) FROM base.raw.fixed_subscriptions GROUP BY 1").fetchall())
    for name in (*MOBILE_PLAN_TYPES, *TV_PACKAGES, *BROADBAND_TIERS):
        assert segments.get(name, 0) >= 100, name  # >= several hundred at the 20k demo size

    # Prepaid has no contract; every contract runs 12, 18 or 24 months.
    assert _one(con, "SELECT count(*) FROM base.raw.mobile_subscriptions "
                     "WHERE (plan_type = 'prepaid') <> (contract_end_date IS NULL)") == 0
    terms = con.execute("""
        SELECT DISTINCT date_diff('month', start_date, contract_end_date) FROM (
            SELECT start_date, contract_end_date FROM base.raw.mobile_subscriptions WHERE contract_end_date IS NOT NULL
            UNION ALL SELECT start_date, contract_end_date FROM base.raw.fixed_subscriptions)
    """).fetchall()
    assert {t[0] for t in terms} <= {12, 18, 24}

    # One line per mobile customer; one fixed account per customer, shared by TV and broadband.
    assert _one(con, "SELECT count(*) - count(DISTINCT customer_id) FROM base.raw.mobile_subscriptions") == 0
    assert _one(con, "SELECT max(n) FROM (SELECT count(DISTINCT icoms_account_uid) n "
                     "FROM base.raw.fixed_subscriptions GROUP BY customer_id)") == 1

    first, last, joiners = con.execute(f"""
        SELECT min(signup_date), max(signup_date), avg((signup_date >= DATE '{SETTINGS.history_start}')::INT)
        FROM base.raw.customers""").fetchone()
    assert first < date(2017, 1, 1) and last <= END and 0.1 < joiners < 0.35


def test_churned_products_stop_producing_rows(con: duckdb.DuckDBPyConnection) -> None:
    assert _one(con, """
        SELECT count(*) FROM base.raw.mobile_usage_weekly u JOIN base.raw.mobile_subscriptions s USING (msisdn)
        WHERE u.week_ending - 6 >= s.end_date OR u.week_ending < s.start_date""") == 0
    for product, table in (("tv", "tv_viewing_weekly"), ("broadband", "broadband_usage_weekly")):
        assert _one(con, f"""
            SELECT count(*) FROM base.raw.{table} u JOIN base.raw.fixed_subscriptions s
              ON s.icoms_account_uid = u.icoms_account_uid AND s.product = '{product}'
            WHERE u.week_ending - 6 >= s.end_date""") == 0
    assert _one(con, """
        SELECT count(*) FROM base.raw.bills b JOIN (
            SELECT customer_id, 'mobile' AS product, start_date, end_date FROM base.raw.mobile_subscriptions
            UNION ALL SELECT customer_id, product, start_date, end_date FROM base.raw.fixed_subscriptions) s
          USING (customer_id, product)
        WHERE b.bill_date >= s.end_date OR b.bill_date < s.start_date""") == 0
    # Every ended subscription has exactly one termination event on its end date, and vice versa.
    assert _one(con, """
        SELECT count(*) FROM (
            SELECT customer_id, 'mobile' AS product, end_date FROM base.raw.mobile_subscriptions
              WHERE end_date IS NOT NULL
            UNION ALL SELECT customer_id, product, end_date FROM base.raw.fixed_subscriptions
              WHERE end_date IS NOT NULL) s
        FULL JOIN (SELECT customer_id, product, event_date FROM base.raw.contract_events
                   WHERE event_type = 'termination') e
          ON e.customer_id = s.customer_id AND e.product = s.product AND e.event_date = s.end_date
        WHERE e.customer_id IS NULL OR s.customer_id IS NULL""") == 0


# ---------------------------------------------------------------------------------------------------------
# The ground truth drives the observables


def test_churners_had_lower_latent_experience(con: duckdb.DuckDBPyConnection) -> None:
    churners = con.execute("""
        WITH t AS (SELECT customer_id, product, event_date FROM base.raw.contract_events
                   WHERE event_type = 'termination' AND event_date BETWEEN DATE '2025-08-01' AND DATE '2026-01-31')
        SELECT avg(l.experience) FROM t JOIN base.truth.latent_experience l
          ON l.customer_id = t.customer_id AND l.week_ending BETWEEN t.event_date - 56 AND t.event_date - 1
        GROUP BY t.customer_id, t.product""").fetchnumpy()
    stayers = con.execute("""
        WITH s AS (SELECT customer_id FROM base.truth.customer_outcomes GROUP BY customer_id
                   HAVING bool_and(churn_date IS NULL) AND min(start_date) < DATE '2025-08-01')
        SELECT avg(l.experience) FROM s JOIN base.truth.latent_experience l USING (customer_id)
        WHERE l.week_ending BETWEEN DATE '2025-08-01' AND DATE '2026-01-31' GROUP BY customer_id""").fetchnumpy()
    churn_x = next(iter(churners.values()))
    stay_x = next(iter(stayers.values()))
    assert len(churn_x) > 150 and len(stay_x) > 1000
    assert churn_x.mean() < stay_x.mean() - 0.3
    assert stats.mannwhitneyu(churn_x, stay_x, alternative="less").pvalue < 1e-6


def test_complaints_and_usage_track_latent_experience(con: duckdb.DuckDBPyConnection) -> None:
    per_customer = con.execute("""
        WITH x AS (SELECT customer_id, avg(experience) AS x FROM base.truth.latent_experience
                   WHERE week_ending BETWEEN DATE '2025-08-01' AND DATE '2026-01-31' GROUP BY customer_id),
        c AS (SELECT customer_id, count(*) FILTER (WHERE is_complaint) AS complaints FROM base.raw.care_contacts
              WHERE contact_ts BETWEEN DATE '2025-08-01' AND DATE '2026-02-01' GROUP BY customer_id)
        SELECT x.x, coalesce(c.complaints, 0) AS complaints FROM x LEFT JOIN c USING (customer_id)""").fetchnumpy()
    with_complaint = per_customer["x"][per_customer["complaints"] > 0]
    without = per_customer["x"][per_customer["complaints"] == 0]
    assert stats.mannwhitneyu(with_complaint, without, alternative="less").pvalue < 1e-6

    weekly = con.execute("""
        SELECT l.experience, ln(1 + u.data_mb) AS data FROM base.raw.mobile_usage_weekly u
        JOIN base.raw.mobile_subscriptions s USING (msisdn)
        JOIN base.truth.latent_experience l ON l.customer_id = s.customer_id AND l.week_ending = u.week_ending
    """).fetchnumpy()
    rho, p = stats.spearmanr(weekly["experience"], weekly["data"])
    assert 0.15 < rho < 0.8 and p < 1e-6  # clear but noisy


# ---------------------------------------------------------------------------------------------------------
# Scenarios change what they claim and nothing else

AFFECTED = ("(SELECT customer_id FROM base.raw.customers JOIN base.raw.mobile_subscriptions USING (customer_id) "
            "WHERE region = 'north')")
AFFECTED_LINES = (f"(SELECT msisdn FROM base.raw.mobile_subscriptions WHERE customer_id IN {AFFECTED} UNION ALL "
                  f"SELECT icoms_account_uid FROM base.raw.fixed_subscriptions WHERE customer_id IN {AFFECTED})")


def test_outage_changes_only_the_affected_customers(con: duckdb.DuckDBPyConnection) -> None:
    start = f"DATE '{OUTAGE.start_date}'"
    week_start = f"({start} - (isodow({start}) - 1)::INT)"
    for table in RAW_TABLES:
        if table.name == "network_outages":
            continue
        key = "customer_id" if "customer_id" in table.column_names else table.columns[0].name
        scope = AFFECTED if key == "customer_id" else AFFECTED_LINES
        assert _differences(con, "base", "outage", table.name, f"{key} NOT IN {scope}") == (0, 0), table.name
    # Rows of the affected customers from before the outage week are untouched too.
    for table, column in (("mobile_usage_weekly", "week_ending - 6"), ("tv_viewing_weekly", "week_ending - 6"),
                          ("bills", "bill_date"), ("care_contacts", "contact_ts"), ("fault_tickets", "opened_ts")):
        assert _differences(con, "base", "outage", table, f"{column} < {week_start}") == (0, 0), table
    for truth in ("latent_experience",):
        only_base = _one(con, f"""SELECT count(*) FROM (
            SELECT * FROM base.truth.{truth} WHERE customer_id NOT IN {AFFECTED} OR week_ending < {week_start}
            EXCEPT ALL SELECT * FROM outage.truth.{truth})""")
        assert only_base == 0

    # The outage itself: exactly the claimed rows are added.
    added = con.execute("""
        SELECT region, product, start_ts::DATE, duration_minutes FROM outage.raw.network_outages
        EXCEPT ALL SELECT region, product, start_ts::DATE, duration_minutes FROM base.raw.network_outages
        ORDER BY 3""").fetchall()
    assert [(r[0], r[1], r[3]) for r in added] == [("north", "mobile", 600.0)] * OUTAGE.days
    assert [r[2] for r in added] == [date(2025, 10, 6), date(2025, 10, 7), date(2025, 10, 8)]
    assert _differences(con, "base", "outage", "network_outages") == (0, OUTAGE.days)

    # Its effects: tickets and contacts on the outage days, lower experience and usage after it.
    def count(db: str, table: str, column: str) -> int:
        return int(_one(con, f"""SELECT count(*) FROM {db}.raw.{table} WHERE customer_id IN {AFFECTED}
            AND product = 'mobile' AND {column}::DATE BETWEEN {start} AND {start} + {OUTAGE.days - 1}"""))

    assert count("outage", "fault_tickets", "opened_ts") >= 5 * count("base", "fault_tickets", "opened_ts") + 20
    assert count("outage", "care_contacts", "contact_ts") >= 3 * count("base", "care_contacts", "contact_ts") + 20

    def mean_after(db: str, sql: str) -> float:
        return float(_one(con, sql.format(db=db)))

    data_sql = (f"SELECT avg(data_mb) FROM {{db}}.raw.mobile_usage_weekly WHERE msisdn IN {AFFECTED_LINES} "
                f"AND week_ending BETWEEN {start} + 7 AND {start} + 35")
    assert mean_after("outage", data_sql) < 0.9 * mean_after("base", data_sql)
    x_sql = (f"SELECT avg(experience) FROM {{db}}.truth.latent_experience WHERE customer_id IN {AFFECTED} "
             f"AND week_ending BETWEEN {start} + 7 AND {start} + 35")
    assert mean_after("outage", x_sql) < mean_after("base", x_sql) - 0.3


def test_price_rise_changes_only_that_products_prices(con: duckdb.DuckDBPyConnection) -> None:
    d = f"DATE '{PRICE_RISE.effective_date}'"
    factor = 1 + PRICE_RISE.pct
    untouched = ["customers", "mobile_subscriptions", "mobile_usage_weekly", "tv_viewing_weekly",
                 "broadband_usage_weekly", "care_contacts", "fault_tickets", "network_outages"]
    for table in untouched:
        assert _fingerprint(con, "base", table) == _fingerprint(con, "price", table), table
    assert _fingerprint(con, "base", "truth.latent_experience") == _fingerprint(con, "price", "truth.latent_experience")

    scope = f"NOT (product = 'broadband' AND {{c}} >= {d})"
    assert _differences(con, "base", "price", "bills", scope.format(c="bill_date")) == (0, 0)
    assert _differences(con, "base", "price", "contract_events", scope.format(c="event_date")) == (0, 0)
    assert _differences(con, "base", "price", "fixed_subscriptions", scope.format(c="start_date")) == (0, 0)
    pay_cols = "payment_id, bill_id, customer_id, paid_date, loaded_at"
    assert _differences(con, "base", "price", "payments", columns=pay_cols) == (0, 0)

    # Bills of broadband from the date on: the same bills, raised by pct (to the cent).
    n, worst = con.execute(f"""
        SELECT count(*), max(abs(p.amount - round(b.amount * {factor}, 2)))
        FROM base.raw.bills b JOIN price.raw.bills p USING (bill_id, customer_id, product, bill_date, due_date)
        WHERE b.product = 'broadband' AND b.bill_date >= {d}""").fetchone()
    assert n > 1000 and worst <= 0.011
    assert _one(con, f"SELECT count(*) FROM price.raw.bills WHERE product = 'broadband' AND bill_date >= {d}") == n
    assert _one(con, """SELECT max(abs(p.amount - b.amount)) FROM base.raw.payments p0
        JOIN price.raw.payments p USING (payment_id) JOIN price.raw.bills b ON b.bill_id = p.bill_id""") == 0

    # One price_change event for every broadband subscription active on the date, at the raised fee.
    active = _one(con, f"""SELECT count(*) FROM base.raw.fixed_subscriptions WHERE product = 'broadband'
        AND start_date <= {d} AND (end_date IS NULL OR end_date > {d})""")
    added = con.execute("""
        SELECT count(*), count(DISTINCT customer_id), min(event_type), max(event_type), min(event_date),
               max(event_date)
        FROM (SELECT * EXCLUDE (loaded_at) FROM price.raw.contract_events WHERE event_type = 'price_change'
              EXCEPT ALL SELECT * EXCLUDE (loaded_at) FROM base.raw.contract_events)""").fetchone()
    assert added == (active, active, "price_change", "price_change", PRICE_RISE.effective_date,
                     PRICE_RISE.effective_date)
    assert active > 500
    # Later recontracts of broadband are priced from the raised fee.
    worst_rc = _one(con, f"""SELECT max(abs(p.new_monthly_fee - round(b.new_monthly_fee * {factor}, 2)))
        FROM base.raw.contract_events b JOIN price.raw.contract_events p USING (event_id)
        WHERE b.product = 'broadband' AND b.event_date >= {d} AND b.event_type <> 'termination'""")
    assert worst_rc <= 0.011


def test_schema_change_alters_only_its_column(con: duckdb.DuckDBPyConnection) -> None:
    changed = {c.table for c in SCHEMA_CHANGES}
    for table in RAW_TABLES:
        if table.name not in changed:
            assert _fingerprint(con, "base", table.name) == _fingerprint(con, "schema", table.name), table.name

    def columns(table: str) -> list[tuple[str, str]]:
        return con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
                           "AND table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
                           ["schema", table]).fetchall()

    def expected(table: str, column: str, replacement: tuple[str, str] | None) -> list[tuple[str, str]]:
        out = []
        for c in RAW_TABLES_BY_NAME[table].columns:
            if c.name != column:
                out.append((c.name, c.type))
            elif replacement:
                out.append(replacement)
        return out

    assert columns("bills") == expected("bills", "amount", ("bill_amount", "DOUBLE"))
    assert columns("care_contacts") == expected("care_contacts", "is_complaint", ("is_complaint", "VARCHAR"))
    assert columns("fault_tickets") == expected("fault_tickets", "resolved_ts", None)

    bills = RAW_TABLES_BY_NAME["bills"].column_names
    renamed = ", ".join(c if c != "amount" else "bill_amount" for c in bills)
    assert _one(con, f"""SELECT count(*) FROM (SELECT {', '.join(bills)} FROM base.raw.bills
        EXCEPT ALL SELECT {renamed} FROM schema.raw.bills)""") == 0
    contacts = RAW_TABLES_BY_NAME["care_contacts"].column_names
    assert _one(con, f"""SELECT count(*) FROM (
        SELECT {', '.join(c if c != 'is_complaint' else 'is_complaint::VARCHAR' for c in contacts)}
        FROM base.raw.care_contacts EXCEPT ALL SELECT * FROM schema.raw.care_contacts)""") == 0
    tickets = [c for c in RAW_TABLES_BY_NAME["fault_tickets"].column_names if c != "resolved_ts"]
    assert _differences(con, "base", "schema", "fault_tickets", columns=", ".join(tickets)) == (0, 0)
    assert _one(con, "SELECT count(*) FROM schema.truth.scenarios WHERE kind = 'SchemaChange'") == 3


# ---------------------------------------------------------------------------------------------------------
# Scenario parsing and the command line


def test_scenarios_parse_and_validate() -> None:
    assert RegionalOutage.parse("north:mobile:2026-02-10:3") == RegionalOutage("north", "mobile", date(2026, 2, 10), 3)
    assert PriceRise.parse("broadband:2026-01-01:0.08") == PriceRise("broadband", date(2026, 1, 1), 0.08)
    assert SchemaChange.parse("bills:rename:amount:bill_amount") == SchemaChange(
        "bills", "rename", "amount", new_name="bill_amount")
    assert SchemaChange.parse("bills:retype:amount:DECIMAL(10,2)").new_type == "DECIMAL(10,2)"
    for bad in (lambda: RegionalOutage("atlantis", "mobile", date(2026, 1, 1)),
                lambda: PriceRise("landline", date(2026, 1, 1), 0.1),
                lambda: SchemaChange("bills", "rename", "nope", new_name="x"),
                lambda: SchemaChange("bills", "retype", "amount", new_type="DOUBLE; DROP TABLE x")):
        with pytest.raises(ValueError):
            bad()


def test_cli_help_and_small_run(tmp_path: Path) -> None:
    help_text = subprocess.run([sys.executable, "-m", "synthetic_telco", "--help"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, check=True).stdout
    for option in ("--customers", "--seed", "--end-date", "--duckdb-path", "--outage", "--price-rise",
                   "--schema-change"):
        assert option in help_text
    path = tmp_path / "cli.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "synthetic_telco", "--customers", "200", "--end-date", "2024-12-31",
         "--duckdb-path", str(path), "--outage", "north:mobile:2024-10-01:2", "--no-progress"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert "mobile_usage_weekly" in done.stdout and "wall time" in done.stdout
    with duckdb.connect(str(path), read_only=True) as c:
        assert c.execute("SELECT count(*) FROM raw.customers").fetchone()[0] == 200
        assert c.execute("SELECT count(*) FROM raw.network_outages WHERE outage_id LIKE 'X%'").fetchone()[0] == 2


def test_outages_are_local_to_network_areas(con: duckdb.DuckDBPyConnection) -> None:
    # Every customer lives in an area of their own region; nearly all of the 100 areas per region are populated.
    assert _one(con, "SELECT count(*) FROM base.raw.customers WHERE NOT starts_with(network_area, region || '-')") == 0
    per_region = con.execute(
        "SELECT region, count(DISTINCT network_area) FROM base.raw.customers GROUP BY 1").fetchall()
    assert len(per_region) == 5 and all(95 <= n <= AREAS_PER_REGION for _, n in per_region), per_region
    # Background outages belong to one area of their region; only scenario outages cover a whole region.
    assert _one(con, "SELECT count(*) FROM base.raw.network_outages "
                     "WHERE network_area IS NULL OR NOT starts_with(network_area, region || '-')") == 0
    assert _one(con, "SELECT count(*) FROM outage.raw.network_outages "
                     "WHERE (network_area IS NULL) <> starts_with(outage_id, 'X')") == 0
    # Outage-driven fault tickets (slot 1) fall on a day with an outage of the product in the customer's own area
    # (or region-wide), never on a day when only other areas of the region were down.
    outage_tickets = """
        FROM {run}.raw.fault_tickets t JOIN {run}.raw.customers c USING (customer_id)
        WHERE ends_with(t.ticket_id, '1') AND NOT EXISTS (
            SELECT 1 FROM {run}.raw.network_outages o
            WHERE o.product = t.product AND o.region = c.region AND o.start_ts::DATE = t.opened_ts::DATE
              AND (o.network_area IS NULL OR o.network_area = c.network_area))"""
    for run in ("base", "outage"):
        assert _one(con, "SELECT count(*) " + outage_tickets.format(run=run)) == 0, run
    assert _one(con, "SELECT count(*) FROM base.raw.fault_tickets WHERE ends_with(ticket_id, '1')") > 50

    # A quiet day's outage minutes: many independent area values rather than five regional point masses, with
    # the expected exposure of about 45 minutes per 28 days.
    distinct, nonzero, mean = con.execute("""
        WITH h AS (SELECT customer_id FROM base.raw.mobile_subscriptions
                   WHERE start_date <= DATE '2026-02-22' AND (end_date IS NULL OR end_date > DATE '2026-02-22'))
        SELECT count(DISTINCT minutes), avg((minutes > 0)::INT), avg(minutes) FROM (
            SELECT h.customer_id, coalesce(sum(o.duration_minutes), 0) AS minutes
            FROM h JOIN base.raw.customers c USING (customer_id)
            LEFT JOIN base.raw.network_outages o ON o.region = c.region AND o.product = 'mobile'
                AND (o.network_area IS NULL OR o.network_area = c.network_area)
                AND o.start_ts::DATE BETWEEN DATE '2026-02-22' - 27 AND DATE '2026-02-22'
            GROUP BY h.customer_id)""").fetchone()
    assert distinct >= 50 and 0.3 < nonzero < 0.6 and 20 < mean < 90, (distinct, nonzero, mean)


def test_base_world_has_no_calendar_events(con: duckdb.DuckDBPyConnection) -> None:
    # Price rises come only from scenarios: the base world has no price_change event at all.
    assert _one(con, "SELECT count(*) FROM base.raw.contract_events WHERE event_type = 'price_change'") == 0
    assert _one(con, "SELECT count(*) FROM price.raw.contract_events WHERE event_type = 'price_change'") > 0
    # No viewing seasonality: mean weekly viewing per active day in winter and summer months agrees within 3%.
    winter, summer = con.execute("""
        SELECT avg(viewing_minutes / active_days) FILTER (WHERE month(week_ending) IN (12, 1, 2)),
               avg(viewing_minutes / active_days) FILTER (WHERE month(week_ending) IN (6, 7, 8))
        FROM base.raw.tv_viewing_weekly WHERE active_days > 0 AND week_ending >= DATE '2024-12-01'""").fetchone()
    assert abs(winter / summer - 1) < 0.03, (winter, summer)

"""Bad raw input, end to end: the daily job for the last day stops before anything is written.

Each scenario damages the raw tables of a private copy of the session warehouse with SQL (the generator's
``SchemaChange`` for the shape changes), runs ``daily_trust_job`` for 2026-02-28 on the copy and asserts:

- the run fails in the ``raw_source_contract`` gate, with a message that names the table, the column, the rule
  and shows example rows (run log and the failed check's metadata alike);
- no daily asset was materialised: no partial partition of customer_360, the features or the trust signal;
- every daily table, the published ``customer_trust_signal`` partitions included, is bit-identical afterwards.

One scenario is degraded but usable (a feature mostly missing): the run publishes and the check warns.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from synthetic_telco.scenarios import SchemaChange
from tests.guards.conftest import fingerprints

DAY = date(2026, 2, 28)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAILY_ASSETS = {"customer_360_definition", "mobile_features", "tv_features", "broadband_features",
                "customer_trust_signal"}


def _sql(*statements: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        con = duckdb.connect(str(path))
        try:
            for statement in statements:
                con.execute(statement)
        finally:
            con.close()

    return apply


@dataclass(frozen=True)
class Scenario:
    name: str
    damage: Callable[[Path], None]
    check: str  # the gate check that must fail
    where: str  # "raw.<table>.<column>" as the message names it
    rule: str  # a part of the rule's text
    example: str | None = None  # a value from the offending rows that the message must show
    also: tuple[str, ...] = ()  # further "raw.<table>.<column>" the same check must name
    absent: tuple[str, ...] = ()  # text the message must not contain (a fault reported under a wrong rule)


SCENARIOS = [
    Scenario("dropped_column", _sql(SchemaChange("bills", "drop", "amount").sql()),
             "raw_bills_contract", "raw.bills.amount", "required column present"),
    Scenario("renamed_column",
             _sql(SchemaChange("mobile_usage_weekly", "rename", "data_mb", new_name="data_megabytes").sql()),
             "raw_mobile_usage_weekly_contract", "raw.mobile_usage_weekly.data_mb", "required column present"),
    Scenario("changed_type", _sql(SchemaChange("payments", "retype", "amount", new_type="VARCHAR").sql()),
             "raw_payments_contract", "raw.payments.amount", "type is Float64"),
    Scenario(
        "null_keys",
        _sql("update raw.care_contacts set customer_id = null where contact_id in ("
             "select contact_id from raw.care_contacts where cast(contact_ts as date) = '2026-02-27' "
             "order by contact_id limit 3)"),
        "raw_care_contacts_contract", "raw.care_contacts.customer_id", "not null", "2026-02-27",
    ),
    Scenario(
        "duplicate_customer_ids",
        _sql("insert into raw.customers select * from raw.customers where customer_id in ('C0000001', 'C0000002')"),
        "raw_customers_contract", "raw.customers.customer_id+loaded_at", "unique", "C0000001",
    ),
    Scenario(
        "duplicate_account_ids",
        # One customer's live broadband line booked onto another customer's TV account.
        _sql("update raw.fixed_subscriptions set icoms_account_uid = ("
             "  select min(icoms_account_uid) from raw.fixed_subscriptions where product = 'tv') "
             "where icoms_account_uid = (select max(icoms_account_uid) from raw.fixed_subscriptions "
             "  where product = 'broadband' and end_date is null)"),
        "raw_fixed_subscriptions_contract", "raw.fixed_subscriptions.icoms_account_uid", "one customer per account",
        "ICM",
    ),
    Scenario(
        "negative_amounts",
        _sql("update raw.bills set amount = -42.5 where bill_id in (select bill_id from raw.bills "
             "where bill_date = '2026-02-20' order by bill_id limit 4)"),
        "raw_bills_contract", "raw.bills.amount", "greater_than_or_equal_to(0)", "-42.5",
    ),
    Scenario(
        "absurd_usage",
        _sql("update raw.broadband_usage_weekly set download_gb = download_gb * 1e6 where week_ending = '2026-02-22' "
             "and icoms_account_uid in (select icoms_account_uid from raw.broadband_usage_weekly "
             "where week_ending = '2026-02-22' order by icoms_account_uid limit 2)"),
        "raw_broadband_usage_weekly_contract", "raw.broadband_usage_weekly.download_gb", "less_than_or_equal_to",
    ),
    Scenario(
        "future_dates",
        _sql("update raw.care_contacts set contact_ts = contact_ts + interval 400 day where contact_id in ("
             "select contact_id from raw.care_contacts where cast(contact_ts as date) = '2026-02-26' "
             "order by contact_id limit 2)"),
        "raw_care_contacts_contract", "raw.care_contacts.contact_ts", "not after 2026-03-01", "2027-",
    ),
    Scenario(
        "empty_day",
        _sql("delete from raw.care_contacts where cast(contact_ts as date) = '2026-02-28'",
             "delete from raw.payments where paid_date = '2026-02-28'"),
        "raw_care_contacts_contract", "raw.care_contacts.contact_ts", "rows arrive every day", "2026-02-28",
    ),
    Scenario(
        "cohort_missing",
        _sql("delete from raw.fixed_subscriptions where product = 'tv'"),
        "raw_cohorts_present", "raw.fixed_subscriptions.product", "cohort tv has live subscriptions",
    ),
    # --- data that keeps the contract but is wrong (asset_checks/raw_guards.py) ---------------------------------
    Scenario(
        "partial_delivery",
        # The day's bills, payments and care contacts cut to about 10%.
        _sql("delete from raw.bills where bill_date = '2026-02-28' and hash(bill_id) % 10 <> 0",
             "delete from raw.payments where paid_date = '2026-02-28' and hash(payment_id) % 10 <> 0",
             "delete from raw.care_contacts where cast(contact_ts as date) = '2026-02-28' "
             "and hash(contact_id) % 10 <> 0"),
        "raw_volume", "raw.bills.bill_date", "partial delivery", "2026-02-28",
        also=("raw.payments.paid_date", "raw.care_contacts.contact_ts"),
    ),
    Scenario(
        "master_data_cut",
        _sql("delete from raw.customers where hash(customer_id) % 10 <> 0"),
        "raw_volume", "raw.customers", "customers holding a live product at most 10% below the last published day",
        "customer_360_definition on 2026-02-27",
    ),
    Scenario(
        "orphan_keys",
        # National format on half of the latest usage week; the day's bills booked to unknown customers.
        _sql("update raw.mobile_usage_weekly set msisdn = '0' || msisdn "
             "where week_ending = '2026-02-22' and hash(msisdn) % 2 = 0",
             "update raw.bills set customer_id = 'X' || substr(customer_id, 2) where bill_date = '2026-02-28'"),
        "raw_referential_integrity", "raw.mobile_usage_weekly.msisdn", "matches raw.mobile_subscriptions.msisdn",
        "'044770", also=("raw.bills.customer_id",),
    ),
    Scenario(
        "outage_seconds_for_minutes",
        _sql("update raw.network_outages set duration_minutes = duration_minutes * 60 "
             "where cast(start_ts as date) = '2026-02-28'"),
        "raw_distribution", "raw.network_outages.duration_minutes", "unit change", "2026-02-28",
        absent=("less_than_or_equal_to",),
    ),
    Scenario(
        "bill_pence_for_pounds",
        _sql("update raw.bills set amount = amount * 100 where bill_date = '2026-02-28' and amount < 100"),
        "raw_distribution", "raw.bills.amount", "unit change", "2026-02-28", absent=("less_than_or_equal_to",),
    ),
    Scenario(
        "upload_mb_for_gb",
        _sql("update raw.broadband_usage_weekly set upload_gb = upload_gb * 1000 where week_ending = '2026-02-22'"),
        "raw_distribution", "raw.broadband_usage_weekly.upload_gb", "unit change", "2026-02-22",
        absent=("less_than_or_equal_to",),
    ),
    Scenario(
        "care_contacts_resent",
        # The day's contacts delivered a second time under new contact ids.
        _sql("insert into raw.care_contacts select 'R' || contact_id, customer_id, product, contact_ts, channel, "
             "reason, is_complaint, loaded_at from raw.care_contacts where cast(contact_ts as date) = '2026-02-28'"),
        "raw_resent_events", "raw.care_contacts.contact_id", "re-sent under a new contact_id", "R",
    ),
    Scenario(
        "nan_and_infinity",
        _sql("update raw.network_outages set duration_minutes = 'NaN' where outage_id in (select outage_id "
             "from raw.network_outages where cast(start_ts as date) = '2026-02-28' order by outage_id limit 2)",
             "update raw.bills set amount = '-Infinity' where bill_id in (select bill_id from raw.bills "
             "where bill_date = '2026-02-20' order by bill_id limit 1)"),
        "raw_network_outages_contract", "raw.network_outages.duration_minutes", "rule `finite` broken, 2 row(s)",
        absent=("`not null`", "less_than_or_equal_to", "greater_than_or_equal_to"),
    ),
]


@pytest.fixture(scope="module")
def published(pipeline_warehouse) -> dict[str, str]:
    return fingerprints(pipeline_warehouse.duckdb_path)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_bad_raw_input_stops_the_day_before_anything_is_written(
    scenario: Scenario, private_copy: Path, run_daily, published: dict[str, str]
) -> None:
    scenario.damage(private_copy)
    run = run_daily(private_copy, DAY)

    assert not run.success, f"{scenario.name}: the daily run should have stopped"
    assert run.failed_steps() == ["raw_source_contract"], run.failed_steps()
    text = run.failure_text()
    assert scenario.where in text and scenario.rule in text, text[:3000]
    assert "examples:" in text or "detail" in text or "row(s)" in text, text[:3000]
    if scenario.example:
        assert scenario.example in text, text[:3000]
    for where in scenario.also:
        assert where in text, text[:3000]
    for wrong in scenario.absent:
        assert wrong not in text, text[:3000]

    failed = run.failed_checks()
    key = f"raw_source_contract:{scenario.check}"
    assert key in failed, sorted(failed)
    evaluation = failed[key]
    assert evaluation.severity.value == "ERROR"
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    described = [f"{v['table']}.{v['column']}" if v["column"] else v["table"] for v in metadata["violations"]]
    assert scenario.where in described, described
    assert set(scenario.also) <= set(described), described
    if scenario.example:
        assert scenario.example in str(metadata["violations"]) + str(metadata.get("examples", ""))

    assert not (run.materialized() & DAILY_ASSETS), run.materialized()
    assert fingerprints(private_copy) == published, "a daily table changed although the run stopped"


def test_degraded_but_usable_input_publishes_and_warns(
    private_copy: Path, run_daily, published: dict[str, str], pipeline_warehouse
) -> None:
    """Call counts missing for about half the lines: the dropped-call rate is unknown for them (scored at the
    reference mean and counted in missing_features). That is worth a warning, not a missing day."""
    _sql(
        "update raw.mobile_usage_weekly set calls = 0, dropped_calls = 0 "
        "where week_ending >= '2026-01-25' and hash(msisdn) % 2 = 0",
        # Delivered so, not edited after the gate passed: no record of those loads (docs/runbook.md, A), so the
        # gate re-checks them instead of reporting validated loads altered.
        "delete from analytics.raw_validated_loads where table_name = 'mobile_usage_weekly' "
        "and partition_day >= '2026-01-25'",
    )(private_copy)
    published_except_day = fingerprints(pipeline_warehouse.duckdb_path, f"snapshot_date <> '{DAY}'")
    run = run_daily(private_copy, DAY)

    assert run.success, run.failure_text()[:3000]
    assert "customer_trust_signal" in run.materialized()
    warned = run.failed_checks()
    assert "mobile_features:missing_share" in warned, sorted(warned)
    evaluation = warned["mobile_features:missing_share"]
    assert evaluation.severity.value == "WARN"
    assert "mobile_features.dropped_call_rate_28d" in (evaluation.description or "")
    # The day that was run was re-published with the degraded input; every other partition is bit-identical.
    assert fingerprints(private_copy, f"snapshot_date <> '{DAY}'") == published_except_day
    assert fingerprints(private_copy)["analytics.customer_trust_signal"] != published["analytics.customer_trust_signal"]


def test_the_contract_can_be_checked_from_the_command_line(private_copy: Path) -> None:
    """The runbook's "confirm the fix before re-running": same rules as the gate, no Dagster run."""
    env = {**os.environ, "TRUST_DUCKDB_PATH": str(private_copy), "TRUST_END_DATE": DAY.isoformat()}
    command = [sys.executable, "-m", "asset_checks.raw_contract", DAY.isoformat()]
    clean = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "keep their contract for 2026-02-28" in clean.stdout
    negative = next(s for s in SCENARIOS if s.name == "negative_amounts")
    negative.damage(private_copy)
    broken = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "raw.bills.amount: rule `greater_than_or_equal_to(0)` broken, 4 row(s)" in broken.stdout

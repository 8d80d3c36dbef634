"""The raw guards' judgements (asset_checks/raw_guards.py) and the published-volume rules, on hand-made frames.

No warehouse: the SQL side returns a few rows per table and period, and these pure functions decide.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from asset_checks import raw_guards as g
from asset_checks import rules
from asset_checks.raw_window import row_rules
from asset_checks.schemas import raw_schema
from asset_checks.validation import validate_frame
from trust_assets.config import RawGuardSettings

S = RawGuardSettings()
DAY = date(2026, 2, 28)


def _counts(by_day: dict[date, int]) -> pl.DataFrame:
    return pl.DataFrame({"period": list(by_day), "rows": list(by_day.values())}, schema={"period": pl.Date,
                                                                                       "rows": pl.Int64})


def _history(day: date) -> list[date]:
    return g.history_of("care_contacts", day, S)


def test_a_partial_day_blocks_and_names_expected_and_delivered_volume() -> None:
    days = {DAY - timedelta(days=i): 40 + (i % 5) for i in range(1, 29)}
    found = g.volume_violations(_counts({**days, DAY: 4}), [DAY], _history, "care_contacts", "contact_ts", "day", S)
    assert len(found) == 1
    v = found[0]
    assert v.where == "raw.care_contacts.contact_ts" and "partial delivery" in v.rule
    assert "expected about 42 rows per day" in v.detail and "delivered 4 on 2026-02-28" in v.detail
    # A normal day, a spike (a real outage triples the contacts) and the noise of a small table pass.
    assert g.volume_violations(_counts({**days, DAY: 30}), [DAY], _history, "t", "c", "day", S) == []
    assert g.volume_violations(_counts({**days, DAY: 400}), [DAY], _history, "t", "c", "day", S) == []
    small = {d: 9 for d in days}
    assert g.volume_violations(_counts({**small, DAY: 1}), [DAY], _history, "t", "c", "day", S) == []
    # An empty day with a trailing history blocks; a table that never had rows does not.
    assert g.volume_violations(_counts(days), [DAY], _history, "t", "c", "day", S)
    assert g.volume_violations(_counts({}), [DAY], _history, "t", "c", "day", S) == []


def test_bills_are_judged_on_billing_days_only() -> None:
    assert g.judged_periods("bills", date(2026, 1, 28), date(2026, 1, 31)) == [date(2026, 1, 28)]
    history = g.history_of("bills", date(2026, 2, 1), S)
    assert all(d.day <= 28 for d in history) and len(history) == 28 - 3
    # Weekly tables judge the latest complete week as of each day of the window.
    assert g.judged_periods("mobile_usage_weekly", DAY, DAY) == [date(2026, 2, 22)]
    assert g.history_of("mobile_usage_weekly", date(2026, 2, 22), S)[-1] == date(2026, 2, 15)


def test_master_data_drop_against_the_last_published_day() -> None:
    published = {"customers": 3312, "mobile_subscriptions": 2400, "fixed_subscriptions": 2900}
    delivered = {"customers": 331, "mobile_subscriptions": 2399, "fixed_subscriptions": 2901}
    found = g.master_drop_violations(delivered, published, DAY, DAY - timedelta(days=1), S)
    assert [v.table for v in found] == ["raw.customers"]
    assert "expected about 3312 customers holding a live product" in found[0].detail
    assert "delivered 331 on 2026-02-28" in found[0].detail
    assert g.master_drop_violations(published, published, DAY, DAY, S) == []


def test_orphan_share_per_load() -> None:
    ref = g.Reference("mobile_usage_weekly", "msisdn", "mobile_subscriptions", "msisdn")
    loads = pl.DataFrame({"load_day": [date(2026, 2, 16), date(2026, 2, 23)], "rows": [2000, 2087],
                          "orphans": [0, 1054]})
    examples = pl.DataFrame({"msisdn": ["0447700045304"], "loaded_at": [datetime(2026, 2, 23, 3)]})
    found = g.orphan_violations(loads, ref, examples, S)
    assert len(found) == 1 and found[0].where == "raw.mobile_usage_weekly.msisdn"
    assert found[0].failing_rows == 1054
    assert "1054 of the 2087 rows loaded on 2026-02-23 (50.5%)" in found[0].detail
    assert "'0447700045304'" in found[0].detail
    # At most 1% orphans per load passes.
    assert g.orphan_violations(loads.with_columns(pl.lit(20).alias("orphans")), ref, None, S) == []


def test_keys_are_compared_as_staging_normalises_them() -> None:
    # The drift staging's canonical_key macro forgives maps to one key; what it does not forgive stays apart.
    cases = {
        "msisdn": {"+447700045304": "447700045304", " 00447700045304": "447700045304",
                   "++447700045304 ": "447700045304", "447700045304": "447700045304",
                   "0447700045304": "0447700045304"},
        "customer_id": {" c0000001  ": "C0000001", "C0000001": "C0000001", "C000001": "C000001"},
    }
    with duckdb.connect() as con:
        for column, expected in cases.items():
            for delivered, canonical in expected.items():
                (got,) = con.execute(f"select {g.normalised_key(column)} from (select ? as {column})",
                                     [delivered]).fetchone()
                assert got == canonical, (column, delivered, got)


def test_a_unit_change_moves_median_and_p95_together() -> None:
    stats = pl.DataFrame({"period": [DAY], "duration_minutes_n": [25], "duration_minutes_p50": [2400.0],
                          "duration_minutes_p95": [14000.0]})
    history = {DAY: {"duration_minutes": (700, 40.0, 240.0)}}
    found = g.quantile_violations(stats, history, "network_outages", "day", S)
    assert len(found) == 1 and found[0].where == "raw.network_outages.duration_minutes"
    assert "x60" in found[0].detail and "unit change" in found[0].rule
    # Pounds to pence: x100 the other way round is caught too.
    shrunk = stats.with_columns(pl.col("duration_minutes_p50") / 6000, pl.col("duration_minutes_p95") / 6000)
    assert g.quantile_violations(shrunk, history, "network_outages", "day", S)
    # A long outage moves the p95 only: not a unit change.
    major = stats.with_columns(pl.lit(45.0).alias("duration_minutes_p50"))
    assert g.quantile_violations(major, history, "network_outages", "day", S) == []
    # Too few values to judge.
    few = stats.with_columns(pl.lit(5).alias("duration_minutes_n"))
    assert g.quantile_violations(few, history, "network_outages", "day", S) == []


def test_resent_events_per_load() -> None:
    loads = pl.DataFrame({"load_day": [date(2026, 2, 28), date(2026, 3, 1)], "rows": [40, 80],
                          "near_duplicates": [0, 80]})
    found = g.resent_violations(loads, "care_contacts", "contact_id", ("customer_id", "contact_ts"), None, S)
    assert len(found) == 1 and found[0].where == "raw.care_contacts.contact_id"
    assert "80 of the 80 rows loaded on 2026-03-01" in found[0].detail
    one = loads.with_columns(pl.Series("near_duplicates", [0, 2]))
    assert g.resent_violations(one, "care_contacts", "contact_id", ("customer_id",), None, S) == []


def test_published_rows_per_cohort_may_not_collapse() -> None:
    previous = pl.DataFrame({"day": [DAY - timedelta(days=1)] * 3, "cohort": ["mobile", "tv", "broadband"],
                             "rows": [2000, 1500, 1700]})
    counts = pl.DataFrame({"day": [DAY] * 3, "cohort": ["mobile", "tv", "broadband"], "rows": [200, 1500, 1690]})
    found = rules.cohort_drop_violations(counts, previous, S.max_published_row_drop, "customer_trust_signal")
    assert len(found) == 1 and "mobile has 200 rows on 2026-02-28, 2000 on 2026-02-27 (-90%)" in found[0].detail
    assert rules.cohort_drop_violations(previous, previous.head(0), 0.25, "t") == []
    # row_count_stable: a 90% drop is an error, never a warning; a 15% move still warns.
    days = pl.DataFrame({"day": [DAY - timedelta(days=1), DAY], "rows": [5200, 520]})
    found, unusable = rules.row_count_violations(days, DAY, DAY, 0.10, "t", max_drop=0.25)
    assert unusable and "never more than 25% below it" in found[0].rule
    found, unusable = rules.row_count_violations(days.with_columns(pl.Series("rows", [5200, 4420])), DAY, DAY,
                                                 0.10, "t", max_drop=0.25)
    assert found and not unusable


def test_nan_and_infinities_break_the_finite_rule_only() -> None:
    schema = raw_schema("bills")
    frame = pl.DataFrame(
        {"bill_id": ["B1", "B2", "B3", "B4"], "customer_id": ["C1"] * 4, "product": ["tv"] * 4,
         "bill_date": [DAY] * 4, "due_date": [DAY] * 4,
         "amount": [float("nan"), float("inf"), float("-inf"), 20_000.0], "loaded_at": [datetime(2026, 3, 1)] * 4}
    )
    found = {(v.column, v.rule): v.failing_rows for v in validate_frame(frame, schema, "raw.bills")}
    assert found == {("amount", "finite"): 3, ("amount", "less_than_or_equal_to(10000)"): 1}
    sql = {r.rule: r.offending for r in row_rules(schema, set()) if r.column == "amount"}
    assert sql["finite"] == "(isnan(amount) or isinf(amount))"
    assert sql["less_than_or_equal_to(10000)"].startswith("not (isnan(amount) or isinf(amount)) and")


def test_trailing_quantiles_are_medians_of_the_daily_quantiles() -> None:
    days = [DAY - timedelta(days=i) for i in range(1, 29)]
    stats = pl.DataFrame({"period": [*days, DAY], "amount_n": [100] * 27 + [5, 100],
                          "amount_p50": [30.0] * 27 + [9000.0, 3000.0], "amount_p95": [80.0] * 27 + [9000.0, 8000.0]})
    n, p50, p95 = g.trailing_quantiles(stats, DAY, ["amount"], "payments", S)["amount"]
    # The day with 5 values is too small to count; the judged day itself is not its own history.
    assert (n, p50, p95) == (2700, 30.0, 80.0)
    assert g.quantile_violations(stats.tail(1), {DAY: {"amount": (n, p50, p95)}}, "payments", "day", S)

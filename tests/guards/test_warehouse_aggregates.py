"""The per-check warehouse aggregates find exactly what the in-Python rules find on the whole partition.

``covers_customer_360``, ``scored_once_per_product`` and ``missing_share`` as one SQL query each, reading only
broken keys or one row per day (tests/guards/warehouse_aggregates.py): the reference the checks' shared reads are
held to. The rules over full frames stay the reference for them. Both are run on a damaged copy of the session
warehouse and must report the same violations.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from asset_checks import rules
from asset_checks.reads import read_holders, read_window
from resources.warehouse import DuckDBWarehouse
from tests.guards.warehouse_aggregates import (
    mobile_holders_and_outsider,
    read_coverage_problems,
    read_missing_shares,
)
from trust_assets.config import SETTINGS, feature_names


def _summary(found: list) -> list[tuple[str | None, str, int, list, str]]:
    return sorted(
        ((v.column, v.rule, v.failing_rows, v.examples.to_dicts(), v.detail) for v in found),
        key=lambda t: (t[0] or "", t[1]),
    )


@pytest.fixture(scope="module")
def damaged(pipeline_warehouse, tmp_path_factory):
    path = pipeline_warehouse.copy_to(tmp_path_factory.mktemp("aggregates"))
    day = pipeline_warehouse.scoring_dates[-1]
    with duckdb.connect(str(path)) as con:
        *ids, outsider = mobile_holders_and_outsider(con, day)
        # One holder without a row, one with two rows, one non-holder with a row.
        con.execute("delete from analytics.mobile_features where snapshot_date = ? and customer_id = ?", [day, ids[0]])
        con.execute("insert into analytics.mobile_features select * from analytics.mobile_features "
                    "where snapshot_date = ? and customer_id = ?", [day, ids[1]])
        con.execute("insert into analytics.mobile_features select * replace (? as customer_id) "
                    "from analytics.mobile_features where snapshot_date = ? and customer_id = ?",
                    [outsider, day, ids[1]])
        con.execute("delete from analytics.customer_trust_signal where snapshot_date = ? and customer_id = ?",
                    [day, ids[0]])
        # Missing values: NULL for most rows of one feature, infinity for half of another, NaN below the limit.
        con.execute("update analytics.mobile_features set dropped_call_rate_28d = null "
                    "where snapshot_date = ? and hash(customer_id) % 4 <> 0", [day])
        con.execute("update analytics.mobile_features set data_gb_28d = 'nan'::double "
                    "where snapshot_date = ? and hash(customer_id) % 5 = 0", [day])
        con.execute("update analytics.mobile_features set voice_minutes_28d = 'inf'::double "
                    "where snapshot_date = ? and hash(customer_id) % 2 = 0", [day])
    return DuckDBWarehouse(path=str(path)), day


def test_feature_coverage_in_the_warehouse_matches_the_frame_rule(damaged) -> None:
    warehouse, day = damaged
    rows = read_window(warehouse, "mobile_features", day, day, "snapshot_date, customer_id")
    in_python = rules.coverage_violations(
        rows.with_columns(cohort=pl.lit("mobile")), read_holders(warehouse, day, day, ["mobile"]),
        "mobile_features", "every holder",
    )
    in_warehouse = rules.key_count_violations(
        read_coverage_problems(warehouse, "mobile_features", day, day, ["mobile"]), "mobile_features", "every holder"
    )
    assert len(in_python) == 3
    assert _summary(in_warehouse) == _summary(in_python)


def test_trust_signal_coverage_in_the_warehouse_matches_the_frame_rule(damaged) -> None:
    warehouse, day = damaged
    scored = read_window(warehouse, "customer_trust_signal", day, day, "snapshot_date, cohort, customer_id")
    in_python = rules.coverage_violations(scored, read_holders(warehouse, day, day), "t", "every holder")
    problems = read_coverage_problems(warehouse, "customer_trust_signal", day, day, ["mobile", "tv", "broadband"])
    assert len(in_python) == 1
    assert _summary(rules.key_count_violations(problems, "t", "every holder")) == _summary(in_python)


def test_missing_shares_in_the_warehouse_match_the_frame_rule(damaged) -> None:
    warehouse, day = damaged
    features = feature_names("mobile")
    limit = SETTINGS.monitoring.max_missing_share
    in_python = rules.missing_share_violations(read_window(warehouse, "mobile_features", day, day), features, limit,
                                               "mobile_features")
    shares = read_missing_shares(warehouse, "mobile_features", day, day, features)
    in_warehouse = rules.share_violations(shares, features, limit, "mobile_features")
    assert {v.column for v in in_python} == {"dropped_call_rate_28d", "voice_minutes_28d"}
    assert [(v.column, v.failing_rows, v.detail) for v in in_warehouse] == [
        (v.column, v.failing_rows, v.detail) for v in in_python
    ]
    for a, b in zip(in_warehouse, in_python, strict=True):
        assert a.examples["missing_share"].to_list() == pytest.approx(b.examples["missing_share"].to_list(), abs=1e-12)

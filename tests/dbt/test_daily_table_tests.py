"""The data tests of the daily tables catch what they guard, on the day it happened: real dbt tests on a private
copy of the session warehouse with NULLs written into one day."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

DAILY_MODELS = {
    "customer_360_definition": "analytics",
    "int_common_features": "intermediate",
    "mobile_features": "analytics",
    "tv_features": "analytics",
    "broadband_features": "analytics",
}
# (schema.table, column) set to NULL on one row of the broken day.
NULLED = {
    "mobile_features": [("analytics.mobile_features", "segment"), ("analytics.mobile_features", "arpu_3m")],
    "int_common_features": [("intermediate.int_common_features", "late_payments_180d")],
}


def _not_null_tests(manifest: dict[str, Any]) -> dict[str, str]:
    """model -> unique id of its not_null_columns test."""
    found = {
        node["attached_node"].split(".")[-1]: uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and node["name"].endswith("_columns_not_null")
    }
    assert set(found) == set(DAILY_MODELS), found
    return found


def test_not_null_columns_names_the_null_columns_of_the_broken_day_only(
    pipeline_warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trust_assets.assets.dbt_models import MANIFEST, dbt_resource
    from trust_assets.dbt_project import without_adapter_in_process
    from trust_assets.partitions import dbt_window_env, fixed_vars_arguments
    from trust_assets.services.dbt_daily_results import dbt_test_runner, failing_days

    path = pipeline_warehouse.copy_to(tmp_path / "warehouse")
    days: list[date] = pipeline_warehouse.scoring_dates[:3]
    bad = days[1]
    with duckdb.connect(str(path)) as con:
        for table, column in (pair for pairs in NULLED.values() for pair in pairs):
            con.execute(
                f"update {table} set {column} = null "
                f"where rowid = (select min(rowid) from {table} where snapshot_date = ?)",
                [bad],
            )
    monkeypatch.setenv("TRUST_DUCKDB_PATH", str(path))  # dbt reads it in its own process

    tests = _not_null_tests(MANIFEST)
    broken = {tests[model] for model in NULLED}
    run = dbt_test_runner(dbt_resource(), MANIFEST)
    assert run(days[0], days[-1], list(tests.values())) == broken
    assert failing_days(run, days[0], days[-1], sorted(broken)) == {uid: [bad] for uid in broken}

    # One result row per NULL column, with its count: what the failing test tells whoever reads it.
    with without_adapter_in_process():
        invocation = dbt_resource().cli(
            ["test", "--select", " ".join(MANIFEST["nodes"][uid]["name"] for uid in broken), *fixed_vars_arguments()],
            raise_on_error=False,
            manifest=MANIFEST,
            env=dbt_window_env(bad, bad),
        )
    invocation.wait()
    results = {r["unique_id"]: r for r in invocation.get_artifact("run_results.json")["results"]}
    with duckdb.connect(str(path), read_only=True) as con:
        for model, pairs in NULLED.items():
            result = results[tests[model]]
            assert (result["status"], result["failures"]) == ("fail", len(pairs))
            compiled = result["compiled_code"]
            rows = con.execute(compiled).fetchall()
            assert sorted(rows) == sorted((column, 1) for _, column in pairs)

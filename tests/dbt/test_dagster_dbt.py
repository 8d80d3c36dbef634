"""The dbt models as Dagster assets: keys, groups and checks, and one real daily partition materialised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType

import dagster as dg
import pytest

from resources import warehouse_resource
from tests.dbt.raw_fixture import table_rows
from trust_assets.dbt_project import TRUST_DBT_PROJECT, prepare

DAILY_KEYS = {
    "customer_360_definition", "int_common_features", "mobile_features", "tv_features", "broadband_features",
}


@pytest.fixture(scope="module")
def dbt_models() -> Iterator[ModuleType]:
    # The definitions need a manifest (python -m trust_assets.dbt_project prepare); make one on a clean clone.
    if not TRUST_DBT_PROJECT.manifest_path.exists():
        prepare()
    from trust_assets.assets import dbt_models

    yield dbt_models


def test_asset_keys_groups_and_owners(dbt_models: ModuleType) -> None:
    daily, other = dbt_models.trust_dbt_daily_models, dbt_models.trust_dbt_models
    assert {k.to_user_string() for k in daily.keys} == DAILY_KEYS
    groups = {k.to_user_string(): spec.group_name for a in (daily, other) for k, spec in a.specs_by_key.items()}
    assert groups["customer_360_definition"] == "customer_360"
    # The shared families sit with the cohort features they feed, not with the staging views.
    assert {groups[f"{c}_features"] for c in ("mobile", "tv", "broadband", "int_common")} == {"cohort_features"}
    assert groups["outcome_labels"] == "models"
    assert groups["stg_customers"] == groups["int_product_holdings"] == "staging"
    views = {k for k in groups if k.startswith(("stg_", "int_"))} - DAILY_KEYS
    assert set(groups) - DAILY_KEYS - {"outcome_labels"} == views
    for assets_def in (daily, other):
        for spec in assets_def.specs_by_key.values():
            assert spec.owners and spec.description and len(spec.description) > 30
            assert {"dbt", "duckdb"} <= set(spec.kinds)
    deps = {d.asset_key.to_user_string() for d in other.specs_by_key[dg.AssetKey("stg_customers")].deps}
    assert deps == {"raw/customers"}
    assert daily.partitions_def is not None and other.partitions_def is None
    assert daily.backfill_policy == dg.BackfillPolicy.single_run()
    check_assets = {c.asset_key.to_user_string() for c in daily.check_specs}
    assert check_assets == DAILY_KEYS
    assert dg.AssetCheckKey(dg.AssetKey("mobile_features"), "mobile_features_rows_are_customer_360_rows") in {
        c.key for c in daily.check_specs
    }


def _materialise_day(
    dbt_models: ModuleType, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> dg.ExecuteInProcessResult:
    """The daily dbt asset for 2025-07-30 on ``warehouse``, through Dagster; a failure is returned, not raised."""
    monkeypatch.setenv("TRUST_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("TRUST_TARGET", "duckdb")
    return dg.materialize(
        [dbt_models.trust_dbt_daily_models],
        partition_key="2025-07-30",
        resources={"dbt": dbt_models.dbt_resource(), "warehouse": warehouse_resource()},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_materialise_one_daily_partition(
    dbt_models: ModuleType, warehouse_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The copy already holds the staging views and the snapshot 2025-07-31; build the day before it.
    import dagster_dbt.core.resource as dagster_dbt_resource

    adapter_loads: list[object] = []
    monkeypatch.setattr(dagster_dbt_resource.DbtCliResource, "_initialize_dbt_core_adapter",
                        lambda self, args: adapter_loads.append(args))
    result = _materialise_day(dbt_models, warehouse_copy, monkeypatch)
    assert result.success
    # A daily run reads no metadata through dbt's adapter, so it never loads it into the run process (3 s).
    assert adapter_loads == []
    materialised = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert materialised == DAILY_KEYS
    checks = result.get_asset_check_evaluations()
    # Every data test of the five daily models reports once for the day (unit tests run in CI only).
    daily_tests = {
        node["name"] for node in dbt_models.MANIFEST["nodes"].values()
        if node["resource_type"] == "test" and (node.get("attached_node") or "").split(".")[-1] in DAILY_KEYS
    }  # fmt: skip
    assert sorted(c.check_name for c in checks) == sorted(daily_tests)
    assert all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    assert {c.asset_key.to_user_string() for c in checks} == DAILY_KEYS
    row_counts = {
        m.asset_key.to_user_string(): m.step_materialization_data.materialization.metadata["dagster/row_count"].value
        for m in result.get_asset_materialization_events()
    }
    for key, count in row_counts.items():
        schema = "intermediate" if key.startswith("int_") else "analytics"
        sql = f"select count(*) from {schema}.{key} where snapshot_date = date '2025-07-30'"
        assert count == table_rows(warehouse_copy, sql)[0][0], key  # the partition's own day, not the table
    days = table_rows(warehouse_copy, """
        select snapshot_date, count(*) from analytics.customer_360_definition group by 1 order by 1""")
    # 2025-07-30 still has C0000003's broadband (ceased on 07-31): 4 customers; the 31st is untouched.
    assert days == [(date(2025, 7, 30), 4), (date(2025, 7, 31), 3)]


def test_a_failing_daily_model_fails_the_step_and_keeps_what_dbt_reported(
    dbt_models: ModuleType, warehouse_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The raw outages table int_common_features reads is moved away (customer_360 reads no outages): customer_360
    # builds, the shared families fail and the cohort features are skipped. The step fails; customer_360's
    # materialisation and checks are still reported, and the warehouse file is released for the next reader.
    import duckdb

    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("alter table raw.network_outages rename to network_outages_moved")
    result = _materialise_day(dbt_models, warehouse_copy, monkeypatch)
    assert not result.success
    failure = result.failure_data_for_node("trust_dbt_daily_models")
    assert failure is not None and "int_common_features" in str(failure.error)
    materialised = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert materialised == {"customer_360_definition"}
    assert any(c.asset_key.to_user_string() == "customer_360_definition" for c in result.get_asset_check_evaluations())
    with duckdb.connect(str(warehouse_copy)) as con:
        assert con.execute(
            "select count(*) from analytics.customer_360_definition where snapshot_date = date '2025-07-30'"
        ).fetchone() == (4,)


def test_waiting_for_dbt_keeps_the_events_before_an_error(dbt_models: ModuleType) -> None:
    def stream() -> Iterator[str]:
        yield "first"
        yield "second"
        raise RuntimeError("dbt failed")

    events, failure = dbt_models._wait_for_dbt(stream())
    assert events == ["first", "second"] and isinstance(failure, RuntimeError)
    assert dbt_models._wait_for_dbt(iter(["only"])) == (["only"], None)


def test_the_dbt_version_is_known_without_running_dbt(
    dbt_models: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dagster-dbt would run `dbt --version` (4.5 s) before every dbt command; this environment's dbt is known.
    import importlib.metadata

    import dagster_dbt.core.resource as dagster_dbt_resource

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"ran {args}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", refuse)
    resource = dbt_models.dbt_resource()
    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")
    assert resource._cli_version.major == 1  # dbt Core, not the Fusion engine

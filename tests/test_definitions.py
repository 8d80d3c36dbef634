"""The code location loads, validates and shows the lineage the spec names."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg

from tests.support import PRODUCT_ASSETS

LINEAGE_EDGES = [
    ("customer_360_definition", "mobile_features"),
    ("customer_360_definition", "tv_features"),
    ("customer_360_definition", "broadband_features"),
    ("mobile_features", "hierarchical_reference_stats"),
    ("hierarchical_reference_stats", "trust_model_weights"),
    ("outcome_labels", "model_registry"),
    ("trust_model_weights", "customer_trust_signal"),
    ("model_registry", "customer_trust_signal"),
    ("hierarchical_reference_stats", "customer_trust_signal"),
    ("broadband_features", "customer_trust_signal"),
]


def _graph() -> dg.AssetGraph:  # type: ignore[name-defined]
    from trust_assets.definitions import defs

    return defs.resolve_asset_graph()


def test_definitions_load_with_the_product_assets_and_lineage() -> None:
    graph = _graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert set(PRODUCT_ASSETS) <= keys
    assert {f"raw/{t}" for t in ("customers", "bills", "contract_events")} <= keys
    for upstream, downstream in LINEAGE_EDGES:
        parents = {k.to_user_string() for k in graph.get(dg.AssetKey(downstream)).parent_keys}
        assert upstream in parents, f"{upstream} -> {downstream} missing from the lineage"


def test_every_asset_is_described_owned_and_grouped() -> None:
    graph = _graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.description and len(node.description) > 30, f"{name} lacks a readable description"
        assert node.owners, f"{name} has no owner"
        assert node.group_name and node.group_name != "default", f"{name} is not in an architecture group"


def test_jobs_and_daily_schedule() -> None:
    from trust_assets.definitions import defs

    for job in ("daily_trust_job", "features_job", "foundation_job", "ruler_and_models_job", "monitoring_report_job"):
        assert defs.resolve_job_def(job) is not None
    schedule = defs.resolve_schedule_def("daily_trust_job_schedule")
    assert schedule.cron_schedule.startswith("0 6 ")


def test_dagster_cli_validates_the_workspace() -> None:
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert result.returncode == 0, result.stdout + result.stderr

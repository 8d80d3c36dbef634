"""The product as a user meets it: the real Dagster UI over the test warehouse, driven in headless Chromium.

(a) The global asset lineage shows the trust index's assets, and the webserver reports the lineage edges
    from customer_360_definition through the features, the ruler and the models to customer_trust_signal.
(b) One partition of customer_trust_signal is materialised from its asset page and the run succeeds.

Screenshots go to artifacts/screenshots/ (git-ignored, kept by CI).
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import save_screenshot
from tests.browser.webserver import DagsterWebserver

if TYPE_CHECKING:
    from tests.browser.conftest import SessionWarehouse

pytestmark = pytest.mark.browser

FEATURES = ("mobile_features", "tv_features", "broadband_features")
CUSTOMER_360 = "customer_360_definition"
RULER = "hierarchical_reference_stats"
WEIGHTS = "trust_model_weights"
REGISTRY = "model_registry"
SIGNAL = "customer_trust_signal"
LINEAGE_ASSETS = (CUSTOMER_360, *FEATURES, RULER, WEIGHTS, REGISTRY, SIGNAL)

# Direct edges (upstream, downstream) of the product lineage (docs/architecture.md §2).
EXPECTED_EDGES: frozenset[tuple[str, str]] = frozenset(
    {
        *((CUSTOMER_360, f) for f in FEATURES),
        *((f, RULER) for f in FEATURES),
        *((f, model) for f in FEATURES for model in (WEIGHTS, REGISTRY)),
        (RULER, WEIGHTS),
        (RULER, REGISTRY),
        *((f, SIGNAL) for f in FEATURES),
        (CUSTOMER_360, SIGNAL),
        (RULER, SIGNAL),
        (WEIGHTS, SIGNAL),
        (REGISTRY, SIGNAL),
    }
)

# The test warehouse has features for 2026-02-22 .. 2026-02-28; score one day of it from the UI.
PARTITION = date(2026, 2, 27)
RUN_TIMEOUT_S = 240.0

ASSET_NODES_QUERY = "query { assetNodes { assetKey { path } dependencyKeys { path } } }"
RUNS_QUERY = "query { runsOrError { __typename ... on Runs { results { runId status } } } }"
RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status assetSelection { path } tags { key value } }
    ... on PythonError { message }
  }
}
"""
RUN_ERRORS_QUERY = """
query RunErrors($runId: ID!) {
  logsForRun(runId: $runId, limit: 5000) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message level stepKey }
        ... on ExecutionStepFailureEvent { error { message } }
      }
    }
  }
}
"""
TERMINAL_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


# -- (a) the lineage ---------------------------------------------------------------------------------------


def test_global_asset_lineage_shows_the_trust_index(dagster_ui: DagsterWebserver, page: Page) -> None:
    graph = _asset_graph(dagster_ui)
    missing_assets = [name for name in LINEAGE_ASSETS if name not in graph]
    assert not missing_assets, f"assets missing from the code location: {missing_assets}"
    edges = {(up, down) for down, ups in graph.items() for up in ups}
    missing_edges = sorted(EXPECTED_EDGES - edges)
    assert not missing_edges, f"lineage edges missing (upstream, downstream): {missing_edges}"

    page.goto(f"{dagster_ui.base_url}/asset-groups")
    expect(page.get_by_text("Global asset lineage").first).to_be_visible()
    _expand_all_groups(page)

    # The layout settles over a few frames (slower on a busy machine): fit and look again until it is stable.
    deadline = time.monotonic() + 60
    while True:
        _fit_graph_to_window(page)
        labels = [text.strip() for text in page.locator("svg foreignObject").all_text_contents() if text.strip()]
        not_shown = [name for name in LINEAGE_ASSETS if not any(_label_shows(lab, name, list(graph)) for lab in labels)]
        if not not_shown or time.monotonic() > deadline:
            break
        page.wait_for_timeout(1000)
    save_screenshot(page, "asset-lineage")
    assert not not_shown, f"not drawn in the asset graph: {not_shown}; node labels: {labels}"


# -- (b) materialise one partition from the UI ----------------------------------------------------------------


def test_materialize_one_partition_of_the_trust_signal(
    dagster_ui: DagsterWebserver, page: Page, pipeline_warehouse: SessionWarehouse
) -> None:
    assert PARTITION in pipeline_warehouse.scoring_dates, (
        f"{PARTITION} is not a scored day of the test warehouse ({pipeline_warehouse.scoring_dates})"
    )
    signal_path = _asset_path(dagster_ui, SIGNAL)
    runs_before = {r["runId"] for r in _runs(dagster_ui)}
    assert not [r for r in _runs(dagster_ui) if r["status"] not in TERMINAL_STATUSES], "a run is already active"

    page.goto(f"{dagster_ui.base_url}/assets/{'/'.join(signal_path)}")
    expect(page.get_by_text(SIGNAL).first).to_be_visible()
    # Accessible names start with the icon's label ("materialization Materialize…"): no ^ anchors.
    page.get_by_role("button", name=re.compile(r"\bMaterialize\b")).first.click()

    # The UI may first ask whether to go ahead (it asks when it has no record of an upstream partition);
    # the data is there, so confirm.
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    confirm = page.get_by_role("button", name="Confirm")
    expect(dialog.or_(confirm).first).to_be_visible()
    if confirm.is_visible():
        confirm.click()
    expect(dialog.get_by_text(re.compile(r"^\d+ partitions?$"))).to_be_visible()

    # The partitions run to yesterday, so the dialog narrows the picker to the last 90 days, which need
    # not reach back to the test warehouse's dates. That default lands once the partition keys have
    # loaded (together with this date-range button), so choose "All time" explicitly.
    date_range = dialog.get_by_role("button", name=re.compile(r"All time|Last \d+ days"))
    date_range.click()
    page.get_by_role("menuitem", name=re.compile(r"All time")).click()
    expect(date_range).to_have_text(re.compile(r"All time"))
    partitions_input = dialog.get_by_placeholder(re.compile(r"^ex: "))
    partitions_input.fill(PARTITION.isoformat())
    partitions_input.press("Enter")
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    save_screenshot(page, "materialize-dialog")
    dialog.get_by_role("button", name="Launch 1 run").click()

    # Follow the run from the "Launched run ..." toast, as a user would.
    # Launching asks the code server for the job's config first: allow for a slow, busy 2-core machine.
    expect(page.get_by_text(re.compile(r"^Launched run"))).to_be_visible(timeout=60_000)
    view = page.get_by_role("link", name="View", exact=True)
    run_id = (view.get_attribute("href") or "").split("?")[0].rstrip("/").split("/")[-1]
    view.click()
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}"))

    new_runs = {r["runId"] for r in _runs(dagster_ui)} - runs_before
    assert new_runs == {run_id}, f"expected exactly the run {run_id} to be launched, got {new_runs}"
    run = _wait_for_run(dagster_ui, run_id)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags.get("dagster/partition") == PARTITION.isoformat(), tags
    assert [SIGNAL] in [key["path"][-1:] for key in run["assetSelection"] or []], run["assetSelection"]

    # The page follows the run over its own subscription; it should reach the same verdict.
    expect(page.get_by_text("Success", exact=True).first).to_be_visible(timeout=60_000)
    save_screenshot(page, "materialize-run-success")


# -- helpers -----------------------------------------------------------------------------------------------


def _asset_graph(server: DagsterWebserver) -> dict[str, set[str]]:
    """Asset name (last key component) -> names of its direct upstream assets."""
    nodes = server.graphql(ASSET_NODES_QUERY)["assetNodes"]
    graph: dict[str, set[str]] = {}
    for node in nodes:
        name = node["assetKey"]["path"][-1]
        assert name not in graph or name not in LINEAGE_ASSETS, f"two assets named {name}"
        graph[name] = {dep["path"][-1] for dep in node["dependencyKeys"]}
    return graph


def _asset_path(server: DagsterWebserver, name: str) -> list[str]:
    nodes = server.graphql(ASSET_NODES_QUERY)["assetNodes"]
    paths = [n["assetKey"]["path"] for n in nodes if n["assetKey"]["path"][-1] == name]
    assert len(paths) == 1, f"expected one asset named {name}, found {paths}"
    return paths[0]


def _expand_all_groups(page: Page) -> None:
    # With several asset groups the global lineage starts with every group collapsed to a box.
    page.locator("svg foreignObject").first.wait_for()
    page.locator("button:has([aria-label='settings'])").last.click()
    expand = page.get_by_role("menuitem", name=re.compile(r"Expand all groups"))
    collapse = page.get_by_role("menuitem", name=re.compile(r"Collapse all groups"))
    expect(expand.or_(collapse)).to_be_visible()
    if expand.is_visible():
        expand.click()
    else:
        page.keyboard.press("Escape")


def _fit_graph_to_window(page: Page) -> None:
    # The UI fits the graph to the panel's width and draws only the nodes in view, so a graph taller than
    # the panel loses its top and bottom rows. Grow the window by the overflow and let the UI fit again.
    page.wait_for_timeout(500)  # the expand animation
    overflow = page.evaluate(
        """() => {
            const svg = [...document.querySelectorAll('svg')].find(s => s.querySelector('foreignObject'));
            const panel = svg.parentElement.parentElement.getBoundingClientRect();
            const graph = svg.getBoundingClientRect();
            return Math.max(0, panel.top - graph.top) + Math.max(0, graph.bottom - panel.bottom);
        }"""
    )
    if overflow > 0:
        size = page.viewport_size or {"width": 1600, "height": 1000}
        page.set_viewport_size({"width": size["width"], "height": min(8000, size["height"] + int(overflow) + 120)})
        page.reload()  # expanded groups are remembered in local storage
        page.locator("svg foreignObject").first.wait_for()
        page.wait_for_timeout(500)


def _label_shows(label: str, name: str, all_names: list[str]) -> bool:
    """Whether a node label shows ``name``: the graph middle-truncates long names ("custom…_definition")."""
    if label == name:
        return True
    head, ellipsis, tail = label.partition("…")
    if not ellipsis:
        return False
    matches = [n for n in all_names if n.startswith(head) and n.endswith(tail) and len(n) > len(head) + len(tail)]
    return matches == [name]  # an ambiguous truncation proves nothing


def _runs(server: DagsterWebserver) -> list[dict[str, str]]:
    data = server.graphql(RUNS_QUERY)["runsOrError"]
    assert data["__typename"] == "Runs", data
    return data["results"]


def _wait_for_run(server: DagsterWebserver, run_id: str) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        run = server.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        if run["status"] == "SUCCESS":
            return run
        if run["status"] in TERMINAL_STATUSES:
            pytest.fail(f"run {run_id} ended {run['status']}:\n{_run_errors(server, run_id)}")
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} still {run['status']} after {RUN_TIMEOUT_S:.0f} s\n{server.log_tail()}")
        time.sleep(2)


def _run_errors(server: DagsterWebserver, run_id: str) -> str:
    logs = server.graphql(RUN_ERRORS_QUERY, {"runId": run_id})["logsForRun"]
    lines = []
    for event in logs.get("events", []):
        if event.get("level") in ("ERROR", "CRITICAL") or event.get("error"):
            detail = (event.get("error") or {}).get("message") or event.get("message", "")
            lines.append(f"[{event.get('stepKey') or '-'}] {detail}")
    return "\n".join(lines[-20:]) or server.log_tail()

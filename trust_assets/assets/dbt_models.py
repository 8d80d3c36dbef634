"""The dbt models as Dagster assets, in two groups of executions.

- ``trust_dbt_daily_models``: the incremental, snapshot_date-partitioned models (customer_360_definition,
  int_common_features and the cohort feature tables), partitioned daily. A run builds every date of its
  partition window in one ``dbt build`` (single-run backfills), so tests run once over the whole window, as
  asset checks.
- ``trust_dbt_models``: everything else (staging and intermediate views, outcome_labels), unpartitioned.

Each step is exactly one dbt invocation. The dbt vars always come from trust_assets.config (and the partition
window), never from the defaults in dbt_project.yml.
"""

import json
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from datetime import date
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets
from dagster_dbt.core.dbt_event_iterator import DbtEventIterator

from resources.warehouse import WarehouseResource
from trust_assets import config
from trust_assets.dbt_project import (
    TRUST_DBT_PROJECT,
    TrustDbtCliResource,
    dbt_resource,
    without_adapter_in_process,
)
from trust_assets.owners import ANALYTICS_ENGINEERING, DATA_ENGINEERING
from trust_assets.partition_events import run_days
from trust_assets.partitions import (
    DAILY_PARTITIONS,
    dbt_window_env,
    fixed_vars_arguments,
    partition_window_dates,
)
from trust_assets.services.dbt_daily_results import dbt_test_runner, per_partition_events

DAILY_SELECT = "config.materialized:incremental"


def load_manifest() -> dict[str, Any]:
    """The prepared dbt manifest, its DuckDB relation names pointing at this process's warehouse file.

    dbt-duckdb names the catalog after the warehouse file's stem and writes it into every relation name of the
    manifest; a manifest parsed against another file name would send the row-count and column-schema reads to
    a catalog that does not exist. BigQuery manifests are used as they are.
    """
    path = TRUST_DBT_PROJECT.manifest_path
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: prepare it with `bash scripts/dev.sh setup` "
            "(or `python -m trust_assets.dbt_project prepare`) before loading the code location"
        )
    manifest: dict[str, Any] = json.loads(path.read_text())
    if TRUST_DBT_PROJECT.target != "duckdb":
        return manifest
    catalog = config.duckdb_path().stem
    for collection in ("nodes", "sources"):
        for node in manifest.get(collection, {}).values():
            old = node.get("database")
            if not old or old == catalog:
                continue
            node["database"] = catalog
            relation = node.get("relation_name")
            if relation and relation.startswith(f'"{old}".'):
                node["relation_name"] = f'"{catalog}".' + relation[len(old) + 3 :]
    return manifest


MANIFEST = load_manifest()

# Dagster group of each business-layer model; staging and intermediate views go to "staging".
_MODEL_GROUPS: Mapping[str, str] = {
    "customer_360_definition": "customer_360",
    "int_common_features": "cohort_features",
    "mobile_features": "cohort_features",
    "tv_features": "cohort_features",
    "broadband_features": "cohort_features",
    "outcome_labels": "models",
}
_LAYER_GROUPS: Mapping[str, str] = {"staging": "staging", "intermediate": "staging"}


def _layer(props: Mapping[str, Any]) -> str:
    """The folder under models/ (staging, intermediate, marts); dbt's fqn is [project, folder, ...]."""
    fqn = props.get("fqn") or []
    return fqn[1] if len(fqn) > 2 else ""


class TrustDbtTranslator(DagsterDbtTranslator):
    """Asset keys are bare model names (raw sources are ``raw/<table>``); groups follow the architecture."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # The same keys as trust_assets.assets.raw_sources declares for the raw tables.
            return dg.AssetKey([config.SETTINGS.raw_schema, dbt_resource_props["name"]])
        return dg.AssetKey(dbt_resource_props["name"])

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        # The raw source contract gate (asset_checks/raw_contract.py) runs before the daily models read a day.
        if spec.key == dg.AssetKey("customer_360_definition"):
            spec = spec.merge_attributes(deps=[dg.AssetKey("raw_source_contract")])
        return spec

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "raw_sources"
        name = dbt_resource_props["name"]
        return _MODEL_GROUPS.get(name) or _LAYER_GROUPS.get(_layer(dbt_resource_props), "models")

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        attached = manifest["nodes"].get(manifest["nodes"][unique_id].get("attached_node") or "", {})
        if spec is None or attached.get("config", {}).get("materialized") != "incremental":
            return spec
        # A test of a daily model judges the partition window's rows: partitioned like the model, so the UI shows
        # its result for each day (trust_assets/services/dbt_daily_results.py reports one per day).
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
            partitions_def=DAILY_PARTITIONS,
        )

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The YAML description, without the SQL that dagster-dbt appends by default.
        description = (dbt_resource_props.get("description") or "").strip()
        return description or super().get_description(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        if dbt_resource_props["resource_type"] == "source":
            return [DATA_ENGINEERING]
        owner = (dbt_resource_props.get("meta") or {}).get("owner") or (
            dbt_resource_props.get("config", {}).get("meta") or {}
        ).get("owner")
        return [owner or ANALYTICS_ENGINEERING]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        layer = "raw" if dbt_resource_props["resource_type"] == "source" else _layer(dbt_resource_props)
        return {**super().get_tags(dbt_resource_props), "layer": layer or "marts"}


TRANSLATOR = TrustDbtTranslator(
    # dbt source tests become checks on the raw tables (raw/<table>), run by the foundation job.
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
)
# The daily models read the partitioned raw tables directly (bounded to the window, so BigQuery prunes); the
# source tests stay checks of the unpartitioned set, which runs them with the staging views (foundation_job).
DAILY_TRANSLATOR = TrustDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=False)
)


def _dbt_build(
    context: AssetExecutionContext, dbt: TrustDbtCliResource, start: date, end: date, *, table_metadata: bool
) -> tuple[list[Any], Exception | None]:
    """Every Dagster event of one ``dbt build`` of the snapshot dates ``start`` .. ``end`` and the error it ended
    with (raised by the caller after the events, as dagster-dbt does). ``table_metadata``: attach each model's
    whole-table row count and its columns and column lineage as built; not for the daily models, whose
    partitions carry their own day's row count and whose columns are their enforced contract (already in the
    definitions), so reading them again would only slow every run (docs/performance.md, "No adapter or metadata
    reads in the daily dbt step")."""
    context.log.info(f"dbt build of the snapshot dates {start} .. {end}")
    args = [
        "build",
        # The same vars as the prepared manifest (trust_assets/dbt_project.py), so dbt re-uses its parse.
        *fixed_vars_arguments(),
        # Unit tests check the SQL, not the data: they run in CI (tests/dbt), not in every daily run.
        "--exclude-resource-type",
        "unit_test",
    ]
    with nullcontext() if table_metadata else without_adapter_in_process():
        invocation = dbt.cli(args, context=context, env=dbt_window_env(start, end))
    if TRUST_DBT_PROJECT.target != "duckdb" or not table_metadata:
        return _wait_for_dbt(invocation.stream())
    # On DuckDB the metadata can only be read once dbt has exited and released the file, so dagster-dbt waits
    # for the whole event stream first; but its wait (dagster._core.utils.imap) polls without sleeping while no
    # event is queued, and that loop takes a core from DuckDB for the whole build (docs/performance.md, the
    # Dagster item of "Current code"). Waiting here on dbt's output with blocking reads leaves it nothing to wait
    # for.
    events, failure = _wait_for_dbt(invocation.stream())
    try:
        # Row counts and column schemas in the UI (on BigQuery each would cost a query).
        with_metadata = DbtEventIterator(iter(events), dbt_cli_invocation=invocation).fetch_row_counts()
        return list(with_metadata.fetch_column_metadata()), failure
    finally:
        _release_duckdb_in_this_process()


def _wait_for_dbt(stream: Iterator[Any]) -> tuple[list[Any], Exception | None]:
    """Every event of a dbt invocation, and the error it ended with (if any)."""
    events: list[Any] = []
    try:
        for event in stream:
            events.append(event)
    except Exception as error:  # re-raised by the caller once the events before it are yielded
        return events, error
    return events, None


def _release_duckdb_in_this_process() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in this process after the metadata reads.

    dagster-dbt reads row counts and column schemas through the dbt adapter inside the run process, and
    dbt-duckdb keeps that connection for the life of the process: it would lock the warehouse file against
    the next dbt subprocess and make other readers of the file fail ("different configuration").
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb is not installed where only BigQuery runs
        return
    environment = DuckDBConnectionManager._ENV
    close = getattr(environment, "close", None)
    if callable(close):
        close()
    DuckDBConnectionManager.close_all_connections()


@dbt_assets(
    manifest=MANIFEST,
    project=TRUST_DBT_PROJECT,
    select=DAILY_SELECT,
    name="trust_dbt_daily_models",
    partitions_def=DAILY_PARTITIONS,
    # One dbt run for a whole backfill range: the models build every date of the window in one statement.
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=DAILY_TRANSLATOR,
)
def trust_dbt_daily_models(
    context: AssetExecutionContext, dbt: TrustDbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """customer_360_definition, the shared feature families and the cohort features for the snapshot dates of
    the partition window."""
    start, end = partition_window_dates(context)
    events, failure = _dbt_build(context, dbt, start, end, table_metadata=False)
    # Each day's row count and each day's test results on its own partition (also in multi-day runs).
    yield from per_partition_events(
        context, events, warehouse, MANIFEST, dbt_test_runner(dbt, MANIFEST), run_days(context)
    )
    if failure is not None:
        raise failure


@dbt_assets(
    manifest=MANIFEST,
    project=TRUST_DBT_PROJECT,
    exclude=DAILY_SELECT,
    name="trust_dbt_models",
    dagster_dbt_translator=TRANSLATOR,
)
def trust_dbt_models(context: AssetExecutionContext, dbt: TrustDbtCliResource) -> Iterator[Any]:
    """Staging and intermediate views over the raw sources, and the outcome labels of the reference date."""
    reference_date = config.SETTINGS.model.reference_date
    events, failure = _dbt_build(context, dbt, reference_date, reference_date, table_metadata=True)
    yield from events
    if failure is not None:
        raise failure


__all__ = ["TRANSLATOR", "TrustDbtTranslator", "dbt_resource", "trust_dbt_daily_models", "trust_dbt_models"]

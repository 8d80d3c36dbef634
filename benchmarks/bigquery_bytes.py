"""Bytes BigQuery on-demand would bill for one normal daily run, measured on a DuckDB warehouse of the same data.

On a copy of ``--warehouse`` (prepared by benchmarks/daily/prepare.py: the synthetic telco with its ruler and
models), the day before ``--day`` is first built, scored and validated when it is not yet (as the run of that day
would have left it), then the run of ``--day`` issues its statements, each stage recorded:

1. dbt: ``dbt build`` of the daily models for the day, as the Dagster asset runs it; each model's compiled SQL
   and each data test's, transpiled to BigQuery, plus what dbt-bigquery's insert_overwrite reads beyond the
   model's query, derived from each model's config as the project parses it for the ``bigquery`` target
   (``_insert_overwrite``): with the daily models' dynamic partitions and ``copy_partitions``, the read of the
   partitions to replace from the temporary table; the copy jobs that replace them bill nothing.
2. the raw-contract gate and its records (validated loads, the distribution guard's quantiles), through a
   warehouse that answers INFORMATION_SCHEMA.PARTITIONS as BigQuery does (tests/guards/test_partition_metadata.py),
   so the load checksums skip the partitions proved untouched and the distribution guard takes their quantiles
   from the record of the day before, as on BigQuery.
3. customer_trust_signal and its asset checks, materialised by Dagster; a one-day write is a partition load
   job (free), a longer window's the INSERT ... SELECT of the replace script, which bills the staging table.
4. the rest of ``daily_trust_job``: its selection (trust_assets/jobs.py, resolved by Dagster against the code
   location) less what stages 1-3 run, i.e. the Dagster asset checks on the dbt daily models (schema,
   row_count_stable, covers_customer_360, missing_share) and the daily monitoring and model-operation assets
   (feature_drift, score_distribution, monitoring_report, the shadow and probation assets) with their checks.
   They are executed by Dagster in process as one run of the job's own asset and check definitions for the
   partition, with the code location's resources and the recording warehouse, exactly as in stage 3: the
   checks read what they read in the job (the day's partitions, and the day before for the day-over-day
   counts), after the day's models, scores and record exist. The dbt steps are left out (stage 1); only the
   dbt asset's own reads after ``dbt build`` (each daily model's per-day row count), which stage 1's dbt
   subprocess does not issue, are made here with the function the asset calls. The order of steps differs from
   the job's (the checks on the dbt models run after the trust signal here); no statement depends on it.

Each statement is billed by resources/bigquery_billing.py: the referenced columns of each table over the
partitions not pruned, measured with DuckDB on the copy, at least 10 MB per table; then scaled by ``--scale``
(the 20,000-customer telco x 1000: 20 M customers, 30 M customer-products) and by 1.5 times that. The report
gives each stage's lines and total, then the whole daily run as the sum of stages 1 to 4 in GiB (2^30 bytes)
and GB (10^9 bytes, the unit of the docs and of the on-demand price per TiB), then what the job would also send
on a day or a warehouse unlike the copy's (a challenger, a probation, the outcome monitors' tables), named as
not measured, and what runs beside the job (the sensors).

    .venv/bin/python -m benchmarks.bigquery_bytes --warehouse /path/telco_20000/warehouse.duckdb \\
        --day 2026-02-28 --scale 1000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from resources.bigquery_billing import (
    MIN_TABLE_BYTES,
    Catalogue,
    Partitioning,
    TableRead,
    bind_parameters,
    query_reads,
    scan_sql,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the recording warehouses of the tests are reused
GIB = 2**30
# What the x1.5 column stands for: 45 M customer-products instead of 30 M.
GROWTH = 1.5


class MeasurementError(Exception):
    """An expected failure (missing warehouse, a failed dbt build, a failing gate): one line, no traceback."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Issued:
    """One statement a stage sends to BigQuery: its BigQuery SQL, parameter values and origin."""

    stage: str
    origin: str
    sql: str
    values: tuple[tuple[str, Any], ...] = ()
    note: str = ""


# --- the warehouse copy ---------------------------------------------------------------------------------------
def copy_warehouse(source: Path, workdir: Path) -> Path:
    """A private copy (the run writes a day); same file name, as dbt-duckdb's views expect."""
    if not source.is_file():
        raise MeasurementError(f"no warehouse at {source}: prepare one with benchmarks/daily/prepare.py")
    target = workdir / "warehouse.duckdb"
    shutil.copy(source, target)
    return target


def _count(path: Path, sql: str, params: Sequence[object] = ()) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            row = con.execute(sql, list(params)).fetchone()
        except duckdb.CatalogException:
            return 0
    return int(row[0]) if row else 0


def _dbt(path: Path, day: date, command: str, target: Path) -> None:
    """``dbt <command>`` of the daily models for ``day`` with the arguments the Dagster asset passes."""
    from trust_assets.assets.dbt_models import DAILY_SELECT
    from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_executable
    from trust_assets.partitions import dbt_window_env, fixed_vars_arguments

    args = [dbt_executable(), command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--select", DAILY_SELECT, *fixed_vars_arguments()]
    if command == "build":  # the unit tests run in CI, not in a daily run
        args += ["--exclude-resource-type", "unit_test"]
    env = {**os.environ, "TRUST_DUCKDB_PATH": str(path), **dbt_window_env(day, day)}
    done = subprocess.run(args, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, env=env)
    if done.returncode:
        tail = " | ".join(line for line in (done.stdout + done.stderr).splitlines()[-8:] if line.strip())
        raise MeasurementError(f"dbt {command} for {day} failed: {tail}")


def ensure_day_before(path: Path, day: date) -> None:
    """Leave the copy as the run of the day before ``day`` would: its features and scores published, its raw
    loads validated and the quantiles its distribution guard used recorded (a normal run of ``day`` reads the day
    before and re-checks only what arrived since), and its score distribution computed, which stores the summary
    of each production model version's reference population the first time it is needed (a normal run of ``day``
    reads that summary instead of re-scoring the reference date)."""
    from asset_checks import raw_loads, raw_quantiles
    from asset_checks.raw_contract import evaluate_raw_contract
    from resources.warehouse import DuckDBWarehouse
    from trust_assets.services.monitoring import compute_score_distribution
    from trust_assets.services.publishing import publish_scores
    from trust_assets.tables import REFERENCE_SCORE_DISTRIBUTION, SCORE_DISTRIBUTION, TRUST_SIGNAL

    before = day - timedelta(days=1)
    warehouse = DuckDBWarehouse(path=str(path))
    if not _count(path, f"select count(*) from analytics.{TRUST_SIGNAL} where snapshot_date = ?", [before]):
        log(f"  the day before: dbt build and scores for {before}")
        with tempfile.TemporaryDirectory(prefix="bytes-dbt-") as target:
            _dbt(path, before, "run", Path(target))
        publish_scores(warehouse, before, before)
    recorded = [_count(path, f"select count(*) from analytics.{table} where validated_for >= ?", [before])
                for table in (raw_loads.STATE_TABLE, raw_quantiles.QUANTILE_TABLE)]
    if not all(recorded):
        log(f"  the day before: raw-contract gate and its records for {before}")
        report = evaluate_raw_contract(warehouse, before, before)
        if report.failed:
            raise MeasurementError(f"the raw-contract gate of {before} fails: {sorted(report.failed)}")
        # What the gate asset records when it passes (asset_checks/raw_contract.py raw_source_contract).
        raw_loads.record_validated(warehouse, report.loads, before)
        raw_quantiles.record_quantiles(warehouse, report.quantiles, before)
    if not _count(path, f"select count(*) from analytics.{REFERENCE_SCORE_DISTRIBUTION}"):
        log(f"  the day before: score distribution for {before} (stores the reference score summaries)")
        warehouse.replace_partitions(SCORE_DISTRIBUTION, compute_score_distribution(warehouse, before, before),
                                     before, before)


# --- stage 1: dbt -------------------------------------------------------------------------------------------
def _to_bigquery(sql: str) -> str:
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write="bigquery"))


def _tested_model(node: Mapping[str, Any]) -> str:
    parents = [p.split(".")[-1] for p in node.get("depends_on", {}).get("nodes", []) if p.startswith("model.")]
    return node.get("attached_node", "").split(".")[-1] or (parents[0] if parents else "?")


def dbt_statements(path: Path, day: date) -> tuple[list[Issued], dict[str, Any]]:
    """The day's dbt build: each model's and data test's compiled SQL, and insert_overwrite's own statements."""
    with tempfile.TemporaryDirectory(prefix="bytes-dbt-") as target:
        _dbt(path, day, "build", Path(target))
        results = json.loads(Path(target, "run_results.json").read_text())["results"]
        manifest = json.loads(Path(target, "manifest.json").read_text())
    bigquery = bigquery_model_configs()
    issued: list[Issued] = []
    for result in results:
        node = manifest["nodes"].get(result["unique_id"], {})
        code = result.get("compiled_code")
        if not code:
            continue
        if node.get("resource_type") == "model":
            issued.append(Issued("dbt", node["name"], _to_bigquery(code)))
            if node["unique_id"] in bigquery:
                issued += _insert_overwrite(node, bigquery[node["unique_id"]], day)
        else:
            issued.append(Issued("dbt", f"tests of {_tested_model(node)}", _to_bigquery(code)))
    return issued, manifest


def bigquery_model_configs() -> dict[str, dict[str, Any]]:
    """The config of each incremental model as dbt parses the project for the ``bigquery`` target: parsing needs
    no credentials, and the window is read only at execution, so the config is the same for every day."""
    from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_executable
    from trust_assets.partitions import fixed_vars_arguments

    env = {**os.environ, "TRUST_BQ_PROJECT": "example-project", "GOOGLE_APPLICATION_CREDENTIALS": "",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    with tempfile.TemporaryDirectory(prefix="bytes-dbt-bigquery-") as tmp:
        args = [dbt_executable(), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                str(DBT_PROJECT_DIR), "--target", "bigquery", "--target-path", str(Path(tmp, "target")),
                "--log-path", str(Path(tmp, "logs")), *fixed_vars_arguments()]
        done = subprocess.run(args, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, env=env)
        if done.returncode:
            # The usual cause: no dbt-bigquery, which requirements-bigquery.lock brings and requirements.lock not.
            raise MeasurementError("dbt parse for the bigquery target failed (run the benchmark with `bash "
                                   "scripts/dev.sh bench bigquery_bytes ...`, which installs requirements-bigquery"
                                   f".lock): {done.stdout[-500:]}")
        nodes = json.loads(Path(tmp, "target", "manifest.json").read_text())["nodes"]
    return {key: node["config"] for key, node in nodes.items()
            if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"}


def _insert_overwrite(node: Mapping[str, Any], config: Mapping[str, Any], day: date) -> list[Issued]:
    """What dbt-bigquery 1.11's incremental materialisation reads with insert_overwrite on an existing table
    beyond the model's query, which is billed once as the model's line whether it fills the temporary table or
    sits inline in the MERGE (macros incremental.sql and incremental_strategy/insert_overwrite.sql):

    - a temporary table of the model's rows is created first unless on_schema_change is 'ignore' (the enforced
      contracts allow only 'fail' or 'append_new_columns'); the dynamic and copy_partitions paths create it anyway;
    - dynamic (no ``partitions``): the partitions to replace, read from the temporary table (``select distinct``
      with copy_partitions, ``array_agg(distinct ...)`` in the MERGE script); static takes them from the
      literals alone, read from no table;
    - copy_partitions: one copy job per partition, which bills nothing, and no MERGE;
    - otherwise the MERGE, whose USING is the temporary table when there is one, else the model's query inline.

    The MERGE's own target is not billed: the pre-hook's DELETE of the window's whole partitions (free) has emptied
    it. The temporary table holds the model's rows of the window, measured on the model's own partitions: the
    config's ``partitions`` when static, else the day."""
    if config.get("incremental_strategy") != "insert_overwrite":
        raise MeasurementError(f"{node['name']} is not insert_overwrite on BigQuery: its statements are not modelled")
    table = f"{node['schema']}.{node['alias'] or node['name']}"
    partitions = list(config.get("partitions") or [])
    where = (f"WHERE snapshot_date IN ({', '.join(partitions)})" if partitions
             else f"WHERE snapshot_date = DATE '{day.isoformat()}'")
    copy = (config.get("partition_by") or {}).get("copy_partitions") is True  # the macros test `is true`
    temporary = copy or not partitions or config.get("on_schema_change", "ignore") != "ignore"
    issued = []
    if not partitions:
        read = "DISTINCT snapshot_date" if copy else "ARRAY_AGG(DISTINCT snapshot_date)"
        issued.append(Issued("dbt", node["name"], f"SELECT {read} FROM {table} {where}",
                             note="temporary table: partitions to replace"))
    if temporary and not copy:
        issued.append(Issued("dbt", node["name"], f"SELECT * FROM {table} {where}", note="temporary table: MERGE"))
    return issued


# --- stages 2 and 3: the recorded Python statements -------------------------------------------------------------
# The BigQuery warehouse's metadata read (resources/bigquery_warehouse.py partition_metadata_sql), engine-neutral.
PARTITIONS_SQL = ("select partition_id, total_rows, last_modified_time as last_modified "
                  "from {raw}.INFORMATION_SCHEMA.PARTITIONS where table_name = $table_name")
# What the replace script's INSERT reads: the staging table, i.e. the window's rows just written (parameters
# named apart from any the product's statements use, so the note goes to this statement only).
STAGING_SQL = "select * from {analytics}.%s where %s between $staging_start and $staging_end"
STAGING_NOTE = "staging table: INSERT of the replace script"


def _metered(base: type) -> type:
    """``base`` (a recording DuckDB warehouse) that also records what BigQuery bills beyond read / execute: the
    INFORMATION_SCHEMA.PARTITIONS query of ``partition_metadata`` and the INSERT of ``replace_partitions``."""
    from tests.bigquery.recording import record

    class Metered(base):  # type: ignore[misc, valid-type]
        def partition_metadata(self, table: str, schema: str | None = None) -> Any:
            record(PARTITIONS_SQL, {"table_name": table})
            return super().partition_metadata(table, schema)

        def replace_partitions(self, table: str, frame: Any, start: date, end: date,
                               partition_column: str = "snapshot_date") -> None:
            super().replace_partitions(table, frame, start, end, partition_column)
            # As resources/bigquery_warehouse.py writes: one day of rows is a partition load job (free); any other
            # window goes through a staging table and the replace script's INSERT.
            if start == end and frame.height and partition_column in frame.columns:
                return
            record(STAGING_SQL % (table, partition_column), {"staging_start": start, "staging_end": end})

    return Metered


def _recorded(stage: str) -> list[Issued]:
    from resources.sql_dialect import bigquery_sql
    from tests.bigquery.recording import RECORDED

    out = []
    for s in RECORDED:
        note = STAGING_NOTE if "staging_start" in s.params else ""
        out.append(Issued(stage, s.origin, bigquery_sql(s.sql, "project", "analytics", "raw"), s.values, note))
    RECORDED.clear()
    return out


def gate_statements(path: Path, day: date) -> list[Issued]:
    """The raw-contract gate of a normal ``day`` (records ending the day before) and the records it then writes,
    as the gate asset does."""
    from asset_checks import raw_loads, raw_quantiles
    from asset_checks.raw_contract import evaluate_raw_contract
    from tests.bigquery.recording import RECORDED
    from tests.guards.test_gate_bounds import without_record_since
    from tests.guards.test_partition_metadata import PartitionedDuckDBWarehouse, log_writes_since

    without_record_since(path, day)
    log_writes_since(path, day)
    warehouse = _metered(PartitionedDuckDBWarehouse)(path=str(path))
    RECORDED.clear()
    report = evaluate_raw_contract(warehouse, day, day)
    if report.failed:
        raise MeasurementError(f"the raw-contract gate of {day} fails: {sorted(report.failed)}")
    raw_loads.record_validated(warehouse, report.loads, day)
    raw_quantiles.record_quantiles(warehouse, report.quantiles, day)
    return _recorded("gate")


def local_definitions(job: Any, warehouse: Any = None) -> Any:
    """The code location's assets, checks and resources with ``job`` added, in one process, and ``warehouse``
    (a recording one) in place of the configured warehouse."""
    import dagster as dg

    from trust_assets.definitions import defs

    resources = {**(defs.resources or {}), **({"warehouse": warehouse} if warehouse is not None else {})}
    return dg.Definitions(assets=list(defs.assets or []), asset_checks=list(defs.asset_checks or []), jobs=[job],
                          resources=resources, executor=dg.in_process_executor)


def run_in_process(job: Any, path: Path, day: date, what: str) -> None:
    """Execute ``job`` for the partition ``day`` on a recording warehouse over ``path``; every step must run and
    succeed (a skipped step would leave its statements out unnoticed)."""
    import dagster as dg

    from tests.bigquery.recording import RecordingDuckDBWarehouse
    from trust_assets.config import SETTINGS

    warehouse = _metered(RecordingDuckDBWarehouse)(path=str(path), analytics_schema=SETTINGS.analytics_schema)
    resolved = local_definitions(job, warehouse).resolve_job_def(job.name)
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        result = resolved.execute_in_process(
            instance=instance, partition_key=day.isoformat(), raise_on_error=False, run_config=quiet)
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    if failed:
        raise MeasurementError(f"{what} for {day} failed in {failed}")
    skipped = sorted({n.name for n in resolved.nodes} - {e.step_key for e in result.all_events if e.is_step_success})
    if skipped:
        raise MeasurementError(f"{what} for {day}: steps did not run: {skipped}")


def python_statements(path: Path, day: date) -> list[Issued]:
    """customer_trust_signal for ``day`` and its asset checks, materialised by Dagster in process."""
    from tests.bigquery.recording import RECORDED
    from trust_assets.tables import TRUST_SIGNAL

    RECORDED.clear()
    run_in_process(trust_signal_job(), path, day, f"materialising {TRUST_SIGNAL}")
    return _recorded("python")


def trust_signal_job() -> Any:
    """Stage 3's job: customer_trust_signal and every check on it."""
    import dagster as dg

    from trust_assets.tables import TRUST_SIGNAL

    return dg.define_asset_job("bigquery_bytes_trust_signal", selection=dg.AssetSelection.assets(TRUST_SIGNAL))


# --- stage 4: the rest of the daily job ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DailyJobPart:
    """Stage 4's share of the daily job: its selection less what stages 1-3 run."""

    assets: frozenset[Any]  # dg.AssetKey
    checks: frozenset[Any]  # dg.AssetCheckKey

    def names(self) -> list[str]:
        return sorted([k.to_user_string() for k in self.assets]
                      + [f"{k.asset_key.to_user_string()}:{k.name}" for k in self.checks])

    def job(self) -> Any:
        """Its assets without their other checks, and its checks (the Dagster checks on the dbt models alone:
        selecting a dbt model would run dbt again)."""
        import dagster as dg

        selection = dg.AssetSelection.assets(*self.assets).without_checks() | dg.AssetSelection.checks(*self.checks)
        return dg.define_asset_job("bigquery_bytes_daily_rest", selection=selection)


def daily_job_rest() -> DailyJobPart:
    """What ``daily_trust_job`` selects (trust_assets/jobs.py, resolved as Dagster resolves it) beyond stage 1
    (the dbt asset's models and its dbt tests), stage 2 (the gate asset and its checks) and stage 3
    (customer_trust_signal and every check on it): the Dagster checks on the dbt models and the daily
    monitoring and model-operation assets with their checks. Derived from the job, so an asset or check added
    to it later is measured without a change here."""
    import dagster as dg

    from asset_checks.raw_contract import raw_source_contract
    from trust_assets.assets.dbt_models import trust_dbt_daily_models
    from trust_assets.definitions import defs
    from trust_assets.jobs import daily_trust_job
    from trust_assets.tables import TRUST_SIGNAL

    graph = defs.resolve_asset_graph()
    selection = daily_trust_job.selection
    trust_signal = dg.AssetSelection.assets(TRUST_SIGNAL)  # stage 3's selection: the asset and its checks
    assets = selection.resolve(graph) - trust_dbt_daily_models.keys - raw_source_contract.keys - {
        dg.AssetKey(TRUST_SIGNAL)}
    # Only the dbt asset's own checks (its dbt tests) are stage 1's: the Dagster checks on the models are here.
    checks = (selection.resolve_checks(graph) - trust_dbt_daily_models.check_keys - raw_source_contract.check_keys
              - trust_signal.resolve_checks(graph))
    return DailyJobPart(frozenset(assets), frozenset(checks))


def dbt_row_counts(warehouse: Any, day: date) -> None:
    """The dbt asset's own reads after ``dbt build``: one per-day row count per daily model
    (trust_assets/services/dbt_daily_results.py per_partition_events), made as it makes them. Stage 1 runs dbt
    outside Dagster, so they are issued here."""
    from trust_assets.assets.dbt_models import MANIFEST
    from trust_assets.services.dbt_daily_results import daily_row_counts

    for node in MANIFEST["nodes"].values():
        if node.get("resource_type") == "model" and node["config"].get("materialized") == "incremental":
            daily_row_counts(warehouse, f"{node['schema']}.{node.get('alias') or node['name']}", day, day)


def rest_statements(path: Path, day: date, part: DailyJobPart) -> list[Issued]:
    """Stage 4: the dbt asset's row counts, then the rest of the daily job for ``day`` executed by Dagster in
    process as one run of those steps. Its assets read what stages 1-3 left (the day's models, trust signal and
    record), as in the job."""
    from tests.bigquery.recording import RECORDED, RecordingDuckDBWarehouse
    from trust_assets.config import SETTINGS

    RECORDED.clear()
    dbt_row_counts(_metered(RecordingDuckDBWarehouse)(path=str(path), analytics_schema=SETTINGS.analytics_schema),
                   day)
    run_in_process(part.job(), path, day, "the rest of the daily job")
    return _recorded("rest")


def unmeasured(path: Path, day: date) -> list[str]:
    """What the daily job would also send on a day or a warehouse unlike the copy's, so no stage recorded it
    (each named only when the copy shows it was skipped), and what runs beside the job."""
    from trust_assets.assets.monitoring_drift import OUTCOME_REPORT_TABLES
    from trust_assets.config import SETTINGS
    from trust_assets.operations.shadow import SHADOW_TABLE
    from trust_assets.tables import REFERENCE_SCORE_DISTRIBUTION

    def rows(table: str) -> int:
        return _count(path, f"select count(*) from analytics.{table} where snapshot_date = ?", [day])

    out = []
    absent = [t for t in OUTCOME_REPORT_TABLES if not _count(path, f"select count(*) from analytics.{t}")]
    if absent:
        out.append(f"the monitoring report's reads of {', '.join(absent)} (empty or absent here: written by the "
                   "outcome monitors' own job; small tables, about 10 MB a statement)")
    if not rows(SHADOW_TABLE):
        out.append(f"a challenger's shadow scoring ({SHADOW_TABLE}: no staging model version here; it would read "
                   "the day's features again, like stage 3's scoring)")
    if not rows(SETTINGS.probation.previous_champion_table):
        out.append(f"probation scoring ({SETTINGS.probation.previous_champion_table}, "
                   f"{SETTINGS.probation.guard_table}) and a canary's comparison in the report: no promotion in "
                   "probation or canary here")
    out.append("the first day a model version scores (or after a change of the score-distribution settings): "
               f"score_distribution re-scores its reference population once, reading the reference date's "
               f"features, and stores the summary in {REFERENCE_SCORE_DISTRIBUTION}; every later day reads the "
               "stored row (measured here: the day before stored it)")
    out.append("outside the daily job: the sensors' ticks (automatic_rollback_sensor every 10 minutes in "
               "production, feature_drift_sensor hourly once started), each a few reads of small tables at the "
               "10 MB minimum")
    return out


# --- measuring ---------------------------------------------------------------------------------------------------
def read_catalogue(path: Path, manifest: Mapping[str, Any]) -> Catalogue:
    """Columns and views of the copy; raw tables partitioned as the source contract says, product tables by
    snapshot_date (the daily dbt models and the Python-written tables), except dbt's whole-table models."""
    from source_contract.raw_tables import RAW_TABLES

    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select lower(table_schema), lower(table_name), lower(column_name), data_type "
                           "from information_schema.columns where table_catalog = current_database()").fetchall()
        views = con.execute("select lower(schema_name), lower(view_name), sql from duckdb_views() "
                            "where not internal and database_name = current_database()").fetchall()
    columns: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, kind in rows:
        columns.setdefault((schema, table), {})[column] = kind
    catalogue = Catalogue(columns=columns)
    for (schema, name), sql in {(s, n): q for s, n, q in views}.items():
        body = sqlglot.parse_one(sql, read="duckdb").expression
        catalogue.views[(schema, name)] = body.sql(dialect="bigquery")
    whole_tables = {n["name"] for n in manifest["nodes"].values()
                    if n.get("resource_type") == "model" and n["config"].get("materialized") != "incremental"}
    for key, cols in columns.items():
        if key[0] != "raw" and key not in catalogue.views and "snapshot_date" in cols and key[1] not in whole_tables:
            catalogue.partitioning[key] = Partitioning("snapshot_date")
    for table in RAW_TABLES:
        if table.partition_by and ("raw", table.name) in columns:
            kind = columns[("raw", table.name)][table.partition_by.lower()]
            catalogue.partitioning[("raw", table.name)] = Partitioning(table.partition_by, "TIMESTAMP" in kind)
    return catalogue


@dataclass
class Sizer:
    """Logical bytes of each read, measured once on the copy."""

    con: duckdb.DuckDBPyConnection
    catalogue: Catalogue
    cache: dict[TableRead, int] = field(default_factory=dict)

    def __call__(self, read: TableRead) -> int:
        if read not in self.cache:
            sql = scan_sql(read, self.catalogue)
            row = self.con.execute(sql).fetchone() if sql else None
            self.cache[read] = int(row[0] or 0) if row else 0
        return self.cache[read]

    def scales(self, read: TableRead) -> bool:
        """Whether the table grows with the customers: the raw tables and every product table with a customer_id;
        the others (models, ruler, the record of validated loads) keep their size at any scale."""
        return read.schema == "raw" or "customer_id" in self.catalogue.columns[(read.schema, read.table)]

    def unpruned(self, read: TableRead) -> str:
        """' (every partition: N days)' when ``read`` prunes no partition of a partitioned table, else ''."""
        partitioning = self.catalogue.partitioning.get((read.schema, read.table))
        if partitioning is None or not any(d.everything for d in read.days):
            return ""
        day = f'cast("{partitioning.column}" as date)'
        row = self.con.execute(f'select count(distinct {day}) from "{read.schema}"."{read.table}"').fetchone()
        return f" (every partition: {row[0] if row else 0} days)"


@dataclass
class Line:
    """Statements of one origin on one table: how many, logical bytes at the warehouse's size, billed bytes at
    each scale (the 10 MB minimum applied per statement and table after scaling)."""

    statements: int = 0
    logical: int = 0
    billed: dict[float, int] = field(default_factory=dict)

    def add(self, logical: int, billed: Mapping[float, int]) -> None:
        self.statements += 1
        self.logical += logical
        for scale, value in billed.items():
            self.billed[scale] = self.billed.get(scale, 0) + value


@dataclass(frozen=True)
class Billed:
    """One statement's bill, for the list of the largest."""

    issued: Issued
    tables: tuple[str, ...]
    billed: dict[float, int]


def bill_statement(issued: Issued, catalogue: Catalogue, sizer: Sizer, scales: Sequence[float],
                   lines: dict[tuple[str, str, str], Line]) -> Billed:
    """Add one statement's bill to ``lines`` (by stage, origin, table) and return it."""
    total = dict.fromkeys(scales, 0)
    tables: list[str] = []
    for query in query_reads(bind_parameters(issued.sql, dict(issued.values)), catalogue):
        if query.fixed_bytes:
            _add(lines, issued, "INFORMATION_SCHEMA", 0, dict.fromkeys(scales, query.fixed_bytes), total)
        if not query.reads and not query.fixed_bytes:
            _add(lines, issued, f"({query.kind}: free)", 0, dict.fromkeys(scales, 0), total)
        for read in query.reads:
            logical = sizer(read)
            grows = sizer.scales(read)
            billed = {s: max(round(logical * (s if grows else 1)), MIN_TABLE_BYTES) for s in scales}
            _add(lines, issued, read.name + sizer.unpruned(read), logical, billed, total)
            tables.append(read.name)
    return Billed(issued, tuple(tables), total)


def _add(lines: dict[tuple[str, str, str], Line], issued: Issued, table: str, logical: int,
         billed: Mapping[float, int], total: dict[float, int]) -> None:
    label = f"{table} [{issued.note}]" if issued.note else table
    lines.setdefault((issued.stage, issued.origin, label), Line()).add(logical, billed)
    for scale, value in billed.items():
        total[scale] += value


# --- the report ----------------------------------------------------------------------------------------------
STAGE_TITLES = {"dbt": "1. dbt daily models (and their data tests)", "gate": "2. raw-contract gate",
                "python": "3. customer_trust_signal and its asset checks",
                "rest": "4. the daily job's other asset checks and daily monitoring assets"}


def human(n: float) -> str:
    return f"{n / GIB:9.2f} GiB" if n >= GIB else f"{n / 2**20:9.1f} MiB"


def gib_gb(n: float) -> str:
    """Both units: GiB (2^30 bytes) as in the tables, GB (10^9 bytes) as in the docs and the price per TiB."""
    return f"{n / GIB:8.2f} GiB {n / 1e9:8.2f} GB"


def print_report(lines: Mapping[tuple[str, str, str], Line], scales: Sequence[float], labels: Sequence[str],
                 largest: Sequence[Billed], legend: str, ran: Mapping[str, str] | None = None,
                 unmeasured: Sequence[str] = ()) -> None:
    print(legend)
    header = f"  {'origin':<40} {'table':<62} {'stmts':>5} {'logical here':>13}" + "".join(
        f" {x:>13}" for x in labels)
    totals: dict[str, dict[float, int]] = {}
    for stage, title in STAGE_TITLES.items():
        print(f"\n{title}")
        if ran and stage in ran:
            print(textwrap.fill(ran[stage], width=150, initial_indent="  runs: ", subsequent_indent="        "))
        print(header)
        rows = sorted(((k, v) for k, v in lines.items() if k[0] == stage), key=lambda kv: -kv[1].billed[scales[-1]])
        stage_total = dict.fromkeys(scales, 0)
        for (_, origin, table), line in rows:
            print(f"  {origin[:40]:<40} {table[:62]:<62} {line.statements:>5} {human(line.logical):>13}"
                  + "".join(f" {human(line.billed[s]):>13}" for s in scales))
            for s in scales:
                stage_total[s] += line.billed[s]
        totals[stage] = stage_total
        print(f"  {'TOTAL ' + title:<103} {'':>5} {'':>13}" + "".join(f" {human(stage_total[s]):>13}" for s in scales))
    summed = " + ".join(title.split(".")[0] for title in STAGE_TITLES.values())
    print(f"\nwhole daily run (billed) = stages {summed}, in GiB (2^30 bytes) and GB (10^9 bytes)")
    print(f"  {'stage':<68}" + "".join(f" {x:>25}" for x in labels))
    for stage, title in STAGE_TITLES.items():
        print(f"  {title:<68}" + "".join(f" {gib_gb(totals[stage][s]):>25}" for s in scales))
    print(f"  {'whole daily run: stages ' + summed:<68}"
          + "".join(f" {gib_gb(sum(t[s] for t in totals.values())):>25}" for s in scales))
    for item in unmeasured:
        print(f"  not measured: {item}")
    print(f"\nlargest statements at {labels[-2]}")
    for item in largest:
        sql = " ".join(re.sub(r"/\*.*?\*/|--[^\n]*", " ", item.issued.sql, flags=re.DOTALL).split())
        print(f"  {human(item.billed[scales[-2]]):>13}  {item.issued.stage:<6} {item.issued.origin:<40} "
              f"{', '.join(sorted(set(item.tables)))[:70]}\n{'':>17}{sql[:150]}")


# --- main --------------------------------------------------------------------------------------------------------
@contextmanager
def workspace(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="bigquery-bytes-") as tmp:
        yield Path(tmp)


def record_run(path: Path, day: date, rest: DailyJobPart) -> tuple[list[Issued], dict[str, Any]]:
    """Every statement the daily run of ``day`` sends, stage by stage, and the dbt manifest of its build."""
    log(f"preparing the day before {day}")
    ensure_day_before(path, day)
    log(f"stage 1: dbt build of the daily models for {day}")
    issued, manifest = dbt_statements(path, day)
    log("stage 2: raw-contract gate")
    issued += gate_statements(path, day)
    log("stage 3: customer_trust_signal and its asset checks")
    issued += python_statements(path, day)
    log(f"stage 4: the rest of the daily job ({len(rest.assets)} assets, {len(rest.checks)} checks)")
    issued += rest_statements(path, day, rest)
    return issued, manifest


def measure(path: Path, issued: Sequence[Issued], manifest: Mapping[str, Any],
            scales: Sequence[float]) -> tuple[dict[tuple[str, str, str], Line], list[Billed]]:
    log(f"measuring {len(issued)} statements")
    catalogue = read_catalogue(path, manifest)
    lines: dict[tuple[str, str, str], Line] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        sizer = Sizer(con, catalogue)
        bills = [bill_statement(item, catalogue, sizer, scales, lines) for item in issued]
    return lines, bills


def legend(rows: int, day: date, scale: float) -> str:
    return (f"\nBigQuery on-demand bytes of the daily run of {day}: {rows:,} customer-products here; "
            f"x{scale:.0f} = {rows * scale / 1e6:.1f} M, x{scale * GROWTH:.0f} = {rows * scale * GROWTH / 1e6:.1f} M\n"
            "(billed: at least 10 MB per statement and table; tables without customer_id, and INFORMATION_SCHEMA, "
            "are not scaled)")


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    with workspace(args.workdir) as work:
        log(f"copying {args.warehouse} to {work}")
        path = copy_warehouse(args.warehouse, work)
        # The code location reads its warehouse and last day from the environment when first imported.
        os.environ.update({"TRUST_DUCKDB_PATH": str(path), "TRUST_TARGET": "duckdb",
                           "TRUST_END_DATE": args.day.isoformat()})
        from trust_assets.config import SETTINGS
        from trust_assets.tables import TRUST_SIGNAL

        # The monitoring report and any alert are files: written in the workspace, whatever the environment says.
        os.environ.update({SETTINGS.monitoring.reports_dir_env: str(work / "reports"),
                           SETTINGS.monitoring.alerts_file_env: str(work / "alerts" / "alerts.jsonl")})
        rest = daily_job_rest()
        issued, manifest = record_run(path, args.day, rest)
        rows = _count(path, f"select count(*) from analytics.{TRUST_SIGNAL} where snapshot_date = ?", [args.day])
        scale = args.customer_products / rows if args.customer_products and rows else args.scale
        scales = [1.0, scale, scale * GROWTH]
        lines, bills = measure(path, issued, manifest, scales)
        gaps = unmeasured(path, args.day)
    largest = sorted(bills, key=lambda b: -b.billed[scales[1]])[: args.top]
    labels = ["billed here", f"x{scale:.0f}", f"x{scale * GROWTH:.0f}"]
    print_report(lines, scales, labels, largest, legend(rows, args.day, scale), {"rest": ", ".join(rest.names())},
                 gaps)
    log(f"measured in {time.monotonic() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bigquery_bytes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True, help="a prepared DuckDB warehouse (not changed)")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 2, 28), help="the day run")
    parser.add_argument("--scale", type=float, default=1000.0,
                        help="data multiplier (20,000-customer telco x 1000 = 30 M customer-products)")
    parser.add_argument("--customer-products", type=float, default=None,
                        help="scale to this many customer-products a day instead (e.g. 30e6): --scale is then the "
                             "ratio to the day's rows of the trust signal here")
    parser.add_argument("--top", type=int, default=15, help="how many of the largest statements to list")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the warehouse copy here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except MeasurementError as error:
        log(f"error: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())

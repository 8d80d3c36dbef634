"""A benchmark warehouse: the synthetic telco at a chosen scale with its ruler and models.

Only what the daily partition needs is built, so preparing 1M customers takes tens of minutes, not hours: the
staging views and outcome labels, and the reference-period features for the ruler's month-end snapshot dates
only (the ruler and the models read nothing else), all through ``dbt run``; then the ruler and the models are
issued and trained by their Dagster job, as in production.

Runs inside a process whose ``TRUST_DUCKDB_PATH`` already names the warehouse (the definitions read it at
import); ``benchmarks/daily_partition.py`` starts that process.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from asset_checks.raw_loads import STATE_TABLE as VALIDATED_LOADS_TABLE
from asset_checks.raw_quantiles import QUANTILE_TABLE as VALIDATED_QUANTILES_TABLE
from trust_assets.config import SETTINGS


def table_exists(path: Path, schema: str, table: str) -> bool:
    if not path.exists():
        return False
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
    return bool(row and row[0])


def generation_finished(path: Path) -> bool:
    """The generator wrote the whole telco: it records its run in ``truth.generation`` last, so a generation
    that was interrupted (tables created, rows missing) is generated again instead of being benchmarked."""
    if not table_exists(path, "truth", "generation"):
        return False
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("select count(*) from truth.generation").fetchone()
    return bool(row and row[0])


def has_day(path: Path, table: str, day: date) -> bool:
    if not table_exists(path, "analytics", table):
        return False
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(f"select count(*) from analytics.{table} where snapshot_date = ?", [day]).fetchone()
    return bool(row and row[0])


def dbt_run(
    path: Path, day: date, log: Callable[[str], None], select: str | None = None, exclude: str | None = None
) -> None:
    """``dbt run`` (models only, no tests) of a one-day window."""
    from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_executable
    from trust_assets.partitions import dbt_window_env, fixed_vars_arguments

    log(f"  dbt run {select or ''}{' --exclude ' + exclude if exclude else ''} for {day}")
    args = [dbt_executable(), "run", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
            str(DBT_PROJECT_DIR), *fixed_vars_arguments()]
    args += ["--select", select] if select else []
    args += ["--exclude", exclude] if exclude else []
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as target:
        done = subprocess.run([*args, "--target-path", target], cwd=DBT_PROJECT_DIR, capture_output=True, text=True,
                              env={**os.environ, "TRUST_DUCKDB_PATH": str(path), **dbt_window_env(day, day)})
    if done.returncode:
        raise RuntimeError(f"dbt run failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")


# Tables a daily partition writes (or that only training reads): never copied from another warehouse.
DAILY_OR_TRAINING_TABLES = frozenset({
    "customer_360_definition", "mobile_features", "tv_features", "broadband_features", "customer_trust_signal",
    "outcome_labels",
    # The raw-contract gate's record of the loads it validated describes the source warehouse's raw tables, not
    # the target's: copied, it would make every load of the target look altered after validation. The same for
    # the distribution guard's record of quantiles.
    VALIDATED_LOADS_TABLE,
    VALIDATED_QUANTILES_TABLE,
})


def copy_ruler_and_models(source: Path, target: Path, log: Callable[[str], None]) -> list[str]:
    """Copy the ruler, the models and the other unpartitioned analytics tables of ``source`` into ``target``.

    The cost of a daily partition does not depend on the values of the ruler or the weights, only on their
    shape (cohorts, features, segments), which every warehouse of this generator shares. Issuing the ruler at
    a million customers needs six month-end snapshots of features first (about 40 minutes on a busy 2-core
    machine); copying it from a smaller warehouse of the same generator takes seconds.
    """
    copied: list[str] = []
    with duckdb.connect(str(target)) as con:
        con.execute(f"attach '{source}' as ruler_source (read_only)")
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'ruler_source' "
            "and table_schema = 'analytics' and table_type = 'BASE TABLE'"
        ).fetchall()]
        con.execute("create schema if not exists analytics")
        for table in sorted(set(tables) - DAILY_OR_TRAINING_TABLES):
            con.execute(f"create or replace table analytics.{table} as select * from ruler_source.analytics.{table}")
            copied.append(table)
        con.execute("detach ruler_source")
    log(f"  copied {', '.join(copied)} from {source}")
    return copied


def prepare_warehouse(
    path: Path, customers: int, seed: int, day: date, log: Callable[[str], None] = print,
    ruler_from: Path | None = None,
) -> None:
    """Generate (if absent) and prepare ``path`` so that ``day`` can be run as a daily partition; with
    ``ruler_from``, the ruler and models come from that (prepared) warehouse instead of being issued here."""
    import dagster as dg

    if Path(os.environ["TRUST_DUCKDB_PATH"]) != path:
        raise RuntimeError("TRUST_DUCKDB_PATH must name the benchmark warehouse before the definitions load")
    if not generation_finished(path):
        from synthetic_telco.generate import generate_telco

        log(f"generating {customers:,} customers (seed {seed}, history to {day}) into {path}")
        generate_telco(path, customers=customers, seed=seed, end_date=day, progress=False)

    from trust_assets.definitions import defs

    instance = dg.DagsterInstance.ephemeral()

    def run(job: str, partition: date | None = None) -> None:
        log(f"  {job}{' ' + partition.isoformat() if partition else ''}")
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=partition.isoformat() if partition else None, raise_on_error=True
        )
        if not result.success:
            raise RuntimeError(f"{job} failed")

    if table_exists(path, "analytics", "model_registry"):
        # A warehouse prepared by an earlier checkout: its views must have this checkout's definitions.
        dbt_run(path, SETTINGS.model.reference_date, select="config.materialized:view", log=log)
    if not table_exists(path, "analytics", "model_registry") and ruler_from is not None:
        copy_ruler_and_models(ruler_from, path, log)
    if ruler_from is not None and not has_day(path, "mobile_features", SETTINGS.model.reference_date):
        # The daily score monitoring compares with the scores of the reference date: build its features with the
        # staging and intermediate views they read, in one invocation so that dbt orders them (the intermediate
        # int_common_features reads customer_360_definition, so no folder can be built before the marts).
        dbt_run(path, SETTINGS.model.reference_date,
                select="path:models/staging path:models/intermediate config.materialized:incremental", log=log)
    if not table_exists(path, "analytics", "model_registry"):
        # Views, outcome labels and the reference snapshots through dbt directly: the Dagster jobs would also
        # run every dbt test of the staging views, which at a million customers costs more than the build.
        if not table_exists(path, "analytics", "outcome_labels"):
            dbt_run(path, SETTINGS.model.reference_date, exclude="config.materialized:incremental", log=log)
        for snapshot in SETTINGS.ruler.snapshot_dates:
            if not has_day(path, "mobile_features", snapshot):
                dbt_run(path, snapshot, select="config.materialized:incremental", log=log)
        run("ruler_and_models_job")
    # Unpartitioned assets the daily job reads (e.g. a drift reference) that the warehouse still lacks.
    from trust_assets.jobs import RULER_AND_MODELS_SELECTION

    absent = sorted(
        (key for key in RULER_AND_MODELS_SELECTION.resolve(defs.resolve_asset_graph())
         if not table_exists(path, "analytics", key.path[-1])),
        key=lambda k: k.to_user_string(),
    )
    if absent:
        log(f"  ruler_and_models_job, only {', '.join(k.to_user_string() for k in absent)}")
        result = defs.resolve_job_def("ruler_and_models_job").execute_in_process(
            instance=instance, asset_selection=absent, raise_on_error=True
        )
        if not result.success:
            raise RuntimeError("ruler_and_models_job failed")
    prepare_dbt_parse(path, log)


def dbt_parse_dir(path: Path) -> Path:
    """Where the dbt parse made for the warehouse at ``path`` is kept (beside it)."""
    return path.parent / "dbt_parse"


def prepare_dbt_parse(path: Path, log: Callable[[str], None]) -> None:
    """Parse the dbt project for this warehouse, as a deployment prepares its manifest for its own warehouse.

    dbt re-uses a saved parse only for the profile it was made with, and the profile names the warehouse file:
    the parse ``dev.sh setup`` saves is for the default warehouse, so a daily build on this one would parse the
    whole project again, which a deployed daily run does not. The features stage starts from this parse.
    """
    from trust_assets.dbt_project import DBT_PROJECT_DIR, PARSE_ARGUMENTS, dbt_executable

    target = dbt_parse_dir(path)
    if (target / "partial_parse.msgpack").exists():
        return
    log(f"  dbt parse for {path}")
    done = subprocess.run(
        [dbt_executable(), *PARSE_ARGUMENTS, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR, capture_output=True, text=True, env={**os.environ, "TRUST_DUCKDB_PATH": str(path)},
    )
    if done.returncode:
        raise RuntimeError(f"dbt parse failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")

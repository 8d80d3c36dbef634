"""The stages of one daily partition, each measured: the product's, the baseline's and the Dagster run.

Every public ``run_*`` function runs in a fresh process started by ``benchmarks/daily_partition.py`` (so each
has its own peak memory and no warm caches from another stage) whose ``TRUST_DUCKDB_PATH`` names the
benchmark warehouse, and returns a list of :class:`~benchmarks.daily.measure.Measurement` as dictionaries.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np
import polars as pl

from benchmarks.daily import baseline
from benchmarks.daily.measure import Measurement, MemorySampler, cpu_seconds, measured
from resources.warehouse import apply_duckdb_settings
from trust_assets.config import COHORTS, SETTINGS, feature_names


def _warehouse_path() -> Path:
    return Path(os.environ["TRUST_DUCKDB_PATH"])


def _warehouse() -> Any:
    from resources.warehouse import DuckDBWarehouse

    return DuckDBWarehouse(path=str(_warehouse_path()))


def _count(sql: str, params: list[object]) -> int:
    with duckdb.connect(str(_warehouse_path()), read_only=True) as con:
        row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _feature_rows(day: date) -> int:
    return sum(
        _count(f"select count(*) from analytics.{c.value}_features where snapshot_date = ?", [day]) for c in COHORTS
    )


# --- product: dbt ---------------------------------------------------------------------------------------------
def run_features(day: date) -> list[dict[str, object]]:
    """``dbt build`` of the daily models for the day, with the arguments the Dagster asset passes."""
    from benchmarks.daily.prepare import dbt_parse_dir
    from trust_assets.assets.dbt_models import DAILY_SELECT
    from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_executable
    from trust_assets.partitions import dbt_window_env, fixed_vars_arguments

    sampler = MemorySampler()
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as target, measured("features (dbt build)", sampler) as m:
        # As in a deployed daily run (dagster-dbt copies the saved parse into the run's target path): dbt starts
        # from the parse made for this warehouse (benchmarks/daily/prepare.py) instead of parsing the project.
        saved_parse = dbt_parse_dir(Path(os.environ["TRUST_DUCKDB_PATH"])) / "partial_parse.msgpack"
        if saved_parse.exists():
            shutil.copy(saved_parse, Path(target) / "partial_parse.msgpack")
        result = subprocess.run(
            [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--target-path", target, "--select", DAILY_SELECT,
             "--exclude-resource-type", "unit_test", *fixed_vars_arguments()],
            cwd=DBT_PROJECT_DIR, capture_output=True, text=True, env={**os.environ, **dbt_window_env(day, day)},
        )
        if result.returncode:
            raise RuntimeError(f"dbt build failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
        timing = json.loads(Path(target, "run_results.json").read_text())
    m.rows = _feature_rows(day) + _count(
        "select count(*) from analytics.customer_360_definition where snapshot_date = ?", [day]
    )
    m.extra["node_seconds"] = {r["unique_id"].split(".")[-1] if r["unique_id"].startswith("model.")
                               else r["unique_id"].split(".")[2]: round(r["execution_time"], 3)
                               for r in timing["results"]}
    sampler.close()
    return [m.as_dict()]


# --- product: scoring, union, guard and write (the customer_trust_signal asset's code) ------------------------
class _StageClock:
    """Accumulates the wall time, CPU time and peak memory of every call of the wrapped functions, by label."""

    def __init__(self, sampler: MemorySampler) -> None:
        self.sampler = sampler
        self.totals: dict[str, Measurement] = {}
        self._depth = 0

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:  # nested in another measured call: counted there
                return fn(*args, **kwargs)
            self._depth += 1
            m = self.totals.setdefault(label, Measurement(name=label))
            self.sampler.reset()
            wall0, cpu0 = time.perf_counter(), cpu_seconds()
            try:
                return fn(*args, **kwargs)
            finally:
                m.wall_seconds += time.perf_counter() - wall0
                m.cpu_seconds += cpu_seconds() - cpu0
                m.peak_rss_bytes = max(m.peak_rss_bytes, self.sampler.peak())
                self._depth -= 1

        return timed


@contextmanager
def _patched(owner: Any, name: str, replacement: Any) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


def run_trust_signal(day: date) -> list[dict[str, object]]:
    """The trust-signal asset's work for the day (``publish_scores``), split into stages by wrapping the
    functions it calls: reading features, scoring, union (identifiers and stacking), the pre-write guard and
    the atomic write. Whatever is left (models, coverage counts) is reported as its own line."""
    from resources.warehouse import DuckDBWarehouse
    from trust_assets.services import publishing as ts

    sampler = MemorySampler()
    clock = _StageClock(sampler)
    warehouse = _warehouse()
    rows = _feature_rows(day)
    stages = [
        (ts, "read_feature_rows", "scoring: read features"),
        (ts, "score_frame", "scoring: standardise + score"),
        (ts, "read_customer_360", "union: read customer_360"),
        (ts, "attach_identifiers", "union: attach identifiers + stack"),
        (ts, "union_cohort_scores", "union: attach identifiers + stack"),
        (ts, "validate_trust_signal", "checks: pre-write guard"),
        (DuckDBWarehouse, "replace_partitions", "union: write partition"),
    ]
    with measured("trust signal (total)", sampler, rows) as total:
        from contextlib import ExitStack

        with ExitStack() as stack:
            for owner, name, label in stages:
                stack.enter_context(_patched(owner, name, clock.wrap(label, getattr(owner, name))))
            published = ts.publish_scores(warehouse, day, day)
    sampler.close()
    if published.rows != rows:
        raise RuntimeError(f"published {published.rows} rows, expected {rows}")
    inner = sum(m.wall_seconds for m in clock.totals.values())
    rest = Measurement("trust signal: models, coverage, other", total.wall_seconds - inner,
                       total.cpu_seconds - sum(m.cpu_seconds for m in clock.totals.values()), total.peak_rss_bytes)
    out = [total, *clock.totals.values(), rest]
    for m in out:
        m.rows = rows
    return [m.as_dict() for m in out]


# --- product: the asset checks of the daily partition ---------------------------------------------------------
def _check_context(day: date, check: Any, instance: Any) -> SimpleNamespace:
    """What a daily check reads of Dagster's context: the partition window, its specs (all selected: a step that
    holds several checks runs them all), its op, the instance (whose latest materialisation of the day each
    per-day evaluation targets) and a logger."""
    import logging

    start = datetime(day.year, day.month, day.day)
    return SimpleNamespace(partition_time_window=SimpleNamespace(start=start, end=start + timedelta(days=1)),
                           check_specs=list(check.check_specs), selected_asset_check_keys=set(check.check_keys),
                           op_def=check.node_def, instance=instance, log=logging.getLogger(check.node_def.name))


def _check_passed(outcome: Any) -> bool:
    """Whether a check's output passed: an unpartitioned check returns one result, a daily check yields one
    evaluation per day and then its op output."""
    if hasattr(outcome, "passed"):
        return bool(outcome.passed)
    return all(event.passed for event in outcome if hasattr(event, "passed"))


def run_checks(day: date) -> list[dict[str, object]]:
    """The raw-contract gate and every daily asset check for the day, each timed (called as Dagster calls
    them, with a context that carries the partition window)."""
    import dagster as dg

    from asset_checks.product_checks import DAILY_CHECKS
    from asset_checks.raw_contract import evaluate_raw_contract

    sampler = MemorySampler()
    warehouse = _warehouse()
    per_check: dict[str, float] = {}
    failed: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance, \
            measured("checks (raw contract + asset checks)", sampler, _feature_rows(day)) as total:
        t0 = time.perf_counter()
        report = evaluate_raw_contract(warehouse, day, day)
        per_check["raw_source_contract"] = time.perf_counter() - t0
        failed += [f"raw_source_contract.{name}" for name, found in report.violations.items() if found]
        for check in DAILY_CHECKS:
            fn = check.node_def.compute_fn.decorated_fn  # type: ignore[union-attr]
            wanted = inspect.signature(fn).parameters
            kwargs = {"warehouse": warehouse} if "warehouse" in wanted else {}
            t0 = time.perf_counter()
            outcome = fn(_check_context(day, check, instance), **kwargs) if "context" in wanted else fn(**kwargs)
            passed = _check_passed(outcome)  # a generator check runs here, inside the timing
            keys = list(check.check_keys)
            # A step of several checks (one read of the table for all of them) is timed as its step.
            name = f"{keys[0].asset_key.to_user_string()}.{keys[0].name}" if len(keys) == 1 else check.node_def.name
            per_check[name] = time.perf_counter() - t0
            if not passed:
                failed.append(name)
    total.extra["check_seconds"] = {k: round(v, 3) for k, v in sorted(per_check.items(), key=lambda kv: -kv[1])}
    total.extra["failed_checks"] = failed
    sampler.close()
    return [total.as_dict()]


# --- baseline: DuckDB SQL --------------------------------------------------------------------------------------
def baseline_label(variant: str) -> str:
    """The name prefix of a baseline variant's measurements: plain "baseline" for the hand-written one."""
    return "baseline" if variant == baseline.HAND_WRITTEN else f"baseline ({variant.replace('_', '-')})"


def run_baseline(day: date, variant: str = baseline.HAND_WRITTEN,
                 compiled_json: Path | None = None) -> list[dict[str, object]]:
    """The baseline's features and scores for the day on one DuckDB connection, then (untimed) its agreement
    with the product's published rows. ``variant``: the hand-written feature SQL, or dbt's compiled SQL
    (``compiled_json``, written untimed by the compile stage)."""
    if variant == baseline.DBT_COMPILED:
        if compiled_json is None:
            raise ValueError("the dbt-compiled baseline needs the compiled SQL (--compiled)")
        features = baseline.feature_statements(json.loads(compiled_json.read_text()))
    else:
        features = baseline.hand_written_feature_statements(day)
    scores = baseline.score_statement()
    rows = _feature_rows(day)
    label = baseline_label(variant)
    sampler = MemorySampler()
    con = duckdb.connect(str(_warehouse_path()))
    # The product's DuckDB settings (the memory limit), so both sides run under the same limit.
    apply_duckdb_settings(con)
    try:
        with measured(f"{label}: features (SQL)", sampler, rows) as f:
            features.run(con)
        with measured(f"{label}: scores + union (SQL)", sampler, rows) as s:
            scores.run(con)
        report = baseline.agreement(con, day)
    finally:
        con.close()
    sampler.close()
    f.extra["agreement"] = report
    f.extra["variant"] = variant
    return [f.as_dict(), s.as_dict()]


# --- scoring alone: product (Polars) vs NumPy at a chosen number of rows ----------------------------------------
def _grow(frame: pl.DataFrame, rows: int, features: list[str], seed: int) -> pl.DataFrame:
    """``rows`` rows made by repeating real feature rows, values perturbed by up to +-5% (missing stays missing)
    and customer ids made unique, so the arithmetic sees realistic, varied values."""
    if frame.height == 0:
        return frame
    reps = -(-rows // frame.height)
    grown = pl.concat([frame] * reps).head(rows)
    rng = np.random.default_rng(seed)
    return grown.with_columns(
        (pl.col("customer_id") + "-" + pl.int_range(pl.len()).cast(pl.String)).alias("customer_id"),
        *[pl.col(f) * pl.Series(rng.uniform(0.95, 1.05, rows)) for f in features],
    )


def run_scoring(day: date, rows: int) -> list[dict[str, object]]:
    """The product's scoring function (standardise + score, with top drivers) against NumPy's arithmetic on
    the same ``rows`` feature rows (split across cohorts as the day's real rows are), in memory."""
    from trust_assets.scoring.arithmetic import score_frame
    from trust_assets.services import publishing as ts

    warehouse = _warehouse()
    from trust_assets.store.models import production_models

    models = production_models(warehouse)
    real = {c: ts.read_feature_rows(warehouse, c, "snapshot_date = $d", {"d": day}) for c in COHORTS}
    total_real = sum(f.height for f in real.values())
    frames = {c: _grow(f, round(rows * f.height / total_real), feature_names(c), 7) for c, f in real.items()}
    n = sum(f.height for f in frames.values())
    inputs = {
        c: baseline.numpy_inputs(frames[c], models[c][1], models[c][0].weights,
                                 (models[c][0].raw_ref_mean, models[c][0].raw_ref_stddev), feature_names(c))
        for c in COHORTS
    }
    sampler = MemorySampler()
    with measured("scoring alone: product (Polars)", sampler, n) as p:
        product = {
            c: score_frame(frames[c], models[c][1], models[c][0], c.value, feature_names(c),
                           SETTINGS.model.top_drivers)[0]
            for c in COHORTS
        }
    with measured("scoring alone: NumPy arithmetic", sampler, n) as b:
        numpy_out = {c: baseline.numpy_scores(inputs[c]) for c in COHORTS}
    # The same product functions without the top-drivers text, i.e. exactly the arithmetic NumPy does.
    with measured("scoring alone: product arithmetic only (no top drivers)", sampler, n) as a:
        for c in COHORTS:
            score_frame(frames[c], models[c][1], models[c][0], c.value, feature_names(c), 0)
    diff = 0.0
    for c in COHORTS:
        raw, trust, missing = numpy_out[c]
        diff = max(diff, float(np.max(np.abs(product[c]["trust_score"].to_numpy() - trust), initial=0.0)),
                   float(np.max(np.abs(product[c]["raw_score"].to_numpy() - raw), initial=0.0)))
        if not np.array_equal(product[c]["missing_features"].to_numpy(), missing):
            raise RuntimeError(f"{c.value}: missing-feature counts differ between the product and NumPy")
    p.extra["max_abs_diff_vs_numpy"] = diff
    sampler.close()
    return [p.as_dict(), b.as_dict(), a.as_dict()]


# --- the whole daily run through Dagster -------------------------------------------------------------------------
def run_dagster(day: date) -> list[dict[str, object]]:
    """Import the code location, run a trivial asset (fixed per-run overhead), then ``daily_trust_job`` for
    the day in process; the event log gives each step's time, the rest of the run is orchestration."""
    import dagster as dg

    sampler = MemorySampler()
    with measured("dagster: import code location", sampler) as imp:
        from trust_assets.definitions import defs  # noqa: F401  (the import is what is measured)
        from trust_assets.job_launch import run_job

    @dg.asset
    def trivial() -> int:
        return 1

    instance = dg.DagsterInstance.ephemeral()
    with measured("dagster: run of a trivial asset", sampler) as triv:
        dg.materialize([trivial], instance=instance)
    rows = _feature_rows(day)
    with measured("dagster: daily_trust_job run", sampler, rows) as run:
        # As `trust run` and the schedule launch it: under the job's origin, in this process.
        result = run_job("daily_trust_job", instance, {"dagster/partition": day.isoformat()})
    if result.status != dg.DagsterRunStatus.SUCCESS:
        raise RuntimeError("daily_trust_job failed")
    steps: dict[str, float] = {}
    started: dict[str, float] = {}
    for record in instance.all_logs(result.run_id):
        event = record.dagster_event
        if event is None or record.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            started[record.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and record.step_key in started:
            steps[record.step_key] = record.timestamp - started[record.step_key]
    in_steps = sum(steps.values())
    run.extra["step_seconds"] = {k: round(v, 3) for k, v in steps.items()}
    run.extra["orchestration_seconds"] = run.wall_seconds - in_steps
    sampler.close()
    return [imp.as_dict(), triv.as_dict(), run.as_dict()]


STAGES: dict[str, Callable[..., list[dict[str, object]]]] = {
    "features": run_features,
    "trust_signal": run_trust_signal,
    "checks": run_checks,
    "baseline": run_baseline,
    "scoring": run_scoring,
    "dagster": run_dagster,
}

"""Wall time, CPU time and peak memory of the daily ``dbt build`` under chosen DuckDB settings.

Runs the daily models' build exactly as the ``trust_dbt_daily_models`` asset does (``dbt build --select
config.materialized:incremental --exclude-resource-type unit_test --vars <day window>``) against a warehouse
file, with extra environment variables (``--env TRUST_DUCKDB_MEMORY_LIMIT=3GB``), and prints one JSON line:
wall and CPU seconds, the peak resident memory of the process tree (dbt included), the load average before
and after, dbt's time in models and in data tests, and a fingerprint of the day's rows in every daily table
(row count and an order-independent hash of all columns) so runs under different settings can be compared
for bit-identical results.

It writes the day's rows of the daily tables (as the daily run does): point it at a copy of a warehouse.

    .venv/bin/python -m benchmarks.dbt_daily_build --warehouse /tmp/copy/warehouse.duckdb --day 2026-02-28 \\
        --env TRUST_DUCKDB_MEMORY_LIMIT=3GB --label 3GB
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.daily.measure import MemorySampler, measured  # noqa: E402

GIB = 2**30
DAILY_TABLES = ("customer_360_definition", "mobile_features", "tv_features", "broadband_features")


def fingerprint(warehouse: Path, day: date) -> dict[str, list[int]]:
    """Row count and the sum of per-row hashes of every column, per daily table, for the day's rows."""
    import duckdb

    out: dict[str, list[int]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in DAILY_TABLES:
            row = con.execute(
                f"select count(*), coalesce(sum(hash(t)::hugeint), 0)::varchar "
                f"from (select * from analytics.{table} where snapshot_date = ?) as t",
                [day],
            ).fetchone()
            assert row is not None
            out[table] = [int(row[0]), int(row[1])]
    return out


def dbt_build(warehouse: Path, day: date, env: dict[str, str], target_path: Path | None,
              profiles_dir: Path | None, project_dir: Path | None = None) -> dict[str, Any]:
    """One measured ``dbt build`` of the daily models for ``day``."""
    from trust_assets.assets.dbt_models import DAILY_SELECT
    from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_executable
    from trust_assets.partitions import dbt_window_env, fixed_vars_arguments

    project = project_dir or DBT_PROJECT_DIR
    load_before = os.getloadavg()
    sampler = MemorySampler()
    with tempfile.TemporaryDirectory(prefix="dbt-daily-") as scratch:
        target = target_path or Path(scratch)
        command = [
            dbt_executable(), "build", "--project-dir", str(project),
            "--profiles-dir", str(profiles_dir or project), "--target-path", str(target),
            "--select", DAILY_SELECT, "--exclude-resource-type", "unit_test",
            *fixed_vars_arguments(),
        ]
        with measured("dbt build (daily models)", sampler) as m:
            result = subprocess.run(
                command, cwd=project, capture_output=True, text=True,
                env={**os.environ, "TRUST_DUCKDB_PATH": str(warehouse), **dbt_window_env(day, day), **env},
            )
        sampler.close()
        if result.returncode:
            raise RuntimeError(f"dbt build failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
        run_results = json.loads((target / "run_results.json").read_text())
    models = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in run_results["results"]
              if r["unique_id"].startswith("model.")}
    tests = sum(r["execution_time"] for r in run_results["results"] if r["unique_id"].startswith("test."))
    return {
        "wall_s": round(m.wall_seconds, 1),
        "cpu_s": round(m.cpu_seconds, 1),
        "peak_gib": round(m.peak_rss_bytes / GIB, 2),
        "models_s": round(sum(models.values()), 1),
        "model_s": {k: round(v, 1) for k, v in models.items()},
        "tests_s": round(tests, 1),
        "outside_nodes_s": round(m.wall_seconds - sum(models.values()) - tests, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "parse_note": next((line.split("  ", 1)[-1].strip() for line in result.stdout.splitlines()
                            if "partial pars" in line.lower()), ""),
    }


def bare_sql(warehouse: Path, day: date, env: dict[str, str], profiles_dir: Path | None,
             project_dir: Path | None = None) -> dict[str, Any]:
    """The same four models' compiled SQL (``dbt compile``, untimed), each run once as ``create temp table ...
    as <sql>`` on one DuckDB connection with the same settings: the bare cost of the SQL, without dbt's
    start-up and parse, its incremental delete+insert, the write into the file, or the data tests."""
    import duckdb

    from resources.warehouse import apply_duckdb_settings
    from trust_assets.assets.dbt_models import DAILY_SELECT
    from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_executable
    from trust_assets.partitions import dbt_window_env, fixed_vars_arguments

    project = project_dir or DBT_PROJECT_DIR
    full_env = {**os.environ, "TRUST_DUCKDB_PATH": str(warehouse), **dbt_window_env(day, day), **env}
    with tempfile.TemporaryDirectory(prefix="dbt-compile-") as target:
        subprocess.run(
            [dbt_executable(), "compile", "--project-dir", str(project), "--profiles-dir",
             str(profiles_dir or project), "--target-path", target, "--select", DAILY_SELECT,
             *fixed_vars_arguments()],
            cwd=project, env=full_env, capture_output=True, text=True, check=True,
        )
        compiled = {name: next(Path(target, "compiled").rglob(f"{name}.sql")).read_text() for name in DAILY_TABLES}
    os.environ.update(env)  # the same settings as dbt's connections, resolved as the Python side resolves them
    load_before = os.getloadavg()
    sampler = MemorySampler()
    seconds: dict[str, float] = {}
    with duckdb.connect(str(warehouse)) as con:
        apply_duckdb_settings(con)
        with measured("bare SQL (one connection)", sampler) as m:
            for name in DAILY_TABLES:
                with measured(name, sampler) as one:
                    con.execute(f"create temp table bare_{name} as {compiled[name]}")
                seconds[name] = round(one.wall_seconds, 1)
    sampler.close()
    return {
        "wall_s": round(m.wall_seconds, 1),
        "cpu_s": round(m.cpu_seconds, 1),
        "peak_gib": round(m.peak_rss_bytes / GIB, 2),
        "model_s": seconds,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True, help="a COPY of a warehouse (it is written)")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 2, 28))
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for dbt, e.g. TRUST_DUCKDB_MEMORY_LIMIT=3GB (repeatable)")
    parser.add_argument("--target-path", type=Path, default=None,
                        help="dbt target path kept between runs (partial parsing); default: a fresh one")
    parser.add_argument("--project-dir", type=Path, default=None, help="default: dbt_project/")
    parser.add_argument("--profiles-dir", type=Path, default=None, help="default: the project directory")
    parser.add_argument("--label", default="")
    parser.add_argument("--no-fingerprint", action="store_true")
    parser.add_argument("--bare", action="store_true",
                        help="run the models' compiled SQL on one DuckDB connection instead of dbt build")
    args = parser.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    if args.bare:
        out = {"label": args.label, "env": env, "mode": "bare SQL",
               **bare_sql(args.warehouse.resolve(), args.day, env, args.profiles_dir, args.project_dir)}
        print(json.dumps(out))
        return 0
    out = {"label": args.label, "env": env, **dbt_build(args.warehouse.resolve(), args.day, env, args.target_path,
                                                        args.profiles_dir, args.project_dir)}
    if not args.no_fingerprint:
        out["fingerprint"] = fingerprint(args.warehouse.resolve(), args.day)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

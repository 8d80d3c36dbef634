"""The daily-partition benchmark, as docs/performance.md tells a user to run it, works from an empty directory.

The benchmark is not part of the suite, so nothing else would notice when a model added to the project breaks its
preparation (generation, the ruler and models copied with ``--ruler-from``, the reference date's features) or a
change to the checks breaks its checks stage. This runs the documented 1M command at a tiny scale, in a new
warehouse directory, with the session warehouse as the ruler's source, and reads what it reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from trust_assets.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 300


def test_the_documented_benchmark_runs_from_an_empty_warehouse_directory(pipeline_warehouse, tmp_path) -> None:
    ruler_source = pipeline_warehouse.copy_to(tmp_path / "prepared")
    bench_dir, report_file = tmp_path / "bench", tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUST_", "DAGSTER_"))}
    # What an interrupted generation leaves: the tables exist, their rows do not. It must be generated again.
    warehouse = bench_dir / f"telco_{CUSTOMERS}" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.customers (customer_id varchar)")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.daily_partition", "--customers", str(CUSTOMERS),
         "--warehouse-dir", str(bench_dir), "--ruler-from", str(ruler_source), "--skip-dagster",
         "--json", str(report_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    report = json.loads(report_file.read_text())
    assert report["ruler_from"] == str(ruler_source)
    agreement = report["agreement"]
    assert agreement["agrees"], agreement
    assert agreement["rows_compared"] == report["feature_rows"] > CUSTOMERS // 2
    (checks,) = report["stages"]["checks"]
    assert checks["extra"]["failed_checks"] == []
    assert "raw_source_contract" in checks["extra"]["check_seconds"]
    assert report["daily_partition"]["product_wall_seconds"] > report["daily_partition"]["baseline_wall_seconds"] > 0

    # The preparation built the reference date's features on the new warehouse and copied the ruler and models,
    # and parsed the dbt project for this warehouse (the features stage starts from that parse).
    assert (warehouse.parent / "dbt_parse" / "partial_parse.msgpack").exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        reference_rows = con.execute(
            "select count(*) from analytics.mobile_features where snapshot_date = ?", [SETTINGS.model.reference_date]
        ).fetchone()
        copied = con.execute("select count(*) from analytics.trust_model_weights").fetchone()
        customers = con.execute("select count(*) from raw.customers").fetchone()
    assert customers == (CUSTOMERS,)
    assert reference_rows is not None and reference_rows[0] > 0
    assert copied is not None and copied[0] > 0

"""Benchmark of one daily partition of the trust index against a hand-written baseline.

On the synthetic telco at a chosen scale, in one invocation and on the same warehouse file:

- the product's stages of one daily partition, each in a fresh process: the dbt build of customer_360 and
  the cohort features (as the Dagster asset runs it), the trust signal (reading features, scoring, union,
  pre-write guard, write), and the daily asset checks (raw contract gate and every partition check);
- the baseline: the same features and scores computed directly on one DuckDB connection (benchmarks/daily/
  baseline.py; features by hand-written SQL from the raw tables, or with ``--baseline-features dbt_compiled``
  dbt's compiled SQL, ``both`` measures the two), then checked to agree with what the product published;
- the scoring stage alone, product (Polars) against NumPy arithmetic, at one or more row counts (feature rows
  replicated and perturbed from the real day, so 10M rows need no 10M-customer warehouse);
- the whole ``daily_trust_job`` through Dagster in process, with the fixed per-run overhead measured on a
  trivial asset and the run's time outside its steps.

Prints a table and writes ``artifacts/benchmarks/daily_partition_<customers>.json``. The warehouse is generated
and prepared once (ruler, models, the day before scored) under ``--warehouse-dir`` and reused by later runs.

    .venv/bin/python -m benchmarks.daily_partition --customers 20000
    .venv/bin/python -m benchmarks.daily_partition --customers 1000000 --scoring-rows 1000000 10000000
    bash scripts/dev.sh bench daily_partition --customers 20000      # the same, through the dev script
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DAY = date(2026, 2, 28)
GIB = 2**30


def _env(warehouse: Path, day: date, dagster_home: Path) -> dict[str, str]:
    return {**os.environ, "TRUST_DUCKDB_PATH": str(warehouse), "TRUST_TARGET": "duckdb",
            "TRUST_END_DATE": day.isoformat(), "DAGSTER_HOME": str(dagster_home), "PYTHONWARNINGS": "ignore"}


def run_stage(stage: str, warehouse: Path, day: date, dagster_home: Path, *extra: str) -> list[dict[str, Any]]:
    """Run one stage in a fresh interpreter and return its measurements."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.daily_partition", "--stage", stage, "--day", day.isoformat(),
         "--out", str(out_path), *extra],
        cwd=ROOT, env=_env(warehouse, day, dagster_home), capture_output=True, text=True,
    )
    if proc.returncode:
        raise RuntimeError(f"stage {stage} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    result: list[dict[str, Any]] = json.loads(out_path.read_text())
    out_path.unlink()
    for m in result:
        m["process_seconds"] = time.perf_counter() - started
    return result


def _stage_main(args: argparse.Namespace) -> int:
    from benchmarks.daily.stages import STAGES

    day = args.day
    if args.stage == "prepare":
        from benchmarks.daily.prepare import prepare_warehouse

        prepare_warehouse(Path(os.environ["TRUST_DUCKDB_PATH"]), args.customers, args.seed, day,
                          log=lambda s: print(s, file=sys.stderr, flush=True), ruler_from=args.ruler_from)
        result: list[dict[str, object]] = []
    elif args.stage == "compile":
        from benchmarks.daily.baseline import compile_models

        Path(args.compiled).write_text(json.dumps(compile_models(day, Path(os.environ["TRUST_DUCKDB_PATH"]))))
        result = []
    elif args.stage == "baseline":
        result = STAGES["baseline"](day, args.variant, Path(args.compiled) if args.compiled else None)
    elif args.stage == "scoring":
        result = STAGES["scoring"](day, args.rows)
    else:
        result = STAGES[args.stage](day)
    Path(args.out).write_text(json.dumps(result, default=str))
    if result:
        # A copy beside the warehouse: a report can be rebuilt from the stages with --from-stages.
        suffix = f"_{args.rows:012d}" if args.stage == "scoring" else ""
        if args.stage == "baseline":
            suffix = baseline_suffix(args.variant)
        stage_file = Path(os.environ["TRUST_DUCKDB_PATH"]).parent / "stages" / f"{args.stage}{suffix}.json"
        stage_file.parent.mkdir(exist_ok=True)
        stage_file.write_text(json.dumps(result, default=str))
    return 0


def baseline_suffix(variant: str) -> str:
    """Results key / stage file suffix of a baseline variant: "baseline" for the hand-written one."""
    from benchmarks.daily.baseline import HAND_WRITTEN

    return "" if variant == HAND_WRITTEN else f"_{variant}"


def baseline_variants(choice: str) -> list[str]:
    """The baseline variants one invocation measures, the first being the one the product is compared with."""
    from benchmarks.daily.baseline import DBT_COMPILED, HAND_WRITTEN

    return {"both": [HAND_WRITTEN, DBT_COMPILED], DBT_COMPILED: [DBT_COMPILED]}.get(choice, [HAND_WRITTEN])


def _baseline_totals(ms: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(features, scores) measurements of one baseline variant's stage."""
    return (next(m for m in ms if m["name"].endswith(": features (SQL)")),
            next(m for m in ms if m["name"].endswith(": scores + union (SQL)")))


def _variant_summary(ms: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    f, sc = _baseline_totals(ms)
    # Stage results kept before the hand-written variant existed are the dbt-compiled one.
    return f["extra"].get("variant", "dbt_compiled"), {
        "features_wall_seconds": f["wall_seconds"], "features_cpu_seconds": f["cpu_seconds"],
        "wall_seconds": f["wall_seconds"] + sc["wall_seconds"], "cpu_seconds": f["cpu_seconds"] + sc["cpu_seconds"],
        "peak_rss_bytes": max(f["peak_rss_bytes"], sc["peak_rss_bytes"]), "agrees": f["extra"]["agreement"]["agrees"],
    }


def load_stages(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """The stage results a previous run kept beside its warehouse (``<warehouse dir>/stages``)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.json")):
        out[path.stem] = json.loads(path.read_text())
    return out


# --- the report ---------------------------------------------------------------------------------------------
def _sum(ms: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(m for m in ms if m["name"] == name)


def summarise(results: dict[str, list[dict[str, Any]]], customers: int, day: date) -> dict[str, Any]:
    features = results["features"][0]
    signal = _sum(results["trust_signal"], "trust signal (total)")
    checks = results["checks"][0]
    # The baseline the product is compared with: the hand-written one when it was measured.
    base_key = "baseline" if "baseline" in results else next(k for k in results if k.startswith("baseline"))
    base_f, base_s = _baseline_totals(results[base_key])
    rows = signal["rows"]
    product_wall = features["wall_seconds"] + signal["wall_seconds"] + checks["wall_seconds"]
    product_cpu = features["cpu_seconds"] + signal["cpu_seconds"] + checks["cpu_seconds"]
    product_peak = max(features["peak_rss_bytes"], signal["peak_rss_bytes"], checks["peak_rss_bytes"])
    base_wall = base_f["wall_seconds"] + base_s["wall_seconds"]
    out: dict[str, Any] = {
        "customers": customers,
        "day": day.isoformat(),
        "feature_rows": rows,
        "daily_partition": {
            "product_wall_seconds": product_wall,
            "product_cpu_seconds": product_cpu,
            "product_peak_rss_bytes": product_peak,
            "baseline_wall_seconds": base_wall,
            "baseline_cpu_seconds": base_f["cpu_seconds"] + base_s["cpu_seconds"],
            "baseline_peak_rss_bytes": max(base_f["peak_rss_bytes"], base_s["peak_rss_bytes"]),
            "ratio_product_to_baseline": product_wall / base_wall,
            "product_rows_per_second": rows / product_wall,
            "baseline_rows_per_second": rows / base_wall,
            # The goals of the performance work (docs/performance.md, "Where we stand on the goals"): at a
            # million customers and more the fixed costs are diluted; at the demo's size they dominate.
            "goal_ratio": 1.3 if customers >= 1_000_000 else 5.0,
            "goal_peak_bytes": 3.5 * GIB,
        },
        "agreement": base_f["extra"]["agreement"],
        "baseline_variants": dict(_variant_summary(results[k]) for k in results if k.startswith("baseline")),
        "stages": results,
    }
    scoring = []
    for key in sorted(k for k in results if k.startswith("scoring_")):
        p = _sum(results[key], "scoring alone: product (Polars)")
        b = _sum(results[key], "scoring alone: NumPy arithmetic")
        arithmetic = [m["wall_seconds"] for m in results[key] if m["name"].startswith("scoring alone: product arith")]
        scoring.append({
            "product_arithmetic_seconds": arithmetic[0] if arithmetic else None,
            "ratio_product_arithmetic_to_numpy": arithmetic[0] / b["wall_seconds"] if arithmetic else None,
            "product_cpu_seconds": p["cpu_seconds"], "numpy_cpu_seconds": b["cpu_seconds"],
            "rows": p["rows"], "product_seconds": p["wall_seconds"], "numpy_seconds": b["wall_seconds"],
            "product_peak_rss_bytes": p["peak_rss_bytes"], "numpy_peak_rss_bytes": b["peak_rss_bytes"],
            "ratio_product_to_numpy": p["wall_seconds"] / b["wall_seconds"],
            "product_ns_per_row": 1e9 * p["wall_seconds"] / p["rows"],
            "numpy_ns_per_row": 1e9 * b["wall_seconds"] / b["rows"],
            "max_abs_diff_vs_numpy": p["extra"]["max_abs_diff_vs_numpy"],
        })
    if scoring:
        out["scoring_alone"] = {"sizes": scoring, "goal_ratio": 2.0, "goal_linearity": 1.15}
        if len(scoring) > 1:
            out["scoring_alone"]["per_row_time_largest_over_smallest"] = (
                scoring[-1]["product_ns_per_row"] / scoring[0]["product_ns_per_row"]
            )
    if "dagster" in results:
        imp = _sum(results["dagster"], "dagster: import code location")
        triv = _sum(results["dagster"], "dagster: run of a trivial asset")
        run = _sum(results["dagster"], "dagster: daily_trust_job run")
        out["dagster"] = {
            "import_seconds": imp["wall_seconds"],
            "trivial_run_seconds": triv["wall_seconds"],
            "daily_run_seconds": run["wall_seconds"],
            "daily_run_cpu_seconds": run["cpu_seconds"],
            "daily_run_peak_rss_bytes": run["peak_rss_bytes"],
            "orchestration_seconds": run["extra"]["orchestration_seconds"],
            "step_seconds": run["extra"]["step_seconds"],
            "process_seconds": run.get("process_seconds"),
            "ratio_to_product_partition": run["wall_seconds"] / product_wall,
            "goal_ratio_to_product_partition": 1.3,
        }
    return out


def _line(name: str, m: dict[str, Any], base: float | None = None) -> str:
    ratio = f"{m['wall_seconds'] / base:7.2f}x" if base else " " * 8
    rps = f"{m['rows'] / m['wall_seconds']:>12,.0f}" if m.get("rows") and m["wall_seconds"] > 0 else " " * 12
    return (f"  {name:<44} {m['wall_seconds']:9.2f} {m['cpu_seconds']:9.2f} "
            f"{m['peak_rss_bytes'] / GIB:8.2f} {rps} {ratio}")


def print_report(s: dict[str, Any]) -> None:
    st = s["stages"]
    d = s["daily_partition"]
    print(f"\ndaily partition {s['day']} at {s['customers']:,} customers ({s['feature_rows']:,} feature rows)")
    print(f"  {'stage':<44} {'wall s':>9} {'cpu s':>9} {'peak GiB':>8} {'rows/s':>12} {'vs base':>8}")
    print(_line("features (dbt build)", st["features"][0]))
    for m in st["trust_signal"]:
        print(_line(m["name"], m))
    print(_line(st["checks"][0]["name"], st["checks"][0]))
    product = {"wall_seconds": d["product_wall_seconds"], "cpu_seconds": d["product_cpu_seconds"],
               "peak_rss_bytes": d["product_peak_rss_bytes"], "rows": s["feature_rows"]}
    print(_line("PRODUCT daily partition (excl. Dagster)", product, d["baseline_wall_seconds"]))
    for key in [k for k in st if k.startswith("baseline")]:
        for m in st[key]:
            print(_line(m["name"], m))
    base = {"wall_seconds": d["baseline_wall_seconds"], "cpu_seconds": d["baseline_cpu_seconds"],
            "peak_rss_bytes": d["baseline_peak_rss_bytes"], "rows": s["feature_rows"]}
    print(_line("BASELINE (DuckDB SQL)", base))
    variants = s.get("baseline_variants", {})
    if len(variants) > 1:
        for name, v in variants.items():
            print(f"  baseline variant {name:<16} features {v['features_wall_seconds']:7.2f} s wall "
                  f"{v['features_cpu_seconds']:7.2f} s CPU; with scores {v['wall_seconds']:7.2f} s wall, "
                  f"peak {v['peak_rss_bytes'] / GIB:.2f} GiB, agrees: {v['agrees']}")
    a = s["agreement"]
    print(f"  agreement: {'OK' if a['agrees'] else 'DIFFERS'}  rows {a['rows_compared']:,}, max |trust diff| "
          f"{a['trust_score_max_abs_diff']:.2e}, max |raw diff| {a['raw_score_max_abs_diff']:.2e}, "
          f"feature max |diff| {max(a['feature_max_abs_diff'].values()):.2e}")
    print(f"  goal: product <= {d['goal_ratio']:g}x baseline and < {d['goal_peak_bytes'] / GIB:g} GiB: ratio "
          f"{d['ratio_product_to_baseline']:.2f}x, peak {d['product_peak_rss_bytes'] / GIB:.2f} GiB")
    if "scoring_alone" in s:
        print("\nscoring alone (in memory)")
        print(f"  {'rows':>12} {'product s':>10} {'numpy s':>9} {'ratio':>7} {'ns/row':>8} {'peak GiB':>9} {'diff':>9} "
              f"{'arith. s':>9} {'ratio':>7}")
        for r in s["scoring_alone"]["sizes"]:
            arith = r.get("product_arithmetic_seconds")
            tail = f" {arith:9.2f} {r['ratio_product_arithmetic_to_numpy']:6.2f}x" if arith is not None else ""
            print(f"  {r['rows']:>12,} {r['product_seconds']:10.2f} {r['numpy_seconds']:9.2f} "
                  f"{r['ratio_product_to_numpy']:6.2f}x {r['product_ns_per_row']:8.0f} "
                  f"{r['product_peak_rss_bytes'] / GIB:9.2f} {r['max_abs_diff_vs_numpy']:9.1e}{tail}")
        print("  (product: score_frame with the top-drivers text; arith.: the same without it, as NumPy computes;"
              f" goal: product <= {s['scoring_alone']['goal_ratio']:g}x NumPy)")
        if "per_row_time_largest_over_smallest" in s["scoring_alone"]:
            print(f"  per-row time, largest over smallest size: "
                  f"{s['scoring_alone']['per_row_time_largest_over_smallest']:.2f} (goal <= 1.15)")
    if "dagster" in s:
        g = s["dagster"]
        print("\nDagster")
        print(f"  import of the code location          {g['import_seconds']:8.2f} s")
        print(f"  run of a trivial asset (fixed cost)  {g['trivial_run_seconds']:8.2f} s")
        peak = g["daily_run_peak_rss_bytes"] / GIB
        print(f"  daily_trust_job run                  {g['daily_run_seconds']:8.2f} s "
              f"(outside its steps {g['orchestration_seconds']:.2f} s; peak {peak:.2f} GiB)")
        print(f"  daily run / product partition alone  {g['ratio_to_product_partition']:8.2f}x "
              f"(goal <= {g['goal_ratio_to_product_partition']:g}x)")
        for k, v in g["step_seconds"].items():
            print(f"    step {k:<50} {v:8.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--day", type=date.fromisoformat, default=DEFAULT_DAY,
                        help="the partition benchmarked; also the generated history's last day")
    parser.add_argument("--warehouse-dir", type=Path,
                        default=Path(os.environ.get("TRUST_BENCH_DIR", Path(tempfile.gettempdir()) / "trust-bench")),
                        help="where the generated warehouses are kept (default: $TRUST_BENCH_DIR or <tmp>/trust-bench)")
    parser.add_argument("--scoring-rows", type=int, nargs="*", default=None,
                        help="row counts for the scoring-alone comparison (default: the day's feature rows)")
    parser.add_argument("--ruler-from", type=Path, default=None,
                        help="a prepared warehouse whose ruler and models to copy instead of issuing them here "
                             "(saves the reference-period features at large scales; see docs/performance.md)")
    parser.add_argument("--skip-dagster", action="store_true", help="skip the run through Dagster")
    parser.add_argument("--baseline-features", choices=["hand_written", "dbt_compiled", "both"],
                        default="hand_written",
                        help="the baseline's feature SQL: hand-written from the raw tables (default), dbt's "
                             "compiled SQL run directly, or both (the hand-written one stays the baseline)")
    parser.add_argument("--from-stages", action="store_true",
                        help="only rebuild the report from the stage results kept beside the warehouse")
    parser.add_argument("--json", type=Path, default=None,
                        help="output file (default: artifacts/benchmarks/daily_partition_<customers>.json)")
    # Internal: one stage in this process.
    parser.add_argument("--stage", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--compiled", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="hand_written", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return _stage_main(args)

    warehouse = args.warehouse_dir / f"telco_{args.customers}" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, Any]]] = {}
    results = load_stages(warehouse.parent / "stages") if args.from_stages else measure_all(args, warehouse)
    summary = summarise(results, args.customers, args.day)
    summary["ruler_from"] = str(args.ruler_from) if args.ruler_from else None
    print_report(summary)
    target = args.json or ROOT / "artifacts" / "benchmarks" / f"daily_partition_{args.customers}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(summary, indent=2, default=str))
    print(f"\nwrote {target}")
    return 0 if summary["agreement"]["agrees"] else 1


def measure_all(args: argparse.Namespace, warehouse: Path) -> dict[str, list[dict[str, Any]]]:
    """Prepare the warehouse, then run every stage in its own process; returns the measurements by stage."""
    results: dict[str, list[dict[str, Any]]] = {}
    stages = warehouse.parent / "stages"
    for old in stages.glob("*.json"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="bench-dagster-") as home:
        dagster_home = Path(home)
        (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

        def stage(name: str, *extra: str) -> list[dict[str, Any]]:
            print(f"-> {name}", file=sys.stderr, flush=True)
            return run_stage(name, warehouse, args.day, dagster_home, *extra)

        stage("prepare", "--customers", str(args.customers), "--seed", str(args.seed),
              *(["--ruler-from", str(args.ruler_from)] if args.ruler_from else []))
        variants = baseline_variants(args.baseline_features)
        compiled = dagster_home / "compiled.json"
        if "dbt_compiled" in variants:
            stage("compile", "--compiled", str(compiled))  # untimed: dbt's SQL for the day
        results["features"] = stage("features")
        results["trust_signal"] = stage("trust_signal")
        results["checks"] = stage("checks")
        for variant in variants:
            extra = ["--compiled", str(compiled)] if variant == "dbt_compiled" else []
            results[f"baseline{baseline_suffix(variant)}"] = stage("baseline", "--variant", variant, *extra)
        for rows in args.scoring_rows or [results["trust_signal"][0]["rows"]]:
            results[f"scoring_{rows:012d}"] = stage("scoring", "--rows", str(rows))
        if not args.skip_dagster:
            results["dagster"] = stage("dagster")
    return results


if __name__ == "__main__":
    sys.exit(main())

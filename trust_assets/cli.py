"""``trust``: the command line of the trust index.

    trust demo       generate the synthetic telco (if needed) and materialise the whole graph
    trust generate   (re)generate the synthetic telco into the warehouse
    trust run        materialise the whole graph over an existing warehouse
    trust summary    print what the trust signal and the production models look like
    trust explain    decompose a customer's score into per-feature terms (w_f * z_f)
    trust attribute  split a customer's score change into behaviour and model parts
    trust models     operate the models: list, train, shadow, gate, approve, promote, rollback, archive, audit
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date

from trust_assets.config import PROJECT_ROOT, default_end_date, duckdb_path


def _ensure_dagster_home() -> None:
    # Runs launched from the CLI land in the same instance the UI reads (make ui / scripts/dev.sh ui).
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
    os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)


def _generate(customers: int, seed: int, end: date) -> None:
    from resources.warehouse_file import regenerating
    from synthetic_telco.generate import generate_telco

    print(f"Generating the synthetic telco: {customers:,} customers, seed {seed}, history to {end} ...")
    # Replaces an empty or truncated file, refuses a foreign one, and holds the warehouse while writing.
    with regenerating(duckdb_path()):
        report = generate_telco(duckdb_path(), customers=customers, seed=seed, end_date=end)
    print(report)


def _run(end: date, days: int, command: str, generate: tuple[int, int] | None = None) -> int:
    """Materialise the whole graph (after generating the telco when ``generate`` = (customers, seed) is given),
    showing a progress bar per stage; the Dagster and dbt output goes to a log file. Returns the exit code."""
    from resources import warehouse_resource
    from trust_assets.console import StageProgress, log_file_for, output_to_log
    from trust_assets.main_pipeline import MainRunFailed, main_steps, plan_main_run, run_main
    from trust_assets.summary import render_summary

    _ensure_dagster_home()
    plan = plan_main_run(end, days)
    stages: dict[str, int] = {"generation": 1} if generate else {}
    for step in main_steps(plan):
        stages[step.stage] = stages.get(step.stage, 0) + 1
    log_path = log_file_for(command, duckdb_path().parent / "logs")
    print(f"Warehouse {duckdb_path()}; the full log of this command goes to {log_path}")
    started = time.perf_counter()
    with output_to_log(log_path) as terminal:
        progress = StageProgress(terminal, list(stages.items()))
        try:
            if generate:
                progress.start("generation")
                _generate(*generate, end)
                progress.advance()
            run_main(end, scoring_days=days, progress=progress)
        except MainRunFailed as failed:
            progress.say(f"error: {failed}\nFull log: {log_path}")
            return 1
        finally:
            progress.close()
    print(f"\nThe whole graph materialised in {time.perf_counter() - started:.0f} s.\n")
    print(render_summary(warehouse_resource(), plan.scoring_start, plan.scoring_end))
    print(
        "Open the Dagster UI with `make ui` (or `bash scripts/dev.sh ui`) and browse to http://127.0.0.1:3000:\n"
        "  Lineage                                       the graph from raw sources to customer_trust_signal\n"
        "  Catalog > customer_trust_signal > Partitions  each day's rows, score quantiles and check results\n"
        "  Jobs > daily_trust_job > Runs                 the runs this command just made\n"
        f"Full log: {log_path}"
    )
    return 0


def _date(value: str) -> date:
    return date.fromisoformat(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trust", description="The Experiential Trust Index.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the synthetic telco if missing, then materialise the whole graph")
    demo.add_argument("--customers", type=int, default=20_000, help="synthetic customers (default 20,000)")
    demo.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    demo.add_argument("--end-date", type=_date, default=None, help="last day of history (default yesterday)")
    demo.add_argument("--days", type=int, default=7, help="latest days to score (default 7)")
    demo.add_argument("--regenerate", action="store_true", help="regenerate even if the warehouse exists")

    gen = sub.add_parser("generate", help="(re)generate the synthetic telco into the warehouse")
    gen.add_argument("--customers", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--end-date", type=_date, default=None)

    run = sub.add_parser("run", help="materialise the whole graph over the existing warehouse")
    run.add_argument("--end-date", type=_date, default=None, help="last day to score (default yesterday)")
    run.add_argument("--days", type=int, default=7, help="latest days to score (default 7)")

    summary = sub.add_parser("summary", help="print the published scores and the production models")
    summary.add_argument("--start", type=_date, required=True)
    summary.add_argument("--end", type=_date, required=True)
    from trust_assets.monitoring import explain_cli

    explain_cli.add_subcommands(sub)
    from trust_assets.operations.cli import add_models_parser

    add_models_parser(sub)
    return parser


def _warehouse_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the local warehouse file for this command, in one line (resources/warehouse_file.py)."""
    if os.environ.get("TRUST_TARGET", "duckdb").strip().lower() != "duckdb":
        return None
    from resources import warehouse_file
    from trust_assets.config import SETTINGS

    if args.command == "demo" and not args.regenerate:
        from synthetic_telco.raw_schema import RAW_TABLES

        return warehouse_file.demo_problem(duckdb_path(), SETTINGS.raw_schema, [t.name for t in RAW_TABLES])
    command = f"models {args.models_command}" if args.command == "models" else args.command
    return warehouse_file.command_problem(duckdb_path(), command, SETTINGS.analytics_schema, SETTINGS.raw_schema)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from resources.warehouse_file import file_error_in

    # One line and a non-zero exit instead of a traceback, an empty table or a file created by a read.
    try:
        problem = _warehouse_problem(args)
        if problem is None:
            return _main(args)
    except Exception as error:
        found = file_error_in(error)  # also when a Dagster run failed on it
        if found is None:
            raise
        problem = str(found)
    print(f"trust: {problem}", file=sys.stderr)
    return 2


def _main(args: argparse.Namespace) -> int:
    from trust_assets.monitoring import explain_cli

    if args.command in explain_cli.COMMANDS:
        return explain_cli.run(args)
    if args.command == "models":
        from trust_assets.operations.cli import run_models

        return run_models(args)
    end = getattr(args, "end_date", None) or default_end_date()
    if args.command == "demo":
        generate = args.regenerate or not duckdb_path().exists()
        if not generate:
            print(f"Using the existing warehouse {duckdb_path()} (pass --regenerate to rebuild it).")
        return _run(end, args.days, "demo", (args.customers, args.seed) if generate else None)
    if args.command == "generate":
        _generate(args.customers, args.seed, end)
    elif args.command == "run":
        return _run(end, args.days, "run")
    elif args.command == "summary":
        from resources import warehouse_resource
        from trust_assets.summary import render_summary

        print(render_summary(warehouse_resource(), args.start, args.end))
    return 0


if __name__ == "__main__":
    sys.exit(main())

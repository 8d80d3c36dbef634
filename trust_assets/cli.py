"""``trust``: the command line of the trust index.

    trust demo       generate the synthetic telco (if needed) and materialise the whole graph
    trust generate   (re)generate the synthetic telco into the warehouse
    trust run        materialise the whole graph over an existing warehouse
    trust summary    print what the trust signal and the production models look like
    trust explain    decompose a customer's score into per-feature terms (w_f * z_f)
    trust attribute  split a customer's score change into behaviour and model parts
    trust models     operate the models: list, train, shadow, gate, approve, canary, promote, rollback, archive, audit

The command bodies live in trust_assets/cli_commands/. Only argparse and the configuration are imported here:
each command imports what it needs when it runs, so the read-only ones (``summary``, ``explain``, ``attribute``,
``models list``, ``models audit``) start without loading the Dagster code location. A mistaken command (an unknown
id, a date that was not scored, an empty range) ends in one line on stderr that names the mistake, and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from trust_assets.cli_commands import explain, models, summary
from trust_assets.cli_commands.common import CommandError, iso_date
from trust_assets.config import PROJECT_ROOT, default_end_date, duckdb_path
from trust_assets.tables import TRUST_SIGNAL


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
    import dagster as dg

    from resources import warehouse_resource
    from trust_assets.check_report import checks_not_passed, render_checks_not_passed, runs_since
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
    started, started_at = time.perf_counter(), datetime.now(UTC)
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
    instance = dg.DagsterInstance.get()
    print(render_checks_not_passed(checks_not_passed(instance, runs_since(instance, started_at))) + "\n")
    print(
        "Open the Dagster UI with `make ui` (or `bash scripts/dev.sh ui`) and browse to http://127.0.0.1:3000:\n"
        f"  Lineage                                       the graph from raw sources to {TRUST_SIGNAL}\n"
        f"  Catalog > {TRUST_SIGNAL} > Partitions  each day's rows, score quantiles and check results\n"
        "  Jobs > daily_trust_job > Runs                 the runs this command just made\n"
        f"Full log: {log_path}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trust", description="The Experiential Trust Index.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the synthetic telco if missing, then materialise the whole graph")
    demo.add_argument("--customers", type=int, default=20_000, help="synthetic customers (default 20,000)")
    demo.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    demo.add_argument("--end-date", type=iso_date, default=None, help="last day of history (default yesterday)")
    demo.add_argument("--days", type=int, default=7, help="latest days to score (default 7)")
    demo.add_argument("--regenerate", action="store_true", help="regenerate even if the warehouse exists")

    gen = sub.add_parser("generate", help="(re)generate the synthetic telco into the warehouse")
    gen.add_argument("--customers", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--end-date", type=iso_date, default=None)

    run = sub.add_parser("run", help="materialise the whole graph over the existing warehouse")
    run.add_argument("--end-date", type=iso_date, default=None, help="last day to score (default yesterday)")
    run.add_argument("--days", type=int, default=7, help="latest days to score (default 7)")

    summary.add_parser(sub)
    explain.add_parsers(sub)
    models.add_parsers(sub)
    return parser


def _warehouse_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the local warehouse file for this command, in one line (resources/warehouse_file.py)."""
    if os.environ.get("TRUST_TARGET", "duckdb").strip().lower() != "duckdb":
        return None
    from resources import warehouse_file
    from trust_assets.config import SETTINGS

    if args.command == "demo" and not args.regenerate:
        from source_contract.raw_tables import RAW_TABLES

        return warehouse_file.demo_problem(duckdb_path(), SETTINGS.raw_schema, [t.name for t in RAW_TABLES])
    command = f"models {args.models_command}" if args.command == "models" else args.command
    return warehouse_file.command_problem(duckdb_path(), command, SETTINGS.analytics_schema, SETTINGS.raw_schema)


def is_read_only(args: argparse.Namespace) -> bool:
    """Whether the parsed command only reads the warehouse (it must never create or change a file)."""
    if args.command == "models":
        return args.models_command in models.READ_ONLY_COMMANDS
    return args.command in ("summary", *explain.COMMANDS)


def _read_only(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a read-only command; a warehouse that cannot be read ends in one line, not a DuckDB traceback."""
    import duckdb

    try:
        return handler(args)
    except duckdb.Error as exc:
        raise CommandError(_unreadable(exc), exit_code=1) from exc


def _unreadable(exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "Could not set lock" in first:  # DuckDB: another process opened the file for writing
        pid = re.search(r"\(PID (\d+)\)", first)
        holder = f"another process (PID {pid.group(1)})" if pid else "another process"
        return (f"the warehouse {duckdb_path()} is locked by {holder}, probably a run writing to it: "
                "try again when it has finished")
    return f"the warehouse {duckdb_path()} could not be read: {first}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from resources.warehouse_file import file_error_in, is_in_use

    # One line and a non-zero exit instead of a traceback, an empty table or a file created by a read.
    try:
        problem = _warehouse_problem(args)
        if problem is None:
            return _dispatch(args)
    except CommandError as exc:
        name = " ".join(filter(None, ["trust", args.command, getattr(args, "models_command", None)]))
        print(f"{name}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as error:
        found = file_error_in(error)  # also when a Dagster run failed on it
        if found is None:
            raise
        problem = str(found)
    print(f"trust: {problem}", file=sys.stderr)
    # A file another process is using is not a mistake in the command (README: exit status 1).
    return 1 if is_in_use(problem) else 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "summary":
        return _read_only(summary.run, args)
    if args.command in explain.COMMANDS:
        return _read_only(explain.run, args)
    if args.command == "models":
        return _read_only(models.run, args) if is_read_only(args) else models.run(args)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())

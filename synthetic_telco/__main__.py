"""Command line: ``python -m synthetic_telco --customers 20000 --seed 42 --end-date 2026-02-28``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from synthetic_telco.generate import generate_telco
from synthetic_telco.scenarios import PriceRise, RegionalOutage, Scenario, SchemaChange
from trust_assets.config import SETTINGS, default_end_date, duckdb_path

T = TypeVar("T")


def _argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Let argparse show the scenario's own validation message instead of a generic one."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m synthetic_telco",
        description=(
            "Generate a deterministic synthetic telco (Mobile, TV, Broadband) into a DuckDB file: the raw source "
            f"tables in schema 'raw' (history from {SETTINGS.history_start} to the end date) and the hidden "
            "ground truth in schema 'truth'. Same arguments, same tables, bit for bit."
        ),
        epilog=(
            "examples:\n"
            "  python -m synthetic_telco --customers 20000 --end-date 2026-02-28\n"
            "  python -m synthetic_telco --outage north:mobile:2026-02-10:3 --price-rise broadband:2026-01-01:0.08\n"
            "  python -m synthetic_telco --schema-change bills:rename:amount:bill_amount\n"
            "See docs/synthetic_telco.md for what each table and scenario contains."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--customers", type=int, default=20_000, help="number of customers (default: 20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--end-date", type=_argument(date.fromisoformat), default=None, metavar="YYYY-MM-DD",
                        help="last day of history (default: $TRUST_END_DATE, else yesterday)")
    parser.add_argument("--duckdb-path", default=None, metavar="PATH",
                        help="warehouse file; schemas raw and truth are replaced "
                             "(default: $TRUST_DUCKDB_PATH, else data/warehouse.duckdb)")
    parser.add_argument("--outage", action="append", default=[], type=_argument(RegionalOutage.parse),
                        metavar="REGION:PRODUCT:START[:DAYS[:MINUTES_PER_DAY]]",
                        help="add a regional outage scenario, e.g. north:mobile:2026-02-10:3 (repeatable)")
    parser.add_argument("--price-rise", action="append", default=[], type=_argument(PriceRise.parse),
                        metavar="PRODUCT:DATE:PCT",
                        help="add a price rise scenario, e.g. broadband:2026-01-01:0.08 for +8%% (repeatable)")
    parser.add_argument("--schema-change", action="append", default=[], type=_argument(SchemaChange.parse),
                        metavar="TABLE:KIND:COLUMN[:ARG]",
                        help="alter a raw table after generation: bills:rename:amount:bill_amount, "
                             "bills:retype:amount:VARCHAR or bills:drop:amount (repeatable)")
    parser.add_argument("--workers", type=int, default=None,
                        help="generator processes (default: one per CPU from 100000 customers, else none); "
                             "never changes the output")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    scenarios: list[Scenario] = [*args.outage, *args.price_rise, *args.schema_change]
    report = generate_telco(
        duckdb_path=args.duckdb_path or duckdb_path(),
        customers=args.customers,
        seed=args.seed,
        end_date=args.end_date or default_end_date(),
        scenarios=scenarios,
        progress=not args.no_progress,
        workers=args.workers,
    )
    print(report.as_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())

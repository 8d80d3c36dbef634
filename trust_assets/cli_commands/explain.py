"""``trust explain`` and ``trust attribute``: per-customer explanations and score-change attribution.

    trust explain   --customer C0000001 --cohort mobile --date 2026-02-28 [--model-version V] [--json]
    trust attribute --customer C0000001 --cohort mobile --from 2026-02-22 --to 2026-02-28 [--json]

A customer, date or version that the warehouse does not hold ends in one line that says which it is (unknown
customer, a product the customer does not hold, a date that was not scored with the nearest scored dates, a
version of another cohort) and exit status 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from trust_assets.cli_commands.common import CommandError, iso_date
from trust_assets.config import COHORTS

COMMANDS: tuple[str, ...] = ("explain", "attribute")


def add_parsers(sub: Any) -> None:
    """Register the subcommands on the ``trust`` parser's subparsers."""
    cohorts = [c.value for c in COHORTS]
    explain = sub.add_parser(
        "explain",
        help="decompose a customer's trust score into per-feature terms w_f * z_f",
        description="Decompose a customer's trust score on a date into one term w_f * z_f per feature.",
    )
    explain.add_argument("--customer", required=True, help="customer_id, e.g. C0000001")
    explain.add_argument("--cohort", required=True, choices=cohorts)
    explain.add_argument("--date", type=iso_date, required=True, help="snapshot date (YYYY-MM-DD)")
    explain.add_argument("--model-version", default=None,
                         help="a version of the same cohort (default: the version that published the score)")
    explain.add_argument("--json", action="store_true", help="print JSON instead of a table")

    attribute = sub.add_parser(
        "attribute",
        help="split a customer's score change between two dates into behaviour and model parts",
        description="Split a customer's score change between two dates into a behaviour part (features moved) "
        "and a model part (the model or ruler version changed).",
    )
    attribute.add_argument("--customer", required=True, help="customer_id, e.g. C0000001")
    attribute.add_argument("--cohort", required=True, choices=cohorts)
    attribute.add_argument("--from", dest="date_from", type=iso_date, required=True, help="earlier date (YYYY-MM-DD)")
    attribute.add_argument("--to", dest="date_to", type=iso_date, required=True, help="later date (YYYY-MM-DD)")
    attribute.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    from resources.environment import read_only_warehouse
    from trust_assets.monitoring.explanations import ExplanationError, attribute, explain
    from trust_assets.scoring.registry import ModelLoadError

    customer = args.customer.strip()
    if not customer:
        raise CommandError("--customer is empty: give a customer_id, e.g. C0000001")
    if args.command == "attribute" and args.date_from > args.date_to:
        raise CommandError(f"--from {args.date_from} is after --to {args.date_to}: give the earlier date first")
    try:
        with read_only_warehouse() as warehouse:
            if args.command == "explain":
                result = explain(warehouse, customer, args.cohort, args.date, args.model_version)
            else:
                change = attribute(warehouse, customer, args.cohort, args.date_from, args.date_to)
    except (ExplanationError, ModelLoadError) as exc:
        raise CommandError(str(exc)) from exc
    if args.command == "explain":
        if args.json:
            print(json.dumps({
                "customer_id": result.customer_id, "cohort": result.cohort,
                "snapshot_date": result.snapshot_date.isoformat(), "model_version": result.model_version,
                "ruler_version": result.ruler_version, "raw_score": result.raw_score,
                "trust_score": result.trust_score, "top_drivers": result.top_drivers,
                "terms": result.terms.to_dicts(),
            }, indent=2))  # fmt: skip
        else:
            print(result.render())
    elif args.json:
        payload = {**change.as_dict(), "behaviour_by_feature": change.behaviour_by_feature.to_dicts()}
        print(json.dumps(payload, indent=2))
    else:
        print(change.render())
    return 0

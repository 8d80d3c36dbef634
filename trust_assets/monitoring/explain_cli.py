"""``trust explain`` and ``trust attribute``: per-customer explanations and score-change attribution.

    trust explain   --customer C --cohort mobile --date 2026-02-28 [--model-version V] [--json]
    trust attribute --customer C --cohort mobile --from 2026-02-22 --to 2026-02-28 [--json]
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from trust_assets.config import COHORTS

COMMANDS: tuple[str, ...] = ("explain", "attribute")


def add_subcommands(sub: Any) -> None:
    """Register the subcommands on the ``trust`` parser's subparsers."""
    cohorts = [c.value for c in COHORTS]
    explain = sub.add_parser("explain", help="decompose a customer's trust score into per-feature terms w_f * z_f")
    explain.add_argument("--customer", required=True, help="customer_id")
    explain.add_argument("--cohort", required=True, choices=cohorts)
    explain.add_argument("--date", type=date.fromisoformat, required=True, help="snapshot date (YYYY-MM-DD)")
    explain.add_argument("--model-version", default=None, help="default: the version that published the score")
    explain.add_argument("--json", action="store_true", help="print JSON instead of a table")

    attribute = sub.add_parser(
        "attribute", help="split a customer's score change between two dates into behaviour and model parts"
    )
    attribute.add_argument("--customer", required=True, help="customer_id")
    attribute.add_argument("--cohort", required=True, choices=cohorts)
    attribute.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True)
    attribute.add_argument("--to", dest="date_to", type=date.fromisoformat, required=True)
    attribute.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    from resources import warehouse_resource
    from trust_assets.monitoring.explanations import ExplanationError, attribute, explain

    warehouse = warehouse_resource()
    try:
        if args.command == "explain":
            result = explain(warehouse, args.customer, args.cohort, args.date, args.model_version)
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
        else:
            result_a = attribute(warehouse, args.customer, args.cohort, args.date_from, args.date_to)
            if args.json:
                payload = {**result_a.as_dict(), "behaviour_by_feature": result_a.behaviour_by_feature.to_dicts()}
                print(json.dumps(payload, indent=2))
            else:
                print(result_a.render())
    except ExplanationError as exc:
        print(f"error: {exc}")
        return 2
    return 0

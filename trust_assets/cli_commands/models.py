"""``trust models ...``: the operating loop from a terminal.

    trust models list                      every version and its status
    trust models train                     retrain challengers (registered as development)
    trust models shadow VERSION            development -> staging: score beside the champion
    trust models gate VERSION              the ten readiness items, pass/fail (exit 1 on fail)
    trust models approve VERSION           a second person's approval
    trust models canary VERSION            approved staging version: publish it for the canary share of customers
    trust models canary-stop VERSION       end a canary: the champion scores everyone again
    trust models promote VERSION           approved + gate passed -> production from the next partition
    trust models rollback COHORT           restore the previous champion and re-score since the promotion
    trust models archive VERSION           retire a development or staging version
    trust models audit                     the audit trail

``list`` and ``audit`` only read: they use the read-only warehouse reader and never import the Dagster code
location, so they answer at once. The others act through the operating-loop functions (trust_assets/operations/).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from trust_assets.cli_commands.common import CommandError, iso_date, render_table
from trust_assets.config import SETTINGS, Cohort

if TYPE_CHECKING:
    import polars as pl

    from resources.warehouse import WarehouseResource

COHORT_NAMES = [c.value for c in Cohort]


def _actor_arg(parser: argparse.ArgumentParser, flag: str = "--actor", what: str = "who does this") -> None:
    parser.add_argument(flag, default=None, help=f"{what} (default: $TRUST_ACTOR, else the login user; never blank)")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser(
        "models",
        help="the model operating loop: registry, shadow, gate, approval, promotion, rollback, audit",
        description="Operate the cohort models: every act is checked and recorded in model_audit_trail.",
    )
    ops = models.add_subparsers(dest="models_command", required=True)

    listing = ops.add_parser("list", help="every registered version with its status and held-out metrics")
    listing.add_argument("--cohort", choices=COHORT_NAMES, default=None)

    train = ops.add_parser("train", help="retrain challengers and register them as development")
    train.add_argument("--cohorts", nargs="+", choices=COHORT_NAMES, default=COHORT_NAMES)
    train.add_argument("--reference-date", type=iso_date, default=SETTINGS.model.reference_date,
                       help=f"snapshot date of the training features (default {SETTINGS.model.reference_date})")
    train.add_argument("--logistic-c", type=float, default=None, help="override the logistic regularisation C")
    train.add_argument("--ridge-alpha", type=float, default=None, help="override the NRC ridge alpha")
    train.add_argument("--reason", required=True, help="why the models are retrained")
    _actor_arg(train)

    for name, text in (
        ("shadow", "development -> staging: the version scores each daily partition into the shadow table"),
        # argparse formats help with %: the share's percent sign is doubled.
        ("canary", f"publish an approved staging version's scores for {SETTINGS.canary.share * 100:g}%% of its "
                   "cohort's customers (a salted hash of customer_id) from the next partition"),
        ("canary-stop", "end a version's canary: from the next partition the champion scores every customer"),
        ("promote", "make an approved staging version that passes the gate the champion from the next partition"),
        ("archive", "retire a development or staging version"),
    ):
        p = ops.add_parser(name, help=text, description=text)
        p.add_argument("version", help="model version, e.g. tv-20250731-1a2b3c4d")
        p.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
        _actor_arg(p)

    gate = ops.add_parser("gate", help="evaluate the ten production-readiness items (exit status 1 if any fails)")
    gate.add_argument("version")

    approve = ops.add_parser("approve", help="record your approval of a staging version (not your own)")
    approve.add_argument("version")
    approve.add_argument("--reason", required=True, help="what you reviewed")
    _actor_arg(approve, "--approver", "who approves")

    rollback = ops.add_parser(
        "rollback", help="restore a cohort's previous champion and re-score the partitions published since"
    )
    rollback.add_argument("cohort", choices=COHORT_NAMES)
    rollback.add_argument("--reason", required=True, help="what regressed")
    _actor_arg(rollback)

    trail = ops.add_parser("audit", help="print the audit trail (oldest first)")
    trail.add_argument("--version", default=None)
    trail.add_argument("--cohort", choices=COHORT_NAMES, default=None)
    trail.add_argument("--last", type=int, default=30, help="show the last N events (default 30)")
    trail.add_argument("--json", action="store_true",
                       help="one JSON object per event, every column in full (before_state, after_state included)")


READ_ONLY_COMMANDS: tuple[str, ...] = ("list", "audit")


def _print(frame: pl.DataFrame, squeeze: tuple[str, ...] = (), notes: list[str | None] | None = None) -> None:
    print(render_table(frame, squeeze=squeeze, notes=notes))


def run(args: argparse.Namespace) -> int:
    """Run one ``trust models`` command; returns the exit status (1 when refused)."""
    if args.models_command in READ_ONLY_COMMANDS:
        return _read(args)
    from resources import warehouse_resource
    from trust_assets.operations.audit import ActorError, resolve_actor
    from trust_assets.operations.registry_store import RegistryError

    warehouse = warehouse_resource()
    try:
        return _dispatch(args, warehouse, resolve_actor)
    except (RegistryError, ActorError) as exc:
        print(f"refused: {exc}")
        return 1


def _read(args: argparse.Namespace) -> int:
    """``list`` and ``audit``: plain reads of the registry and the audit trail."""
    import polars as pl

    from resources.environment import read_only_warehouse
    from trust_assets.operations import audit
    from trust_assets.store.models import read_registry

    if args.models_command == "audit" and args.last <= 0:
        raise CommandError(f"--last {args.last}: give a positive number of events")
    with read_only_warehouse() as warehouse:
        if args.models_command == "list":
            frame = read_registry(warehouse)
        else:
            frame = audit.read_trail(warehouse, model_version=args.version, cohort=args.cohort).tail(args.last)
    if args.models_command == "list":
        if args.cohort:
            frame = frame.filter(pl.col("cohort") == args.cohort)
        _print(frame.select("cohort", "model_version", "status", "trained_at", "created_by", "churn_auc",
                            "recontract_auc", "nrc_r2").sort("cohort", "trained_at"), squeeze=("created_by",))
        return 0
    if args.json:
        for event in frame.iter_rows(named=True):
            print(json.dumps(event, default=str))
        return 0
    status = [_status_change(audit.state(b), audit.state(a))
              for b, a in frame.select("before_state", "after_state").iter_rows()]
    shown = frame.select("occurred_at", "event_type", "model_version", "actor").with_columns(
        pl.Series("status", status, dtype=pl.String)
    )
    # The reason is the line a reader needs in full: under its event, wrapped, rather than cut in a column.
    _print(shown.select("occurred_at", "event_type", "model_version", "status", "actor"), squeeze=("actor",),
           notes=frame["reason"].to_list())
    return 0


def _status_change(before: dict[str, object], after: dict[str, object]) -> str:
    """``development -> production``; empty for events that change no version's status (a ruler issue)."""
    if "status" not in before and "status" not in after:
        return ""
    return f"{before.get('status', '-')} -> {after.get('status', '-')}"


def _dispatch(
    args: argparse.Namespace, warehouse: WarehouseResource, resolve_actor: Callable[[str | None], str]
) -> int:
    from trust_assets.operations import approval, canary, lifecycle, promotion, retrain, rollback
    from trust_assets.operations.audit import state as audit_state
    from trust_assets.operations.gate import evaluate_gate

    command = args.models_command
    if command == "train":
        settings = retrain.training_settings(args.reference_date, args.logistic_c, args.ridge_alpha)
        try:
            outcomes = retrain.retrain(warehouse, args.cohorts, resolve_actor(args.actor), args.reason, settings)
        except retrain.RetrainError as exc:
            print(f"refused: {exc}")
            return 1
        for o in outcomes:
            print(f"{o.result.cohort}: {o.result.model_version} {o.registration} (champion {o.champion})")
        print(retrain.comparison_markdown(outcomes))
    elif command == "shadow":
        lifecycle.start_shadow(warehouse, args.version, resolve_actor(args.actor), args.reason)
        print(f"{args.version} is staging: the daily run scores it into {SETTINGS.operations.shadow_table}.")
    elif command == "archive":
        lifecycle.archive(warehouse, args.version, resolve_actor(args.actor), args.reason)
        print(f"{args.version} archived.")
    elif command == "gate":
        from trust_assets.definitions import defs  # the code location is the gate's evidence

        report = evaluate_gate(warehouse, args.version, defs)
        print(report.table())
        return 0 if report.passed else 1
    elif command == "approve":
        approval.approve(warehouse, args.version, resolve_actor(args.approver), args.reason)
        print(f"{args.version} approved.")
    elif command == "canary":
        rows = canary.start_canary(warehouse, args.version, resolve_actor(args.actor), args.reason)
        started = audit_state(rows["after_state"][0])
        print(f"{args.version} is in canary from {started['effective_from']}: {started['share']:.0%} of its "
              "customers get its scores; model_version on each row says which model scored it.")
    elif command == "canary-stop":
        canary.stop_canary(warehouse, args.version, resolve_actor(args.actor), args.reason)
        print(f"{args.version} left the canary: the champion scores every customer from the next partition.")
    elif command == "promote":
        from trust_assets.definitions import defs

        done = promotion.promote(warehouse, args.version, resolve_actor(args.actor), args.reason, defs)
        print(done.gate.table())
        print(
            f"\n{done.model_version} is the {done.cohort} champion from {done.effective_from} on "
            f"(approved by {done.approved_by}; previous champion {done.previous} archived). "
            "Published partitions are unchanged."
        )
    elif command == "rollback":
        done = rollback.rollback(warehouse, args.cohort, resolve_actor(args.actor), args.reason, print)
        days = f"{done.rescored_days[0]} .. {done.rescored_days[-1]}" if done.rescored_days else "no days"
        print(
            f"{args.cohort}: {done.rolled_back} rolled back, {done.restored} restored; re-scored {days} "
            f"({done.rescored_rows} rows) in {done.seconds:.1f} s."
        )
    return 0

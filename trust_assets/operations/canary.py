"""The canary: an approved staging version publishes its scores for a fixed share of customers.

Optional and off by default: nothing is in canary until someone runs ``trust models canary VERSION`` (an
audited ``canary_started`` event). While it lasts, the daily trust signal takes the candidate's rows for the
canary customers of its cohort (``model_version`` on each row says which model scored it) and the champion's
for everyone else. Who is in the canary is decided by a salted hash of ``customer_id`` alone, so the same
customers stay in it from day to day. The canary ends with ``trust models canary-stop``, with the promotion
to full (an explicit ``trust models promote``, which records the canary in its event) or when the version is
archived.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS, CanarySettings
from trust_assets.operations.approval import current_approval
from trust_assets.operations.audit import AuditEvent, EventType, read_trail, record, resolve_actor
from trust_assets.operations.registry_store import RegistryError, version_row
from trust_assets.scoring.registry import ModelStatus
from trust_assets.scoring.training import holdout_share
from trust_assets.store.models import read_registry
from trust_assets.store.signal import latest_published_day

CANARY = SETTINGS.canary
KEYS = ["snapshot_date", "cohort", "customer_id"]
_CANARY_EVENTS = (EventType.CANARY_STARTED.value, EventType.CANARY_STOPPED.value)


def canary_flags(customer_ids: pl.Series, settings: CanarySettings = CANARY) -> pl.Series:
    """True for customers in the canary: the hash position of the salted id lies below the configured share."""
    if not 0.0 < settings.share < 1.0:
        raise ValueError(f"the canary share must lie in (0, 1), got {settings.share}")
    ids = customer_ids.cast(pl.String)
    unique = ids.unique(maintain_order=True)
    flags = [holdout_share(c, settings.salt) < settings.share for c in unique.to_list()]
    return ids.replace_strict(unique, pl.Series(flags, dtype=pl.Boolean), return_dtype=pl.Boolean).rename(
        "in_canary"
    )


def canary_state(warehouse: WarehouseResource, model_version: str) -> dict | None:
    """The latest canary_started event of the version if no canary_stopped followed it, else None."""
    trail = read_trail(warehouse, model_version=model_version).filter(pl.col("event_type").is_in(_CANARY_EVENTS))
    if trail.height == 0 or trail["event_type"][-1] != EventType.CANARY_STARTED.value:
        return None
    return trail.row(-1, named=True)


def canary_versions(warehouse: WarehouseResource) -> dict[str, str]:
    """cohort -> the staging version in canary, for every cohort that has one."""
    staging = read_registry(warehouse).filter(pl.col("status") == ModelStatus.STAGING.value)
    return {
        row["cohort"]: row["model_version"]
        for row in staging.sort("cohort").iter_rows(named=True)
        if canary_state(warehouse, row["model_version"]) is not None
    }


def start_canary(warehouse: WarehouseResource, model_version: str, actor: str, reason: str) -> pl.DataFrame:
    """staging (approved) -> in canary from the next published day on. Publishing to real customers, even a few,
    needs the second person's approval that promotion needs."""
    actor = resolve_actor(actor)
    row = version_row(read_registry(warehouse), model_version)
    if row["status"] != ModelStatus.STAGING.value:
        raise RegistryError(f"{model_version} is {row['status']}: only a staging version can enter a canary")
    if canary_state(warehouse, model_version) is not None:
        raise RegistryError(f"{model_version} is already in canary")
    approval = current_approval(warehouse, model_version)
    if approval is None:
        raise RegistryError(
            f"{model_version} has no approval since it entered shadow: a second person must run "
            f"`trust models approve {model_version}` first"
        )
    last = latest_published_day(warehouse)
    effective = (last + timedelta(days=1)).isoformat() if last else None  # type: ignore[operator]
    event = AuditEvent(
        EventType.CANARY_STARTED, model_version, row["cohort"], actor, reason, {"status": row["status"]},
        {"status": row["status"], "share": CANARY.share, "salt": CANARY.salt, "effective_from": effective,
         "approved_by": approval["actor"]},
    )
    return record(warehouse, [event])


def stop_canary(warehouse: WarehouseResource, model_version: str, actor: str, reason: str) -> pl.DataFrame:
    """Ends the canary: from the next published day the champion scores every customer again. Days already
    published keep their rows, each naming the version that scored it."""
    actor = resolve_actor(actor)
    row = version_row(read_registry(warehouse), model_version)
    if canary_state(warehouse, model_version) is None:
        raise RegistryError(f"{model_version} is not in canary")
    event = AuditEvent(EventType.CANARY_STOPPED, model_version, row["cohort"], actor, reason,
                       {"status": row["status"]}, {"status": row["status"]})
    return record(warehouse, [event])


def mix_canary(champion: pl.DataFrame, candidate: pl.DataFrame, settings: CanarySettings = CANARY) -> pl.DataFrame:
    """The published rows: ``candidate``'s rows of the canary customers (of the cohorts it scored), the
    champion's rows of everyone else. Both frames hold trust-signal rows of the same days."""
    if candidate.height == 0:
        return champion
    chosen = candidate.filter(canary_flags(candidate["customer_id"], settings))
    rest = champion.join(chosen.select(KEYS), on=KEYS, how="anti")
    return pl.concat([rest, chosen.select(champion.columns)]).sort(KEYS)


def canary_candidates(warehouse: WarehouseResource) -> set[str]:
    """Every version that was ever put in canary (a past day's rows may come from a canary that has ended)."""
    trail = read_trail(warehouse).filter(pl.col("event_type") == EventType.CANARY_STARTED.value)
    return set(trail["model_version"].to_list())


def canary_comparison(signal: pl.DataFrame, candidates: set[str]) -> pl.DataFrame:
    """Per day and cohort with canary rows: the canary customers (scored by a candidate) against the rest (the
    champion): customers, mean and quartiles of the trust score, and the share below -0.5."""
    marked = signal.with_columns(pl.col("model_version").is_in(sorted(candidates)).alias("in_canary"))
    cohorts = marked.filter(pl.col("in_canary"))["cohort"].unique().to_list()
    return (
        marked.filter(pl.col("cohort").is_in(cohorts))
        .with_columns(pl.when(pl.col("in_canary")).then(pl.lit("canary")).otherwise(pl.lit("rest")).alias("group"))
        .group_by("snapshot_date", "cohort", "group", "model_version")
        .agg(
            pl.len().alias("customers"),
            pl.col("trust_score").mean().alias("mean"),
            pl.col("trust_score").quantile(0.25, interpolation="linear").alias("p25"),
            pl.col("trust_score").quantile(0.5, interpolation="linear").alias("p50"),
            pl.col("trust_score").quantile(0.75, interpolation="linear").alias("p75"),
            (pl.col("trust_score") < -0.5).mean().alias("share_below_minus_half"),
        )
        .sort("snapshot_date", "cohort", "group")
    )

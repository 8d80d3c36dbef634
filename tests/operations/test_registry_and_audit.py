"""Registry transitions and the audit trail on small DuckDB files: immutability, one production version per
cohort, approval rules, refusals, and an audit trail that is only ever appended to."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from resources.warehouse import DuckDBWarehouse
from tests.support import table_fingerprint
from trust_assets.definitions import defs
from trust_assets.operations import approval, audit, lifecycle
from trust_assets.operations.audit import ActorError, EventType, resolve_actor
from trust_assets.operations.promotion import PromotionRefused, promote
from trust_assets.operations.registry_store import (
    ImmutableVersionError,
    RegistryError,
    StatusChange,
    register_versions,
    transition,
)
from trust_assets.operations.rollback import RollbackRefused, day_ranges, rollback
from trust_assets.scoring.registry import ModelStatus, registry_row
from trust_assets.scoring.training import CohortTrainingResult, composite_weights
from trust_assets.store.models import read_registry

AUDIT = "analytics.model_audit_trail"


def _result(version: str, cohort: str = "tv", fingerprint: str = "d" * 64) -> CohortTrainingResult:
    return CohortTrainingResult(
        cohort=cohort, model_version=version, ruler_version="ruler-v1", features=("a", "b"),
        coefficients=composite_weights(["a", "b"], [0.5, -0.2], [0.1, 0.3], [0.2, 0.0]),
        unusable_features=(), raw_ref_mean=0.1, raw_ref_stddev=0.9,
        metrics={"churn_auc": 0.8, "recontract_auc": 0.7, "nrc_r2": 0.1, "n_train": 10, "n_holdout": 5},
        hyperparameters={"C": 1.0}, data_fingerprint=fingerprint, code_version="c" * 64, n_train=10, n_holdout=5,
        training_reference_date=date(2025, 7, 31), outcome_start=date(2025, 8, 1), outcome_end=date(2026, 1, 31),
    )  # fmt: skip


def _row(version: str, status: ModelStatus, by: str = "alice", **kw: str) -> pl.DataFrame:
    return registry_row(_result(version, **kw), status, datetime(2026, 1, 1, tzinfo=UTC), by)


@pytest.fixture
def wh(tmp_path: Path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    register_versions(warehouse, _row("tv-1", ModelStatus.PRODUCTION), "alice", "first")
    register_versions(warehouse, _row("tv-2", ModelStatus.DEVELOPMENT, fingerprint="e" * 64), "alice", "retrain")
    return warehouse


def _statuses(wh: DuckDBWarehouse) -> dict[str, str]:
    return dict(read_registry(wh).select("model_version", "status").iter_rows())


def test_registration_records_trained_and_bootstrap_promotion(wh: DuckDBWarehouse) -> None:
    trail = audit.read_trail(wh)
    assert trail.select("event_type", "model_version").rows() == [
        ("trained", "tv-1"), ("promoted", "tv-1"), ("trained", "tv-2"),
    ]
    assert _statuses(wh) == {"tv-1": "production", "tv-2": "development"}
    # Registering the same version with the same contents is a no-op, not a second row.
    assert register_versions(wh, _row("tv-2", ModelStatus.DEVELOPMENT, fingerprint="e" * 64), "bob", "again") == {
        "tv-2": "already registered"
    }
    assert read_registry(wh).height == 2


def test_immutable_version_refused(wh: DuckDBWarehouse) -> None:
    before = table_fingerprint(Path(wh.path), "analytics.model_registry", "model_version")
    changed = _row("tv-2", ModelStatus.DEVELOPMENT, fingerprint="f" * 64)
    with pytest.raises(ImmutableVersionError, match="data_fingerprint"):
        register_versions(wh, changed, "mallory", "overwrite")
    assert table_fingerprint(Path(wh.path), "analytics.model_registry", "model_version") == before


def test_two_production_versions_refused(wh: DuckDBWarehouse) -> None:
    with pytest.raises(RegistryError, match="exactly one production"):
        register_versions(wh, _row("tv-3", ModelStatus.PRODUCTION, fingerprint="9" * 64), "alice", "second")
    change = StatusChange("tv-2", ModelStatus.DEVELOPMENT, ModelStatus.PRODUCTION, EventType.PROMOTED, "sneak")
    with pytest.raises(RegistryError, match="exactly one production"):
        transition(wh, [change], "alice")
    assert _statuses(wh) == {"tv-1": "production", "tv-2": "development"}
    # A wrong expected status is refused too (no blind overwrite of a concurrent change).
    with pytest.raises(RegistryError, match="expected staging"):
        transition(wh, [replace(change, expected=ModelStatus.STAGING)], "alice")


def test_approval_rules_and_promotion_refusals(wh: DuckDBWarehouse) -> None:
    with pytest.raises(approval.ApprovalError, match="only a staging version"):
        approval.approve(wh, "tv-2", "bob", "looked fine")
    lifecycle.start_shadow(wh, "tv-2", "alice", "challenger")
    assert _statuses(wh)["tv-2"] == "staging"
    with pytest.raises(PromotionRefused, match="no approval"):
        promote(wh, "tv-2", "alice", "ship it", defs)
    with pytest.raises(approval.ApprovalError, match="cannot approve"):
        approval.approve(wh, "tv-2", "Alice ", "my own work")
    with pytest.raises(ActorError):
        approval.approve(wh, "tv-2", "  ", "blank")
    assert approval.current_approval(wh, "tv-2") is None
    approval.approve(wh, "tv-2", "bob", "reviewed metrics and shadow comparison")
    assert approval.current_approval(wh, "tv-2")["actor"] == "bob"
    # Distinct approvers are configurable.
    approval.approve(wh, "tv-2", "alice", "solo team", require_distinct=False)


def test_rollback_refused_without_previous_champion(wh: DuckDBWarehouse) -> None:
    with pytest.raises(RollbackRefused, match="nothing to roll back to"):
        rollback(wh, "tv", "carol", "bad scores")
    with pytest.raises(RollbackRefused, match="reason"):
        rollback(wh, "tv", "carol", " ")


def test_audit_trail_is_append_only(wh: DuckDBWarehouse) -> None:
    path = Path(wh.path)
    before = audit.read_trail(wh)
    prefix = table_fingerprint(path, AUDIT, "occurred_at, event_id")
    lifecycle.start_shadow(wh, "tv-2", "alice", "challenger")
    lifecycle.archive(wh, "tv-2", "alice", "changed my mind")
    after = audit.read_trail(wh)
    assert after.head(before.height).equals(before)  # earlier rows untouched
    assert after["event_type"].to_list()[before.height:] == ["shadow_started", "archived"]
    assert after["occurred_at"].is_sorted() and after["event_id"].is_unique().all()
    assert table_fingerprint(path, AUDIT, "occurred_at, event_id") != prefix
    # No code path issues an UPDATE or DELETE against the audit table.
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"(update|delete\s+from)\s+[{}\w.`]*(model_audit_trail|AUDIT_TABLE)", re.IGNORECASE)
    sources = [p for d in ("trust_assets", "resources", "asset_checks") for p in (root / d).rglob("*.py")]
    assert not [p for p in sources if pattern.search(p.read_text(encoding="utf-8"))]


def test_actor_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_actor(" dana ") == "dana"
    with pytest.raises(ActorError):
        resolve_actor("")
    monkeypatch.setenv("TRUST_ACTOR", "erin")
    assert resolve_actor(None) == "erin"
    with pytest.raises(ActorError):
        audit.event_rows([audit.AuditEvent(EventType.APPROVED, "v", "tv", " ", "r")])


def test_day_ranges() -> None:
    d = date(2026, 2, 1)
    days = [d, date(2026, 2, 2), date(2026, 2, 4)]
    assert day_ranges(days) == [(d, date(2026, 2, 2)), (date(2026, 2, 4), date(2026, 2, 4))]

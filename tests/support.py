"""Small shared helpers for tests (importable as ``tests.support``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

# The repository evidence of a passing build that the test session's readiness gate reads (tests/conftest.py).
EVIDENCE_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "repository_evidence.json"

PRODUCT_ASSETS: tuple[str, ...] = (
    "customer_360_definition",
    "mobile_features",
    "tv_features",
    "broadband_features",
    "hierarchical_reference_stats",
    "trust_model_weights",
    "model_registry",
    "customer_trust_signal",
)


def table_fingerprint(path: Path, table: str, order_by: str) -> str:
    """A hash of a table's full contents in a fixed order: equal hashes mean bit-identical rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(f"select * from {table} order by {order_by}").fetchall()
    finally:
        con.close()
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def query(path: Path, sql: str, params: list | None = None):
    """Run a read-only query against a warehouse file and return a Polars frame."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).pl()
    finally:
        con.close()


def forget_validated_loads(path: Path) -> None:
    """Drop the raw-contract gate's record of validated loads (asset_checks/raw_loads.py) from a warehouse copy
    whose raw history a test rewrote: the rewritten history is then what the source delivered, re-checked in
    full by the next gate, not loads altered after the gate validated them (which fail it). The record of the
    distribution guard's quantiles (asset_checks/raw_quantiles.py) goes with it."""
    con = duckdb.connect(str(path))
    try:
        con.execute("drop table if exists analytics.raw_validated_loads")
        con.execute("drop table if exists analytics.raw_validated_quantiles")
    finally:
        con.close()

"""The daily tables hold the same rows after the raw reads were bounded to the window's partitions.

The pinned fingerprints (tests/dbt/fingerprints.py) were computed by this module's builds on the models as
they were before the constant partition bounds existed (commit a9b16af), and are compared, not recomputed: a
bound that drops a row some snapshot date needs changes a fingerprint. Three windows, so the bounds really cut
history: the snapshot date alone (the session's full build), a quarter in the middle of the history, and two
months after new data (late re-deliveries included) arrived.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.dbt.conftest import WAREHOUSE_FILE, DbtSandbox
from tests.dbt.fingerprints import table_fingerprints
from tests.dbt.raw_fixture import append_after_snapshot

DAILY_SELECT = "config.materialized:incremental"

SNAPSHOT_ONLY = {
    "analytics.customer_360_definition": (3, "21911e905073dfd9f8360c0ecde0cf36"),
    "intermediate.int_common_features": (5, "878f22e2e6fc5b9ef9aa2660e1cac593"),
    "analytics.mobile_features": (2, "904404400103bc30036272c95f090d56"),
    "analytics.tv_features": (2, "4202b1da008f76c5f49aa7d0ecc638a8"),
    "analytics.broadband_features": (1, "15b5172068e964272952e3c744f12695"),
}
# The snapshot's rows plus 2025-01-01 .. 2025-03-31.
MID_HISTORY = {
    "analytics.customer_360_definition": (363, "0fb409e19f0e31f371c2d9c16724431a"),
    "intermediate.int_common_features": (545, "511f5b1bd1017114444692d56163b377"),
    "analytics.mobile_features": (182, "e1e85f2d804b3061b4d9f95ed968fc72"),
    "analytics.tv_features": (182, "f4e0a1b0bb107bdc3f90cd6951be0684"),
    "analytics.broadband_features": (181, "1c75b5644b49a9645609e7ef38076be4"),
}
# The snapshot's rows plus 2025-09-01 .. 2025-10-31, after append_after_snapshot.
AFTER_NEW_DATA = {
    "analytics.customer_360_definition": (200, "ecd8ecb24fb8a26145f64f557fd3d442"),
    "intermediate.int_common_features": (324, "706b4686ef425e503e098f6fbadb22db"),
    "analytics.mobile_features": (138, "7141a96187b71a3deecf0b2190ddaf0d"),
    "analytics.tv_features": (124, "f8370ecb601f91bee93708f4d27c89bf"),
    "analytics.broadband_features": (62, "6782fd403df0a0000ab329390d3e8221"),
}


def test_snapshot_date_tables_are_unchanged(built_warehouse: Path) -> None:
    assert table_fingerprints(built_warehouse) == SNAPSHOT_ONLY


@pytest.mark.parametrize(
    ("first", "last", "new_data", "expected"),
    [
        (date(2025, 1, 1), date(2025, 3, 31), False, MID_HISTORY),
        (date(2025, 9, 1), date(2025, 10, 31), True, AFTER_NEW_DATA),
    ],
    ids=["mid-history", "after-new-data"],
)
def test_window_tables_are_unchanged(
    dbt_sandbox: DbtSandbox, built_warehouse: Path, tmp_path: Path,
    first: date, last: date, new_data: bool, expected: dict[str, tuple[int, str]],
) -> None:
    warehouse = tmp_path / WAREHOUSE_FILE
    shutil.copy(built_warehouse, warehouse)
    if new_data:
        append_after_snapshot(warehouse)
    dbt_sandbox.build_window(warehouse, first, last, select=DAILY_SELECT)
    assert table_fingerprints(warehouse) == expected

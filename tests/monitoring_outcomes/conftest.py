"""A private copy of the session warehouse with the outcome monitors materialised on two dates.

- the reference date (2025-07-31): its 6-month outcome window closed on 2026-01-31, so it has matured, and the
  dbt-built ``outcome_labels`` table holds that very window: an independent source for the test to compare with;
- the last scoring date (2026-02-28): its window is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from trust_assets.config import SETTINGS

MATURED_DATE = SETTINGS.model.reference_date
MONITORING = ["matured_outcome_performance", "trust_decile_outcomes", "fairness_by_group"]


@dataclass(frozen=True)
class OutcomeCopy:
    path: Path
    matured_date: date
    open_date: date
    matured_result: dg.ExecuteInProcessResult
    open_result: dg.ExecuteInProcessResult


@pytest.fixture(scope="session")
def outcome_copy(pipeline_warehouse, materialize_on, tmp_path_factory) -> OutcomeCopy:
    path = pipeline_warehouse.copy_to(tmp_path_factory.mktemp("outcomes"))
    # One run: the reference date's scores, then the monitors over them.
    matured = materialize_on(path, ["customer_trust_signal", *MONITORING], MATURED_DATE)
    assert matured.success
    # Twice: a re-run replaces the partition's rows (the fairness test would see duplicates otherwise).
    for _ in range(2):
        open_result = materialize_on(path, MONITORING, pipeline_warehouse.end_date)
        assert open_result.success
    return OutcomeCopy(path, MATURED_DATE, pipeline_warehouse.end_date, matured, open_result)

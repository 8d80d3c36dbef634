"""A private copy of the session warehouse with a two-region Broadband outage, monitored for the scoring week."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from tests.support import forget_validated_loads

OUTAGE_START = date(2026, 2, 25)
OUTAGE_DAYS = 3
# A storm takes Broadband down all day in two regions (about 40% of the cohort) for three days. A whole-cohort
# monitor can only move as far as the share of customers hit: one region (20%) with 600 minutes a day moves the
# Broadband score distribution by PSI 0.06 - 0.25 on the 4,000-customer warehouse, two regions all day by 0.8.
OUTAGE_REGIONS = ("north", "capital")
OUTAGE_MINUTES_PER_DAY = 1440.0
MONITOR_PARTITIONED = ["feature_drift", "score_distribution", "monitoring_report"]
DAILY_GROUPS = dg.AssetSelection.groups("customer_360", "cohort_features", "trust_signal")


@dataclass(frozen=True)
class OutageWarehouse:
    path: Path
    quiet_days: list[date]
    outage_days: list[date]
    seconds: dict[str, float]

    @property
    def reports_dir(self) -> Path:
        # Reports default to reports/ beside the warehouse file (trust_assets/monitoring/locations.py).
        return self.path.parent / "reports"


@pytest.fixture(scope="session")
def outage_warehouse(pipeline_warehouse, materialize_on, tmp_path_factory) -> OutageWarehouse:
    from synthetic_telco.generate import generate_telco
    from synthetic_telco.scenarios import RegionalOutage

    days = pipeline_warehouse.scoring_dates
    quiet = [d for d in days if d < OUTAGE_START]
    # The outage moves 28-day outage minutes on every later day of the week, not only on the outage days.
    outage = [d for d in days if d >= OUTAGE_START]
    assert quiet and len(outage) >= 3, (quiet, outage)
    seconds: dict[str, float] = {}
    path = pipeline_warehouse.copy_to(tmp_path_factory.mktemp("outage"))
    t = time.perf_counter()
    generate_telco(
        path,
        customers=pipeline_warehouse.customers,
        seed=pipeline_warehouse.seed,
        end_date=pipeline_warehouse.end_date,
        scenarios=[
            RegionalOutage(region=region, product="broadband", start_date=OUTAGE_START, days=OUTAGE_DAYS,
                           minutes_per_day=OUTAGE_MINUTES_PER_DAY)
            for region in OUTAGE_REGIONS
        ],
        progress=False,
    )
    seconds["generate"] = time.perf_counter() - t
    # The copy's raw history is now the outage history as the source delivered it, not loads altered after the gate
    # validated them.
    forget_validated_loads(path)
    t = time.perf_counter()
    assert materialize_on(path, DAILY_GROUPS, outage[0], outage[-1]).success
    seconds["features_and_scores"] = time.perf_counter() - t
    t = time.perf_counter()
    assert materialize_on(path, "reference_feature_bins").success
    assert materialize_on(path, MONITOR_PARTITIONED, days[0], days[-1]).success
    seconds["monitoring"] = time.perf_counter() - t
    print(f"outage warehouse built: {seconds}")
    return OutageWarehouse(path, quiet, outage, seconds)


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]

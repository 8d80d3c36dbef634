"""Guards of the trust index: data contracts, asset checks and the pre-write validation of the trust signal.

For the code location (trust_assets/definitions.py):

- ``GUARD_ASSETS``: the ``raw_source_contract`` gate asset (daily, in the ``customer_360`` group) that the
  daily dbt models depend on; it carries the blocking raw-contract checks.
- ``ASSET_CHECKS``: every ``@asset_check`` on the product tables.

For ``customer_trust_signal``: :func:`validate_trust_signal`, called on the frame before it is written.
The checks, their severities and why are documented in docs/checks.md.
"""

from __future__ import annotations

import dagster as dg

from asset_checks.monitoring_checks import MONITORING_CHECKS
from asset_checks.monitoring_outcomes import OUTCOME_CHECKS
from asset_checks.product_checks import DAILY_CHECKS, MODEL_CHECKS
from asset_checks.raw_contract import GATE_KEY, GATE_NAME, raw_source_contract
from asset_checks.trust_signal_guard import trust_signal_violations, validate_trust_signal

ASSET_CHECKS: list[dg.AssetChecksDefinition] = [*DAILY_CHECKS, *MODEL_CHECKS, *OUTCOME_CHECKS, *MONITORING_CHECKS]
GUARD_ASSETS: list[dg.AssetsDefinition] = [raw_source_contract]

__all__ = [
    "ASSET_CHECKS",
    "GATE_KEY",
    "GATE_NAME",
    "GUARD_ASSETS",
    "trust_signal_violations",
    "validate_trust_signal",
]

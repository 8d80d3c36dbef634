"""Every guard of the trust index, for the code location (trust_assets/definitions.py).

- ``GUARD_ASSETS``: the ``raw_source_contract`` gate asset (daily, in the ``customer_360`` group) that the
  daily dbt models depend on; it carries the blocking raw-contract checks.
- ``ASSET_CHECKS``: every ``@asset_check`` on the product tables.

A module of its own rather than the package's ``__init__``: the check modules import their siblings through the
package, and a package that imported them back would make every one of those imports a cycle.
"""

from __future__ import annotations

import dagster as dg

from asset_checks.monitoring_checks import MONITORING_CHECKS
from asset_checks.monitoring_outcomes import OUTCOME_CHECKS
from asset_checks.product_checks import DAILY_CHECKS, MODEL_CHECKS
from asset_checks.raw_contract import GATE_KEY, GATE_NAME, raw_source_contract

ASSET_CHECKS: list[dg.AssetChecksDefinition] = [*DAILY_CHECKS, *MODEL_CHECKS, *OUTCOME_CHECKS, *MONITORING_CHECKS]
GUARD_ASSETS: list[dg.AssetsDefinition] = [raw_source_contract]

__all__ = ["ASSET_CHECKS", "GATE_KEY", "GATE_NAME", "GUARD_ASSETS"]

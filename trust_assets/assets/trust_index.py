"""The trust-index assets of this package, for the code location's definitions."""

from __future__ import annotations

import dagster as dg

from trust_assets.assets.models import cohort_models
from trust_assets.assets.reference import hierarchical_reference_stats
from trust_assets.assets.trust_signal import customer_trust_signal

TRUST_INDEX_ASSETS: list[dg.AssetsDefinition] = [
    hierarchical_reference_stats,
    cohort_models,
    customer_trust_signal,
]

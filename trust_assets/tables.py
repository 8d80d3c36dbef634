"""The name of every table the product reads or writes in the analytics schema, in one place.

Python code names a table through these constants (the Dagster asset of a table is named after it); the dbt
models name theirs in dbt_project/models/. This module imports nothing of the project, so any module can use it.
"""

from __future__ import annotations

# --- dbt marts the Python assets read ---------------------------------------------------------------------------
CUSTOMER_360 = "customer_360_definition"
OUTCOME_LABELS = "outcome_labels"


def feature_table(cohort: str) -> str:
    """The dbt feature mart of a cohort (``mobile_features``, ``tv_features``, ``broadband_features``)."""
    return f"{cohort}_features"


# --- the ruler and the models -------------------------------------------------------------------------------------
RULER = "hierarchical_reference_stats"
RULER_ISSUES = "ruler_issues"
MODEL_WEIGHTS = "trust_model_weights"
MODEL_REGISTRY = "model_registry"
MODEL_AUDIT_TRAIL = "model_audit_trail"

# --- the published signal and the versions scoring beside it ------------------------------------------------------
TRUST_SIGNAL = "customer_trust_signal"
SHADOW_SIGNAL = "customer_trust_signal_shadow"
PREVIOUS_CHAMPION_SIGNAL = "customer_trust_signal_previous_champion"
PROBATION_GUARD_METRICS = "probation_guard_metrics"
PROBATION_GUARD_EVENTS = "probation_guard_events"

# --- monitoring ------------------------------------------------------------------------------------------------------
REFERENCE_FEATURE_BINS = "reference_feature_bins"
REFERENCE_FEATURE_QUANTILES = "reference_feature_quantiles"
REFERENCE_FEATURE_VARIATION = "reference_feature_variation"
FEATURE_DRIFT = "feature_drift"
SCORE_DISTRIBUTION = "score_distribution"
REFERENCE_SCORE_DISTRIBUTION = "reference_score_distribution"
DRIFT_EVENTS = "drift_events"
MATURED_OUTCOME_PERFORMANCE = "matured_outcome_performance"
TRUST_DECILE_OUTCOMES = "trust_decile_outcomes"
FAIRNESS_BY_GROUP = "fairness_by_group"

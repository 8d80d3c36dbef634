"""Monitoring of the trust index: plain functions over Polars frames, wired into Dagster assets elsewhere.

Drift, the prediction distribution, alerts and the HTML report (``drift``, ``prediction_distribution``,
``drift_events``, ``alerts``, ``report``; assets in ``trust_assets/assets/monitoring_drift.py``) and the outcome,
explanation and fairness monitors (assets in ``trust_assets/assets/monitoring_outcomes.py``).
"""

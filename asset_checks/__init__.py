"""Guards of the trust index: data contracts, asset checks and the pre-write validation of the trust signal.

- ``catalog``: every guard asset and asset check, for the code location (trust_assets/definitions.py).
- ``raw_contract`` and ``raw_guards``: the raw source contract gate and the guards on data that keeps it.
- ``product_checks``, ``monitoring_checks``, ``monitoring_outcomes``: the checks on the product tables.
- ``trust_signal_guard``: :func:`validate_trust_signal`, called on the frame before it is written.

The checks, their severities and why are documented in docs/checks.md.
"""

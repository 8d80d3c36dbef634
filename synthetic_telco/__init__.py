"""A deterministic synthetic telco: the raw source systems of an operator, with a hidden ground truth.

Public API: ``synthetic_telco.generate.generate_telco`` / ``GenerationReport``, the scenarios in
``synthetic_telco.scenarios`` and the command line ``python -m synthetic_telco``. See docs/synthetic_telco.md.
"""

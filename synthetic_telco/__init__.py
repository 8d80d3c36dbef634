"""A deterministic synthetic telco: the raw source systems of an operator, with a hidden ground truth."""

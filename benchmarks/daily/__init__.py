"""Building blocks of the daily-partition benchmark (benchmarks/daily_partition.py).

- ``measure``: wall time, CPU time and peak resident memory of a block of work (process tree, sampled).
- ``prepare``: a benchmark warehouse (synthetic telco, ruler and models) at a chosen scale.
- ``baseline``: the DuckDB SQL and NumPy computation of the same features and scores, and their agreement.
- ``baseline_features_sql``: the baseline's hand-written feature SQL, reading the raw tables directly.
- ``stages``: the product's stages of one daily partition and the Dagster run, each measured.
"""

"""Building blocks of the daily-partition benchmark (benchmarks/daily_partition.py).

- ``measure``: wall time, CPU time and peak resident memory of a block of work (process tree, sampled).
- ``prepare``: a benchmark warehouse (synthetic telco, ruler and models) at a chosen scale.
- ``baseline``: the hand-written DuckDB SQL and NumPy computation of the same features and scores.
- ``stages``: the product's stages of one daily partition and the Dagster run, each measured.
"""

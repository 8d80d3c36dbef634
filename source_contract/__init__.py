"""The raw source contract: the tables the pipeline reads, as an operator's warehouse receives them.

``source_contract.raw_tables`` holds the tables, columns, types, grain keys, BigQuery layout and enumerations.
Everything that touches the raw layer reads it from here: the raw contract checks and guards (asset_checks/), the
raw source assets and the command line (trust_assets/), the synthetic generator that writes the tables
(synthetic_telco/), and the tests that keep the dbt sources (``dbt_project/models/staging/_sources.yml``) and
docs/source_contract.md (``python -m source_contract.contract_doc``) in step with it. It imports nothing from the
rest of the project.
"""

"""The work the assets, jobs and commands share, kept out of the asset modules (which are wiring, metadata and
descriptions only): publishing the trust signal in chunks (``publishing``) and reading feature rows with a
Dagster failure that names what is missing (``features``)."""

"""The work the assets, jobs and commands share, kept out of the asset modules (which are wiring, metadata and
descriptions only): publishing the trust signal in chunks (``publishing``), reading feature rows with a
Dagster failure that names what is missing (``features``), and the monitoring computations and the daily report
(``monitoring``)."""

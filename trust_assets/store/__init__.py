"""The data-access layer: every read of the model registry, the model weights, the ruler and the published trust
signal, and the one way to load a model version for scoring (:func:`trust_assets.store.models.load_version`).

Plain reads through any warehouse reader (the Dagster resources or the read-only DuckDB of the command line),
free of Dagster: the assets turn :class:`trust_assets.scoring.registry.ModelLoadError` into a run failure, the
command line into a one-line refusal. Writes stay with their owners (``operations/registry_store.py``, the assets).
"""

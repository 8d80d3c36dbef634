"""Scoring a window with chosen versions (loaded by :func:`trust_assets.store.models.load_version`), through
the same code path the published trust signal uses, without writing anything."""

from __future__ import annotations

from datetime import date

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.config import Cohort
from trust_assets.scoring.arithmetic import ScoringModel
from trust_assets.services.publishing import score_chunk

Models = dict[Cohort, tuple[ScoringModel, pl.DataFrame]]


def score_window(warehouse: WarehouseResource, models: Models, start: date, end: date) -> pl.DataFrame:
    """The trust-signal rows the given versions produce for [start, end], without writing anything."""
    if not models:
        from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA

        return pl.DataFrame(schema=TRUST_SIGNAL_SCHEMA)
    frame, _, _ = score_chunk(warehouse, models, start, end)
    return frame

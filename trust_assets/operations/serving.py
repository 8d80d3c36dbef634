"""Loading a registered version for scoring and scoring a window with chosen versions, through the same
code path the published trust signal uses."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from resources.warehouse import WarehouseResource
from trust_assets.config import Cohort
from trust_assets.scoring.arithmetic import ScoringModel
from trust_assets.scoring.registry import scoring_model
from trust_assets.services.publishing import score_chunk
from trust_assets.tables import MODEL_WEIGHTS, RULER

Models = dict[Cohort, tuple[ScoringModel, pl.DataFrame]]


def load_model(warehouse: WarehouseResource, row: dict[str, Any]) -> tuple[ScoringModel, pl.DataFrame]:
    """A registered version's scoring model and the rows of the ruler version it was trained with."""
    weights = warehouse.read(
        f"select * from {{analytics}}.{MODEL_WEIGHTS} where model_version = $v", {"v": row["model_version"]}
    )
    model = scoring_model(row, weights)
    ruler = warehouse.read(
        f"select * from {{analytics}}.{RULER} where ruler_version = $v and cohort = $c",
        {"v": model.ruler_version, "c": row["cohort"]},
    )
    if ruler.height == 0:
        raise LookupError(f"{RULER} holds no rows of ruler {model.ruler_version} for {row['cohort']}")
    return model, ruler


def score_window(warehouse: WarehouseResource, models: Models, start: date, end: date) -> pl.DataFrame:
    """The trust-signal rows the given versions produce for [start, end], without writing anything."""
    if not models:
        from trust_assets.scoring.union import TRUST_SIGNAL_SCHEMA

        return pl.DataFrame(schema=TRUST_SIGNAL_SCHEMA)
    frame, _, _ = score_chunk(warehouse, models, start, end)
    return frame

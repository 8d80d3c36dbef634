"""Reads of ``model_registry``, ``trust_model_weights`` and the ruler, and loading a model version for scoring.

"Load a model version and the rows of the ruler it was trained with" is :func:`load_version`; the production
models of every cohort are :func:`production_models`. Both raise :class:`ModelLoadError` only, with a message
that names what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from trust_assets.config import COHORTS, Cohort, feature_names
from trust_assets.scoring.reference_stats import RULER_SCHEMA, conform_ruler
from trust_assets.scoring.registry import (
    REGISTRY_SCHEMA,
    ModelLoadError,
    ModelStatus,
    production_model_row,
    scoring_model,
)
from trust_assets.tables import MODEL_REGISTRY, MODEL_WEIGHTS, RULER, RULER_ISSUES

if TYPE_CHECKING:  # the arithmetic pulls in NumPy, which reading the registry (`trust models list`) does not need
    from resources.read_only import WarehouseReader
    from trust_assets.scoring.arithmetic import ScoringModel


# --- generic ---------------------------------------------------------------------------------------------------
def row_count(warehouse: WarehouseReader, table: str) -> int:
    """Rows of a table (the registry, the weights or the ruler), for ``dagster/row_count``."""
    return int(warehouse.read(f"select count(*) as n from {{analytics}}.{table}")["n"][0])


def _where(filters: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    given = {column: value for column, value in filters.items() if value is not None}
    if not given:
        return "", {}
    return " where " + " and ".join(f"{c} = ${c}" for c in given), given


# --- model_registry --------------------------------------------------------------------------------------------
def read_registry(warehouse: WarehouseReader) -> pl.DataFrame:
    """Every registered version, typed as the registry's schema (empty before the first training)."""
    if not warehouse.table_exists(MODEL_REGISTRY):
        return pl.DataFrame(schema=REGISTRY_SCHEMA)
    frame = warehouse.read(f"select * from {{analytics}}.{MODEL_REGISTRY}")
    return frame.select([pl.col(c).cast(t) for c, t in REGISTRY_SCHEMA.items()])


def registry_rows(
    warehouse: WarehouseReader,
    *,
    columns: Sequence[str] = ("*",),
    status: ModelStatus | str | None = None,
    cohort: str | None = None,
    model_version: str | None = None,
    order_by: str | None = None,
) -> pl.DataFrame:
    """Registry rows as stored, filtered in the warehouse by status, cohort and version (those given)."""
    where, params = _where(
        {
            "status": None if status is None else ModelStatus(status).value,
            "cohort": cohort,
            "model_version": model_version,
        }
    )
    order = f" order by {order_by}" if order_by else ""
    return warehouse.read(f"select {', '.join(columns)} from {{analytics}}.{MODEL_REGISTRY}{where}{order}", params)


def production_rows(warehouse: WarehouseReader) -> dict[str, dict[str, Any]]:
    """The one production registry row of every cohort."""
    _require(warehouse, MODEL_REGISTRY)
    registry = registry_rows(warehouse, status=ModelStatus.PRODUCTION)
    return {c.value: production_model_row(registry, c.value) for c in COHORTS}


def production_version(warehouse: WarehouseReader, cohort: str) -> str:
    """The cohort's production model version."""
    rows = registry_rows(warehouse, columns=("model_version",), cohort=cohort, status=ModelStatus.PRODUCTION)
    if rows.height != 1:
        raise ModelLoadError(f"expected one production model for {cohort}, found {rows.height}")
    return str(rows["model_version"][0])


def _versions_of(warehouse: WarehouseReader, cohort: str) -> str:
    rows = registry_rows(warehouse, columns=("model_version", "status"), cohort=cohort, order_by="trained_at")
    listed = ", ".join(f"{v} ({s})" for v, s in rows.iter_rows())
    return f"the {cohort} versions are {listed}" if listed else f"no {cohort} version is registered"


# --- trust_model_weights ---------------------------------------------------------------------------------------
def weights_of(warehouse: WarehouseReader, model_version: str) -> pl.DataFrame:
    """The weight rows of one model version."""
    return warehouse.read(f"select * from {{analytics}}.{MODEL_WEIGHTS} where model_version = $v", {"v": model_version})


def weight_versions(warehouse: WarehouseReader) -> pl.DataFrame | None:
    """The model versions that have weights (``model_version``), or None before the first training."""
    if not warehouse.table_exists(MODEL_WEIGHTS):
        return None
    return warehouse.read(f"select distinct model_version from {{analytics}}.{MODEL_WEIGHTS}")


# --- the ruler (hierarchical_reference_stats, ruler_issues) ------------------------------------------------------
def ruler_rows(warehouse: WarehouseReader, version: str, cohort: str | None = None) -> pl.DataFrame:
    """The rows of a ruler version (of one cohort, or of all), as stored."""
    where, params = _where({"ruler_version": version, "cohort": cohort})
    return warehouse.read(f"select * from {{analytics}}.{RULER}{where}", params)


def cohort_ruler(warehouse: WarehouseReader, version: str, cohort: str) -> pl.DataFrame:
    """A cohort's own rows of a ruler version (no segment rows): ``feature, mean, stddev``."""
    return warehouse.read(
        f"select feature, mean, stddev from {{analytics}}.{RULER} "
        "where ruler_version = $v and cohort = $c and segment is null",
        {"v": version, "c": cohort},
    )


def ruler_row_count(warehouse: WarehouseReader, version: str, cohort: str | None = None) -> int:
    """Rows of a ruler version (of one cohort, or of all); 0 when it was never issued."""
    where, params = _where({"ruler_version": version, "cohort": cohort})
    return int(warehouse.read(f"select count(*) as n from {{analytics}}.{RULER}{where}", params)["n"][0])


def stored_ruler(warehouse: WarehouseReader, version: str) -> pl.DataFrame:
    """A ruler version as issued, in the ruler's schema (empty when it was never issued)."""
    if not warehouse.table_exists(RULER):
        return pl.DataFrame(schema=RULER_SCHEMA)
    return conform_ruler(ruler_rows(warehouse, version))


def ruler_issue_recorded(warehouse: WarehouseReader, version: str) -> bool:
    """Whether ``ruler_issues`` records the issue of a ruler version."""
    if not warehouse.table_exists(RULER_ISSUES):
        return False
    found = warehouse.read(
        f"select count(*) as n from {{analytics}}.{RULER_ISSUES} where ruler_version = $v", {"v": version}
    )
    return bool(found["n"][0])


# --- loading a model version for scoring -------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelVersion:
    """Everything needed to score a cohort with one registered model version."""

    cohort: str
    model: ScoringModel
    ruler: pl.DataFrame
    registry_row: Mapping[str, Any]
    weights: pl.DataFrame

    @property
    def features(self) -> list[str]:
        return feature_names(self.cohort)

    @property
    def scoring_pair(self) -> tuple[ScoringModel, pl.DataFrame]:
        """What scoring takes: the model and its ruler rows."""
        return self.model, self.ruler


def load_version(warehouse: WarehouseReader, row: Mapping[str, Any], role: str = "model") -> ModelVersion:
    """A registered version (its registry row) with its weights and the rows of the ruler version it was trained
    with. ``role`` names the version in the message ("production model", "canary model")."""
    weights = weights_of(warehouse, row["model_version"])
    model = scoring_model(dict(row), weights)
    ruler = ruler_rows(warehouse, model.ruler_version, row["cohort"])
    if ruler.height == 0:
        raise ModelLoadError(
            f"the {role} {model.model_version} was trained with ruler {model.ruler_version}, which {RULER} "
            f"does not hold for {row['cohort']}"
        )
    return ModelVersion(cohort=str(row["cohort"]), model=model, ruler=ruler, registry_row=row, weights=weights)


def load_model_version(warehouse: WarehouseReader, model_version: str, cohort: str | None = None) -> ModelVersion:
    """:func:`load_version` of a version named by its id.

    With ``cohort``, the version must be one of that cohort's: another cohort's weights name other features.
    """
    registry = registry_rows(warehouse, model_version=model_version)
    if registry.height == 0:
        known = f": {_versions_of(warehouse, cohort)}" if cohort else ""
        raise ModelLoadError(f"model version {model_version!r} is not registered in {MODEL_REGISTRY}{known}")
    if registry.height > 1:
        raise ModelLoadError(f"{MODEL_REGISTRY} holds {registry.height} rows for model version {model_version!r}")
    row = registry.row(0, named=True)
    if cohort is not None and row["cohort"] != cohort:
        raise ModelLoadError(
            f"model version {model_version!r} is a {row['cohort']} model, not a {cohort} one: "
            f"{_versions_of(warehouse, cohort)}"
        )
    return load_version(warehouse, row)


def production_models(warehouse: WarehouseReader) -> dict[Cohort, tuple[ScoringModel, pl.DataFrame]]:
    """Each cohort's production model and the ruler rows of the version it was trained with."""
    _require(warehouse, MODEL_REGISTRY, MODEL_WEIGHTS, RULER)
    rows = production_rows(warehouse)
    return {c: load_version(warehouse, rows[c.value], "production model").scoring_pair for c in COHORTS}


def load_staging(
    warehouse: WarehouseReader, versions: Mapping[str, str], role: str
) -> dict[Cohort, tuple[ScoringModel, pl.DataFrame]]:
    """The given staging versions (cohort -> model version), each with its ruler rows."""
    if not versions:
        return {}
    staging = registry_rows(warehouse, status=ModelStatus.STAGING)
    rows = {r["model_version"]: r for r in staging.iter_rows(named=True)}
    return {Cohort(c): load_version(warehouse, rows[v], role).scoring_pair for c, v in versions.items()}


def _require(warehouse: WarehouseReader, *tables: str) -> None:
    for table in tables:
        if not warehouse.table_exists(table):
            raise ModelLoadError(f"{table} does not exist: issue the ruler and train the models first.")

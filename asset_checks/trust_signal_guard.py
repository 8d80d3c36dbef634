"""The last guard before ``customer_trust_signal`` is written: a bad frame never replaces a good partition.

The partition write is atomic (one transaction, or one partition load job), so a check that runs *after* it can
only report that a good day was already overwritten. ``customer_trust_signal`` therefore calls
:func:`validate_trust_signal` on the freshly computed frame just before ``warehouse.replace_partitions``; a
failure raises ``dg.Failure`` and the published rows stay as they were.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from asset_checks import rules
from asset_checks.reads import MissingTable, read_holders
from asset_checks.schemas import TrustSignalSchema
from asset_checks.violations import Violation, failure
from asset_checks.windows import label
from resources.warehouse import WarehouseResource
from trust_assets.config import SETTINGS
from trust_assets.store.signal import previous_day_counts
from trust_assets.tables import TRUST_SIGNAL


def previous_published_counts(warehouse: WarehouseResource, start: date) -> pl.DataFrame:
    """Rows per cohort of the last published day before ``start`` (``day``, ``cohort``, ``rows``)."""
    empty = pl.DataFrame(schema={"day": pl.Date, "cohort": pl.String, "rows": pl.Int64})
    if not warehouse.table_exists(TRUST_SIGNAL):
        return empty
    found = previous_day_counts(warehouse, start)
    return found if found.height else empty


def cohort_drop(frame: pl.DataFrame, warehouse: WarehouseResource, start: date) -> list[Violation]:
    """The frame's rows per cohort and day against the day before (the last published one for the first day)."""
    counts = frame.group_by("snapshot_date", "cohort").agg(pl.len().alias("rows")).rename({"snapshot_date": "day"})
    return rules.cohort_drop_violations(
        counts, previous_published_counts(warehouse, start), SETTINGS.raw_guards.max_published_row_drop, TRUST_SIGNAL
    )


def trust_signal_violations(
    frame: pl.DataFrame,
    *,
    warehouse: WarehouseResource | None = None,
    start: date | None = None,
    end: date | None = None,
    customer_360: pl.DataFrame | None = None,
) -> list[Violation]:
    """Every rule the frame breaks; with ``warehouse``, ``start`` and ``end`` also coverage of customer_360, whose
    rows of [start, end] (``snapshot_date``, ``customer_id``, the ``has_<product>`` flags) the scoring may pass
    as ``customer_360`` when it read them already: they are read here otherwise."""
    found = rules.schema_violations(frame, TrustSignalSchema, TRUST_SIGNAL)
    if warehouse is not None and start is not None and end is not None:
        try:
            expected = read_holders(warehouse, start, end) if customer_360 is None else rules.holders(customer_360)
        except MissingTable as missing:
            return [*found, missing.violation]
        if {"snapshot_date", "cohort", "customer_id"} <= set(frame.columns):
            what = "every customer holding the product in customer_360_definition"
            found += rules.coverage_violations(frame, expected, TRUST_SIGNAL, what)
            found += cohort_drop(frame, warehouse, start)
    elif frame.height == 0:
        found.append(Violation(TRUST_SIGNAL, None, "at least one row", 0, detail="the frame to publish is empty"))
    return found


def validate_trust_signal(
    frame: pl.DataFrame,
    *,
    warehouse: WarehouseResource | None = None,
    start: date | None = None,
    end: date | None = None,
    customer_360: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Return ``frame`` if it may be published; raise ``dg.Failure`` naming every broken rule otherwise."""
    found = trust_signal_violations(frame, warehouse=warehouse, start=start, end=end, customer_360=customer_360)
    if found:
        window = label(start, end) if start and end else "the window"
        raise failure(
            found,
            f"{TRUST_SIGNAL} for {window} was computed but NOT written: it breaks the published contract.",
            "The previously published rows are unchanged. See docs/runbook.md ('Trust signal refused before "
            "write').",
        )
    return frame


__all__ = ["trust_signal_violations", "validate_trust_signal"]

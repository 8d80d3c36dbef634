"""Writes generated chunks into DuckDB as Arrow tables.

A worker turns a chunk's numeric frames into Arrow tables (``to_arrow_table``: keys formatted by ``keys.py``,
categories as dictionary arrays, dates and timestamps as their integer encodings); the parent only INSERTs
them, computing ``loaded_at`` on the way. Column order and types come from ``source_contract.raw_tables.RAW_TABLES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import duckdb
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from source_contract.raw_tables import (
    BROADBAND_TIERS,
    MOBILE_PLAN_TYPES,
    PRODUCTS,
    RAW_TABLES,
    REGIONS,
    TV_PACKAGES,
    create_table_sql,
)
from synthetic_telco import keys
from synthetic_telco.accounts import EVENT_TYPES
from synthetic_telco.care import CHANNELS, FAULT_TYPES, REASONS
from synthetic_telco.keys import Frame
from synthetic_telco.population import CUSTOMER_TYPES
from synthetic_telco.timeline import NEVER
from synthetic_telco.truth import TRUTH_DDL

RAW_SCHEMA = "raw"
TRUTH_SCHEMA = "truth"
NULL_TS = np.iinfo(np.int64).min
# Arrow record batches per INSERT: several batches let DuckDB scan and encode them on parallel threads.
BATCH_ROWS = 262_144

CATEGORIES: dict[str, tuple[str, ...]] = {
    "product": PRODUCTS,
    "region": REGIONS,
    "plan_type": MOBILE_PLAN_TYPES,
    "package": TV_PACKAGES + BROADBAND_TIERS,
    "customer_type": CUSTOMER_TYPES,
    "channel": CHANNELS,
    "reason": REASONS,
    "fault_type": FAULT_TYPES,
    "event_type": EVENT_TYPES,
}


def _landed(day_expr: str, hours: int, minutes: int = 0) -> str:
    # Rows land the morning after their business date: deterministic, and before the 06:00 daily schedule.
    return f"CAST({day_expr} AS DATE) + INTERVAL {hours * 60 + minutes} MINUTE"


@dataclass(frozen=True)
class TableSpec:
    schema: str
    name: str
    keys: Mapping[str, Callable[[Frame], pa.Array]]  # string key columns built from the frame (keys.py)
    sources: Mapping[str, str]  # frame column -> arrow kind (see _to_arrow)
    select: tuple[str, ...]  # one expression per target column, in the table's column order


CUSTOMER = {"customer_id": keys.customer_id}
SPECS: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(RAW_SCHEMA, "customers", {**CUSTOMER, "network_area": keys.network_area},
                  {"signup_date": "date", "region": "cat", "birth_year": "int", "customer_type": "cat"},
                  ("customer_id", "signup_date", "region", "network_area", "birth_year", "customer_type",
                   _landed("signup_date", 26))),
        TableSpec(RAW_SCHEMA, "mobile_subscriptions", {"msisdn": keys.msisdn, **CUSTOMER},
                  {"plan_type": "cat", "monthly_fee": "float", "start_date": "date", "contract_end_date": "date?",
                   "end_date": "date?"},
                  ("msisdn", "customer_id", "plan_type", "monthly_fee", "start_date", "contract_end_date",
                   "end_date", _landed("coalesce(end_date, start_date)", 26, 15))),
        TableSpec(RAW_SCHEMA, "fixed_subscriptions", {"icoms_account_uid": keys.icoms_account_uid, **CUSTOMER},
                  {"product": "cat", "package": "cat", "provisioned_mbps": "int?", "monthly_fee": "float",
                   "start_date": "date", "contract_end_date": "date?", "end_date": "date?"},
                  ("icoms_account_uid", "customer_id", "product", "package", "provisioned_mbps", "monthly_fee",
                   "start_date", "contract_end_date", "end_date", _landed("coalesce(end_date, start_date)", 26, 15))),
        TableSpec(RAW_SCHEMA, "mobile_usage_weekly", {"msisdn": keys.msisdn},
                  {"week_ending": "date", "data_mb": "float", "voice_minutes": "float", "calls": "int",
                   "dropped_calls": "int"},
                  ("msisdn", "week_ending", "data_mb", "voice_minutes", "calls", "dropped_calls",
                   _landed("week_ending", 27))),
        TableSpec(RAW_SCHEMA, "tv_viewing_weekly", {"icoms_account_uid": keys.icoms_account_uid},
                  {"week_ending": "date", "viewing_minutes": "float", "active_days": "int",
                   "buffering_events": "int"},
                  ("icoms_account_uid", "week_ending", "viewing_minutes", "active_days", "buffering_events",
                   _landed("week_ending", 27))),
        TableSpec(RAW_SCHEMA, "broadband_usage_weekly", {"icoms_account_uid": keys.icoms_account_uid},
                  {"week_ending": "date", "download_gb": "float", "upload_gb": "float",
                   "avg_delivered_mbps": "float", "provisioned_mbps": "int"},
                  ("icoms_account_uid", "week_ending", "download_gb", "upload_gb", "avg_delivered_mbps",
                   "provisioned_mbps", _landed("week_ending", 27))),
        TableSpec(RAW_SCHEMA, "bills", {"bill_id": keys.bill_id, **CUSTOMER},
                  {"product": "cat", "bill_date": "date", "due_date": "date", "amount": "float"},
                  ("bill_id", "customer_id", "product", "bill_date", "due_date", "amount",
                   _landed("bill_date", 26, 30))),
        TableSpec(RAW_SCHEMA, "payments", {"payment_id": keys.payment_id, "bill_id": keys.bill_id, **CUSTOMER},
                  {"paid_date": "date", "amount": "float"},
                  ("payment_id", "bill_id", "customer_id", "paid_date", "amount", _landed("paid_date", 26, 45))),
        TableSpec(RAW_SCHEMA, "care_contacts", {"contact_id": keys.contact_id, **CUSTOMER},
                  {"product": "cat", "ts_us": "ts", "channel": "cat", "reason": "cat", "complaint": "bool"},
                  ("contact_id", "customer_id", "product", "ts_us", "channel", "reason", "complaint",
                   _landed("ts_us", 25, 30))),
        TableSpec(RAW_SCHEMA, "fault_tickets", {"ticket_id": keys.ticket_id, **CUSTOMER},
                  {"product": "cat", "opened_us": "ts", "resolved_us": "ts?", "fault_type": "cat"},
                  ("ticket_id", "customer_id", "product", "opened_us", "resolved_us", "fault_type",
                   _landed("coalesce(resolved_us, opened_us)", 25, 45))),
        TableSpec(RAW_SCHEMA, "network_outages", {"outage_id": keys.outage_id, "network_area": keys.network_area},
                  {"region": "cat", "product": "cat", "start_us": "ts", "duration": "float"},
                  ("outage_id", "region", "network_area", "product", "start_us", "duration",
                   _landed("start_us", 25))),
        TableSpec(RAW_SCHEMA, "contract_events", {"event_id": keys.event_id, **CUSTOMER},
                  {"product": "cat", "event_type": "cat", "event_date": "date", "new_contract_end_date": "date?",
                   "new_monthly_fee": "float?"},
                  ("event_id", "customer_id", "product", "event_type", "event_date", "new_contract_end_date",
                   "new_monthly_fee", _landed("event_date", 26))),
        TableSpec(TRUTH_SCHEMA, "latent_experience", CUSTOMER,
                  {"week_ending": "date", "experience": "float"},
                  ("customer_id", "week_ending", "experience")),
        TableSpec(TRUTH_SCHEMA, "customer_outcomes", CUSTOMER,
                  {"product": "cat", "start_date": "date", "churn_date": "date?", "recontract_dates": "arrow",
                   "recontract_count": "int", "monthly_fee_start": "float", "monthly_fee_end": "float",
                   "experience_mean": "float"},
                  ("customer_id", "product", "start_date", "churn_date", "recontract_dates", "recontract_count",
                   "monthly_fee_start", "monthly_fee_end", "experience_mean")),
    )
}
# Order in which a chunk's tables are appended (and the report lists them).
CHUNK_TABLES: tuple[str, ...] = (
    *(t.name for t in RAW_TABLES if t.name != "network_outages"), "latent_experience", "customer_outcomes")


def _to_arrow(name: str, kind: str, values: NDArray | pa.Array) -> pa.Array:
    if kind == "arrow":
        return values
    if kind == "cat":
        return pa.DictionaryArray.from_arrays(pa.array(values.astype(np.int8)), pa.array(CATEGORIES[name]))
    if kind == "date":
        return pa.array(values.astype(np.int32)).view(pa.date32())
    if kind == "date?":
        v = values.astype(np.int32)
        return pa.array(v, mask=v == NEVER).view(pa.date32())
    if kind == "ts":
        return pa.array(values.astype(np.int64)).view(pa.timestamp("us"))
    if kind == "ts?":
        v = values.astype(np.int64)
        return pa.array(v, mask=v == NULL_TS).view(pa.timestamp("us"))
    if kind == "float?":
        return pa.array(values, mask=np.isnan(values))
    if kind == "int?":
        return pa.array(values, mask=values < 0)
    return pa.array(values)


def to_arrow_table(name: str, frame: Mapping[str, NDArray | pa.Array]) -> pa.Table:
    """The Arrow table the INSERT of ``name`` reads; built where the frame was generated (a worker)."""
    spec = SPECS[name]
    columns = {col: build(frame) for col, build in spec.keys.items()}
    columns |= {col: _to_arrow(col, kind, frame[col]) for col, kind in spec.sources.items()}
    return pa.table(columns)


class Warehouse:
    """A DuckDB file being (re)generated: owns the connection, the schemas and the chunk appends."""

    def __init__(self, path: str | Path, threads: int = 2, memory_limit: str = "3GB") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.path))
        self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute(f"SET memory_limit = '{memory_limit}'")

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.con.close()

    def reset(self) -> None:
        """Replace schemas ``raw`` and ``truth``; anything else in the file is left alone."""
        for schema in (RAW_SCHEMA, TRUTH_SCHEMA):
            self.con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            self.con.execute(f"CREATE SCHEMA {schema}")
        for table in RAW_TABLES:
            self.con.execute(create_table_sql(table, RAW_SCHEMA))
        for name, columns in TRUTH_DDL.items():
            self.con.execute(f"CREATE TABLE {TRUTH_SCHEMA}.{name} ({columns})")

    def append(self, name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        spec = SPECS[name]
        # Zero-copy slicing into batches here, not in the worker: a pickled slice carries its whole buffer.
        table = pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), schema=table.schema)
        self.con.register("_chunk", table)
        try:
            self.con.execute(f"INSERT INTO {spec.schema}.{spec.name} SELECT {', '.join(spec.select)} FROM _chunk")
        finally:
            self.con.unregister("_chunk")

    def execute(self, sql: str, params: list | None = None) -> None:
        self.con.execute(sql, params or [])

    def row_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for table in RAW_TABLES:
            out[table.name] = int(self.con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.{table.name}").fetchone()[0])
        for name in TRUTH_DDL:
            out[f"{TRUTH_SCHEMA}.{name}"] = int(
                self.con.execute(f"SELECT count(*) FROM {TRUTH_SCHEMA}.{name}").fetchone()[0])
        return out


"""Entry point: generate the synthetic telco's raw tables and hidden ground truth into a DuckDB file.

Customers are simulated in fixed chunks; each chunk is a pure function of (seed, customer range, calendar,
outages, price rises), so chunks can run in worker processes while the parent writes to DuckDB, and the
output does not depend on the chunk size or the number of workers.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from tqdm import tqdm

from synthetic_telco.accounts import contract_event_rows, customer_rows, fee_schedules, subscription_rows
from synthetic_telco.billing import build_bills, plan_bills
from synthetic_telco.care import build_care
from synthetic_telco.contracts import PriceIndex, PriceRiseEvent, price_rises
from synthetic_telco.lifecycle import simulate
from synthetic_telco.network import Outages, build_outages
from synthetic_telco.population import draw_population
from synthetic_telco.randomness import Randomness
from synthetic_telco.scenarios import PriceRise, RegionalOutage, Scenario, SchemaChange, describe
from synthetic_telco.timeline import Timeline
from synthetic_telco.truth import latent_rows, outcome_rows
from synthetic_telco.usage import active_days, build_usage
from synthetic_telco.writer import CHUNK_TABLES, TRUTH_SCHEMA, Warehouse, to_arrow_table
from trust_assets.config import SETTINGS, default_end_date

GENERATOR_VERSION = "synthetic-telco-1"
# Customers per chunk: large enough for vectorisation to pay off, small enough to bound memory per worker.
CHUNK_CUSTOMERS = 25_000
# Chunks run in worker processes from this many customers; below it the process start-up is not worth it.
PARALLEL_FROM_CUSTOMERS = 100_000

Frames = dict[str, dict[str, Any]]
Tables = dict[str, pa.Table]


@dataclass(frozen=True)
class GenerationReport:
    """What a generation run produced: rows per table, wall and CPU seconds, peak memory, parameters."""

    rows: dict[str, int]
    seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def __str__(self) -> str:
        return self.as_table()

    def as_table(self) -> str:
        width = max(len(name) for name in self.rows)
        lines = [f"{'table':<{width}}  {'rows':>13}", f"{'-' * width}  {'-' * 13}"]
        lines += [f"{name:<{width}}  {count:>13,}" for name, count in self.rows.items()]
        lines += [f"{'-' * width}  {'-' * 13}", f"{'total':<{width}}  {self.total_rows:>13,}", ""]
        facts = {
            "wall time": f"{self.seconds:,.1f} s",
            "cpu time": f"{self.cpu_seconds:,.1f} s (this process + workers)",
            "peak memory": f"{self.peak_rss_bytes / 2**30:,.2f} GiB (RSS, this process + largest worker)",
            "rows per second": f"{self.total_rows / max(self.seconds, 1e-9):,.0f}",
            **{key: str(value) for key, value in self.params.items()},
        }
        key_width = max(len(key) for key in facts)
        lines += [f"{key:<{key_width}}  {value}" for key, value in facts.items()]
        return "\n".join(lines)


@dataclass(frozen=True)
class ChunkJob:
    seed: int
    first_customer: int
    stop_customer: int
    timeline: Timeline
    outages: Outages
    rises: tuple[PriceRiseEvent, ...]


def generate_chunk(job: ChunkJob) -> Tables:
    """All rows of customers ``[first_customer, stop_customer)``, as Arrow tables ready to INSERT."""
    rnd = Randomness(job.seed)
    tl = job.timeline
    pop = draw_population(rnd, np.arange(job.first_customer, job.stop_customer, dtype=np.int64), tl)
    plan = plan_bills(rnd, pop, tl)
    life = simulate(rnd, pop, tl, job.outages, plan)
    prices = [PriceIndex([r for r in job.rises if r.product == p]) for p in range(3)]
    fees = fee_schedules(pop, life)
    days: list[NDArray[np.int8]] = [active_days(pop, life.end, tl, p) for p in range(3)]

    frames: Frames = {"customers": customer_rows(pop)}
    frames["mobile_subscriptions"], frames["fixed_subscriptions"] = subscription_rows(pop, life, prices)
    frames.update(build_usage(rnd, pop, life, job.outages, tl, days))
    frames["bills"], frames["payments"] = build_bills(rnd, pop, plan, life.end, fees, prices, life.experience, tl)
    frames["care_contacts"], frames["fault_tickets"] = build_care(rnd, pop, life, job.outages, tl)
    frames["contract_events"] = contract_event_rows(pop, life, fees, prices, job.rises)
    frames["latent_experience"] = latent_rows(pop, life, tl, days)
    frames["customer_outcomes"] = outcome_rows(pop, life, tl, fees, prices)
    return {name: to_arrow_table(name, frames[name]) for name in CHUNK_TABLES}


def generate_telco(
    duckdb_path: str | Path,
    customers: int = 20_000,
    seed: int = 42,
    end_date: date | None = None,
    scenarios: Sequence[Scenario] = (),
    progress: bool = True,
    workers: int | None = None,
) -> GenerationReport:
    """Generate the raw source tables (schema ``raw``) and the ground truth (schema ``truth``).

    Same arguments, same tables, bit for bit. ``workers`` is the number of generator processes (default: one
    per CPU for runs of at least ``PARALLEL_FROM_CUSTOMERS`` customers, else in-process); it never changes the
    output.
    """
    if customers < 1:
        raise ValueError("customers must be positive")
    if customers >= 10_000_000:
        raise ValueError("customer ids have seven digits: at most 9,999,999 customers")
    started, cpu_started = time.perf_counter(), time.process_time() + _children_cpu_seconds()
    end = end_date or default_end_date()
    timeline = Timeline(SETTINGS.history_start, end)
    scenarios = tuple(scenarios)
    for s in scenarios:
        if not isinstance(s, RegionalOutage | PriceRise | SchemaChange):
            raise TypeError(f"not a scenario: {s!r}")
    outage_scenarios = [(i, s) for i, s in enumerate(scenarios) if isinstance(s, RegionalOutage)]
    rise_scenarios = [(i, s) for i, s in enumerate(scenarios) if isinstance(s, PriceRise)]
    rnd = Randomness(seed)
    outages = build_outages(rnd, timeline, outage_scenarios)
    rises = tuple(price_rises(timeline, rise_scenarios))
    jobs = [ChunkJob(seed, first, min(first + CHUNK_CUSTOMERS, customers + 1), timeline, outages, rises)
            for first in range(1, customers + 1, CHUNK_CUSTOMERS)]
    if workers is None:
        workers = (os.cpu_count() or 1) if customers >= PARALLEL_FROM_CUSTOMERS else 0
    workers = max(0, min(workers, len(jobs)))

    # With worker processes busy on the other cores, one DuckDB thread encodes with less overhead and fills
    # row groups better (a smaller file); without workers DuckDB may use both cores.
    with Warehouse(duckdb_path, threads=1 if workers > 0 else 2) as wh:
        wh.reset()
        wh.append("network_outages", to_arrow_table("network_outages", outages.rows))
        with tqdm(total=len(jobs), desc="synthetic telco", unit="chunk", disable=not progress) as bar:
            for tables in _run(jobs, workers):
                for name in CHUNK_TABLES:
                    wh.append(name, tables[name])
                del tables
                bar.update()
        for s in scenarios:
            if isinstance(s, SchemaChange):
                wh.execute(s.sql())
        for i, s in enumerate(scenarios):
            wh.execute(f"INSERT INTO {TRUTH_SCHEMA}.scenarios VALUES (?, ?, ?)",
                       [i, type(s).__name__, json.dumps(describe(s), sort_keys=True)])
        wh.execute(f"INSERT INTO {TRUTH_SCHEMA}.generation VALUES (?, ?, ?, ?, ?, ?)",
                   [GENERATOR_VERSION, seed, customers, timeline.start, timeline.end,
                    json.dumps([describe(s) for s in scenarios], sort_keys=True)])
        wh.execute("CHECKPOINT")
        rows = wh.row_counts()

    return GenerationReport(
        rows=rows,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() + _children_cpu_seconds() - cpu_started,
        peak_rss_bytes=peak_rss_bytes(),
        params={
            "duckdb_path": str(duckdb_path), "customers": customers, "seed": seed,
            "history_start": timeline.start.isoformat(), "end_date": timeline.end.isoformat(),
            "scenarios": [describe(s) for s in scenarios], "workers": workers, "chunk_customers": CHUNK_CUSTOMERS,
            "generator_version": GENERATOR_VERSION,
        },
    )


def _run(jobs: list[ChunkJob], workers: int) -> Iterator[Tables]:
    """Chunks in order; with workers, at most ``workers + 1`` chunks are in flight to bound memory."""
    if workers <= 0:
        for job in jobs:
            yield generate_chunk(job)
        return
    # spawn: workers never inherit the parent's open DuckDB connection or its threads, and as direct children
    # their CPU time and peak memory show in RUSAGE_CHILDREN once the pool has shut down.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: deque[Future[Tables]] = deque()
        queue = iter(jobs)
        for job in queue:
            pending.append(pool.submit(generate_chunk, job))
            if len(pending) > workers:
                break
        while pending:
            tables = pending.popleft().result()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(pool.submit(generate_chunk, nxt))
            yield tables


def peak_rss_bytes() -> int:
    """Peak resident memory of this process plus the largest finished child (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int((own + children) * 1024)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

"""The baseline of the daily partition: the same features and scores, computed directly in DuckDB and NumPy.

Features, two variants (``FEATURE_VARIANTS``), each writing temporary tables only:

- ``hand_written`` (the default): hand-written DuckDB SQL that reads the raw tables directly
  (benchmarks/daily/baseline_features_sql.py): customer_360 for the day, the families every cohort shares
  once for all products, then one statement per cohort;
- ``dbt_compiled``: the feature logic as dbt compiles it for the day, executed without dbt as four
  statements (customer_360 once, then each cohort's features reading it and the intermediate views); kept
  to compare how much a direct computation saves over running the product's own SQL.

Scores: hand-written SQL of docs/architecture.md §3 over those features (ruler lookup with the segment fallback,
weighted sum, tanh), and the identifiers joined from customer_360 as the union does.

NumPy: the scoring arithmetic alone over in-memory arrays, for the scoring-stage comparison.

:func:`agreement` compares the baseline with what the product published for the day; the benchmark and
``tests/benchmarks`` both require it to hold, so the baseline cannot drift away from the product unnoticed.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from benchmarks.daily import baseline_features_sql
from trust_assets.config import COHORT_IDENTIFIERS, COHORTS, Cohort, feature_names
from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_executable
from trust_assets.partitions import dbt_window_env, fixed_vars_arguments

# Intermediate views the feature models read several times; the baseline computes each once.
SHARED_RELATIONS: tuple[str, ...] = ("int_bills", "int_weekly_usage", "int_product_holdings")
CUSTOMER_360 = "customer_360_definition"
FEATURE_MODELS: tuple[str, ...] = tuple(f"{c.value}_features" for c in COHORTS)
BASELINE_PREFIX = baseline_features_sql.PREFIX
TOLERANCE = 1e-9
HAND_WRITTEN = "hand_written"
DBT_COMPILED = "dbt_compiled"
FEATURE_VARIANTS: tuple[str, ...] = (HAND_WRITTEN, DBT_COMPILED)


def compile_models(day: date, warehouse: Path) -> dict[str, str]:
    """The SQL dbt compiles for ``day`` for the models the daily partition computes (no dbt run, no write)."""
    names = [*SHARED_RELATIONS, CUSTOMER_360, *FEATURE_MODELS]
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as target:
        env = {**os.environ, "TRUST_DUCKDB_PATH": str(warehouse), **dbt_window_env(day, day)}
        subprocess.run(
            [dbt_executable(), "compile", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", target,
             "--select", *names, *fixed_vars_arguments()],
            cwd=DBT_PROJECT_DIR, env=env, check=True, capture_output=True, text=True,
        )
        compiled = {p.stem: p.read_text() for p in Path(target, "compiled").rglob("*.sql")}
    missing = [n for n in names if n not in compiled]
    if missing:
        raise RuntimeError(f"dbt compile did not produce {missing}")
    return {n: compiled[n] for n in names}


def _point_refs_at_temp_tables(sql: str, names: Sequence[str]) -> str:
    # dbt writes refs as "<catalog>"."<schema>"."<model>": send the shared ones to the baseline's temp tables.
    for name in names:
        sql = re.sub(rf'"[^"]+"\."[^"]+"\."{name}"', f"{BASELINE_PREFIX}{name}", sql)
    return sql


@dataclass(frozen=True)
class BaselineSql:
    """The baseline's statements, in order: (temporary table, its SELECT)."""

    statements: tuple[tuple[str, str], ...]

    def run(self, con: duckdb.DuckDBPyConnection) -> None:
        for table, select in self.statements:
            con.execute(f"create or replace temp table {table} as {select}")


def feature_statements(compiled: Mapping[str, str], materialise_shared: bool = False) -> BaselineSql:
    """customer_360 for the day once, then the three cohorts' features, as temp tables.

    The intermediate views stay views by default: DuckDB pushes each cohort's product and date filters into
    them. ``materialise_shared`` computes them once as whole temp tables instead, which at a million customers
    costs far more (their full history in memory) than the filtered reads it saves.
    """
    done: list[str] = []
    out: list[tuple[str, str]] = []
    names = [*SHARED_RELATIONS, CUSTOMER_360, *FEATURE_MODELS] if materialise_shared else [CUSTOMER_360,
                                                                                          *FEATURE_MODELS]
    for name in names:
        out.append((f"{BASELINE_PREFIX}{name}", _point_refs_at_temp_tables(compiled[name], done)))
        done.append(name)
    return BaselineSql(tuple(out))


def hand_written_feature_statements(day: date) -> BaselineSql:
    """customer_360 and the three cohorts' features for ``day`` from the raw tables, by hand-written SQL."""
    return BaselineSql(baseline_features_sql.hand_written_statements(day))


def _pivot(cohort: str, features: Sequence[str], segment_rows: bool) -> str:
    cols = ",\n        ".join(
        f"max(case when feature = '{f}' then mean end) as m__{f}, "
        f"max(case when feature = '{f}' then stddev end) as s__{f}, "
        f"bool_or(feature = '{f}') as h__{f}"
        for f in features
    )
    where = "segment is not null" if segment_rows else "segment is null"
    return f"""
    select {"segment" if segment_rows else "1 as one"},
        {cols}
    from analytics.hierarchical_reference_stats
    where cohort = '{cohort}' and {where}
        and ruler_version = (select ruler_version from model_{cohort})
    {"group by segment" if segment_rows else ""}"""


def cohort_score_sql(cohort: Cohort, features_table: str) -> str:
    """docs/architecture.md §3 for one cohort: z against the ruler (segment row where it has the entry, else the cohort
    row; missing value or unusable entry -> 0), raw = sum w*z left to right, trust = tanh(z of raw)."""
    c = cohort.value
    features = feature_names(cohort)
    weights = ",\n        ".join(f"max(case when feature = '{f}' then weight end) as w__{f}" for f in features)

    def z(f: str) -> str:
        mean = f"case when seg.h__{f} then seg.m__{f} else coh.m__{f} end"
        sd = f"case when seg.h__{f} then seg.s__{f} else coh.s__{f} end"
        return (f"case when x.{f} is null or not isfinite(x.{f}) or ({sd}) is null or ({sd}) = 0 "
                f"or not isfinite({sd}) then 0.0 else (x.{f} - ({mean})) / ({sd}) end")

    raw = " + ".join(f"w.w__{f} * ({z(f)})" for f in features)
    missing = " + ".join(f"cast(x.{f} is null or not isfinite(x.{f}) as integer)" for f in features)
    ids = COHORT_IDENTIFIERS[cohort]
    return f"""
with model_{c} as (
    select model_version, ruler_version, raw_ref_mean, raw_ref_stddev
    from analytics.model_registry where cohort = '{c}' and status = 'production'
),
w as (
    select
        {weights}
    from analytics.trust_model_weights
    where model_version = (select model_version from model_{c})
),
seg as ({_pivot(c, features, True)}),
coh as ({_pivot(c, features, False)}),
scored as (
    select x.snapshot_date, x.customer_id, x.segment, {raw} as raw_score, {missing} as missing_features
    from {features_table} as x
    left join seg on seg.segment = x.segment
    cross join coh
    cross join w
)
select
    s.snapshot_date, '{c}' as cohort, s.customer_id,
    {"p.msisdn" if "msisdn" in ids else "cast(null as varchar)"} as msisdn,
    {"p.icoms_account_uid" if "icoms_account_uid" in ids else "cast(null as varchar)"} as icoms_account_uid,
    s.segment, p.region, s.raw_score,
    tanh((s.raw_score - m.raw_ref_mean) / m.raw_ref_stddev) as trust_score,
    m.model_version, m.ruler_version, cast(s.missing_features as bigint) as missing_features
from scored as s
cross join model_{c} as m
left join {BASELINE_PREFIX}{CUSTOMER_360} as p
    on p.snapshot_date = s.snapshot_date and p.customer_id = s.customer_id"""


def score_statement() -> BaselineSql:
    """One statement: every cohort's scores with identifiers, stacked (the union)."""
    parts = [f"select * from ({cohort_score_sql(c, BASELINE_PREFIX + c.value + '_features')})" for c in COHORTS]
    return BaselineSql(((f"{BASELINE_PREFIX}scores", "\nunion all\n".join(parts)),))


# --- NumPy ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NumpyCohort:
    """A cohort's features as arrays: values (one array per feature, NaN where missing), each row's segment
    code, and the ruler as [segment code, feature] arrays (code 0 = the cohort row). Built untimed."""

    values: list[np.ndarray]
    code: np.ndarray
    means: np.ndarray  # segment codes x features
    sds: np.ndarray  # NaN where the entry is unusable
    weights: np.ndarray
    raw_ref_mean: float
    raw_ref_stddev: float


def numpy_inputs(
    frame: pl.DataFrame, ruler: pl.DataFrame, weights: Mapping[str, float], raw_ref: tuple[float, float],
    features: Sequence[str],
) -> NumpyCohort:
    """Arrays for :func:`numpy_scores`; the ruler lookup (segment row where it has the entry, else the cohort
    row) is resolved here into a few small arrays."""
    cohort_rows = {r["feature"]: r for r in ruler.filter(pl.col("segment").is_null()).iter_rows(named=True)}
    own = {(r["segment"], r["feature"]): r for r in ruler.filter(pl.col("segment").is_not_null()).iter_rows(named=True)}
    segments = sorted({s for s, _ in own})
    codes = {s: i + 1 for i, s in enumerate(segments)}
    means = np.empty((len(segments) + 1, len(features)))
    sds = np.empty((len(segments) + 1, len(features)))
    for i, segment in enumerate([None, *segments]):
        for j, f in enumerate(features):
            row = own.get((segment, f), cohort_rows[f])
            sd = row["stddev"]
            means[i, j] = np.nan if row["mean"] is None else row["mean"]
            sds[i, j] = sd if sd is not None and np.isfinite(sd) and sd != 0 else np.nan
    code = frame["segment"].cast(pl.String).replace_strict(codes, default=0, return_dtype=pl.Int64).fill_null(0)
    values = [frame[f].cast(pl.Float64).fill_null(np.nan).to_numpy() for f in features]
    return NumpyCohort(values, code.to_numpy(), means, sds, np.array([weights[f] for f in features]), *raw_ref)


def numpy_scores(x: NumpyCohort) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raw, trust, missing count) per row: z = (x - mean) / sd, 0 where missing or unusable; whole columns
    at a time, terms added left to right as the product adds them."""
    raw = np.zeros(len(x.code))
    missing = np.zeros(len(x.code), dtype=np.int64)
    for j, values in enumerate(x.values):
        mean, sd = x.means[x.code, j], x.sds[x.code, j]
        absent = ~np.isfinite(values)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(absent | np.isnan(sd), 0.0, (values - mean) / sd)
        raw = raw + x.weights[j] * z
        missing += absent
    trust = np.tanh((raw - x.raw_ref_mean) / x.raw_ref_stddev)
    return raw, trust, missing


# --- agreement --------------------------------------------------------------------------------------------------
def agreement(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, object]:
    """Baseline temp tables vs the product's published tables for ``day``: row sets, features and scores."""
    out: dict[str, object] = _customer_360_agreement(con, day)
    feature_diff: dict[str, float] = {}
    for cohort in COHORTS:
        table = f"{cohort.value}_features"
        diffs = ", ".join(
            f"max(case when (b.{f} is null) <> (p.{f} is null) then 1e300 "
            f"else abs(coalesce(b.{f}, 0) - coalesce(p.{f}, 0)) end) as {f}"
            for f in feature_names(cohort)
        )
        row = con.execute(
            f"""select count(*) filter (where b.customer_id is null or p.customer_id is null) as unmatched,
                       count(*) filter (where b.segment is distinct from p.segment) as segment_mismatch, {diffs}
                from {BASELINE_PREFIX}{table} as b
                full join (select * from analytics.{table} where snapshot_date = $day) as p
                    on p.customer_id = b.customer_id and p.snapshot_date = b.snapshot_date""",
            {"day": day},
        ).fetchone()
        assert row is not None
        out[f"{cohort.value}_feature_rows_unmatched"] = int(row[0])
        out[f"{cohort.value}_segment_mismatch"] = int(row[1])
        feature_diff[cohort.value] = max(float(v or 0.0) for v in row[2:])
    out["feature_max_abs_diff"] = feature_diff
    row = con.execute(
        f"""select count(*) as rows_compared,
                   count(*) filter (where b.customer_id is null) as product_only,
                   count(*) filter (where p.customer_id is null) as baseline_only,
                   max(abs(b.raw_score - p.raw_score)) as raw_diff,
                   max(abs(b.trust_score - p.trust_score)) as trust_diff,
                   count(*) filter (where b.missing_features <> p.missing_features) as missing_mismatch,
                   count(*) filter (where b.model_version <> p.model_version
                                    or b.ruler_version <> p.ruler_version) as version_mismatch,
                   count(*) filter (where b.msisdn is distinct from p.msisdn
                                    or b.icoms_account_uid is distinct from p.icoms_account_uid
                                    or b.region is distinct from p.region) as identifier_mismatch
            from {BASELINE_PREFIX}scores as b
            full join (select * from analytics.customer_trust_signal where snapshot_date = $day) as p
                on p.cohort = b.cohort and p.customer_id = b.customer_id and p.snapshot_date = b.snapshot_date""",
        {"day": day},
    ).fetchone()
    assert row is not None
    keys = ("rows_compared", "product_only", "baseline_only", "raw_score_max_abs_diff", "trust_score_max_abs_diff",
            "missing_features_mismatch", "version_mismatch", "identifier_mismatch")
    out.update(dict(zip(keys, row, strict=True)))
    out["agrees"] = agrees(out)
    return out


def _customer_360_agreement(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, object]:
    """Rows of the baseline's customer_360 missing from the product's day or differing in any column both
    have, and the reverse."""
    def columns(relation: str) -> list[str]:
        return [r[0] for r in con.execute(f"describe {relation}").fetchall()]

    product = f"analytics.{CUSTOMER_360}"
    shared = [c for c in columns(f"{BASELINE_PREFIX}{CUSTOMER_360}") if c in set(columns(product))]
    cols = ", ".join(shared)
    ours = f"select {cols} from {BASELINE_PREFIX}{CUSTOMER_360}"
    theirs = f"select {cols} from {product} where snapshot_date = $day"
    row = con.execute(
        f"select (select count(*) from ({ours} except all {theirs})), (select count(*) from ({theirs} except all "
        f"{ours})), (select count(*) from ({ours}))",
        {"day": day},
    ).fetchone()
    assert row is not None
    return {"customer_360_baseline_only_mismatch": int(row[0]), "customer_360_product_only_mismatch": int(row[1]),
            "customer_360_rows": int(row[2]), "customer_360_columns_compared": len(shared)}


def agrees(report: Mapping[str, object]) -> bool:
    counts = [v for k, v in report.items() if k.endswith(("_unmatched", "_mismatch", "_only"))]
    diffs = [report["raw_score_max_abs_diff"], report["trust_score_max_abs_diff"],
             *dict(report["feature_max_abs_diff"]).values()]  # type: ignore[call-overload]
    return (
        int(report["rows_compared"]) > 0  # type: ignore[call-overload]
        and all(int(v) == 0 for v in counts)  # type: ignore[call-overload]
        and all(d is not None and float(d) < TOLERANCE for d in diffs)  # type: ignore[arg-type]
    )

"""Guard metrics, the consecutive-day rule and the probation window, on small frames against NumPy/SciPy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from trust_assets.config import SETTINGS
from trust_assets.operations.audit import AuditEvent, EventType, event_rows
from trust_assets.operations.guard_metrics import GUARD_SCHEMA, ReferenceRange, find_regression, guard_metrics
from trust_assets.operations.probation import probation_of

DAY = date(2026, 2, 20)
SETTINGS_K2 = replace(SETTINGS.probation, consecutive_days=2, days=14)
FLOOR = SETTINGS.monitoring.psi_share_floor


def _rows(raw: np.ndarray, trust: np.ndarray, missing: np.ndarray, version: str, day: date = DAY) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "snapshot_date": [day] * len(raw),
            "cohort": ["tv"] * len(raw),
            "customer_id": [f"C{i:05d}" for i in range(len(raw))],
            "raw_score": raw,
            "trust_score": trust,
            "model_version": [version] * len(raw),
            "missing_features": missing,
        }
    )


def _oracle_psi(expected: np.ndarray, actual: np.ndarray) -> float:
    # Decile edges of the expected scores; a value equal to an edge belongs to the bin below it.
    edges = np.unique(np.quantile(expected, np.arange(1, 10) / 10))
    shares_e = np.bincount(np.searchsorted(edges, expected, side="left"), minlength=len(edges) + 1) / len(expected)
    shares_a = np.bincount(np.searchsorted(edges, actual, side="left"), minlength=len(edges) + 1) / len(actual)
    e, a = np.maximum(shares_e, FLOOR), np.maximum(shares_a, FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def test_metrics_match_numpy_and_scipy() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    raw_old = rng.normal(0.1, 1.2, n)
    raw_new = 0.6 * raw_old + rng.normal(0.3, 0.9, n)
    old, new = np.tanh((raw_old - 0.1) / 1.2), np.tanh((raw_new - 0.2) / 1.1)
    missing = rng.integers(0, 4, n)
    champion = _rows(raw_new, new, missing, "tv-new")
    # The previous champion scored one customer fewer: metrics are over the customers both scored.
    previous = _rows(raw_old, old, missing, "tv-old").head(n - 1)
    matured = pl.DataFrame(
        {"snapshot_date": [DAY], "cohort": ["tv"], "model_version": ["tv-new"], "roc_auc": [0.61],
         "heldout_roc_auc": [0.70]}
    )
    ranges = {"tv-new": ReferenceRange(0.2, 1.1), "tv-old": ReferenceRange(0.1, 1.2)}
    out = guard_metrics(champion, previous, {"tv": 14}, ranges, 2.576, matured)
    assert out.schema == pl.Schema(GUARD_SCHEMA)
    row = out.row(0, named=True)
    both_new, both_old = new[: n - 1], old[: n - 1]
    assert row["customers"] == n - 1
    assert (row["champion_version"], row["previous_version"]) == ("tv-new", "tv-old")
    assert row["rank_agreement"] == pytest.approx(spearmanr(both_new, both_old).statistic, rel=1e-12)
    assert row["score_psi"] == pytest.approx(_oracle_psi(both_old, both_new), rel=1e-9)
    assert row["score_psi"] > 0.01  # the oracle is compared on a real difference, not two zeros
    z = np.abs((raw_new[: n - 1] - 0.2) / 1.1)
    assert row["outside_share"] == pytest.approx(float(np.mean(z > 2.576)), abs=1e-15)
    assert row["missing_feature_share"] == pytest.approx(missing[: n - 1].sum() / ((n - 1) * 14), rel=1e-12)
    assert row["mean_shift"] == pytest.approx(float(both_new.mean() - both_old.mean()), rel=1e-9)
    assert row["matured_auc_drop"] == pytest.approx(0.09)


def test_identical_versions_have_neutral_metrics_and_no_matured_auc() -> None:
    raw = np.linspace(-3, 3, 500)
    trust = np.tanh(raw)
    row = guard_metrics(
        _rows(raw, trust, np.zeros(500, dtype=np.int64), "tv-b"), _rows(raw, trust, np.zeros(500, dtype=np.int64),
                                                                        "tv-a"),
        {"tv": 14}, {"tv-b": ReferenceRange(0.0, 1.0)}, 2.576, None,
    ).row(0, named=True)
    assert row["rank_agreement"] == pytest.approx(1.0)
    assert row["score_psi"] == pytest.approx(0.0, abs=1e-12)
    assert row["mean_shift"] == 0.0 and row["missing_feature_share"] == 0.0
    assert row["outside_share"] == pytest.approx(np.mean(np.abs(raw) > 2.576))
    assert row["matured_auc_drop"] is None


def _metrics(values: dict[date, float], metric: str = "rank_agreement") -> pl.DataFrame:
    neutral = {"rank_agreement": 0.99, "score_psi": 0.01, "outside_share": 0.02, "missing_feature_share": 0.01,
               "mean_shift": 0.0, "matured_auc_drop": None}
    rows = [{"snapshot_date": d, "cohort": "tv", "champion_version": "tv-new", "previous_version": "tv-old",
             "customers": 100, **neutral, metric: v} for d, v in sorted(values.items())]
    return pl.DataFrame(rows, schema=GUARD_SCHEMA)


def _day(i: int) -> date:
    return DAY + timedelta(days=i)


def test_k_consecutive_breached_days_make_a_regression() -> None:
    found = find_regression(_metrics({_day(0): 0.9, _day(1): -0.7, _day(2): -0.8}), _day(0), _day(13), SETTINGS_K2)
    assert found is not None
    assert (found.guard.metric, found.days, found.values) == ("rank_agreement", [_day(1), _day(2)], [-0.7, -0.8])
    assert found.evidence()["rule"] == "rank_agreement < 0.8"


@pytest.mark.parametrize(
    "values",
    [
        {_day(0): -0.7, _day(1): 0.95, _day(2): -0.7},  # interrupted by a good day
        {_day(0): -0.7, _day(2): -0.7},  # a day without a comparison is no evidence
        {_day(0): 0.95, _day(1): -0.7},  # only one breached day so far
        {_day(14): -0.7, _day(15): -0.7},  # after the probation window
        {_day(-2): -0.7, _day(-1): -0.7},  # before the promotion's first day
        {_day(0): 0.8, _day(1): 0.8},  # at the threshold is not beyond it
    ],
)
def test_no_regression(values: dict[date, float]) -> None:
    assert find_regression(_metrics(values), _day(0), _day(13), SETTINGS_K2) is None


def test_mean_shift_breaches_both_ways_and_a_missing_auc_never() -> None:
    down = find_regression(_metrics({_day(0): -0.2, _day(1): -0.3}, "mean_shift"), _day(0), _day(13), SETTINGS_K2)
    assert down is not None and down.guard.metric == "mean_shift" and down.values == [-0.2, -0.3]
    none = _metrics({_day(0): None, _day(1): None}, "matured_auc_drop")
    assert find_regression(none, _day(0), _day(13), SETTINGS_K2) is None
    auc = find_regression(_metrics({_day(0): 0.06, _day(1): 0.08}, "matured_auc_drop"), _day(0), _day(13),
                          SETTINGS_K2)
    assert auc is not None and auc.guard.metric == "matured_auc_drop"


def test_first_completed_run_wins() -> None:
    frame = _metrics({_day(0): 0.99, _day(1): 0.5, _day(2): 0.5}).with_columns(
        score_psi=pl.Series([0.4, 0.4, 0.4])
    )
    found = find_regression(frame, _day(0), _day(13), SETTINGS_K2)
    assert found is not None and found.guard.metric == "score_psi" and found.days == [_day(0), _day(1)]
    k3 = find_regression(frame, _day(0), _day(13), replace(SETTINGS_K2, consecutive_days=3))
    assert k3 is not None and k3.guard.metric == "score_psi" and k3.days == [_day(0), _day(1), _day(2)]


def _trail(*events: AuditEvent) -> pl.DataFrame:
    return event_rows(list(events))


def test_probation_window_from_the_audit_trail() -> None:
    promoted = AuditEvent(EventType.PROMOTED, "tv-new", "tv", "carol", "better", {"status": "staging",
                          "champion": "tv-old"}, {"status": "production", "effective_from": "2026-02-25"})
    trail = _trail(promoted)
    found = probation_of(trail, "tv-new", SETTINGS_K2)
    assert found is not None
    assert (found.previous, found.effective_from, found.last_day) == ("tv-old", date(2026, 2, 25), date(2026, 3, 10))
    assert found.promotion_event_id == trail["event_id"][0]
    assert found.covers(date(2026, 3, 10)) and not found.covers(date(2026, 3, 11))

    # A version restored by a rollback is not in probation, even if it was once promoted over another.
    restored = AuditEvent(EventType.ROLLED_BACK, "tv-new", "tv", "dave", "r", {"status": "archived"},
                          {"status": "production", "replaces": "tv-x"})
    archived = AuditEvent(EventType.ARCHIVED, "tv-new", "tv", "erin", "r", {"status": "production"},
                          {"status": "archived"})
    assert probation_of(_trail(promoted, archived, restored), "tv-new", SETTINGS_K2) is None
    # A cohort's first version replaced nobody.
    first = AuditEvent(EventType.PROMOTED, "tv-old", "tv", "ci", "first", {"status": "development",
                       "champion": None}, {"status": "production", "effective_from": None})
    assert probation_of(_trail(first), "tv-old", SETTINGS_K2) is None

"""The raw-guards benchmark runs on the session warehouse and reports what the guards themselves find, so the
figures in docs/checks.md and docs/performance.md come from a command that cannot silently rot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asset_checks.raw_contract import guard_violations
from benchmarks import raw_guards
from resources.warehouse import DuckDBWarehouse


def test_the_benchmark_reports_the_guards_verdict_and_a_baseline(pipeline_warehouse, capsys, monkeypatch) -> None:
    path = Path(pipeline_warehouse.duckdb_path)
    monkeypatch.setenv("TRUST_DUCKDB_PATH", str(path))  # the benchmark sets it; restored after the test
    day = pipeline_warehouse.end_date
    assert raw_guards.main(["--warehouse", str(path), "--last", day.isoformat(), "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "blocked: none" in out and "the guards add" in out, out
    report = json.loads((raw_guards.ROOT / "artifacts" / "benchmarks" / f"raw_guards_{path.parent.name}.json")
                        .read_text())
    assert report["history"]["blocked"] == {} and report["history"]["last"] == day.isoformat()
    assert report["history"]["days"] > 500
    # The same verdict the gate's own function gives on the day, and every timed part present.
    warehouse = DuckDBWarehouse(path=str(path))
    assert not any(guard_violations(warehouse, day, day).values())
    assert set(report["one_day"]) >= {"guards together", "gate with the guards", "gate without the guards"}
    assert all(figures["wall_s"] > 0 for figures in report["one_day"].values())


def test_a_missing_warehouse_gets_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert raw_guards.main(["--warehouse", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith("run `bash scripts/dev.sh demo` or pass --warehouse") and len(err.splitlines()) == 1
    assert not (tmp_path / "none.duckdb").exists()

"""Alert sinks (file, webhook, failure isolation), the drift alert's message and the report's HTML."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest

from trust_assets.monitoring.alerts import Alert, CompositeSink, JsonlFileSink, WebhookSink, default_sink, drift_alert
from trust_assets.monitoring.report import ReportInputs, render_report

DAY = date(2026, 2, 27)
SIGNIFICANT = pl.DataFrame(
    {
        "feature": ["outage_minutes_28d", "speed_ratio_28d"],
        "psi": [2.31, 0.41],
        "wasserstein_sd": [1.7, 0.3],
        "current_mean": [410.0, 0.81],
        "reference_mean": [35.0, 0.92],
    }
)


def test_drift_alert_says_what_since_when_and_where_to_look() -> None:
    alert = drift_alert("broadband", date(2026, 2, 25), DAY, 3, SIGNIFICANT, 14)
    assert alert.cohort == "broadband" and alert.since == date(2026, 2, 25) and alert.severity == "error"
    assert "outage_minutes_28d" in alert.title and "2026-02-25" in alert.title
    text = alert.message
    assert "2 of 14 broadband features" in text and "since 2026-02-25" in text
    assert text.index("outage_minutes_28d") < text.index("speed_ratio_28d")  # largest PSI first
    assert "What to look at" in text and "monitoring_2026-02-27.html" in text and "score_distribution" in text


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhook_file_and_log_sinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        monkeypatch.setenv("TRUST_ALERT_WEBHOOK_URL", url)
        monkeypatch.setenv("TRUST_ALERTS_FILE", str(tmp_path / "alerts.jsonl"))
        sink = default_sink()
        assert [type(s).__name__ for s in sink.sinks] == ["LogSink", "JsonlFileSink", "WebhookSink"]
        alert = drift_alert("broadband", date(2026, 2, 25), DAY, 3, SIGNIFICANT, 14)
        sink.send(alert)
    finally:
        server.shutdown()
    posted = _Collector.received[-1]
    assert posted["kind"] == "feature_drift" and posted["since"] == "2026-02-25" and "What to look at" in posted["text"]
    line = json.loads((tmp_path / "alerts.jsonl").read_text().splitlines()[-1])
    assert line["title"] == alert.title and line["details"]["consecutive_days"] == 3


def test_a_failing_sink_does_not_silence_the_others(tmp_path: Path) -> None:
    file_sink = JsonlFileSink(tmp_path / "a.jsonl")
    dead = WebhookSink("http://127.0.0.1:9/unreachable", timeout=2)
    alert = Alert(kind="test", severity="warn", title="t", message="m")
    with pytest.raises(RuntimeError, match="WebhookSink"):
        CompositeSink([dead, file_sink]).send(alert)
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 1


def _drift_rows(day: date) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "snapshot_date": [day] * 3,
            "cohort": ["broadband"] * 3,
            "feature": ["outage_minutes_28d", "speed_ratio_28d", "tenure_months"],
            "psi": [2.3, 0.15, 0.01],
            "wasserstein_sd": [1.7, 0.2, 0.01],
            "band": ["significant", "investigate", "stable"],
            "current_mean": [410.0, 0.8, 30.0],
            "reference_mean": [35.0, 0.9, 29.0],
            "missing_share": [0.0, 0.0, 0.0],
            "reference_missing_share": [0.0, 0.0, 0.0],
            "reference_max_wasserstein_sd": [0.3, 0.1, 0.05],
            "excess_wasserstein_sd": [1.4, 0.1, -0.04],
            "drifted": [True, False, False],
        }
    )


def _score_rows(day: date) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "snapshot_date": [day], "cohort": ["broadband"], "mean": [-0.1], "score_psi": [0.4],
            "band": ["significant"], "share_outside_reference": [0.07], "reference_date": [date(2025, 7, 31)],
            "histogram": [json.dumps([0, 1, 3, 8, 20, 40, 30, 10, 4, 1])],
            "reference_histogram": [json.dumps([0, 1, 2, 6, 15, 40, 40, 12, 5, 1])],
        }
    )


def test_report_is_self_contained_with_plots_and_placeholders() -> None:
    inputs = ReportInputs(
        day=DAY, drift=_drift_rows(DAY), drift_history=pl.concat([_drift_rows(date(2026, 2, 26)), _drift_rows(DAY)]),
        scores=_score_rows(DAY), psi_investigate=0.1, psi_significant=0.25,
    )
    page = render_report(inputs)
    assert page.count('class="plot"') == 3
    for kind in ("psi-bars", "score-histogram", "drift-heatmap"):
        assert f'data-plot="{kind}"' in page
    assert "Decile lift: not yet available" in page and "Fairness: not yet available" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "<script" not in page

    deciles = pl.DataFrame({"cohort": ["tv"] * 3, "decile": [1, 2, 3], "churn_rate": [0.3, 0.2, 0.1]})
    with_deciles = render_report(
        ReportInputs(**{**inputs.__dict__, "deciles": deciles})
    )
    assert 'data-plot="decile-lift"' in with_deciles and "Decile lift: not yet available" not in with_deciles


def test_report_escapes_values_and_says_how_many_rows_it_left_out() -> None:
    # The page is an autoescaped template: a value that looks like markup is shown as text, never run.
    drift = _drift_rows(DAY).with_columns(pl.lit("<script>alert(1)</script>").alias("feature"))
    canary = pl.DataFrame({"cohort": ["tv"] * 65, "group": ["canary & co"] * 65, "mean": [0.1] * 65})
    page = render_report(
        ReportInputs(
            day=DAY, drift=drift, drift_history=drift, scores=_score_rows(DAY), psi_investigate=0.1,
            psi_significant=0.25, canary=canary,
        )
    )
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<td>canary &amp; co</td>" in page and "5 more rows not shown." in page
    assert "<section id='canary'>" in page and "<section id='probation'>" not in page
    assert page.startswith("<!DOCTYPE html>") and page.count("<style>") == 1 and "}}" not in page

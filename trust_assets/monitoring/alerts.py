"""Alerts: what drifted, since when and what to look at, sent to pluggable sinks.

By default an alert goes to the log and is appended to a JSON-lines file (``data/alerts/alerts.jsonl``, see
:mod:`trust_assets.monitoring.locations`); when the environment variable named by
``MonitoringSettings.alert_webhook_env`` holds a URL, it is also POSTed there as JSON (a chat or paging
webhook). A sink is anything with ``send(alert)``; add one by passing it to :class:`CompositeSink`.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from trust_assets.config import SETTINGS
from trust_assets.monitoring.locations import alerts_file, report_path

LOGGER = logging.getLogger("trust_assets.monitoring.alerts")


@dataclass(frozen=True)
class Alert:
    """One alert: a short title, a message a person can act on, and machine-readable details."""

    kind: str
    severity: str
    title: str
    message: str
    cohort: str | None = None
    since: date | None = None
    details: dict[str, Any] = field(default_factory=dict)
    raised_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        out["raised_at"] = self.raised_at.isoformat()
        return out


class AlertSink(Protocol):
    def send(self, alert: Alert) -> None: ...


class LogSink:
    def __init__(self, logger: logging.Logger | Any = LOGGER) -> None:
        self.logger = logger

    def send(self, alert: Alert) -> None:
        self.logger.warning(f"[{alert.severity}] {alert.title}\n{alert.message}")


class JsonlFileSink:
    """Appends one JSON object per alert to a file (the audit trail of alerts)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, alert: Alert) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(alert.as_json(), default=str) + "\n")


class WebhookSink:
    """POSTs the alert as JSON; ``text`` carries title and message for chat webhooks."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, alert: Alert) -> None:
        body = json.dumps({"text": f"{alert.title}\n{alert.message}", **alert.as_json()}, default=str).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # the URL comes from configuration
            response.read()


class CompositeSink:
    """Sends to every sink; one failing sink (a webhook that is down) does not silence the others."""

    def __init__(self, sinks: Sequence[AlertSink]) -> None:
        self.sinks = list(sinks)

    def send(self, alert: Alert) -> None:
        errors: list[str] = []
        for sink in self.sinks:
            try:
                sink.send(alert)
            except Exception as exc:  # reported below, after every sink ran
                errors.append(f"{type(sink).__name__}: {exc}")
        if errors:
            raise RuntimeError(f"alert '{alert.title}' not delivered to every sink: {'; '.join(errors)}")


def default_sink(logger: logging.Logger | Any = LOGGER) -> CompositeSink:
    """Log + JSON-lines file, plus the webhook when its environment variable is set."""
    monitoring = SETTINGS.monitoring
    sinks: list[AlertSink] = [LogSink(logger), JsonlFileSink(alerts_file())]
    url = os.environ.get(monitoring.alert_webhook_env, "").strip()
    if url:
        sinks.append(WebhookSink(url, monitoring.alert_webhook_timeout_seconds))
    return CompositeSink(sinks)


# --- the drift alert ------------------------------------------------------------------------------------------------
def drift_alert(cohort: str, since: date, day: date, days: int, features: pl.DataFrame, total_features: int) -> Alert:
    """The alert of a drift event: ``features`` holds the drifted features of ``day`` (feature, psi,
    wasserstein_sd, current_mean, reference_mean)."""
    top = features.sort("psi", descending=True, nulls_last=True)
    lines = [
        f"- {r['feature']}: PSI {r['psi']:.2f}, {r['wasserstein_sd']:.2f} reference sd moved"
        f" (mean {r['current_mean']:.3g} vs reference {r['reference_mean']:.3g})"
        if r["wasserstein_sd"] is not None and r["current_mean"] is not None and r["reference_mean"] is not None
        else f"- {r['feature']}: PSI {r['psi']:.2f}"
        for r in top.iter_rows(named=True)
    ]
    threshold = SETTINGS.monitoring.psi_significant
    message = "\n".join(
        [
            f"{top.height} of {total_features} {cohort} features have drifted (PSI >= {threshold} and further "
            f"from the reference than any reference month) on each of the {days} days since {since.isoformat()} "
            f"(latest {day.isoformat()}):",
            *lines,
            "What to look at:",
            f"- the monitoring report {report_path(day)} (drift per feature, score distribution vs reference);",
            f"- the feature_drift rows for {cohort} since {since.isoformat()}, and the raw sources behind the "
            "features above (an outage, a price change or an upstream change of shape or meaning);",
            f"- score_distribution for {cohort}: whether the scores moved with the features (customers got worse) "
            "or the features moved without a real change in experience (the ruler no longer fits);",
            "- docs/monitoring.md and the runbook: a real, lasting change of population is a retraining case.",
        ]
    )
    return Alert(
        kind="feature_drift",
        severity="error",
        title=f"Feature drift in {cohort} since {since.isoformat()}: {', '.join(top['feature'].head(3).to_list())}",
        message=message,
        cohort=cohort,
        since=since,
        details={
            "latest_day": day.isoformat(),
            "consecutive_days": days,
            "features": top.select("feature", "psi", "wasserstein_sd").to_dicts(),
        },
    )

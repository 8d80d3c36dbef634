"""Where monitoring writes files: HTML reports and the alert log.

Both default to folders next to the local warehouse file (``data/reports``, ``data/alerts/alerts.jsonl``), so
a test warehouse in a temporary folder keeps its reports there too; environment variables override them.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from trust_assets.config import PROJECT_ROOT, SETTINGS, duckdb_path


def _from_env(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    path = Path(raw) if raw else default
    return path if path.is_absolute() else PROJECT_ROOT / path


def reports_dir() -> Path:
    """``$TRUST_REPORTS_DIR``, default ``reports/`` beside the warehouse file (``data/reports`` locally)."""
    return _from_env(SETTINGS.monitoring.reports_dir_env, duckdb_path().parent / "reports")


def report_path(day: date) -> Path:
    return reports_dir() / f"monitoring_{day.isoformat()}.html"


def alerts_file() -> Path:
    """``$TRUST_ALERTS_FILE``, default ``alerts/alerts.jsonl`` beside the warehouse file."""
    return _from_env(SETTINGS.monitoring.alerts_file_env, duckdb_path().parent / "alerts" / "alerts.jsonl")

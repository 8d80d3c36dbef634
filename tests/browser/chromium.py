"""Where the browser tests find Chromium, how they start it, and where their screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

# Debian's chromium: Playwright's own browser download cannot reach its host from this network.
CHROMIUM = Path(os.environ.get("TRUST_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps calling hosts that this network refuses;
# --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1600, "height": 1000}


def save_screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

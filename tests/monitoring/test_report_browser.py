"""The HTML monitoring report of an outage day, rendered in headless Chromium: it loads and shows its plots."""

from __future__ import annotations

import pytest

from tests.browser.chromium import VIEWPORT, save_screenshot


@pytest.mark.browser
def test_report_renders_in_chromium(outage_warehouse, browser) -> None:
    day = outage_warehouse.outage_days[-1]
    report = outage_warehouse.reports_dir / f"monitoring_{day.isoformat()}.html"
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report.as_uri())
        assert page.title() == f"Trust index monitoring {day.isoformat()}"
        plots = page.locator("svg.plot")
        assert plots.count() >= 9
        for kind in ("psi-bars", "score-histogram", "drift-heatmap"):
            assert page.locator(f'svg[data-plot="{kind}"]').count() == 3, kind
        # Plots are drawn, not empty boxes: bars with a size, visible on the page.
        first = page.locator('section#broadband svg[data-plot="psi-bars"]')
        assert first.is_visible() and first.bounding_box()["height"] > 100
        assert page.locator('section#broadband svg[data-plot="psi-bars"] rect.bar').count() == 14
        assert page.get_by_text("Decile lift", exact=True).is_visible()
        assert page.get_by_text("Fairness", exact=True).is_visible()
        shot = save_screenshot(page, f"monitoring_report_{day.isoformat()}")
        assert shot.stat().st_size > 20_000
        assert errors == []
    finally:
        context.close()

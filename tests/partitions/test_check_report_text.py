"""The closing text's advice on a check that did not pass, on hand-made findings (no warehouse needed)."""

from __future__ import annotations

from trust_assets.check_report import CheckNotPassed, render_checks_not_passed

DRIFT_DESCRIPTION = (
    "Rules broken on 2026-12-05:\n"
    "- feature_drift.psi: psi < 0.1 broken, 1 row(s) (features in the investigate band)\n"
    "  e.g. 2026-12-05 | tv | {feature} | 0.107"
)


def _drift_warning(feature: str) -> CheckNotPassed:
    return CheckNotPassed("feature_drift", "drift_bands", "WARN", ("2026-12-04", "2026-12-05"),
                          DRIFT_DESCRIPTION.format(feature=feature))


def test_a_tenure_warning_says_what_the_data_showed_and_that_no_action_is_due() -> None:
    text = render_checks_not_passed([_drift_warning("tenure_months")])
    flat = " ".join(text.split())
    assert "feature_drift drift_bands: warned on 2 days (2026-12-04 .. 2026-12-05)" in flat
    assert "make-up by tenure changed since the reference period" in flat
    assert "no action on the day" in flat
    assert all(len(line) <= 118 for line in text.splitlines()), text


def test_another_feature_gets_the_drift_advice_without_the_tenure_explanation() -> None:
    flat = " ".join(render_checks_not_passed([_drift_warning("complaints_90d")]).split())
    assert "the drift sensor then requests a retrain" in flat
    assert "tenure" not in flat


def test_a_blocking_failure_says_the_day_was_not_published() -> None:
    failure = CheckNotPassed("customer_trust_signal", "scored_once_per_product", "ERROR", ("2026-12-05",),
                             "- customer_trust_signal.customer_id: unique per product broken, 3 row(s)")
    flat = " ".join(render_checks_not_passed([failure]).split())
    assert "scored_once_per_product: failed on 2026-12-05" in flat
    assert "unique per product broken" in flat
    assert "the day was not published downstream of this check" in flat

"""The canary end to end on a private copy of the session warehouse, through the command line and the real assets.

A tv candidate (the champion's weights moved by up to 10%) is approved and put in canary; the next two days are
published with its scores for the canary customers and the champion's for everyone else; the monitoring report
compares the two groups; promotion from canary to full goes through the gate and records the canary it ends.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from resources.warehouse import DuckDBWarehouse
from tests.operations.variants import champion, register_variant
from tests.support import query
from trust_assets import cli
from trust_assets.config import SETTINGS, Cohort
from trust_assets.operations.audit import read_trail, state
from trust_assets.operations.canary import canary_flags, canary_versions
from trust_assets.operations.registry_store import version_row
from trust_assets.operations.serving import score_window
from trust_assets.services.monitoring import write_report
from trust_assets.store.models import load_version, read_registry

CANARY = SETTINGS.canary
SIGNAL = "analytics.customer_trust_signal"
ORDER = "snapshot_date, cohort, customer_id"
CANDIDATE = "tv-canary-candidate"


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(list(args))
    return status, out.getvalue()


@dataclass
class Canary:
    path: Path
    later: list[date]
    champion: str
    original_later: pl.DataFrame
    published: pl.DataFrame
    refused_before_approval: tuple[int, str]
    report: str
    promoted: tuple[int, str]


@pytest.fixture(scope="module")
def canary(pipeline_warehouse, materialize_on, tmp_path_factory) -> Iterator[Canary]:
    tmp = tmp_path_factory.mktemp("canary")
    path = pipeline_warehouse.copy_to(tmp)
    wh = DuckDBWarehouse(path=str(path))
    days = pipeline_warehouse.scoring_dates
    later = days[5:]
    original_later = query(path, f"select * from {SIGNAL} where snapshot_date >= ? order by {ORDER}", [later[0]])
    con = duckdb.connect(str(path))
    con.execute(f"delete from {SIGNAL} where snapshot_date >= ?", [later[0]])
    con.close()
    tv_champion = champion(wh, "tv")
    register_variant(path, tv_champion, CANDIDATE, "1 + 0.1 * ((i % 3) - 1)")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRUST_DUCKDB_PATH", str(path))
        mp.setenv("TRUST_REPORTS_DIR", str(tmp / "reports"))
        refused = _cli("models", "canary", CANDIDATE, "--reason", "try it on a few", "--actor", "carol")
        assert _cli("models", "approve", CANDIDATE, "--approver", "bob", "--reason", "shadow reviewed")[0] == 0
        status, said = _cli("models", "canary", CANDIDATE, "--reason", "try it on a few", "--actor", "carol")
        assert status == 0, said
        result = materialize_on(path, ["customer_trust_signal"], later[0], later[-1])
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        published = query(path, f"select * from {SIGNAL} where snapshot_date >= ? order by {ORDER}", [later[0]])
        report = Path(write_report(wh, later[-1])[0]).read_text()
        # The gate's shadow period, then the explicit promotion from canary to full.
        result = materialize_on(path, ["customer_trust_signal_shadow"], days[0], days[4])
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        promoted = _cli("models", "promote", CANDIDATE, "--reason", "canary clean for two days", "--actor", "carol")
    yield Canary(path, later, tv_champion, original_later, published, refused, report, promoted)


def test_canary_needs_an_approval(canary: Canary) -> None:
    status, said = canary.refused_before_approval
    assert status == 1 and "no approval" in said


def test_canary_customers_get_the_candidates_scores_and_the_rest_keep_the_champions(canary: Canary) -> None:
    tv = canary.published.filter(pl.col("cohort") == "tv")
    members: list[set[str]] = []
    for day in canary.later:
        rows = tv.filter(pl.col("snapshot_date") == day)
        flags = canary_flags(rows["customer_id"])
        assert rows.filter(flags)["model_version"].unique().to_list() == [CANDIDATE]
        assert rows.filter(~flags)["model_version"].unique().to_list() == [canary.champion]
        members.append(set(rows.filter(flags)["customer_id"].to_list()))
        share = flags.mean()
        sd = (CANARY.share * (1 - CANARY.share) / rows.height) ** 0.5
        assert abs(share - CANARY.share) < 4 * sd, (share, rows.height)  # type: ignore[operator]
        print(f"\ncanary {day}: {int(flags.sum())} of {rows.height} tv customers ({share:.2%})")
    assert members[0] == members[1]  # the same customers stay in the canary
    # Everyone outside the canary, in every cohort, has exactly the rows the champions had published.
    keys = ["snapshot_date", "cohort", "customer_id"]
    rest = canary.published.filter(pl.col("model_version") != CANDIDATE).sort(keys)
    assert rest.equals(canary.original_later.join(
        canary.published.filter(pl.col("model_version") == CANDIDATE).select(keys), on=keys, how="anti").sort(keys))
    # The canary rows are the candidate's own scores.
    wh = DuckDBWarehouse(path=str(canary.path))
    model = load_version(wh, version_row(read_registry(wh), CANDIDATE)).scoring_pair
    scored = score_window(wh, {Cohort.TV: model}, canary.later[0], canary.later[-1])
    mine = canary.published.filter(pl.col("model_version") == CANDIDATE)
    assert mine.equals(scored.join(mine.select(keys), on=keys, how="semi").select(mine.columns).sort(keys))


def test_report_compares_the_canary_with_the_rest(canary: Canary) -> None:
    section = canary.report.split("<section id='canary'>")[1].split("</section>")[0]
    assert CANDIDATE in section and canary.champion in section
    assert ">canary<" in section and ">rest<" in section


def test_promotion_from_canary_to_full_is_explicit_and_audited(canary: Canary) -> None:
    status, said = canary.promoted
    assert status == 0, said
    wh = DuckDBWarehouse(path=str(canary.path))
    assert champion(wh, "tv") == CANDIDATE and canary_versions(wh) == {}
    events = read_trail(wh, model_version=CANDIDATE)
    assert events["event_type"].to_list() == ["approved", "canary_started", "promoted"]
    started = state(events["after_state"][1])
    assert started["share"] == CANARY.share and started["effective_from"] == canary.later[0].isoformat()
    promoted = state(events["after_state"][2])
    assert promoted["from_canary"]["share"] == CANARY.share and promoted["from_canary"]["started_by"] == "carol"
    # The readiness gate's rollback drill passed on a day whose tv rows come from two versions.
    assert "| 9 | Tested rollback | pass | drill:" in said and "identical to the published rows" in said

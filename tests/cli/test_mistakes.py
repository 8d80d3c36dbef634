"""Plausible command-line mistakes, each run as a real ``trust`` process against the session warehouse.

Every mistake must end with the documented exit status (2: the command names something that is not there or
is malformed; 1: the warehouse cannot be read right now), one message on stderr that names what was wrong (and,
where it helps, what would work), no traceback, and no file created anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.cli.conftest import files_under
from tests.support import query

FIRST, LAST = "2026-02-22", "2026-02-28"  # the session warehouse scores these 7 days (tests/conftest.py)


@dataclass(frozen=True)
class Mistake:
    name: str
    args: tuple[str, ...]
    exit_code: int
    says: tuple[str, ...]  # fragments the message must contain


def _explain(customer: str = "{mobile}", cohort: str = "mobile", day: str = LAST, *extra: str) -> tuple[str, ...]:
    return ("explain", "--customer", customer, "--cohort", cohort, "--date", day, *extra)


MISTAKES: list[Mistake] = [
    Mistake("unknown customer", _explain("C9999999"), 2,
            ("unknown customer 'C9999999'", "customer_360_definition", "ids look like C0000001")),
    Mistake("id in a format that does not exist", _explain("C000123"), 2, ("unknown customer 'C000123'",)),
    Mistake("empty customer id", _explain(" "), 2, ("--customer is empty",)),
    Mistake("customer without that product", _explain("{tv_only}"), 2,
            ("holds no mobile product on 2026-02-28", "they hold tv")),
    Mistake("date before the scored days", _explain("{mobile}", "mobile", "2026-01-15"), 2,
            ("mobile was not scored on 2026-01-15", "nearest scored dates are 2026-02-22, 2026-02-23, 2026-02-24",
             "2026-02-22 .. 2026-02-28")),
    Mistake("date after the scored days", _explain("{mobile}", "mobile", "2026-03-31"), 2,
            ("not scored on 2026-03-31", "2026-02-26, 2026-02-27, 2026-02-28")),
    Mistake("date in another format", _explain("{mobile}", "mobile", "28/02/2026"), 2,
            ("argument --date", "'28/02/2026' is not a date", "YYYY-MM-DD")),
    Mistake("date that does not exist", _explain("{mobile}", "mobile", "2026-02-30"), 2,
            ("'2026-02-30' is not a date",)),
    Mistake("wrong cohort", _explain("{mobile}", "phone"), 2,
            ("argument --cohort", "invalid choice: 'phone'", "mobile")),
    Mistake("version that is not registered", _explain("{mobile}", "mobile", LAST, "--model-version", "mobile-v9"), 2,
            ("model version 'mobile-v9' is not registered", "the mobile versions are")),
    Mistake("version of another cohort", _explain("{mobile}", "mobile", LAST, "--model-version", "{tv_version}"), 2,
            ("is a tv model, not a mobile one", "the mobile versions are")),
    Mistake("attribute with a reversed range",
            ("attribute", "--customer", "{mobile}", "--cohort", "mobile", "--from", LAST, "--to", FIRST), 2,
            ("--from 2026-02-28 is after --to 2026-02-22",)),
    Mistake("attribute from a date that was not scored",
            ("attribute", "--customer", "{mobile}", "--cohort", "mobile", "--from", "2026-02-01", "--to", LAST), 2,
            ("mobile was not scored on 2026-02-01", "nearest scored dates")),
    Mistake("attribute without --to", ("attribute", "--customer", "{mobile}", "--cohort", "mobile", "--from", FIRST),
            2, ("the following arguments are required: --to",)),
    Mistake("summary of a reversed range", ("summary", "--start", LAST, "--end", FIRST), 2,
            ("--start 2026-02-28 is after --end 2026-02-22", "reversed")),
    Mistake("summary of a range without scores", ("summary", "--start", "2025-01-01", "--end", "2025-01-31"), 2,
            ("no scores for 2025-01-01 .. 2025-01-31", "scored 7 days, 2026-02-22 .. 2026-02-28")),
    Mistake("summary starting after the last scored day", ("summary", "--start", "2026-03-01"), 2,
            ("after the latest scored day 2026-02-28",)),
    Mistake("summary with a word for a date", ("summary", "--start", "yesterday"), 2,
            ("argument --start", "'yesterday' is not a date")),
    Mistake("summary with an option it does not have", ("summary", "--days", "7"), 2,
            ("unrecognized arguments: --days 7",)),
    Mistake("misspelt command", ("explian",), 2, ("invalid choice: 'explian'", "explain")),
    Mistake("misspelt models command", ("models", "lst"), 2, ("invalid choice: 'lst'", "list")),
    Mistake("models list of an unknown cohort", ("models", "list", "--cohort", "phone"), 2,
            ("invalid choice: 'phone'",)),
    Mistake("audit of no events", ("models", "audit", "--last", "0"), 2, ("--last 0", "positive")),
    Mistake("audit with a word for a number", ("models", "audit", "--last", "ten"), 2,
            ("argument --last", "invalid int value: 'ten'")),
]


@pytest.fixture(scope="module")
def names(pipeline_warehouse) -> dict[str, str]:
    """Real ids of the session warehouse that the mistakes refer to."""
    path = pipeline_warehouse.duckdb_path
    mobile = query(path, "select min(customer_id) as c from analytics.customer_trust_signal "
                         "where cohort = 'mobile' and snapshot_date = $d", {"d": LAST})["c"][0]
    tv_only = query(path, "select min(customer_id) as c from analytics.customer_trust_signal s "
                          "where cohort = 'tv' and snapshot_date = $d and not exists (select 1 from "
                          "analytics.customer_trust_signal m where m.customer_id = s.customer_id and "
                          "m.cohort = 'mobile' and m.snapshot_date = $d)", {"d": LAST})["c"][0]
    tv_version = query(path, "select model_version from analytics.model_registry where cohort = 'tv' "
                             "and status = 'production'")["model_version"][0]
    return {"mobile": mobile, "tv_only": tv_only, "tv_version": tv_version}


def test_the_matrix_is_large_enough() -> None:
    assert len(MISTAKES) >= 15
    assert len({m.name for m in MISTAKES}) == len(MISTAKES)


def _untouched(pipeline_warehouse, workdir: Path, before: set[Path], mtime: float) -> None:
    after = files_under(pipeline_warehouse.duckdb_path.parent, workdir)
    assert after == before, f"files created: {sorted(map(str, after - before))}"
    assert pipeline_warehouse.duckdb_path.stat().st_mtime == mtime


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_mistake_gets_one_line_naming_it(mistake: Mistake, trust, names, pipeline_warehouse, tmp_path) -> None:
    args = [a.format(**names) for a in mistake.args]
    before = files_under(pipeline_warehouse.duckdb_path.parent, tmp_path)
    mtime = pipeline_warehouse.duckdb_path.stat().st_mtime
    ran = trust(*args)
    assert ran.returncode == mistake.exit_code, ran.output
    assert "Traceback" not in ran.output
    assert ran.stdout == "", "a mistake prints nothing on stdout (scripts read stdout)"
    for fragment in mistake.says:
        assert fragment.format(**names) in ran.stderr, (fragment, ran.stderr)
    # One message: argparse adds its usage line before it; no warnings or log lines.
    message = [line for line in ran.stderr.splitlines() if "error:" in line]
    assert len(message) == 1, ran.stderr
    assert "Warning" not in ran.stderr
    _untouched(pipeline_warehouse, tmp_path, before, mtime)


def test_a_locked_warehouse_says_so(trust, pipeline_warehouse, tmp_path) -> None:
    """A run writing to the warehouse holds DuckDB's lock: a reading command says so, in one line."""
    copy = pipeline_warehouse.copy_to(tmp_path / "locked")
    before = files_under(copy.parent)
    writer = duckdb.connect(str(copy))  # this process is the writer
    try:
        ran = trust("summary", env={"TRUST_DUCKDB_PATH": str(copy)})
    finally:
        writer.close()
    assert ran.returncode == 1, ran.output
    assert "Traceback" not in ran.output
    assert ran.stderr.count("\n") == 1, ran.stderr
    assert f"warehouse file {copy} is in use by process {os.getpid()}" in ran.stderr
    assert "wait for it to finish and try again" in ran.stderr
    assert files_under(copy.parent) - before <= {copy.parent / (copy.name + ".wal")}

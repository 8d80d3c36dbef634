"""Every ``trust`` command the README and docs/ show is checked, so the docs cannot drift from the command line.

- A concrete command in a fenced code block or in inline code (``trust models list --cohort tv``) is run as a real
  process against the session warehouse and must succeed, without a traceback or a warning; the README's
  ``bash scripts/dev.sh trust ...`` lines are run through the wrapper itself.
- A command that writes the warehouse or takes minutes is not run: it must be listed in ``NOT_RUN`` with the
  reason, and it must still parse.
- A syntax form with placeholders (``trust models gate VERSION``, ``[--cohort C]``) must parse once the
  placeholders are filled in; a bare mention (``trust explain``) must name a command whose ``--help`` works.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.conftest import ROOT, TRUST, files_under, run_command
from trust_assets.cli import build_parser, is_read_only

DOC_FILES: list[Path] = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = {"demo", "generate", "run", "summary", "explain", "attribute", "models", "--help", "-h"}
WRAPPER = ["bash", "scripts/dev.sh", "trust"]

# Documented commands that the tests do not run, by command, and why. Each one is still parsed.
NOT_RUN: dict[str, str] = {
    "demo": "generates the synthetic telco and materialises the whole graph: minutes, and it writes the warehouse",
    "generate": "rewrites the warehouse's raw tables",
    "run": "materialises the whole graph: minutes, and it writes the warehouse",
    "models train": "trains and registers new model versions (writes the registry and the audit trail)",
    "models shadow": "moves a version to staging (writes the registry)",
    "models gate": "evaluates the readiness gate with the whole code location; tests/operations covers it",
    "models approve": "records an approval (writes the audit trail)",
    "models canary": "puts a version in canary (writes the audit trail); tests/operations/test_canary.py runs it",
    "models canary-stop": "ends a canary (writes the audit trail)",
    "models promote": "changes the production version (writes the registry)",
    "models rollback": "restores a champion and re-scores partitions (writes the signal)",
    "models archive": "retires a version (writes the registry)",
}
# Placeholders of the syntax forms, and values that parse.
PLACEHOLDERS = {"VERSION": "tv-20250731-0000abcd", "V": "tv-20250731-0000abcd", "COHORT": "tv", "C": "tv",
                "N": "3", "<you>": "alice", "<name>": "bob", "...": "why"}
_INLINE = re.compile(r"`((?:bash scripts/dev\.sh )?trust [^`]+)`")


@dataclass(frozen=True)
class Example:
    where: str  # file:line
    text: str

    @property
    def words(self) -> list[str]:
        words = shlex.split(self.text, comments=True)
        return words[len(WRAPPER):] if words[: len(WRAPPER)] == WRAPPER else words[1:]

    @property
    def via_wrapper(self) -> bool:
        return self.text.startswith("bash scripts/dev.sh trust")

    @property
    def is_syntax(self) -> bool:
        return bool(re.search(r"\[|\||\.\.\.|<\w+>|\b[A-Z]{1,7}\b", self.text.split("#")[0]))

    @property
    def command(self) -> str:
        words = self.words
        return " ".join(words[:2]) if words[:1] == ["models"] and len(words) > 1 else (words[:1] or [""])[0]


def documented_examples() -> list[Example]:
    found: list[Example] = []
    for path in DOC_FILES:
        fenced, pending, start = False, "", 0
        for number, line in enumerate(path.read_text().splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if fenced:
                text = (pending + " " + line.strip()).strip() if pending else line.strip()
                if text.endswith("\\"):  # a command continued on the next line
                    pending, start = text[:-1], start or number
                    continue
                pending = ""
                if text.startswith(("trust ", "bash scripts/dev.sh trust")):
                    found.append(Example(where, text))
                continue
            for match in _INLINE.finditer(line):
                example = Example(where, match.group(1))
                if example.words[:1] and example.words[0] in COMMANDS:  # not a formula like `trust = tanh(...)`
                    found.append(example)
    return found


def _parses(words: list[str]) -> bool:
    """Whether a command line is complete (a bare mention such as `trust explain` lacks its required options)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(words)
        except SystemExit as exc:
            return exc.code == 0
    return True


EXAMPLES = documented_examples()
CONCRETE = [e for e in EXAMPLES if not e.is_syntax and _parses(e.words)]
TO_RUN = [e for e in CONCRETE if e.command not in NOT_RUN]


def _filled(example: Example) -> list[str]:
    words: list[str] = []
    for word in shlex.split(example.text.replace("[", " ").replace("]", " "), comments=True)[1:]:
        if word == "..." and not (words and words[-1].startswith("--")):
            continue  # `trust models ...`: "and its subcommands", not a value
        words.append(PLACEHOLDERS.get(word, word))
    if words[:2] == ["scripts/dev.sh", "trust"]:
        words = words[2:]
    return words


def test_the_docs_show_commands() -> None:
    assert len(TO_RUN) >= 8, [e.text for e in TO_RUN]
    assert any(e.via_wrapper for e in TO_RUN), "the README shows the wrapper"
    assert {"summary", "explain", "attribute", "models list", "models audit"} <= {e.command for e in TO_RUN}


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.where} {e.text[:60]}" for e in EXAMPLES])
def test_every_documented_command_parses(example: Example, capsys) -> None:
    words = _filled(example)
    alternatives = [w for w in words if "|" in w]
    if alternatives:  # `trust models list|train|...`: every alternative is a subcommand
        head = words[: words.index(alternatives[0])]
        for name in alternatives[0].split("|"):
            _help_works([*head, name], capsys)
        return
    parser = build_parser()
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:
        if exc.code == 0:  # --help
            return
        if any(w.startswith("-") for w in words):
            pytest.fail(f"{example.where}: `{example.text}` does not parse: {capsys.readouterr().err}")
        _help_works(words, capsys)  # a mention such as `trust explain`
        return
    if not example.is_syntax and example.command not in NOT_RUN:
        assert is_read_only(args), f"{example.where}: `{example.text}` writes: run it here or list it in NOT_RUN"


def _help_works(words: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*words, "--help"])
    assert exit_info.value.code == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("usage: trust")


@pytest.mark.parametrize("example", TO_RUN, ids=[f"{e.where} {e.text[:60]}" for e in TO_RUN])
def test_documented_command_runs(example: Example, pipeline_warehouse, tmp_path) -> None:
    env = {**os.environ, **pipeline_warehouse.env}
    argv = [*WRAPPER, *example.words] if example.via_wrapper else [*TRUST, *example.words]
    cwd = ROOT if example.via_wrapper else tmp_path
    before = files_under(pipeline_warehouse.duckdb_path.parent, tmp_path)
    ran = run_command(argv, env, cwd)
    assert ran.returncode == 0, f"{example.where}: `{example.text}`\n{ran.output}"
    assert ran.stdout.strip(), example.text
    assert "Traceback" not in ran.output and "Warning" not in ran.output, ran.output
    assert files_under(pipeline_warehouse.duckdb_path.parent, tmp_path) == before


def test_every_documented_command_not_run_is_listed_with_a_reason() -> None:
    unlisted = [e for e in CONCRETE if e.command not in NOT_RUN and e not in TO_RUN]
    assert not unlisted
    skipped = sorted({e.command for e in CONCRETE if e.command in NOT_RUN})
    assert all(NOT_RUN[c] for c in skipped)

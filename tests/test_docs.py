"""Docs travel with the code: generated pages are up to date and the README names real commands."""

from __future__ import annotations

from pathlib import Path

from synthetic_telco import contract_doc

ROOT = Path(__file__).resolve().parent.parent


def test_source_contract_page_is_generated_from_the_contract() -> None:
    assert contract_doc.DOC_PATH.read_text() == contract_doc.render(), (
        "docs/source_contract.md is stale: run `python -m synthetic_telco.contract_doc`"
    )


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "bash scripts/dev.sh demo" in readme and "bash scripts/dev.sh test" in readme
    dev = (ROOT / "scripts" / "dev.sh").read_text()
    for command in ("demo", "test", "ui"):
        assert f"{command})" in dev, f"scripts/dev.sh has no `{command}` command"
    assert "scripts/dev.sh test" in (ROOT / ".ci" / "run").read_text()


def test_docs_linked_from_the_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        for part in line.split("(")[1:]:
            target = part.split(")")[0]
            if target.startswith("docs/"):
                assert (ROOT / target).exists(), f"README links to missing {target}"

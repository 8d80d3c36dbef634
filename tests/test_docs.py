"""Docs travel with the code: generated pages are up to date and the README names real commands."""

from __future__ import annotations

import subprocess
from pathlib import Path

from source_contract import contract_doc

ROOT = Path(__file__).resolve().parent.parent


def test_source_contract_page_is_generated_from_the_contract() -> None:
    assert contract_doc.DOC_PATH.read_text() == contract_doc.render(), (
        "docs/source_contract.md is stale: run `python -m source_contract.contract_doc`"
    )


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "bash scripts/dev.sh demo" in readme and "bash scripts/dev.sh test" in readme
    # The script itself says which commands it has (its help needs no set-up); an unknown one is refused.
    shown = subprocess.run(["bash", "scripts/dev.sh", "help"], cwd=ROOT, capture_output=True, text=True, check=True)
    listed = {line.split()[0] for line in shown.stdout.splitlines()[1:] if line.startswith("  ") and line.split()}
    assert {"setup", "demo", "test", "test-fast", "ui", "trust"} <= listed, listed
    refused = subprocess.run(["bash", "scripts/dev.sh", "tset"], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "unknown command: tset" in refused.stderr
    assert "scripts/dev.sh test" in (ROOT / ".ci" / "run").read_text()


def test_docs_linked_from_the_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        for part in line.split("(")[1:]:
            target = part.split(")")[0]
            if target.startswith("docs/"):
                assert (ROOT / target).exists(), f"README links to missing {target}"

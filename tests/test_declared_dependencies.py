"""Every third-party package the project imports is one it declares, and the lock it is installed from pins it.

A package that arrives only as another's dependency can vanish with that package's next release, or never be
there in the smaller DuckDB environment (`requirements.lock`): the benchmarks imported psutil, which only the
BigQuery lock held, so the documented benchmark command failed after `dev.sh setup`.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"trust_assets", "asset_checks", "resources", "source_contract", "synthetic_telco", "benchmarks",
               "tests", "scripts"}
# Where each group of code runs, and the declarations that must cover what it imports.
PRODUCT = ["trust_assets", "asset_checks", "resources", "source_contract", "synthetic_telco"]
DEVELOPMENT = ["benchmarks", "tests"]
# Modules that only the BigQuery target imports (only on that path: tests/test_import_side_effects.py), with the
# distributions of the `bigquery` extra that provide them; the DuckDB environment does not have them installed.
BIGQUERY_ONLY_MODULES = {"google": {"google-cloud-bigquery-storage", "dagster-gcp", "dbt-bigquery"},
                         "dagster_gcp": {"dagster-gcp"}}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"dependencies": project["dependencies"], **project["optional-dependencies"]}
    return {group: {_normalise(Requirement(spec).name) for spec in specs} for group, specs in groups.items()}


def _locked(lock: str) -> set[str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==", (ROOT / lock).read_text(), flags=re.MULTILINE)
    return {_normalise(name) for name in pins}


def _third_party_imports(folders: list[str]) -> dict[str, list[str]]:
    """Top-level module name -> the files importing it, for every import outside the standard library."""
    found: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in FIRST_PARTY or top == "__future__":
                        continue
                    found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def _distributions(module: str) -> set[str]:
    return {_normalise(dist) for dist in packages_distributions().get(module, [])}


@pytest.mark.parametrize(("folders", "groups", "lock"), [
    (PRODUCT, ["dependencies"], "requirements.lock"),
    (DEVELOPMENT, ["dependencies", "dev"], "requirements.lock"),
], ids=["product", "benchmarks-and-tests"])
def test_every_import_is_declared_and_locked(folders: list[str], groups: list[str], lock: str) -> None:
    declared = _declared()
    allowed = set().union(*(declared[group] for group in groups))
    bigquery = declared["bigquery"] | declared["dependencies"]
    locked = _locked(lock)
    problems = []
    for module, files in sorted(_third_party_imports(folders).items()):
        if module in BIGQUERY_ONLY_MODULES:
            providers = BIGQUERY_ONLY_MODULES[module]
            if not providers & bigquery:
                problems.append(f"{module} ({files[0]}): none of {sorted(providers)} is in the bigquery extra")
            continue
        dists = _distributions(module)
        assert dists, f"{module} (imported by {files[0]}) is not installed in this environment"
        if not dists & allowed:
            problems.append(f"{module} ({files[0]}): {sorted(dists)} not declared in {groups}")
        elif not dists & allowed & locked:
            problems.append(f"{module} ({files[0]}): declared but not pinned in {lock}")
    assert not problems, "imports without a declaration:\n" + "\n".join(problems)


def test_the_duckdb_lock_pins_what_the_bigquery_lock_pins() -> None:
    """The two environments run the same versions of what they share (`dev.sh lock` compiles one from the other)."""
    def pins(lock: str) -> dict[str, str]:
        text = (ROOT / lock).read_text()
        return {_normalise(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, flags=re.MULTILINE)}

    duckdb, bigquery = pins("requirements.lock"), pins("requirements-bigquery.lock")
    assert set(duckdb) <= set(bigquery)
    assert {name: version for name, version in duckdb.items() if bigquery[name] != version} == {}

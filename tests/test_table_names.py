"""The published tables are named in one module: ``trust_assets/tables.py``.

Read from the source with ``ast`` over the four packages of the product: outside that module, no string literal
(SQL, messages and descriptions included; docstrings excepted) spells the name of the trust signal, the model
registry, the model weights or the ruler. Code names them through the module's constants, so a renamed table is
one edit. The dbt models name their own tables in SQL and are not Python.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from trust_assets import tables

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("trust_assets", "asset_checks", "resources", "synthetic_telco")
TABLE_MODULE = ROOT / "trust_assets" / "tables.py"
NAMES = (tables.TRUST_SIGNAL, tables.MODEL_REGISTRY, tables.MODEL_WEIGHTS, tables.RULER)
# A name as a whole identifier: "customer_trust_signal_shadow" is another table.
SPELLED = re.compile(r"\b(" + "|".join(map(re.escape, NAMES)) + r")\b")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants of a module, its classes and functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _spellings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {match.group(1)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        for match in [SPELLED.search(node.value)]
        if match
    ]


def test_the_table_module_names_them() -> None:
    assert _spellings(TABLE_MODULE) != []
    assert tables.TRUST_SIGNAL == "customer_trust_signal"


def test_no_other_module_spells_a_published_table_name() -> None:
    found = [
        hit
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != TABLE_MODULE
        for hit in _spellings(path)
    ]
    assert found == []

"""The package graph has no import cycle and no module imports another's private name.

Read from the source with ``ast`` (imports inside functions included: a cycle hidden in a function is still a
cycle), over the five packages of the product.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("trust_assets", "asset_checks", "resources", "source_contract", "synthetic_telco")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The project module a dotted import name refers to (a name inside a module counts as the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import statement of ``module``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((sub, []) if sub in MODULES else (base, [alias.name]))
    return out


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for target, _ in _imports(module):
            owner = _owner(target)
            if owner and owner != module:
                edges[module].add(owner)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_walker_sees_imports_inside_functions() -> None:
    # trust_assets.cli_commands.models imports the code location inside a function: the edge must be seen.
    assert "trust_assets.definitions" in _edges()["trust_assets.cli_commands.models"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    assert _cycles(_edges()) == []


def test_no_private_name_is_imported_across_modules() -> None:
    private = [
        f"{module} imports {name} from {target}"
        for module in MODULES
        for target, names in _imports(module)
        for name in names
        if name.startswith("_") and not name.startswith("__") and _owner(target) not in (None, module)
    ]
    assert private == []


def test_the_source_contract_stands_alone_and_the_product_does_not_read_the_generator() -> None:
    edges = _edges()
    package = {m: m.split(".")[0] for m in MODULES}
    # The raw source contract reads nothing else of the project ...
    assert {package[t] for m in MODULES if package[m] == "source_contract" for t in edges[m]} <= {"source_contract"}
    # ... and the guards, the raw assets and the generator read it.
    readers = {
        m for m in MODULES if package[m] != "source_contract" for t in edges[m] if package[t] == "source_contract"
    }
    assert {"asset_checks.raw_contract", "trust_assets.assets.raw_sources", "synthetic_telco.writer"} <= readers
    # The product never imports the generator, except the command line's `trust generate` (the demo's data).
    generator_users = {
        m for m in MODULES if package[m] != "synthetic_telco" for t in edges[m] if package[t] == "synthetic_telco"
    }
    assert all(m.startswith("trust_assets.cli") for m in generator_users), generator_users

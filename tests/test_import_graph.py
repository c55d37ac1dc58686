"""The layers show: no import circles inside litzoo, and the zoo never imports the CLI's machinery.

The zoo (``litzoo.models``, ``litzoo.datamodules``) may import itself and ``litzoo.compat`` (the one
module of private-API uses, a leaf) only: a net or a datamodule works without the CLI, and a change
to the CLI cannot break the zoo. Read from the source files (every import, also inside functions,
except those under ``if TYPE_CHECKING``), so nothing is imported to check.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

#: Import name -> folder: what pip installs, as pyproject.toml's package-dir maps it.
PACKAGES = {
    "litzoo": REPO_ROOT / "litzoo",
    "litzoo.models": REPO_ROOT / "models",
    "litzoo.datamodules": REPO_ROOT / "datamodules",
}
ZOO = ("litzoo.models", "litzoo.datamodules")
ZOO_MAY_IMPORT = ("litzoo", "litzoo.compat")


def modules() -> dict[str, Path]:
    found = {}
    for prefix, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [part for part in path.relative_to(folder).with_suffix("").parts if part != "__init__"]
            found[".".join([prefix, *parts])] = path
    return found


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()

    class Imports(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING":
                for statement in node.orelse:
                    self.visit(statement)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            names.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)

    Imports().visit(ast.parse(path.read_text()))
    return names


def import_graph() -> dict[str, set[str]]:
    """Each litzoo module -> the litzoo modules it imports (a name imported from a package counts as
    the package, a submodule imported from it as the submodule)."""
    known = modules()
    graph = {}
    for name, path in known.items():
        targets = set()
        for imported in imported_names(path):
            while imported and imported not in known:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_zoo_imports_no_cli_machinery():
    graph = import_graph()
    assert any(name.startswith(ZOO) for name in graph)  # the zoo was found under its installed names
    offenders = {
        name: sorted(
            target for target in targets if not target.startswith(ZOO) and target not in ZOO_MAY_IMPORT
        )
        for name, targets in graph.items()
        if name.startswith(ZOO)
    }
    assert {name: targets for name, targets in offenders.items() if targets} == {}


def test_compat_is_a_leaf():
    """litzoo.compat imports no other litzoo module, so the zoo importing it pulls in nothing else."""
    assert import_graph()["litzoo.compat"] == set()

"""localbus's shape: no import circle, a core that knows kinds only through their interface,
and one table of kinds in which every CloudFormation type has one owner."""

from __future__ import annotations

import ast
from pathlib import Path

import localbus
from localbus.engine import Kind
from localbus.kinds import KINDS

PACKAGE = Path(localbus.__file__).parent
# The core: what every kind is given. It may name the interface, never a kind or the facade.
CORE = (
    "localbus.engine",
    "localbus.clock",
    "localbus.trace",
    "localbus.ids",
    "localbus.resources",
    "localbus.delivery",
    "localbus.reporting",
    "localbus.faults",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every localbus module `path` imports, at any depth (TYPE_CHECKING and function-level
    imports included: a circle through them is still a circle for a reader)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import x` imports the module package.x when there is one (the
            # package's own __init__ is already running), else a name from the package
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in known
                else node.module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name in known and name != "localbus":
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(path, known) - {name} for name, path in modules.items()}
    # A submodule import runs its package's __init__; the package importing its own modules
    # is not an edge back.
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_circle() -> None:
    # Given a graph with a circle a -> b -> c -> a, Then it is found, in order
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_inside_localbus() -> None:
    # Given every module of localbus and the localbus modules each imports (at any depth)
    graph = _graph()
    # Then no module reaches itself
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_core_never_imports_a_kind_or_the_facade() -> None:
    graph = _graph()
    for module in CORE:
        forbidden = {
            name
            for name in graph[module]
            if name.startswith("localbus.kinds") or name == "localbus.bus"
        }
        assert not forbidden, f"{module} imports {sorted(forbidden)}"


def test_every_kind_is_in_the_table_and_owns_its_types_alone() -> None:
    # Given the kind modules on disk and the table
    kind_modules = {
        name
        for name, path in _modules().items()
        if name.startswith("localbus.kinds.") and "(Kind)" in path.read_text(encoding="utf-8")
    }
    # Then every Kind subclass defined in them is in the table
    in_table = {kind.__module__ for kind in KINDS}
    assert kind_modules == in_table
    # And each CloudFormation type is built by exactly one kind
    owners: dict[str, str] = {}
    for kind in KINDS:
        assert issubclass(kind, Kind)
        for type_ in kind.types:
            assert type_ not in owners, f"{type_}: {owners[type_]} and {kind.__name__}"
            owners[type_] = kind.__name__

"""The custom metrics a function's code emits, read from its source (never written down twice).

CloudWatch bills each custom metric, one per namespace, name and dimension set, for every month
it is published. The Powertools EMF metrics of a handler are the names its code passes to
`add_metric`, in the modules its handler module imports (followed through the code folder), plus
`ColdStart` only when a `log_metrics(capture_cold_start_metric=True)` decorator asks for it
(the default is False: no ColdStart metric). Every name carries the function's default
dimensions: `service` (POWERTOOLS_SERVICE_NAME, which Powertools adds) and whatever
`set_default_dimensions` names (`stage` here).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

COLD_START = "ColdStart"
SERVICE_DIMENSION = "service"


@dataclass(frozen=True)
class CodeMetrics:
    """What one handler's code emits: metric names and the dimension names they carry."""

    names: frozenset[str]
    dimensions: frozenset[str]
    # Dimensions whose value the code computes (per call): each value is another metric.
    variable_dimensions: frozenset[str]


def handler_module(code_dir: Path, handler: str) -> Path | None:
    """`inventory.handler.handler` -> code_dir/inventory/handler.py, when it exists."""
    module = handler.rpartition(".")[0]
    return _module_file(code_dir, module) if module else None


def emitted_metrics(code_dir: Path, handler: str) -> CodeMetrics | None:
    """The metrics a function whose Handler is `handler` emits, or None if its code is absent."""
    start = handler_module(code_dir, handler)
    if start is None:
        return None
    names: set[str] = set()
    dimensions = {SERVICE_DIMENSION}
    variable: set[str] = set()
    for path in _reachable(code_dir.resolve(), start.resolve()):
        for call in _calls(path):
            found = _read_call(call)
            if found is None:
                continue
            kind, values, computed = found
            if kind == "metric":
                names.update(values)
            elif kind == "dimension":
                dimensions.update(values)
                variable.update(computed)
            elif kind == "cold-start":
                names.add(COLD_START)
    return CodeMetrics(frozenset(names), frozenset(dimensions), frozenset(variable))


def _module_file(code_dir: Path, module: str) -> Path | None:
    base = code_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _reachable(code_dir: Path, start: Path) -> list[Path]:
    """The modules of code_dir that `start` imports, directly or not (itself included)."""
    seen: dict[Path, None] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = None
        for module in _imports(path, code_dir):
            found = _module_file(code_dir, module)
            if found is not None:
                todo.append(found.resolve())
    return list(seen)


def _imports(path: Path, code_dir: Path) -> list[str]:
    package = ".".join(path.relative_to(code_dir).with_suffix("").parts[:-1])
    modules: list[str] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            modules.append(base)
            # `from audit import service` imports the module audit.service.
            modules.extend(f"{base}.{alias.name}" for alias in node.names if base)
    return modules


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(_tree(path)) if isinstance(node, ast.Call)]


def _read_call(call: ast.Call) -> tuple[str, set[str], set[str]] | None:
    """("metric", names), ("dimension", names, computed names) or ("cold-start", ...)."""
    func = call.func
    method = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    if method == "add_metric":
        name = keywords.get("name", call.args[0] if call.args else None)
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            return "metric", {name.value}, set()
        return "metric", {f"<computed in line {call.lineno}>"}, set()
    if method == "set_default_dimensions":
        return "dimension", set(keywords), set()
    if method == "add_dimension":
        name = keywords.get("name", call.args[0] if call.args else None)
        label = name.value if isinstance(name, ast.Constant) else f"<line {call.lineno}>"
        return "dimension", {str(label)}, {str(label)}
    if method == "log_metrics":
        cold = keywords.get("capture_cold_start_metric")
        if isinstance(cold, ast.Constant) and cold.value is True:
            return "cold-start", set(), set()
    return None

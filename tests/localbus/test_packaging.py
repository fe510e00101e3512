"""localbus installs on its own: its pyproject lists every sub-package and the same pinned
dependencies as its requirements.txt, and it never imports ordersctl or the app."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

LOCALBUS = Path(__file__).resolve().parents[2] / "localbus"


def _pyproject() -> dict:
    return tomllib.loads((LOCALBUS / "pyproject.toml").read_text())


def test_every_sub_package_is_packaged() -> None:
    on_disk = {
        ".".join(("localbus", *init.parent.relative_to(LOCALBUS).parts))
        for init in LOCALBUS.rglob("__init__.py")
        if "build" not in init.parts and "__pycache__" not in init.parts
    }

    assert set(_pyproject()["tool"]["setuptools"]["packages"]) == on_disk


def test_pyproject_pins_what_requirements_txt_pins() -> None:
    lines = (LOCALBUS / "requirements.txt").read_text().splitlines()
    pinned = [line.strip() for line in lines if line.strip() and not line.startswith("#")]

    assert _pyproject()["project"]["dependencies"] == pinned
    assert all("==" in requirement for requirement in pinned)


def test_localbus_imports_nothing_of_the_app() -> None:
    app_packages = {"ordersctl", "stacks", "lambdas", "app", "bench"}
    offenders = []
    for module in LOCALBUS.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            offenders += [f"{module.name}: {n}" for n in names if n.split(".")[0] in app_packages]

    assert offenders == []

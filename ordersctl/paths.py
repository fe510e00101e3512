"""Finding the project's files (schemas/, events/, cdk.out) from wherever ordersctl runs."""

from __future__ import annotations

from pathlib import Path

# ordersctl/ sits at the repository root in this project (editable install or a checkout).
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def find_project_dir(name: str, *, start: Path | None = None) -> Path | None:
    """The nearest `name` dir in `start` (default cwd) or its parents, else beside the package."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / name
        if candidate.is_dir():
            return candidate
    candidate = PACKAGE_ROOT / name
    return candidate if candidate.is_dir() else None

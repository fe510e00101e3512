"""The README's "test your own rules" recipe runs as written (against this session's synth)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- readme:recipe:start -->", "<!-- readme:recipe:end -->"


def readme_recipe() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index(START) + len(START) : text.index(END)].strip()
    return block.removeprefix("```python").removesuffix("```")


def test_the_readme_recipe_passes(
    cloud_assembly_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the recipe, pointed at the session's cloud assembly, run from the repository root
    source = readme_recipe().replace('"cdk.out"', repr(os.fspath(cloud_assembly_dir)))
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(source, "README.md", "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_")]

    # When each of its tests runs, Then it passes
    assert len(tests) == 1
    for test in tests:
        test()  # type: ignore[operator]

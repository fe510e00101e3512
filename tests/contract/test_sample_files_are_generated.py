"""The committed sample files are exactly what events/generate_samples.py writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_samples", EVENTS_DIR / "generate_samples.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_samples_match_the_generator_byte_for_byte() -> None:
    # Given what the generator would write
    generator = load_generator()
    expected = {
        name: generator.render(content) for name, content in generator.sample_files().items()
    }

    # Then the committed files are those, and there are no others
    committed = {
        str(path.relative_to(EVENTS_DIR)): path.read_text(encoding="utf-8")
        for path in EVENTS_DIR.rglob("*.json")
    }
    assert sorted(committed) == sorted(expected)
    stale = [name for name in expected if committed[name] != expected[name]]
    assert not stale, f"run: python events/generate_samples.py (stale: {stale})"


def test_generator_is_deterministic(tmp_path: Path) -> None:
    generator = load_generator()
    first = generator.write_samples(tmp_path / "a")
    second = generator.write_samples(tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]

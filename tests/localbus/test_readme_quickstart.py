"""localbus/README.md's quick start works as written: its template and entries, `localbus run`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localbus.cli import main

README = Path(__file__).resolve().parents[2] / "localbus" / "README.md"


def test_the_quick_start_routes_the_entry_to_the_queue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the quick start's template.yaml and entries.json, copied from the README
    text = README.read_text()
    quick_start = text[text.index("## Quick start") : text.index("## `localbus run`")]
    [template] = re.findall(r"```yaml\n(.*?)```", quick_start, re.S)
    [entries] = re.findall(r"```json\n(.*?)```", quick_start, re.S)
    (tmp_path / "template.yaml").write_text(template)
    (tmp_path / "entries.json").write_text(entries)

    # When the README's command runs
    code = main(
        ["run", str(tmp_path / "template.yaml"), "--put-events", str(tmp_path / "entries.json")]
    )

    # Then the event's detail is what the queue holds
    out = capsys.readouterr().out
    assert code == 0
    assert "SQS new-orders: 1 message(s)" in out
    assert '{"orderId":"o-1"}' in out

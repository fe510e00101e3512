"""The sample files for test-event-pattern (events/test-event-pattern/) work as the README says,
and the sample pattern is the deployed risk-review rule's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "test-event-pattern"


@pytest.mark.parametrize(
    ("event", "expected"),
    [("order-created-event.json", False), ("high-risk-order-event.json", True)],
)
def test_the_sample_event_and_pattern_answer_as_documented(
    runner: CliRunner, event: str, expected: bool
) -> None:
    result = runner.invoke(
        app,
        [
            "test-event-pattern",
            "--event-pattern",
            f"file://{SAMPLES / 'high-value-pattern.json'}",
            "--event",
            f"file://{SAMPLES / event}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"Result": expected}


def test_the_sample_pattern_is_the_risk_review_rules(template: dict[str, Any]) -> None:
    patterns = [
        resource["Properties"]["EventPattern"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Events::Rule"
        and "total" in json.dumps(resource["Properties"].get("EventPattern", {}))
    ]
    sample = json.loads((SAMPLES / "high-value-pattern.json").read_text())
    assert patterns == [sample]

"""test-event-pattern: the AWS CLI's arguments and output, answered by localbus.patterns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app
from ordersctl.patterns import first_mismatch

EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "OrderCreated",
    "source": "com.example.orders",
    "account": "123456789012",
    "time": "2026-11-27T09:30:00Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {"orderId": "ORD-20261127-AB12", "total": 1250.5, "items": [{"sku": "MON-27-4K"}]},
}


def invoke(runner: CliRunner, pattern: object, event: object = EVENT) -> object:
    return runner.invoke(
        app,
        [
            "test-event-pattern",
            "--event-pattern",
            json.dumps(pattern),
            "--event",
            json.dumps(event),
        ],
    )


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["com.example.orders"]}, True),
        ({"detail": {"total": [{"numeric": [">=", 1000]}]}}, True),
        ({"detail": {"total": [{"numeric": [">=", 2000]}]}}, False),
        ({"source": [{"prefix": "com.example."}], "detail-type": ["OrderCancelled"]}, False),
        ({"detail": {"items": {"sku": ["MON-27-4K"]}}}, True),
    ],
)
def test_prints_the_result_in_the_aws_cli_shape(
    runner: CliRunner, pattern: dict, expected: bool
) -> None:
    # Given a pattern and the sample event, When tested
    result = invoke(runner, pattern)

    # Then stdout is exactly the TestEventPattern response
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"Result": expected}


def test_reads_file_arguments(runner: CliRunner, tmp_path: Path) -> None:
    # Given pattern and event in files
    (tmp_path / "p.json").write_text(json.dumps({"detail-type": ["OrderCreated"]}))
    (tmp_path / "e.json").write_text(json.dumps(EVENT))

    # When passed as file:// arguments
    result = runner.invoke(
        app,
        [
            "test-event-pattern",
            "--event-pattern",
            f"file://{tmp_path / 'p.json'}",
            "--event",
            f"file://{tmp_path / 'e.json'}",
        ],
    )

    # Then they are read like the AWS CLI reads them
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"Result": True}


@pytest.mark.parametrize(
    "pattern",
    [
        {"detail": {"total": [{"numeric": [">"]}]}},
        {"source": "com.example.orders"},
        {"source": [{"nonsense": 1}]},
    ],
)
def test_an_invalid_pattern_exits_2_with_the_reason(runner: CliRunner, pattern: dict) -> None:
    # Given an invalid pattern, When tested
    result = invoke(runner, pattern)

    # Then exit 2 with the service's error code and a reason
    assert result.exit_code == 2
    assert "InvalidEventPatternException" in result.stderr
    assert "Event pattern is not valid. Reason:" in result.stderr
    assert result.stdout == ""


def test_pattern_that_is_not_json_exits_2(runner: CliRunner) -> None:
    # Given pattern text that is not JSON, When tested, Then exit 2 naming the parse problem
    result = runner.invoke(
        app, ["test-event-pattern", "--event-pattern", "{source:", "--event", json.dumps(EVENT)]
    )
    assert result.exit_code == 2
    assert "InvalidEventPatternException" in result.stderr


def test_an_event_missing_required_fields_is_rejected_like_the_service(runner: CliRunner) -> None:
    # Given an event without id and time
    event = {k: v for k, v in EVENT.items() if k not in ("id", "time")}

    # When tested
    result = invoke(runner, {"source": ["com.example.orders"]}, event)

    # Then the service's ValidationException message, naming the missing fields
    assert result.exit_code == 2
    assert (
        "An error occurred (ValidationException) when calling the TestEventPattern operation: "
        "Parameter Event is not valid." in result.stderr
    )
    assert "id, time" in result.stderr


def test_first_mismatch_names_the_nested_field_and_values() -> None:
    # Given a pattern on source and on a nested detail field
    pattern = {"source": ["com.example.orders"], "detail": {"total": [{"numeric": [">=", 2000]}]}}

    # When the event misses only the nested condition
    mismatch = first_mismatch(pattern, EVENT)

    # Then the path, expectation and actual value are reported
    assert mismatch is not None
    assert (mismatch.path, mismatch.actual, mismatch.present) == ("detail.total", 1250.5, True)


def test_first_mismatch_reports_absent_fields_and_or_blocks() -> None:
    # Given a pattern needing a field the event lacks, and a $or with no matching branch
    absent = first_mismatch({"detail": {"coupon": [{"exists": True}]}}, EVENT)
    either = first_mismatch({"$or": [{"source": ["a"]}, {"detail-type": ["b"]}]}, EVENT)

    # Then the absent field is named as absent, and the $or as a whole
    assert absent is not None and (absent.path, absent.present) == ("detail.coupon", False)
    assert either is not None and either.path == "$or"
    assert first_mismatch({"source": ["com.example.orders"]}, EVENT) is None

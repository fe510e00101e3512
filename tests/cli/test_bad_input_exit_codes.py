"""Every command under wrong-shaped input (issue 14): exit 2 with one message naming the file and
what is wrong, never a traceback and never a confident answer about the wrong thing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app
from ordersctl.replay import replay_name

ROOT = Path(__file__).resolve().parents[2]


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def test_cost_with_a_price_list_of_the_wrong_shape_exits_2_naming_the_key(
    runner: CliRunner, tmp_path: Path, cloud_assembly_dir: Path
) -> None:
    # Given valid JSON that is not a price list
    pricing = tmp_path / "pricing.json"
    pricing.write_text(json.dumps({"regions": {"us-east-1": []}, "assumptions": 3}))

    # When cost reads it
    result = runner.invoke(
        app,
        [
            "cost",
            "--orders-per-month",
            "1000",
            "--cdk-out",
            str(cloud_assembly_dir),
            "--pricing",
            str(pricing),
        ],
    )

    # Then exit 2 names the file and where it differs from a price list
    assert result.exit_code == 2, result.output
    assert (
        f"{pricing}: not a price list like pricing.json: regions.us-east-1 must be an object"
        in (result.stderr)
    )
    no_traceback(result)


@pytest.mark.parametrize("command", [["cost", "--orders-per-month", "1000"], ["routes"]])
@pytest.mark.parametrize(
    "content",
    [
        json.dumps(json.loads((ROOT / "events/order-created.json").read_text())[0]),
        "{}",
        json.dumps({"Resources": {"X": 1}}),
    ],
)
def test_a_cdk_out_file_that_is_no_template_exits_2_instead_of_an_answer(
    runner: CliRunner, tmp_path: Path, command: list[str], content: str
) -> None:
    # Given an entry object (or {}, or a resource without a Type) passed as the template
    path = tmp_path / "event.json"
    path.write_text(content)

    # When cost or routes reads it
    result = runner.invoke(app, [*command, "--cdk-out", str(path)])

    # Then exit 2 says it is no CloudFormation template (no $ estimate, no "bus default" tree)
    assert result.exit_code == 2, result.output
    assert f"{path} is not a CloudFormation template" in result.stderr
    assert "$" not in result.stdout and "bus default" not in result.stdout
    no_traceback(result)


def test_routes_with_an_empty_event_file_exits_2(
    runner: CliRunner, tmp_path: Path, cloud_assembly_dir: Path
) -> None:
    path = tmp_path / "empty.json"
    path.write_text("[]")
    result = runner.invoke(
        app, ["routes", "--cdk-out", str(cloud_assembly_dir), "--event", str(path)]
    )
    assert result.exit_code == 2, result.output
    assert f"{path}: holds no events or entries" in result.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "the inventory seed is not valid JSON"),
        ("[1, 2, 3]", "row 0: must be an object"),
        ('[{"sku": "A", "available": -1}]', "row 0: available: must be a whole number >= 0"),
        ('{"sku": "A"}', "an inventory seed is a non-empty JSON array"),
    ],
)
def test_simulate_with_a_bad_seed_file_exits_2_naming_it(
    runner: CliRunner, tmp_path: Path, cloud_assembly_dir: Path, content: str, reason: str
) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(content)
    result = runner.invoke(
        app,
        [
            "simulate",
            "--orders",
            "5",
            "--cdk-out",
            str(cloud_assembly_dir),
            "--seed-file",
            str(seed),
        ],
    )
    assert result.exit_code == 2, result.output
    assert f"{seed}" in result.stderr and reason in result.stderr
    no_traceback(result)


def test_test_event_pattern_with_a_file_that_is_not_utf8_exits_2(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "event.json"
    path.write_bytes(b"\xff\xfe{}")
    result = runner.invoke(
        app, ["test-event-pattern", "--event-pattern", "{}", "--event", f"file://{path}"]
    )
    assert result.exit_code == 2, result.output
    assert f"Unable to load paramfile file://{path}: not UTF-8 text" in result.stderr


def test_replay_of_an_unknown_archive_exits_2_as_its_help_promises(
    runner: CliRunner, moto_endpoint: str, wired_bus: Any
) -> None:
    result = runner.invoke(
        app,
        [
            "replay",
            "--from",
            "-1h",
            "--archive",
            "nope-archive",
            "--bus",
            wired_bus.name,
            "--endpoint-url",
            moto_endpoint,
        ],
    )
    assert result.exit_code == 2, result.output
    assert "no archive 'nope-archive'" in result.stderr


def test_two_replays_started_in_the_same_second_get_different_default_names() -> None:
    now = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    assert replay_name(now) != replay_name(now)
    assert replay_name(now).startswith("ordersctl-20261204-180000-")


# The arguments each AWS command needs besides the endpoint; a test below makes sure every
# command with --endpoint-url is listed, so a new one cannot skip these checks.
AWS_COMMANDS = {
    "put-events": [str(ROOT / "events" / "order-created.json"), "--bus", "orders-dev"],
    "replay": ["--from", "-1h"],
    "tail": ["--timeout", "0"],
    "redrive": ["AuditDlqUrl"],
}


def test_every_command_with_an_endpoint_option_is_checked_here() -> None:
    from tests.fuzz.cli_commands import commands

    with_endpoint = {
        name
        for name, options in commands(app).items()
        if any(option.name == "endpoint_url" for option in options)
    }
    assert with_endpoint == set(AWS_COMMANDS)


@pytest.mark.parametrize("command", sorted(AWS_COMMANDS))
@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--endpoint-url", "not-a-url", "--endpoint-url 'not-a-url': not a URL"),
        ("--stage", "Bad Stage!", "--stage 'Bad Stage!': a stage name must match"),
    ],
)
def test_a_bad_endpoint_or_stage_is_exit_2_for_every_aws_command(
    runner: CliRunner, command: str, option: str, value: str, message: str
) -> None:
    result = runner.invoke(app, [command, *AWS_COMMANDS[command], option, value])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    no_traceback(result)


@pytest.mark.parametrize("command", sorted(AWS_COMMANDS))
def test_local_with_stage_is_refused_by_every_command_that_has_both(
    runner: CliRunner, command: str
) -> None:
    result = runner.invoke(app, [command, *AWS_COMMANDS[command], "--local", "--stage", "prod"])
    assert result.exit_code == 2, result.output
    assert "cannot be combined with --local" in result.output

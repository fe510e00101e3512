"""Every command documents itself: --help with examples and exit codes; python -m ordersctl."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = [
    "put-events",
    "test-event-pattern",
    "routes",
    "replay",
    "tail",
    "demo",
    "cost",
    "simulate",
    "redrive",
]


def test_top_level_help_lists_every_command(runner: CliRunner) -> None:
    # Given the app, When --help is asked, Then every command is listed
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_examples_and_exit_codes(
    runner: CliRunner, command: str
) -> None:
    # Given a command, When its --help is asked
    result = runner.invoke(app, [command, "--help"])

    # Then it shows usage, examples of itself and its exit codes
    assert result.exit_code == 0
    assert f"ordersctl {command}" in result.stdout
    assert "Examples" in result.stdout
    assert "Exit codes" in result.stdout


def test_python_dash_m_runs_the_same_cli() -> None:
    # Given the package, When run as `python -m ordersctl --help`, Then the CLI answers
    completed = subprocess.run(
        [sys.executable, "-m", "ordersctl", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "put-events" in completed.stdout

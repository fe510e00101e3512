"""Tables read whole on an 80-column terminal (issue 14): no figure or header cut to "…"."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ordersctl.cli import app

NARROW = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}


def section(text: str, title: str, lines: int) -> str:
    start = text.index(title)
    return "\n".join(text[start:].splitlines()[:lines])


def test_the_cost_functions_table_keeps_every_figure_whole(cloud_assembly_dir: Path) -> None:
    result = CliRunner(env=NARROW).invoke(
        app, ["cost", "--orders-per-month", "100000000", "--cdk-out", str(cloud_assembly_dir)]
    )
    assert result.exit_code == 0, result.output
    functions = section(result.stdout, "Functions", 9)
    assert "…" not in functions, functions
    assert "arm64" in functions and "Naive" in functions


def test_the_simulate_table_keeps_names_and_headers_whole(cloud_assembly_dir: Path) -> None:
    result = CliRunner(env=NARROW).invoke(
        app, ["simulate", "--orders", "5", "--cdk-out", str(cloud_assembly_dir)]
    )
    assert result.exit_code == 0, result.output
    table = section(result.stdout, "Per consumer", 10)
    assert "…" not in table, table
    assert "orders-dev-risk-review" in table and "suppressed" in table

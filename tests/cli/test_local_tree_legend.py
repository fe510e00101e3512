"""The demo tree (issue 14): a cancellation's stock release is visible, the +Ns marks explained,
and a replay's summary fits 80 columns."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ordersctl.cli import app

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def test_a_cancellation_shows_the_stock_it_released_and_the_marks_are_explained(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given an order and its cancellation, put on the local bus in that order
    files = [str(EVENTS / "order-created.json"), str(EVENTS / "order-cancelled.json")]

    # When put with --local
    result = runner.invoke(
        app, ["put-events", *files, "--local", "--cdk-out", str(cloud_assembly_dir)]
    )

    # Then the order's inventory run says it reserved, the cancellation's that it released,
    # and one line explains the +Ns marks
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "λ inventory ran  → reserved, emitted InventoryReserved" in out
    assert "λ inventory ran  → released" in out
    assert "+Ns: simulated seconds after the step's event reached the bus" in out


def test_a_local_replay_summary_keeps_every_column_at_80(cloud_assembly_dir: Path) -> None:
    # Given an 80-column terminal
    runner = CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"})

    # When a local replay prints its summary
    result = runner.invoke(
        app,
        [
            "replay",
            "--local",
            "--cdk-out",
            str(cloud_assembly_dir),
            "--events",
            str(EVENTS / "order-created.json"),
        ],
    )

    # Then no column is cut (the replay's name is in the lines above, not in every row)
    assert result.exit_code == 0, result.output
    summary = result.stdout[result.stdout.index("Summary") :].splitlines()
    assert "Rules matched" in summary[1] and "DLQ" in summary[1]
    assert "…" not in "\n".join(summary[:5])

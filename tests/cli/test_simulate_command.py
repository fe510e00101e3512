"""`ordersctl simulate` as a command: JSON and table output, reproducibility for a seed, exit
codes, and a loss that the accounting measures instead of assuming none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from ordersctl import simulate
from ordersctl.simulate import Simulation, make_traffic

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "events" / "inventory-seed.json"
SCHEMAS = ROOT / "schemas"


def app_with_simulate() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test app."""

    simulate.register(app)
    return app


def invoke_json(runner: CliRunner, cdk_out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(
        app_with_simulate(),
        [
            "simulate",
            "--orders",
            "60",
            "--poison-rate",
            "0.05",
            "--cdk-out",
            str(cdk_out),
            "--json",
            *extra,
        ],
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_json_output_is_reproducible_for_a_seed(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given a small simulation with a high failure rate
    # When it runs twice with the same seed, and once with another
    first = invoke_json(runner, cloud_assembly_dir, "--fail-rate", "0.3", "--seed", "11")
    second = invoke_json(runner, cloud_assembly_dir, "--fail-rate", "0.3", "--seed", "11")
    other = invoke_json(runner, cloud_assembly_dir, "--fail-rate", "0.3", "--seed", "12")

    # Then the numbers are the same for the same seed, the shape is the documented one, and
    # it exits 0 as nothing was lost
    assert first == second
    assert first[1]["injected_failures"] != other[1]["injected_failures"]
    code, report = first
    assert code == 0
    assert report["orders"] == 60 and report["poison"] == 3
    keys = {"received", "processed", "filtered", "dead_lettered", "duplicates_suppressed", "lost"}
    for counts in report["consumers"].values():
        assert keys | {"dead_letter_reasons"} <= set(counts)
    assert report["consumers"]["inventory"]["dead_lettered"] == 3


def test_table_output_names_each_consumer_and_says_nothing_was_lost(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given a small simulation
    # When it runs without --json
    result = runner.invoke(
        app_with_simulate(),
        [
            "simulate",
            "--orders",
            "40",
            "--poison-rate",
            "0.05",
            "--cdk-out",
            str(cloud_assembly_dir),
        ],
    )

    # Then the table lists the consumers, the dead-letter reasons and the verdict
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in ("inventory", "audit", "orders-dev-risk-review", "risk-scorer"):
        assert name in out
    assert "inventory dead-lettered:" in out and "InvalidEventError" in out
    assert "Nothing lost:" in out


def test_a_loss_is_measured_not_assumed(cloud_assembly_dir: Path) -> None:
    # Given a simulation whose inventory on-failure queue refuses every delivery
    with Simulation.open(cloud_assembly_dir, fail_rate=0.0, seed=3) as simulation:
        traffic = make_traffic(
            SEED_FILE,
            orders=30,
            poison_rate=0.1,
            seed=3,
            bus_name=simulation.target.bus_name,
            schemas=SCHEMAS,
        )
        failure_queue = simulation.bus.template["Outputs"]["InventoryFailureQueueUrl"]["Value"]
        simulation.bus.faults.fail_delivery(failure_queue["Ref"], times=None)

        # When it runs
        report = simulation.run(traffic)

    # Then the poison the inventory function gave up on is counted lost, with the reason, and
    # the run exits 1
    inventory = report.to_json()["consumers"]["inventory"]
    assert inventory["lost"] == len(traffic.poison) == 3
    assert inventory["dead_lettered"] == 0
    assert sum(inventory["lost_reasons"].values()) == 3
    for reason in inventory["lost_reasons"]:
        assert reason.startswith("last attempt failed (InvalidEventError: OrderCreated event is")
        assert reason.endswith("not in a dead-letter place")
    assert report.exit_code == 1


def test_missing_cloud_assembly_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    # Given a directory that is not a cloud assembly
    # When simulate runs on it
    result = runner.invoke(app_with_simulate(), ["simulate", "--cdk-out", str(tmp_path)])

    # Then it says so and exits 2
    assert result.exit_code == 2
    assert "not a cloud assembly" in result.output

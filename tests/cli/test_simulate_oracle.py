"""`ordersctl simulate` as an oracle: outcomes computed from the generated input, read back from
the end state (tables, topic deliveries, DLQs), under reordering, duplicates, throttles and
failures past the retry budget; and a silent loss that it must catch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordersctl.simulate import Simulation, SimulationReport, make_traffic
from tests.cli.test_simulate_command import app_with_simulate

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "events" / "inventory-seed.json"
SCHEMAS = ROOT / "schemas"
POISON = "poison"


def simulate(
    cdk_out: Path, *, orders: int, poison_rate: float, seed: int, **faults: Any
) -> SimulationReport:
    with Simulation.open(cdk_out, seed=seed, **faults) as simulation:
        traffic = make_traffic(
            SEED_FILE,
            orders=orders,
            poison_rate=poison_rate,
            seed=seed,
            bus_name=simulation.target.bus_name,
            schemas=SCHEMAS,
        )
        return simulation.run(traffic)


def outcomes(report: SimulationReport) -> dict[str, dict[str, Any]]:
    return report.to_json()["outcomes"]


@pytest.mark.parametrize("seed", range(20))
def test_nothing_lost_or_wrong_under_reordering_duplicates_and_failures_past_the_budget(
    cloud_assembly_dir: Path, seed: int
) -> None:
    # Given orders, cancellations and poison, delivered out of order and some twice, with
    # every function failing a fifth of its invocations up to 4 times per unit (past Lambda's
    # 3 attempts and the queues' 3 receives), and a few throttles
    report = simulate(
        cloud_assembly_dir,
        orders=50,
        poison_rate=0.06,
        seed=seed,
        fail_rate=0.2,
        max_failures=4,
        duplicate_rate=0.05,
        reorder=True,
        throttle_rate=0.05,
    )

    # Then every outcome the input implies is achieved or dead-lettered with its reason: none
    # lost, none achieved twice or contradicting another (stock held for a cancelled order)
    found = outcomes(report)
    for name, counts in found.items():
        assert counts["lost"] == 0, (name, counts["problems"])
        assert counts["wrong"] == 0, (name, counts["problems"])
        assert counts["expected"] == (
            counts["achieved"] + counts["dead_lettered"] + counts["lost"]
        ), name
        assert sum(counts["dead_letter_reasons"].values()) == counts["dead_lettered"], name
    # And failures past the budget really did dead-letter something, and the faults fired
    assert sum(counts["dead_lettered"] for counts in found.values()) > 0
    assert report.injected_deliveries["events delivered twice"] > 0
    assert report.exit_code == 0


@pytest.mark.parametrize("seed", [11, 12])
def test_faults_inside_the_retry_budget_dead_letter_no_valid_order(
    cloud_assembly_dir: Path, seed: int
) -> None:
    # Given a tenth of invocations failing once per unit (inside every retry budget) and 5%
    # poison, some of it in the same risk-review batches as valid orders
    report = simulate(cloud_assembly_dir, orders=250, poison_rate=0.05, seed=seed, fail_rate=0.1)

    # Then no outcome of a valid order is dead-lettered (poison is set aside, as designed)
    found = outcomes(report)
    valid = {name: counts for name, counts in found.items() if POISON not in name}
    assert {name: counts["dead_lettered"] for name, counts in valid.items()} == dict.fromkeys(
        valid, 0
    ), {name: counts["dead_letter_reasons"] for name, counts in valid.items()}
    assert found["risk_scored"]["achieved"] == found["risk_scored"]["expected"] > 0
    assert found["poison_set_aside_by_inventory"]["achieved"] > 0
    assert report.exit_code == 0


def test_a_silently_dropped_delivery_is_reported_lost_and_fails_the_run(
    cloud_assembly_dir: Path,
) -> None:
    # Given 2% of rule target deliveries silently dropped and no other fault
    report = simulate(
        cloud_assembly_dir, orders=200, poison_rate=0.0, seed=5, fail_rate=0.0, drop_rate=0.02
    )

    # Then the oracle reports outcomes lost, naming what is missing, though no consumer saw
    # anything go wrong (a dropped delivery never reaches one: counting return codes can't
    # see it), and the run fails
    found = outcomes(report)
    assert sum(counts["lost"] for counts in found.values()) > 0
    assert any(
        problem.startswith("lost: ") for counts in found.values() for problem in counts["problems"]
    )
    assert sum(c["lost"] for c in report.to_json()["consumers"].values()) == 0
    assert report.exit_code == 1


def test_the_command_prints_outcomes_and_exits_1_on_a_drop(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given the command with drops and no other fault
    result = runner.invoke(
        app_with_simulate(),
        [
            "simulate",
            "--orders",
            "120",
            "--fail-rate",
            "0",
            "--poison-rate",
            "0",
            "--drop-rate",
            "0.03",
            "--seed",
            "4",
            "--cdk-out",
            str(cloud_assembly_dir),
        ],
    )

    # Then the outcome table and the lost units are shown, and it exits 1
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "Outcomes" in out and "reservation" in out and "customer_notified" in out
    assert "lost: " in out
    assert "Lost: " in out

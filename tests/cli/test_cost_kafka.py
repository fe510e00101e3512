"""`ordersctl cost` counts the Kafka ingest pipe and its adapter when the stage turns it on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ordersctl.cli import app

ORDERS = 1_000_000


def cost(cdk_out: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        app, ["cost", "--orders-per-month", str(ORDERS), "--cdk-out", str(cdk_out), "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_kafka_pipe_and_its_adapter_are_priced(kafka_cloud_assembly_dir: Path) -> None:
    # Given the stage with the Kafka ingest pipe
    report = cost(kafka_cloud_assembly_dir)
    events = report["flow"]["events_per_order"]
    records = (events["OrderCreated"] + events.get("OrderCancelled", 0.0)) * ORDERS

    # Then the pipe is billed for every order event it reads from the topic
    (line,) = [
        line
        for line in report["services"]["EventBridge Pipes"]["lines"]
        if line["item"] == "orders-dev-kafka-ingest Kafka records"
    ]
    assert line["quantity"] == records
    assert line["cost"] == records / 1_000_000 * 0.40
    # And the adapter runs once per batch (at most 10 records, the pipe's BatchSize)
    adapter = report["functions"]["kafka-adapter"]["design"]
    assert adapter["invocations"] >= records / 10
    assert adapter["architecture"] == "arm64"
    lambda_items = {line["item"] for line in report["services"]["Lambda"]["lines"]}
    assert {"kafka-adapter requests", "kafka-adapter duration (arm64)"} <= lambda_items


def test_without_kafka_nothing_of_it_is_priced(cloud_assembly_dir: Path) -> None:
    report = cost(cloud_assembly_dir)
    assert "kafka-adapter" not in report["functions"]
    assert not [
        line
        for service in report["services"].values()
        for line in service["lines"]
        if "kafka" in line["item"].lower()
    ]


def test_the_adapters_own_metrics_are_counted(
    kafka_cloud_assembly_dir: Path, cloud_assembly_dir: Path
) -> None:
    # Given the same stage with and without the Kafka pipe
    def custom_metrics(cdk_out: Path) -> float:
        lines = cost(cdk_out)["services"]["CloudWatch metrics"]["lines"]
        (line,) = [line for line in lines if line["item"] == "custom metrics (EMF)"]
        return float(line["quantity"])

    # Then the adapter adds the three names its code emits (RecordsReceived, RecordsForwarded,
    # RecordsRejected; its service dimension makes them its own)
    assert custom_metrics(kafka_cloud_assembly_dir) - custom_metrics(cloud_assembly_dir) == 3

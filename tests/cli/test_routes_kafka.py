"""`ordersctl routes` on a stage with the Kafka ingest pipe: the tree and the diagram show the
topic, the adapter, where invalid records go, and the bus target; without it, nothing of Kafka."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ordersctl.cli import app


def routes(cdk_out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        app, ["routes", "--cdk-out", str(cdk_out), *extra], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_tree_explains_the_kafka_pipe(
    kafka_cloud_assembly_dir: Path, kafka_stage_keys: dict[str, Any]
) -> None:
    text = routes(kafka_cloud_assembly_dir)
    assert "pipe orders-dev-kafka-ingest" in text
    assert (
        f"source: Kafka topic orders (self-managed {kafka_stage_keys['kafkaBootstrapServers']}), "
        "consumer group orders-dev-kafka-ingest, from TRIM_HORIZON (batch 10)"
    ) in text
    assert "enrichment: λ kafka-adapter" in text
    assert "sets invalid records aside in SQS kafka-ingest-reject-queue" in text
    assert "as the detail-type of each item ($.detailType) from com.example.orders" in text


def test_the_diagram_shows_the_kafka_pipe_only_when_enabled(
    kafka_cloud_assembly_dir: Path, cloud_assembly_dir: Path
) -> None:
    # Given the diagram of the stage with Kafka on
    diagram = routes(kafka_cloud_assembly_dir, "--mermaid")
    lines = diagram.splitlines()

    # Then the topic feeds the pipe, the pipe the adapter, the adapter the bus and the rejects
    def edge(source: str, label: str, target: str, arrow: str = "-->") -> bool:
        return any(
            source in line and f'{arrow}|"{label}"|' in line and target in line for line in lines
        )

    assert any('[("Kafka topic orders<br/>self-managed' in line for line in lines)
    assert edge("KafkaIngestPipe", "batch 10, group orders-dev-kafka-ingest", "KafkaIngestPipe")
    assert edge("KafkaIngestPipe", "enrichment", "FunctionsKafkaAdapter")
    assert edge("FunctionsKafkaAdapter", "invalid records", "KafkaIngestRejectQueue", "-.->")
    assert edge(
        "FunctionsKafkaAdapter", "each record's detail-type from com.example.orders", "EventBus"
    )
    # And without the Kafka keys the diagram has no Kafka at all
    assert "Kafka" not in routes(cloud_assembly_dir, "--mermaid")

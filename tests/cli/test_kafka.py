"""`ordersctl kafka broker` (a real Tansu broker in the foreground) and `ordersctl kafka
produce` (entry files to a topic, keyed by orderId, with a detail-type header)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app
from tests.conftest import free_port, kafka_assembly_on_topic

ROOT = Path(__file__).resolve().parents[2]
BATCH = ROOT / "events" / "orders-batch.json"
INVALID = ROOT / "events" / "invalid" / "order-created-missing-order-id.json"
ORDERSCTL = [sys.executable, "-m", "ordersctl"]
READY_TIMEOUT_S = 20


def start_broker_command(port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ORDERSCTL, "kafka", "broker", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def consume_all(bootstrap: str, topic: str, expected: int) -> list[Any]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"check-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    records: list[Any] = []
    deadline = time.monotonic() + 30
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def test_broker_prints_a_ready_line_serves_kafka_and_stops_on_sigterm() -> None:
    # Given `ordersctl kafka broker --port P` started in the background
    port = free_port()
    process = start_broker_command(port)
    try:
        # When it is ready
        assert process.stdout is not None
        line = process.stdout.readline()

        # Then it says so, with the address to use, and that address accepts connections
        assert line.startswith(f"Kafka broker ready on 127.0.0.1:{port}"), line
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        # And SIGTERM stops it cleanly, the broker process with it
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=READY_TIMEOUT_S)
    assert code == 0
    time.sleep(0.2)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_broker_fails_at_once_when_the_port_is_taken() -> None:
    # Given something already listening on the port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # When the broker is started there
        started = time.monotonic()
        done = subprocess.run(
            [*ORDERSCTL, "kafka", "broker", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=READY_TIMEOUT_S,
            check=False,
        )

    # Then it fails at once (Tansu itself would exit 0), naming the port
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "ready" not in done.stdout
    assert time.monotonic() - started < 10


def test_a_second_broker_on_the_same_port_is_refused(kafka_broker: Any) -> None:
    from ordersctl.kafka.broker import BrokerError, start_broker

    with pytest.raises(BrokerError, match=f"port {kafka_broker.port} .* already in use"):
        start_broker(kafka_broker.port)
    assert kafka_broker.process.poll() is None  # the first one is untouched


def test_produce_keys_by_order_id_with_a_detail_type_header(kafka_broker: Any) -> None:
    # Given a fresh topic
    topic = f"produce-{uuid.uuid4().hex[:8]}"

    # When the sample batch is produced
    result = CliRunner().invoke(
        app,
        [
            *("kafka", "produce", str(BATCH)),
            *("--bootstrap", kafka_broker.bootstrap, "--topic", topic, "--json"),
        ],
    )

    # Then every entry was acknowledged, in file order
    assert result.exit_code == 0, result.output
    produced = json.loads(result.stdout)
    entries = json.loads(BATCH.read_text())
    assert [p["entry"] for p in produced] == list(range(len(entries)))
    # And each record carries the Detail as its value, the orderId as its key, the detail-type
    records = consume_all(kafka_broker.bootstrap, topic, len(entries))
    by_offset = {(r.partition, r.offset): r for r in records}
    for entry, placed in zip(entries, produced, strict=True):
        record = by_offset[(placed["partition"], placed["offset"])]
        detail = json.loads(entry["Detail"])
        assert json.loads(record.value) == detail
        assert record.key == detail["orderId"].encode()
        assert record.headers == [("detail-type", entry["DetailType"].encode())]
    # And one order's events share a partition, in the order of the file
    placements: dict[str, list[tuple[int, int]]] = {}
    for entry, placed in zip(entries, produced, strict=True):
        key = json.loads(entry["Detail"])["orderId"]
        placements.setdefault(key, []).append((placed["partition"], placed["offset"]))
    for spots in placements.values():
        assert len({partition for partition, _ in spots}) == 1
        assert spots == sorted(spots)


def test_produce_refuses_invalid_entries_unless_allowed(kafka_broker: Any) -> None:
    topic = f"invalid-{uuid.uuid4().hex[:8]}"
    args = [
        *("kafka", "produce", str(BATCH), str(INVALID)),
        *("--bootstrap", kafka_broker.bootstrap, "--topic", topic),
    ]

    # When an invalid entry is among the files / Then nothing is produced (exit 2), as put-events
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2
    assert "order-created-missing-order-id.json: entry 0: Detail: 'orderId' is a required" in (
        refused.stderr
    )
    assert "nothing produced" in refused.stderr

    # When --allow-invalid is given / Then all are produced, the invalid one said so
    allowed = CliRunner().invoke(app, [*args, "--allow-invalid", "--json"])
    assert allowed.exit_code == 0, allowed.output
    produced = json.loads(allowed.stdout)
    assert len(produced) == 26
    assert [p["valid"] for p in produced].count(False) == 1
    assert produced[-1]["key"] is None
    assert "producing invalid" in allowed.stderr


def test_produce_names_an_unreachable_broker() -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    # --timeout: the same error as after the default 30 s, without waiting for it
    result = CliRunner().invoke(
        app,
        [
            *("kafka", "produce", str(BATCH), "--bootstrap", nowhere, "--topic", "orders"),
            "--timeout",
            "1",
        ],
    )
    assert result.exit_code == 1
    assert f"cannot reach Kafka at {nowhere}" in result.stderr


def test_broker_help_documents_the_ready_line() -> None:
    result = CliRunner().invoke(app, ["kafka", "broker", "--help"])
    assert result.exit_code == 0
    assert "ready" in result.stdout


def test_put_events_local_counts_the_kafka_pipes_events_in(
    kafka_cloud_assembly_dir: Path, kafka_broker: Any, tmp_path: Path
) -> None:
    # Given a Kafka-enabled synth reading a topic that holds one order and one bad record
    topic = f"local-{uuid.uuid4().hex[:8]}"
    cdk_out = kafka_assembly_on_topic(kafka_cloud_assembly_dir, tmp_path / "cdk.out", topic)
    produced = CliRunner().invoke(
        app,
        [
            *("kafka", "produce", str(ROOT / "events" / "order-created.json"), str(INVALID)),
            *("--bootstrap", kafka_broker.bootstrap, "--topic", topic, "--allow-invalid"),
        ],
    )
    assert produced.exit_code == 0, produced.output

    # When another order is put on the local bus (which drains the topic too)
    result = CliRunner().invoke(
        app,
        [
            "put-events",
            str(ROOT / "events" / "order-cancelled.json"),
            "--local",
            "--cdk-out",
            str(cdk_out),
        ],
        env={"COLUMNS": "200"},
    )

    # Then both the put event and the Kafka record's event are in and accounted for, the
    # latter named by its record, and the bad record set aside is not counted as lost
    assert result.exit_code == 0, result.output
    assert f"(Kafka {topic}[" in result.stdout
    assert "Nothing lost: 2 event(s) in = 2 accounted for" in result.stdout

"""localbus consumes the Kafka ingest pipe's topic from a real broker (the session's Tansu).

The dev stage is synthesized once with the Kafka keys (tests/conftest.py); the records are
produced with `ordersctl kafka produce`, as a user would. Tests that need a topic of their own
load a copy of the assembly whose pipe reads another topic with another consumer group.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from localbus import LocalBus
from ordersctl.cli import app
from tests.conftest import KAFKA_TOPIC, free_port, kafka_assembly_on_topic

ROOT = Path(__file__).resolve().parents[2]
BATCH = ROOT / "events" / "orders-batch.json"
INVALID = ROOT / "events" / "invalid" / "order-created-missing-order-id.json"
STACK = "OrderEvents-dev"
RECORD_KEYS = {
    "eventSource",
    "bootstrapServers",
    "eventSourceKey",
    "topic",
    "partition",
    "offset",
    "timestamp",
    "timestampType",
    "key",
    "value",
    "headers",
}


def produce_records(bootstrap: str, topic: str, *files: Path) -> list[dict[str, Any]]:
    """`ordersctl kafka produce ... --allow-invalid --json`: what was produced, where."""
    result = CliRunner().invoke(
        app,
        [
            *("kafka", "produce", *map(str, files)),
            *("--bootstrap", bootstrap, "--topic", topic, "--allow-invalid", "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def seed_inventory(bus: LocalBus) -> None:
    seed = json.loads((ROOT / "events" / "inventory-seed.json").read_text())
    (table,) = [
        ref.logical_id
        for ref in bus.index.of_type("AWS::DynamoDB::Table")
        if ref.logical_id.startswith("TablesInventory")
    ]
    bus.seed_table(table, [{"pk": f"SKU#{s['sku']}", "available": s["available"]} for s in seed])


def kafka_pipe_id(bus: LocalBus) -> str:
    (pipe_id,) = bus.kafka_pipes
    return pipe_id


def reject_queue_id(bus: LocalBus) -> str:
    (queue_id,) = [lid for lid in bus.queues if "Reject" in lid]
    return queue_id


def inventory_function_id(bus: LocalBus) -> str:
    (function_id,) = [
        ref.logical_id
        for ref in bus.index.of_type("AWS::Lambda::Function")
        if ref.logical_id.startswith("FunctionsInventory")
    ]
    return function_id


def received_from_pipe(bus: LocalBus) -> list[dict[str, Any]]:
    pipe_id = kafka_pipe_id(bus)
    return [s for s in bus.trace if s["step"] == "received" and s.get("via") == pipe_id]


@pytest.fixture
def own_topic_assembly(kafka_cloud_assembly_dir: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the Kafka assembly whose pipe reads a fresh topic with a fresh group."""
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    return kafka_assembly_on_topic(kafka_cloud_assembly_dir, tmp_path / "cdk.out", topic), topic


def test_every_valid_record_reaches_the_bus_and_inventory_and_the_bad_one_is_rejected(
    kafka_cloud_assembly_dir: Path, kafka_broker: Any
) -> None:
    # Given the 25 sample orders and one entry without an orderId on the pipe's topic
    topic = KAFKA_TOPIC
    produced = produce_records(kafka_broker.bootstrap, topic, BATCH, INVALID)
    assert len(produced) == 26
    bad = produced[-1]

    # When localbus loads the synthesized template (the broker at the template's address)
    with LocalBus.from_cdk_out(kafka_cloud_assembly_dir, seed=3) as bus:
        seed_inventory(bus)
        payloads: list[list[dict[str, Any]]] = []
        adapter_id = bus.kafka_pipes[kafka_pipe_id(bus)].enrichment.logical_id
        bus.lambdas.observers.append(
            lambda function, payload, cause, outcome: (
                payloads.append(payload) if function == adapter_id else None
            )
        )
        bus.run_until_idle()

        # Then every valid entry went on the bus through the pipe, as com.example.orders events
        # with the detail-type its record carried
        received = received_from_pipe(bus)
        entries = json.loads(BATCH.read_text())
        assert Counter(s["detail_type"] for s in received) == Counter(
            e["DetailType"] for e in entries
        )
        assert {s["source"] for s in received} == {"com.example.orders"}
        # And each event names the Kafka record it came from
        positions = {(s["kafka"]["partition"], s["kafka"]["offset"]) for s in received}
        valid_positions = {(p["partition"], p["offset"]) for p in produced[:-1]}
        assert positions == valid_positions

        # And the inventory function ran for each of them
        inventory = inventory_function_id(bus)
        ran_for = {
            s["event_id"]
            for s in bus.trace
            if s["resource"] == inventory and s["step"] == "delivered"
        }
        assert {s["event_id"] for s in received} <= ran_for

        # And the bad record sits in the rejects queue with where it was and why
        rejects = [json.loads(m["Body"]) for m in bus.queue(reject_queue_id(bus)).messages()]
        assert len(rejects) == 1
        (reject,) = rejects
        assert (reject["topic"], reject["partition"], reject["offset"]) == (
            topic,
            str(bad["partition"]),
            bad["offset"],
        )
        assert "detail.orderId" in reject["reason"] and "required" in reject["reason"]
        # And the pipe traced it as dropped by the enrichment, at its position
        dropped = [
            s for s in bus.trace if s["step"] == "dropped" and s["resource"] == kafka_pipe_id(bus)
        ]
        assert [(s["partition"], s["offset"]) for s in dropped] == [
            (bad["partition"], bad["offset"])
        ]

        # And its batch-mates flowed on: the batch that held it also carried valid records
        bad_batch = next(
            batch
            for batch in payloads
            if any(
                r["partition"] == str(bad["partition"]) and r["offset"] == bad["offset"]
                for r in batch
            )
        )
        mates = {(int(r["partition"]), r["offset"]) for r in bad_batch} - {
            (bad["partition"], bad["offset"])
        }
        assert mates and mates <= positions

        # And nothing failed or was dead-lettered along the way
        assert bus.dead_letters() == {}
        assert not [s for s in bus.trace if s["step"] == "failed"]


def test_batches_are_shaped_as_the_pipe_hands_them_on_per_partition_in_offset_order(
    own_topic_assembly: tuple[Path, str], kafka_broker: Any
) -> None:
    # Given the sample orders on a topic of their own
    cdk_out, topic = own_topic_assembly
    produced = produce_records(kafka_broker.bootstrap, topic, BATCH)

    with LocalBus.from_cdk_out(cdk_out, seed=5) as bus:
        seed_inventory(bus)
        adapter = bus.kafka_pipes[kafka_pipe_id(bus)].enrichment
        batches: list[list[dict[str, Any]]] = []
        bus.lambdas.observers.append(
            lambda function, payload, cause, outcome: (
                batches.append(payload) if function == adapter.logical_id else None
            )
        )

        # When the pipe consumes it
        bus.run_until_idle()

    # Then each batch is a flat array of at most BatchSize (10) records of one partition, in
    # offset order, with exactly the fields AWS documents for a self-managed Kafka source
    assert sum(len(batch) for batch in batches) == len(produced)
    for batch in batches:
        assert 1 <= len(batch) <= 10
        assert len({record["partition"] for record in batch}) == 1
        offsets = [record["offset"] for record in batch]
        assert offsets == sorted(offsets)
        for record in batch:
            assert set(record) == RECORD_KEYS
            assert record["eventSource"] == "SelfManagedKafka"
            assert record["bootstrapServers"] == kafka_broker.bootstrap
            assert record["topic"] == topic
            assert isinstance(record["partition"], str)
            assert record["eventSourceKey"] == f"{topic}-{record['partition']}"
            assert record["timestampType"] == "CREATE_TIME"
            (header,) = record["headers"]
            assert bytes(header["detail-type"]).decode() in {"OrderCreated", "OrderCancelled"}
    # And one order's events (same key) arrive in the order they were produced
    by_key: dict[str, list[int]] = defaultdict(list)
    for batch in batches:
        for record in batch:
            by_key[record["key"]].append(record["offset"])
    for offsets in by_key.values():
        assert offsets == sorted(offsets)


def test_offsets_are_committed_after_each_successful_batch(
    own_topic_assembly: tuple[Path, str], kafka_broker: Any
) -> None:
    # Given the sample orders consumed once by the pipe's consumer group
    cdk_out, topic = own_topic_assembly
    produce_records(kafka_broker.bootstrap, topic, BATCH)
    with LocalBus.from_cdk_out(cdk_out, seed=6) as first:
        seed_inventory(first)
        first.run_until_idle()
        assert len(received_from_pipe(first)) == 25

    # When a new localbus on the same template (same group) runs, after one more order
    produce_records(kafka_broker.bootstrap, topic, ROOT / "events" / "order-created.json")
    with LocalBus.from_cdk_out(cdk_out, seed=7) as second:
        seed_inventory(second)
        second.run_until_idle()

        # Then it resumes from the committed offsets: only the new record comes through
        received = received_from_pipe(second)
        assert [s["detail_type"] for s in received] == ["OrderCreated"]


def test_a_failed_batch_is_not_committed_and_is_read_again(
    own_topic_assembly: tuple[Path, str], kafka_broker: Any
) -> None:
    # Given one order on a topic, and an adapter that fails its first invocation
    cdk_out, topic = own_topic_assembly
    produce_records(kafka_broker.bootstrap, topic, ROOT / "events" / "order-created.json")
    with LocalBus.from_cdk_out(cdk_out, seed=8) as bus:
        seed_inventory(bus)
        pipe = bus.kafka_pipes[kafka_pipe_id(bus)]
        bus.faults.fail_function(pipe.enrichment.logical_id, times=1)

        # When the pipe consumes
        bus.run_until_idle()

        # Then the first try failed (traced at the record's position) and the retry from the
        # same offset delivered the order exactly once
        failed = [
            s for s in bus.trace if s["step"] == "failed" and s["resource"] == pipe.ref.logical_id
        ]
        assert [(s["topic"], s["offset"], s["stage"]) for s in failed] == [(topic, 0, "enrichment")]
        assert [s["detail_type"] for s in received_from_pipe(bus)] == ["OrderCreated"]


def test_an_unreachable_broker_is_named(
    kafka_cloud_assembly_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localbus.kinds.kafka_source import KafkaSourceError

    # Given the template's pipe mapped to a port where no broker listens, and a short wait for it
    # (the same error as after the default 30 s)
    monkeypatch.setenv("LOCALBUS_KAFKA_TIMEOUT", "1")
    nowhere = f"127.0.0.1:{free_port()}"
    mapped = {"orders-dev-kafka-ingest": nowhere}
    # When it runs / Then the error names the pipe and the address
    with (
        LocalBus.from_cdk_out(kafka_cloud_assembly_dir, seed=1, kafka_bootstrap=mapped) as bus,
        pytest.raises(KafkaSourceError, match=nowhere),
    ):
        bus.run_until_idle()


def test_the_wait_for_the_broker_is_30_s_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from localbus.kinds.kafka_source import KafkaSourceError, join_timeout_s

    monkeypatch.delenv("LOCALBUS_KAFKA_TIMEOUT", raising=False)
    assert join_timeout_s() == 30.0
    monkeypatch.setenv("LOCALBUS_KAFKA_TIMEOUT", "2.5")
    assert join_timeout_s() == 2.5
    for bad in ("soon", "0", "-1", "inf", "nan"):
        monkeypatch.setenv("LOCALBUS_KAFKA_TIMEOUT", bad)
        with pytest.raises(KafkaSourceError, match="LOCALBUS_KAFKA_TIMEOUT"):
            join_timeout_s()

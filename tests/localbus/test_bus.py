"""LocalBus itself: PutEvents validation and envelope, determinism, reporting, run limits."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from localbus.bus import UnsupportedFeatureWarning
from localbus.clock import SimulationLimitError
from tests.localbus.fixtures.engine.cdk_out import (
    arn,
    entry,
    event_bus,
    open_bus,
    queue,
    rule,
    target,
)

ORDERS = {"source": ["test.orders"]}


def simple_stack() -> dict:
    return {
        "Bus": event_bus("orders"),
        "Work": queue(),
        "ToWork": rule("Bus", ORDERS, target("work", arn("Work"))),
    }


@pytest.mark.parametrize("count", [0, 11])
def test_put_events_rejects_a_request_with_no_or_too_many_entries(
    tmp_path: Path, count: int
) -> None:
    with open_bus(tmp_path, simple_stack()) as bus:
        # When PutEvents gets 0 or 11 entries
        with pytest.raises(ClientError) as raised:
            bus.put_events(Entries=[entry({"n": n}, bus="orders") for n in range(count)])

        # Then the whole request fails with a ValidationException, as in AWS
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert bus.trace == []


def test_put_events_rejects_a_request_over_256_kb(tmp_path: Path) -> None:
    with open_bus(tmp_path, simple_stack()) as bus:
        # Given two entries of 140 KB each
        big = {"blob": "x" * 140_000}

        # When they are put together
        with pytest.raises(ClientError) as raised:
            bus.put_events(Entries=[entry(big, bus="orders"), entry(big, bus="orders")])

        # Then the request is over the limit
        error = raised.value.response["Error"]
        assert error["Code"] == "ValidationException"
        assert "over the limit" in error["Message"]


def test_put_events_reports_bad_entries_one_by_one(tmp_path: Path) -> None:
    with open_bus(tmp_path, simple_stack()) as bus:
        # Given one good entry and one of each kind of bad entry
        good = entry({"n": 1}, bus="orders")
        entries = [
            good,
            {"DetailType": "X", "Detail": "{}", "EventBusName": "orders"},
            {"Source": "s", "Detail": "{}", "EventBusName": "orders"},
            {"Source": "s", "DetailType": "X", "EventBusName": "orders"},
            {"Source": "s", "DetailType": "X", "Detail": "{not json", "EventBusName": "orders"},
            {"Source": "s", "DetailType": "X", "Detail": "[1, 2]", "EventBusName": "orders"},
            {"Source": "aws.s3", "DetailType": "X", "Detail": "{}", "EventBusName": "orders"},
            {"Source": "s", "DetailType": "X", "Detail": "{}", "EventBusName": "nope"},
            {"Source": "s", "DetailType": "X", "Detail": "{}"},  # the default bus always exists
        ]

        # When they are put
        response = bus.put_events(Entries=entries)

        # Then each bad entry carries AWS's error code and the good one an event id
        codes = [result.get("ErrorCode") for result in response["Entries"]]
        assert codes == [
            None,
            "InvalidArgument",
            "InvalidArgument",
            "InvalidArgument",
            "MalformedDetail",
            "MalformedDetail",
            "NotAuthorizedForSourceException",
            "ResourceNotFoundException",
            None,
        ]
        assert response["FailedEntryCount"] == 7
        assert response["Entries"][1]["ErrorMessage"] == (
            "Parameter Source is not valid. Reason: Source is a required argument."
        )
        assert response["Entries"][4]["ErrorMessage"] == "Detail is malformed."
        assert bus.trace.event_ids() == [
            response["Entries"][0]["EventId"],
            response["Entries"][-1]["EventId"],
        ]


def test_event_envelope_is_built_as_eventbridge_builds_it(tmp_path: Path) -> None:
    with open_bus(tmp_path, simple_stack()) as bus:
        # Given an entry with a Time and Resources, addressed to the bus by ARN
        bus_arn = bus.index.get("Bus").arn
        put = entry(
            {"orderId": "o-1"},
            bus=bus_arn,
            Time=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
            Resources=["arn:aws:s3:::bucket"],
        )

        # When it is put and delivered to a queue
        response = bus.put_events(Entries=[put])
        bus.run_until_idle()

        # Then the queue holds EventBridge's envelope, keys in EventBridge's order
        [body] = bus.queues["Work"].bodies()
        assert list(body) == [
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        ]
        assert body == {
            "version": "0",
            "id": response["Entries"][0]["EventId"],
            "detail-type": "OrderCreated",
            "source": "test.orders",
            "account": "123456789012",
            "time": "2025-03-04T05:06:07Z",
            "region": "eu-west-1",
            "resources": ["arn:aws:s3:::bucket"],
            "detail": {"orderId": "o-1"},
        }


def test_a_seed_makes_ids_and_times_reproducible(tmp_path: Path) -> None:
    # Given the same stack loaded twice with the same seed
    runs = []
    for attempt in range(2):
        with open_bus(tmp_path / str(attempt), simple_stack(), seed=42) as bus:
            # When the same event is put
            bus.put_events(Entries=[entry({"n": 1}, bus="orders")])
            bus.run_until_idle()
            runs.append([(s["event_id"], s["time"], s.get("message_id")) for s in bus.trace])

    # Then both traces are identical, starting at the seeded epoch
    assert runs[0] == runs[1]
    assert runs[0][0][1] == "2025-01-01T00:00:00.000Z"


def test_unknown_resource_types_are_reported_once_and_known_ones_ignored(tmp_path: Path) -> None:
    # Given a stack with a Kinesis stream (not emulated) and an IAM role (irrelevant to the flow)
    resources = simple_stack()
    resources["Machine"] = {"Type": "AWS::Kinesis::Stream", "Properties": {}}
    resources["Role"] = {"Type": "AWS::IAM::Role", "Properties": {}}

    # When the bus loads it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_bus(tmp_path, resources) as bus:
            unsupported = bus.unsupported
            ignored = bus.ignored

    # Then the stream is listed and warned about once; the role is known-and-ignored
    machine = [line for line in unsupported if "AWS::Kinesis::Stream" in line]
    assert len(machine) == 1
    assert "Machine" in machine[0]
    warned = [w for w in caught if issubclass(w.category, UnsupportedFeatureWarning)]
    assert len([w for w in warned if "Kinesis" in str(w.message)]) == 1
    assert ignored == {"Role": "AWS::IAM::Role"}


def test_a_routing_loop_stops_with_a_clear_error(tmp_path: Path) -> None:
    # Given two buses that forward every event to each other
    resources = {
        "Ping": event_bus("ping"),
        "Pong": event_bus("pong"),
        "PingToPong": rule("Ping", ORDERS, target("pong", arn("Pong"))),
        "PongToPing": rule("Pong", ORDERS, target("ping", arn("Ping"))),
    }
    with open_bus(tmp_path, resources) as bus:
        bus.put_events(Entries=[entry({"n": 1}, bus="ping")])

        # When the bus runs with a step budget
        with pytest.raises(SimulationLimitError) as raised:
            bus.run_until_idle(max_steps=500)

        # Then the error names the limit and hints at a loop
        assert "max_steps=500" in str(raised.value)
        assert "loop" in str(raised.value)


def test_advance_runs_only_what_falls_due(tmp_path: Path) -> None:
    # Given a throttled queue target (the rule retries after 1 s, 2 s, 4 s ...)
    with open_bus(tmp_path, simple_stack()) as bus:
        bus.faults.throttle("Work", times=3)
        bus.put_events(Entries=[entry({"n": 1}, bus="orders")])

        # When only 2 simulated seconds pass
        bus.advance(2)

        # Then two attempts were made and the message is not there yet
        assert len(bus.trace.find("failed", resource="Work")) == 2
        assert len(bus.queues["Work"]) == 0

        # and running to idle delivers it
        bus.run_until_idle()
        assert len(bus.queues["Work"]) == 1
        assert bus.now == datetime(2025, 1, 1, 0, 0, 7, tzinfo=UTC)


def test_trace_steps_have_the_documented_keys(tmp_path: Path) -> None:
    with open_bus(tmp_path, simple_stack()) as bus:
        bus.put_events(Entries=[entry({"n": 1}, bus="orders")])
        bus.run_until_idle()

        # Then every step carries the common keys
        for step in bus.trace:
            assert {
                "seq",
                "time",
                "elapsed",
                "event_id",
                "step",
                "resource",
                "resource_type",
            } <= set(step)
            assert "error" in step
        assert json.dumps(list(bus.trace))  # renderable as JSON

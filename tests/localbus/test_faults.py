"""Fraction faults (localbus.faults): a share of a function's invocations fails, transiently or
permanently, before or after its handler ran; a share of a rule target's deliveries is
throttled. Deterministic given the seed; counted faults keep working beside them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localbus.faults import FractionFault, invocation_keys
from tests.localbus.fixtures.engine.cdk_out import (
    arn,
    dead_lettered_queue_target,
    entry,
    event_bus,
    function,
    invoke_config,
    open_bus,
    queue,
    ref,
    rule,
    sqs_mapping,
    table,
    target,
)

ORDERS = {"source": ["test.orders"]}
EVENTS = 60


def async_stack(handler: str = "echo", **environment: Any) -> dict[str, Any]:
    """A rule -> Lambda (async, 2 retries) with an SQS on-failure destination."""
    return {
        "Bus": event_bus("orders"),
        "Fn": function(handler, **environment),
        "FnConfig": invoke_config("Fn", retries=2, on_failure="Failures"),
        "Failures": queue(),
        "ToFn": rule("Bus", ORDERS, target("fn", arn("Fn"))),
    }


def put_orders(bus, count: int = EVENTS) -> list[str]:
    ids = []
    for start in range(0, count, 10):
        entries = [
            entry({"orderId": f"o-{n}"}, bus="orders") for n in range(start, min(count, start + 10))
        ]
        response = bus.put_events(Entries=entries)
        assert response["FailedEntryCount"] == 0
        ids += [e["EventId"] for e in response["Entries"]]
    return ids


def events_failed_at(bus, resource: str) -> set[str]:
    return {step["event_id"] for step in bus.trace.find("failed", resource=resource)}


def test_the_same_seed_fails_the_same_events_and_another_seed_others(tmp_path: Path) -> None:
    # Given the same stack run three times: twice with seed 11, once with seed 12
    failed: list[set[str]] = []
    for run, seed in enumerate((11, 11, 12)):
        with open_bus(tmp_path / f"run{run}", async_stack()) as bus:
            bus.faults.fail_fraction("Fn", rate=0.3, seed=seed)

            # When the same events go through
            put_orders(bus)
            bus.run_until_idle()
            failed.append(events_failed_at(bus, "Fn"))

    # Then one seed picks the same events every time, another seed other ones, about 30%
    assert failed[0] == failed[1]
    assert failed[0] != failed[2]
    assert all(EVENTS * 0.1 <= len(run) <= EVENTS * 0.5 for run in failed)


def test_decisions_depend_on_the_keys_not_on_the_order_they_come_in() -> None:
    # Given two identical permanent fraction faults
    first = FractionFault("Fn", 0.5, "permanent", 3, "before", 1, "E", "m")
    second = FractionFault("Fn", 0.5, "permanent", 3, "before", 1, "E", "m")
    keys = [f"event-{n}" for n in range(50)]

    # When one sees the events in order and the other in reverse
    chosen = {key for key in keys if first.decide([key])}
    chosen_reversed = {key for key in reversed(keys) if second.decide([key])}

    # Then they choose the same events, about half of them
    assert chosen == chosen_reversed
    assert 10 <= len(chosen) <= 40


def test_transient_failures_are_recovered_by_lambda_retries(tmp_path: Path) -> None:
    # Given a function whose invocations fail transiently 40% of the time
    with open_bus(tmp_path, async_stack()) as bus:
        fault = bus.faults.fail_fraction("Fn", rate=0.4, mode="transient", seed=5)

        # When events reach it
        ids = put_orders(bus)
        bus.run_until_idle()

        # Then some first attempts failed, every event was delivered once in the end, on a
        # retry a minute later for the failed ones, and nothing reached the on-failure queue
        failed = bus.trace.find("failed", resource="Fn")
        assert len(failed) == fault.injected > 0
        assert all(step["error"].startswith("InjectedTransientError: ") for step in failed)
        assert all(step["attempt"] == 1 for step in failed)
        delivered = bus.trace.find("delivered", resource="Fn")
        assert sorted(step["event_id"] for step in delivered) == sorted(ids)
        retried = {s["event_id"] for s in delivered if s["attempt"] == 2}
        assert retried == {step["event_id"] for step in failed}
        assert bus.dead_letters() == {}


def test_transient_faults_fail_an_event_at_most_failures_times(tmp_path: Path) -> None:
    # Given a fault that fails chosen events twice (Lambda retries twice: the third succeeds)
    with open_bus(tmp_path, async_stack()) as bus:
        bus.faults.fail_fraction("Fn", rate=0.5, seed=2, failures=2)

        # When events reach it
        ids = put_orders(bus, 20)
        bus.run_until_idle()

        # Then the chosen events failed exactly twice and succeeded on the third attempt
        per_event: dict[str, int] = {}
        for step in bus.trace.find("failed", resource="Fn"):
            per_event[step["event_id"]] = per_event.get(step["event_id"], 0) + 1
        assert per_event and set(per_event.values()) == {2}
        third = {s["event_id"] for s in bus.trace.find("delivered", resource="Fn", attempt=3)}
        assert third == set(per_event)
        assert len(bus.trace.find("delivered", resource="Fn")) == len(ids)


def test_transient_batch_failures_are_recovered_by_the_queue_redelivery(tmp_path: Path) -> None:
    # Given an SQS consumer (batches of 5, redrive after 2 receives) failing 50% of batches
    resources = {
        "Work": queue(visibility_timeout=30, dlq="Dlq", max_receive_count=2),
        "Dlq": queue(),
        "Consumer": function("batch"),
        "Mapping": sqs_mapping(
            "Work", "Consumer", BatchSize=5, FunctionResponseTypes=["ReportBatchItemFailures"]
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        fault = bus.faults.fail_fraction("Consumer", rate=0.5, seed=4)

        # When 40 messages are sent
        sent = [bus.queues["Work"].send(json.dumps({"n": n})).message_id for n in range(40)]
        bus.run_until_idle()

        # Then whole batches failed, came back after the visibility timeout, and every
        # message was processed: none is left and none reached the DLQ
        failed = bus.trace.find("failed", resource="Consumer")
        assert fault.injected > 0 and len(failed) == 5 * fault.injected
        assert max(fault.failed_keys.values()) == 1
        delivered = {s["message_id"] for s in bus.trace.find("delivered", resource="Consumer")}
        assert delivered == set(sent)
        assert len(bus.queues["Work"]) == 0
        assert bus.dead_letters() == {}


def test_permanent_failures_reach_the_on_failure_queue_with_the_reason(tmp_path: Path) -> None:
    # Given a function that permanently fails 25% of the events, chosen by seed
    with open_bus(tmp_path, async_stack()) as bus:
        bus.faults.fail_fraction("Fn", rate=0.25, mode="permanent", seed=9)

        # When events reach it
        ids = put_orders(bus)
        bus.run_until_idle()

        # Then the chosen events failed on all 3 attempts and sit in the on-failure queue with
        # the injected error as the reason; the others were delivered
        records = bus.queues["Failures"].bodies()
        dead = {record["requestPayload"]["id"] for record in records}
        assert dead and dead == events_failed_at(bus, "Fn")
        for record in records:
            assert record["requestContext"]["approximateInvokeCount"] == 3
            assert record["responsePayload"]["errorType"] == "InjectedPermanentError"
            assert record["requestPayload"]["id"] in record["responsePayload"]["errorMessage"]
            assert "always fails" in record["responsePayload"]["errorMessage"]
        delivered = {s["event_id"] for s in bus.trace.find("delivered", resource="Fn")}
        assert delivered == set(ids) - dead


def test_permanent_failures_of_queue_records_are_redriven_to_the_dlq(tmp_path: Path) -> None:
    # Given an SQS consumer taking one message at a time that permanently fails 20% of them
    resources = {
        "Work": queue(visibility_timeout=30, dlq="Dlq", max_receive_count=3),
        "Dlq": queue(),
        "Consumer": function("batch"),
        "Mapping": sqs_mapping("Work", "Consumer", BatchSize=1),
    }
    with open_bus(tmp_path, resources) as bus:
        fault = bus.faults.fail_fraction("Consumer", rate=0.2, mode="permanent", seed=1)

        # When 30 messages are sent
        for n in range(30):
            bus.queues["Work"].send(json.dumps({"n": n}))
        bus.run_until_idle()

        # Then exactly the chosen messages are in the DLQ, each received 3 times, and the
        # trace says why each attempt failed
        dlq_ids = {message["MessageId"] for message in bus.dead_letters()["Dlq"]}
        assert dlq_ids == set(fault.failed_keys)
        assert all(count == 3 for count in fault.failed_keys.values())
        for step in bus.trace.find("failed", resource="Consumer"):
            assert step["error"].startswith("InjectedPermanentError: Injected permanent failure")
            assert step["message_id"] in step["error"]
        assert len(bus.queues["Work"]) == 0


def test_failures_after_the_handler_keep_its_side_effects(tmp_path: Path) -> None:
    # Given a function writing one item per event and bumping a counter, failing transiently
    # half of the time after its handler ran
    resources = {
        **async_stack("writer", TABLE_NAME=ref("Table")),
        "Table": table(),
    }
    with open_bus(tmp_path, resources) as bus:
        bus.seed_table("Table", [{"pk": "COUNTER", "hits": 0}])
        fault = bus.faults.fail_fraction("Fn", rate=0.5, seed=8, when="after")

        # When events reach it
        ids = put_orders(bus, 20)
        bus.run_until_idle()

        # Then the failed invocations had written too: the counter saw every invocation (the
        # writer is not idempotent), while each event has one item and was delivered once
        items = {item["pk"]: item for item in bus.table_items("Table")}
        assert fault.injected == fault.injected_after > 0
        assert items["COUNTER"]["hits"] == len(ids) + fault.injected
        assert {pk for pk in items if pk.startswith("EVENT#")} == {f"EVENT#{i}" for i in ids}
        failed = bus.trace.find("failed", resource="Fn")
        assert all("injected after the handler ran" in step["error"] for step in failed)


def test_either_mixes_failures_before_and_after_the_handler(tmp_path: Path) -> None:
    # Given a fault failing every first attempt, before or after the handler as the seed says
    with open_bus(tmp_path, async_stack()) as bus:
        fault = bus.faults.fail_fraction("Fn", rate=1.0, seed=3, when="either")

        # When events reach it
        put_orders(bus, 30)
        bus.run_until_idle()

        # Then both kinds happened, and every event still got through on its retry
        assert fault.injected == 30
        assert 0 < fault.injected_after < 30
        assert len(bus.trace.find("delivered", resource="Fn", attempt=2)) == 30


def test_throttle_fraction_makes_the_rule_retry_then_deliver(tmp_path: Path) -> None:
    # Given a queue target (rule retry policy: 2 retries, DLQ) throttled for 40% of the events
    with open_bus(tmp_path, dead_lettered_queue_target(ORDERS)) as bus:
        fault = bus.faults.throttle_fraction("Work", rate=0.4, seed=6)

        # When events are put
        ids = put_orders(bus, 30)
        bus.run_until_idle()

        # Then the throttled events failed once with ThrottlingException, were retried by the
        # rule a second later, and every event reached the queue exactly once
        failed = bus.trace.find("failed", resource="Work")
        assert len(failed) == fault.injected > 0
        assert {s["error"] for s in failed} == {"ThrottlingException: Rate exceeded"}
        retried = bus.trace.find("retried", resource="Work")
        assert [(s["event_id"], s["attempt"]) for s in retried] == [
            (s["event_id"], 2) for s in failed
        ]
        assert all(r["elapsed"] - f["elapsed"] == 1.0 for f, r in zip(failed, retried, strict=True))
        assert sorted(json.loads(body)["id"] for body in _bodies(bus, "Work")) == sorted(ids)
        assert bus.dead_letters() == {}


def test_throttles_beyond_the_retry_policy_reach_the_rule_dlq(tmp_path: Path) -> None:
    # Given a target retried at most twice, throttled 3 times for every chosen event
    with open_bus(tmp_path, dead_lettered_queue_target(ORDERS)) as bus:
        fault = bus.faults.throttle_fraction("Work", rate=0.3, seed=6, attempts=3)

        # When events are put
        put_orders(bus, 30)
        bus.run_until_idle()

        # Then the chosen events are in the rule's DLQ with EventBridge's error attributes
        dead = bus.dead_letters()["RuleDlq"]
        assert len(dead) == fault.injected / 3 > 0
        for message in dead:
            attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
            assert attributes["ERROR_CODE"] == "ThrottlingException"
            assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
        assert len(bus.queues["Work"]) == 30 - len(dead)


def test_throttle_fraction_leaves_lambda_destinations_alone(tmp_path: Path) -> None:
    # Given a function that always fails and an on-failure queue throttled for every event
    with open_bus(tmp_path, async_stack("flaky", FAIL_TIMES="always")) as bus:
        bus.faults.throttle_fraction("Failures", rate=1.0)

        # When an event reaches the function and its retries run out
        put_orders(bus, 1)
        bus.run_until_idle()

        # Then Lambda's destination delivery is not a rule target: it is not throttled
        assert len(bus.queues["Failures"]) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"rate": 1.5}, "rate must be between 0 and 1"),
        ({"rate": 0.1, "mode": "sometimes"}, "mode must be one of"),
        ({"rate": 0.1, "when": "during"}, "when must be one of"),
        ({"rate": 0.1, "failures": 0}, "failures must be at least 1"),
    ],
)
def test_bad_fraction_fault_arguments_are_refused(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    # Given a bus with a function
    # When a fault is armed with a bad argument, then it is refused with the reason
    with open_bus(tmp_path, async_stack()) as bus, pytest.raises(ValueError, match=message):
        bus.faults.fail_fraction("Fn", **arguments)


def test_invocation_keys_name_events_and_records() -> None:
    # Given the payload shapes Lambda functions receive, when their keys are read,
    # then an event is its id and a batch is its records' message ids
    event = {"id": "e-1", "detail-type": "OrderCreated", "detail": {}}
    assert invocation_keys(event) == ["e-1"]
    assert invocation_keys({"Records": [{"messageId": "m-1"}, {"messageId": "m-2"}]}) == [
        "m-1",
        "m-2",
    ]
    assert invocation_keys([{"messageId": "m-3"}]) == ["m-3"]
    assert invocation_keys({"anything": 1}, ("cause-1",)) == ["cause-1"]
    assert invocation_keys({"a": 1}) == invocation_keys({"a": 1}) != invocation_keys({"a": 2})


def _bodies(bus, queue_id: str) -> list[str]:
    return [message["Body"] for message in bus.queues[queue_id].messages()]

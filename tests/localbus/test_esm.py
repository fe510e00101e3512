"""Lambda event source mappings from SQS: batches, partial batch responses, redrive."""

from __future__ import annotations

import json
from pathlib import Path

from tests.localbus.fixtures.engine.cdk_out import function, open_bus, queue, sqs_mapping


def stack(mode: str = "report", **mapping: object) -> dict:
    return {
        "Work": queue(visibility_timeout=30, dlq="Dlq", max_receive_count=2),
        "Dlq": queue(),
        "Consumer": function("batch", MODE=mode),
        "Mapping": sqs_mapping(
            "Work",
            "Consumer",
            FunctionResponseTypes=["ReportBatchItemFailures"],
            **mapping,
        ),
    }


def send_all(bus, bodies: list[dict]) -> list[str]:
    return [bus.queues["Work"].send(json.dumps(body)).message_id for body in bodies]


def test_partial_batch_failure_returns_only_the_failed_message(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        # Given three messages, the second of which the handler reports as failed
        ok1, bad, ok2 = send_all(bus, [{"n": 1}, {"n": 2, "fail": True}, {"n": 3}])

        # When the mapping polls once
        bus.advance(0)

        # Then one invocation saw all three; only the failed one is still on the queue
        delivered = bus.trace.find("delivered", resource="Consumer")
        assert {s["message_id"] for s in delivered} == {ok1, ok2}
        assert {s["batch_size"] for s in delivered} == {3}
        assert [m["MessageId"] for m in bus.queues["Work"].messages()] == [bad]

        # and after it fails maxReceiveCount (2) times, the queue's redrive moves it to the DLQ
        bus.run_until_idle()
        failures = bus.trace.find("failed", resource="Consumer", message_id=bad)
        assert [s["elapsed"] for s in failures] == [0.0, 30.0]
        assert [m["MessageId"] for m in bus.dead_letters()["Dlq"]] == [bad]
        assert len(bus.queues["Work"]) == 0


def test_handler_error_fails_the_whole_batch(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(mode="raise")) as bus:
        # Given a batch with one bad record and a handler that raises for it
        send_all(bus, [{"n": 1}, {"n": 2, "fail": True}])

        # When the mapping polls once
        bus.advance(0)

        # Then both messages stay on the queue, invisible until the visibility timeout
        failed = bus.trace.find("failed", resource="Consumer")
        assert len(failed) == 2
        assert failed[0]["error"] == "ValueError: 1 bad record(s)"
        assert [m["Visible"] for m in bus.queues["Work"].messages()] == [False, False]

        # and both end in the DLQ after two receives
        bus.run_until_idle()
        assert len(bus.dead_letters()["Dlq"]) == 2


def test_invalid_batch_item_failures_response_fails_the_whole_batch(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(mode="invalid")) as bus:
        # Given a handler that reports an id that is not in the batch
        send_all(bus, [{"n": 1}, {"n": 2, "fail": True}])

        # When the mapping polls once
        bus.advance(0)

        # Then Lambda treats the whole batch as failed
        failed = bus.trace.find("failed", resource="Consumer")
        assert len(failed) == 2
        assert all(s["error"].startswith("InvalidBatchItemFailures") for s in failed)
        assert len(bus.queues["Work"]) == 2


def test_batch_size_splits_messages_into_invocations(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(BatchSize=2)) as bus:
        # Given five messages and a batch size of 2
        send_all(bus, [{"n": n} for n in range(5)])

        # When the bus runs
        bus.run_until_idle()

        # Then three invocations (2 + 2 + 1) processed them all
        delivered = bus.trace.find("delivered", resource="Consumer")
        by_request: dict[str, int] = {}
        for step in delivered:
            by_request[step["request_id"]] = by_request.get(step["request_id"], 0) + 1
        assert sorted(by_request.values()) == [1, 2, 2]
        assert len(bus.queues["Work"]) == 0


def test_batching_window_waits_for_more_records(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(BatchSize=10, MaximumBatchingWindowInSeconds=20)) as bus:
        # Given one message now and another 5 s later
        send_all(bus, [{"n": 1}])
        bus.advance(5)
        send_all(bus, [{"n": 2}])

        # When the bus runs
        bus.run_until_idle()

        # Then both went in one invocation when the 20 s window closed
        delivered = bus.trace.find("delivered", resource="Consumer")
        assert [s["elapsed"] for s in delivered] == [20.0, 20.0]
        assert len({s["request_id"] for s in delivered}) == 1


def test_filter_criteria_delete_records_that_do_not_match(tmp_path: Path) -> None:
    pattern = json.dumps({"body": {"n": [{"numeric": [">", 1]}]}})
    with open_bus(tmp_path, stack(FilterCriteria={"Filters": [{"Pattern": pattern}]})) as bus:
        # Given a mapping that only takes records whose JSON body has n > 1
        small, large = send_all(bus, [{"n": 1}, {"n": 2}])

        # When the bus runs
        bus.run_until_idle()

        # Then the small one is filtered out (and deleted) and the large one delivered
        [filtered] = bus.trace.find("filtered-out")
        assert filtered["message_id"] == small
        assert [s["message_id"] for s in bus.trace.find("delivered", resource="Consumer")] == [
            large
        ]
        assert len(bus.queues["Work"]) == 0


def test_lambda_receives_the_sqs_event_shape(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        # Given one message
        [message_id] = send_all(bus, [{"n": 1}])

        # When it is delivered
        bus.run_until_idle()

        # Then the function got a Records list of SQS records
        [step] = bus.trace.find("delivered", resource="Consumer")
        record = step["input"]
        assert record["messageId"] == message_id
        assert record["eventSource"] == "aws:sqs"
        assert json.loads(record["body"]) == {"n": 1}
        assert step["via"] == "Mapping"

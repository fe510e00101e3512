"""SQS queues on the simulated clock: visibility, receive counts, redrive, delay, retention."""

from __future__ import annotations

from pathlib import Path

from tests.localbus.fixtures.engine.cdk_out import open_bus, queue


def stack(**work: object) -> dict:
    return {"Work": queue(dlq="Dlq", max_receive_count=2, **work), "Dlq": queue()}  # type: ignore[arg-type]


def test_received_message_is_invisible_until_its_visibility_timeout(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(visibility_timeout=30)) as bus:
        work = bus.queues["Work"]
        # Given a message that was received once
        work.send("hello")
        [first] = work.receive(10)

        # When 29 s pass, then 1 s more
        bus.advance(29)
        hidden = work.receive(10)
        bus.advance(1)
        [again] = work.receive(10)

        # Then it is hidden until the timeout ends, and comes back with a new receipt handle
        assert hidden == []
        assert again.message_id == first.message_id
        assert again.receive_count == 2
        assert work.messages()[0]["ApproximateReceiveCount"] == 2


def test_message_received_max_receive_count_times_moves_to_the_dlq(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(visibility_timeout=10)) as bus:
        work, dlq = bus.queues["Work"], bus.queues["Dlq"]
        # Given a message received twice (maxReceiveCount 2) and never deleted
        message = work.send('{"n": 1}')
        work.receive(1)
        bus.advance(10)
        work.receive(1)
        bus.advance(10)

        # When it is received a third time
        received = work.receive(1)

        # Then it is moved to the DLQ instead, same id and body
        assert received == []
        assert len(work) == 0
        [moved] = dlq.messages()
        assert moved["MessageId"] == message.message_id
        assert moved["Body"] == '{"n": 1}'
        assert bus.dead_letters() == {"Dlq": dlq.messages()}
        [step] = bus.trace.find("dead-lettered")
        assert (step["resource"], step["destination"], step["receive_count"]) == ("Work", "Dlq", 2)


def test_deleted_message_does_not_come_back(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(visibility_timeout=5)) as bus:
        work = bus.queues["Work"]
        # Given a received message
        work.send("done")
        [message] = work.receive(1)

        # When it is deleted by its receipt handle and time passes
        work.delete_message(message.receipt_handle)
        bus.advance(60)

        # Then the queue is empty
        assert work.receive(10) == []
        assert len(work) == 0


def test_delay_seconds_hides_a_new_message(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        work = bus.queues["Work"]
        # Given a message sent with a 15 s delay
        work.send("later", delay_seconds=15)

        # When it is received before and after the delay
        early = work.receive(1)
        bus.advance(15)
        late = work.receive(1)

        # Then it shows up only after the delay
        assert early == []
        assert [m.body for m in late] == ["later"]


def test_expired_messages_are_dropped_after_the_retention_period(tmp_path: Path) -> None:
    resources = {"Short": queue()}
    resources["Short"]["Properties"]["MessageRetentionPeriod"] = 60
    with open_bus(tmp_path, resources) as bus:
        short = bus.queues["Short"]
        # Given a message on a queue that keeps messages for 60 s
        short.send("stale")

        # When 60 s pass
        bus.advance(60)

        # Then it is gone, and the trace says why
        assert short.messages() == []
        [dropped] = bus.trace.find("dropped", resource="Short")
        assert dropped["reason"] == "MessageRetentionPeriod expired"


def test_message_attributes_and_lambda_record_shape(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        work = bus.queues["Work"]
        # Given a message with a string attribute
        work.send("body", message_attributes={"kind": {"DataType": "String", "StringValue": "a"}})

        # When it is received and turned into the record Lambda gets
        [message] = work.receive(1)
        record = work.to_lambda_record(message)

        # Then the record has Lambda's SQS event shape
        assert record["messageId"] == message.message_id
        assert record["receiptHandle"] == message.receipt_handle
        assert record["body"] == "body"
        assert record["md5OfBody"] == "841a2d689ad86bd1611447453c22c6fc"
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == bus.index.get("Work").arn
        assert record["awsRegion"] == "eu-west-1"
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert set(record["attributes"]) == {
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
        }
        assert record["messageAttributes"] == {
            "kind": {
                "stringValue": "a",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        }


def test_queue_is_found_by_name_arn_or_url(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        ref = bus.index.get("Work")
        url = f"https://sqs.eu-west-1.amazonaws.com/123456789012/{ref.name}"
        for name in ("Work", ref.name, ref.arn, url):
            assert bus.queue(name) is bus.queues["Work"]

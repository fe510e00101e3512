"""`ordersctl redrive DLQ`: each dead letter back where it failed, with its original event and id;
nothing deleted before its resend succeeded; one report line per message. On localbus (the real
template and handlers) and on AWS (a moto server)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app
from ordersctl.redrive import Letter, LocalBackend, redrive
from ordersctl.targets.local import LocalTarget

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def output_ref(bus: Any, name: str) -> str:
    return bus.template["Outputs"][name]["Value"]["Ref"]


@pytest.fixture
def local(cloud_assembly_dir: Path) -> Iterator[LocalTarget]:
    with LocalTarget.open(cloud_assembly_dir, seed_inventory=EVENTS / "inventory-seed.json") as t:
        yield t


def put(target: LocalTarget, name: str) -> list[str]:
    response = target.put_events(json.loads((EVENTS / name).read_text()))
    assert response["FailedEntryCount"] == 0
    return [entry["EventId"] for entry in response["Entries"]]


def test_inventory_failures_are_reinvoked_with_the_original_event_and_deleted(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given an order whose inventory invocations all failed into the on-failure queue (the
    # fault is cleared before the redrive: the fix is deployed)
    result = runner.invoke(
        app,
        [
            "redrive",
            "InventoryFailureQueueUrl",
            "--local",
            "--events",
            str(EVENTS / "order-created.json"),
            "--fail-function",
            "inventory",
            "--cdk-out",
            str(cloud_assembly_dir),
            "--json",
        ],
    )

    # When it is redriven, Then the event goes back to the function with its id and the DLQ
    # is empty once it ran
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    [message] = report["messages"]
    assert message["action"] == "resent"
    assert message["detail_type"] == "OrderCreated"
    assert message["sent_to"].startswith("function arn:aws:lambda:")
    assert (report["dlq_before"], report["dlq_after"]) == (1, 0)


def test_a_resent_event_keeps_its_id_and_is_applied_once(local: LocalTarget) -> None:
    # Given an order whose create failed past Lambda's retries
    bus = local.bus
    inventory = bus.index.find(output_ref(bus, "InventoryFunctionName")).logical_id
    bus.faults.fail_function(inventory, times=3)
    [event_id] = put(local, "order-created.json")
    bus.run_until_idle()
    table = output_ref(bus, "InventoryTableName")
    assert not [r for r in bus.table_items(table) if r["pk"].startswith("ORDER#")]

    # When the on-failure queue is redriven and everything due runs
    [outcome] = redrive(LocalBackend(bus, "InventoryFailureQueueUrl"))
    bus.run_until_idle()

    # Then the function ran the same event id again, the order is reserved once, the
    # announcement descends from the original event, and the DLQ is empty
    assert (outcome.action, outcome.event_id) == ("resent", event_id)
    runs = bus.trace.find("delivered", resource=inventory, event_id=event_id)
    assert len(runs) == 1
    [reserved] = [r for r in bus.table_items(table) if r["pk"].startswith("ORDER#")]
    assert reserved["status"] == "reserved"
    assert len(bus.queue(output_ref(bus, "InventoryFailureQueueUrl"))) == 0


def test_an_audit_dlq_message_goes_back_to_its_source_queue(local: LocalTarget) -> None:
    # Given an event the audit function failed maxReceiveCount times
    bus = local.bus
    audit = bus.index.find(output_ref(bus, "AuditFunctionName")).logical_id
    bus.faults.fail_function(audit, times=3)
    [event_id] = put(local, "order-cancelled.json")
    bus.run_until_idle()
    dlq = bus.queue(output_ref(bus, "AuditDlqUrl"))
    assert len(dlq) >= 1

    # When the audit DLQ is redriven
    outcomes = redrive(LocalBackend(bus, "AuditDlqUrl"))
    bus.run_until_idle()

    # Then each message went to the audit queue and the order history now has the event
    assert {o.action for o in outcomes} == {"resent"}
    assert {o.sent_to for o in outcomes} == {
        f"queue {bus.queue(output_ref(bus, 'AuditQueueUrl')).ref.arn}"
    }
    history = bus.table_items(output_ref(bus, "OrderHistoryTableName"))
    assert event_id in {row["eventId"] for row in history}
    assert len(dlq) == 0


def test_a_rule_dlq_message_goes_to_that_target_only_through_its_transformer(
    local: LocalTarget,
) -> None:
    # Given the customer topic refusing the notify-customer rule's deliveries (not retryable)
    bus = local.bus
    topic = output_ref(bus, "CustomerNotificationsTopicArn")
    bus.faults.fail_delivery(topic, times=1)
    [event_id] = put(local, "order-cancelled.json")
    bus.run_until_idle()
    inventory = bus.index.find(output_ref(bus, "InventoryFunctionName")).logical_id
    before = len(bus.trace.find("delivered", resource=inventory))

    # When the rule's DLQ is redriven
    [outcome] = redrive(LocalBackend(bus, "NotifyCustomerRuleDlqUrl"))
    bus.run_until_idle()

    # Then the topic got the readable text the input transformer makes, for the same event,
    # and no other target saw the event again (it was not put back on the bus)
    assert (outcome.action, outcome.event_id) == ("resent", event_id)
    [delivered] = bus.trace.find("delivered", resource=topic, event_id=event_id)
    assert json.loads(delivered["input"]).startswith(
        "Order ORD-20261127-A1B2C3: OrderCancelled at "
    )
    assert len(bus.trace.find("delivered", resource=inventory)) == before
    assert len(bus.trace.find("received", event_id=event_id)) == 1


class FakeBackend:
    """A DLQ in memory whose resends can be made to fail."""

    dlq_label = "fake-dlq"

    def __init__(self, letters: list[Letter], fail: bool = False) -> None:
        self.letters = list(letters)
        self.deleted: list[str] = []
        self.released: list[str] = []
        self.sent: list[tuple[str, str]] = []
        self._fail = fail
        self._given = False

    def receive(self, count: int) -> list[Letter]:
        if self._given:
            return []
        self._given = True
        return self.letters[:count]

    def delete(self, letter: Letter) -> None:
        self.deleted.append(letter.message_id)

    def release(self, letter: Letter) -> None:
        self.released.append(letter.message_id)

    def source_queues(self) -> list[str]:
        return []

    def invoke_async(self, function_arn: str, payload: Any, event_id: str | None) -> None:
        if self._fail:
            raise RuntimeError("TooManyRequestsException: Rate exceeded")
        self.sent.append((function_arn, json.dumps(payload)))

    def send_to_queue(self, queue: str, body: str, attributes: Any, event_id: str | None) -> None:
        raise AssertionError("not expected")

    def publish(self, topic_arn: str, message: str, event_id: str | None) -> None:
        raise AssertionError("not expected")

    def rule_target(self, rule_arn: str, target_arn: str) -> None:
        return None


def lambda_record(event_id: str) -> str:
    return json.dumps(
        {
            "requestContext": {"functionArn": "arn:aws:lambda:eu-west-1:1:function:inv:$LATEST"},
            "requestPayload": {"id": event_id, "detail-type": "OrderCreated", "detail": {}},
            "responsePayload": {"errorType": "X", "errorMessage": "y"},
        }
    )


def test_nothing_is_deleted_when_the_resend_fails_and_unknown_messages_stay_with_a_reason() -> None:
    # Given a Lambda record whose function refuses the resend, and a message nobody can place
    letters = [
        Letter("m-1", "h-1", lambda_record("evt-1"), {}),
        Letter("m-2", "h-2", "hello", {}),
    ]
    backend = FakeBackend(letters, fail=True)

    # When the DLQ is redriven
    outcomes = redrive(backend)

    # Then neither is deleted, both are made visible again, and each says why it stayed
    assert backend.deleted == []
    assert backend.released == ["m-1", "m-2"]
    assert [(o.action, o.event_id) for o in outcomes] == [("left", "evt-1"), ("left", None)]
    assert outcomes[0].reason.startswith("resend failed: TooManyRequestsException")
    assert "cannot tell where this message failed" in outcomes[1].reason


def test_dry_run_sends_and_deletes_nothing() -> None:
    backend = FakeBackend([Letter("m-1", "h-1", lambda_record("evt-1"), {})])
    [outcome] = redrive(backend, dry_run=True)
    assert (outcome.action, outcome.sent_to) == (
        "would-resend",
        "function arn:aws:lambda:eu-west-1:1:function:inv",
    )
    assert backend.sent == [] and backend.deleted == []


def test_on_aws_a_work_queue_dlq_goes_back_to_its_source_queue(
    runner: CliRunner, moto_endpoint: str, aws: dict[str, Any]
) -> None:
    # Given a source queue redriving to a DLQ that holds one message with an attribute
    sqs = aws["sqs"]
    suffix = uuid.uuid4().hex[:8]
    dlq_url = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    source_url = sqs.create_queue(
        QueueName=f"work-{suffix}",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
        },
    )["QueueUrl"]
    body = json.dumps({"id": "evt-aws-1", "detail-type": "OrderCreated", "detail": {}})
    sqs.send_message(
        QueueUrl=dlq_url,
        MessageBody=body,
        MessageAttributes={"trace": {"DataType": "String", "StringValue": "t-1"}},
    )

    # When the DLQ is redriven by URL
    result = runner.invoke(
        app,
        ["redrive", dlq_url, "--endpoint-url", moto_endpoint, "--region", "eu-west-1", "--json"],
    )

    # Then the body and attributes are back on the source queue, the DLQ is empty, and the
    # report names the message, the event id and where it went
    assert result.exit_code == 0, result.output
    [message] = json.loads(result.stdout)["messages"]
    assert (message["action"], message["event_id"]) == ("resent", "evt-aws-1")
    back = sqs.receive_message(QueueUrl=source_url, MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in back] == [body]
    assert back[0]["MessageAttributes"]["trace"]["StringValue"] == "t-1"
    assert sqs.receive_message(QueueUrl=dlq_url).get("Messages", []) == []

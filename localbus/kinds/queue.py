"""SQS queues on the simulated clock.

Emulated: DelaySeconds, VisibilityTimeout (a received message is invisible until it runs out,
then visible again unless deleted), ApproximateReceiveCount, RedrivePolicy (a message received
maxReceiveCount times is moved to the dead-letter queue on the next receive, keeping its id,
body and attributes), MessageRetentionPeriod (expired messages are dropped, checked when the
queue is read), message attributes, FIFO queues accepted (group ids kept; ordering and
deduplication not emulated). Consumers (event source mappings, pipes) are woken when messages
become visible and poll with their batch size and batching window.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from localbus.engine import Kind
from localbus.resources import QUEUE, Cause, ResourceRef

if TYPE_CHECKING:
    from localbus.delivery import Delivery
    from localbus.engine import Engine

DEFAULT_VISIBILITY_TIMEOUT_S = 30
DEFAULT_RETENTION_S = 345_600  # 4 days
SENDER_ID = "AIDAIENQZJOLO23YVJ4VO"  # the shape of an IAM id; the value is made up


@dataclass
class Message:
    message_id: str
    body: str
    message_attributes: dict[str, dict[str, Any]]
    sent_at: float
    cause: Cause
    visible_at: float
    group_id: str | None = None
    receive_count: int = 0
    first_received_at: float | None = None
    receipt_handle: str | None = None
    md5_of_body: str = field(init=False)

    def __post_init__(self) -> None:
        self.md5_of_body = hashlib.md5(self.body.encode()).hexdigest()


class Queue:
    """One AWS::SQS::Queue."""

    def __init__(self, bus: Engine, ref: ResourceRef, props: dict[str, Any]) -> None:
        self._bus = bus
        self.ref = ref
        self.visibility_timeout_s = float(
            props.get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT_S)
        )
        self.retention_s = float(props.get("MessageRetentionPeriod", DEFAULT_RETENTION_S))
        self.delay_s = float(props.get("DelaySeconds", 0))
        self.fifo = str(props.get("FifoQueue", "false")).lower() == "true"
        redrive = props.get("RedrivePolicy") or {}
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        self.dead_letter_arn: str | None = redrive.get("deadLetterTargetArn")
        self.max_receive_count = int(redrive.get("maxReceiveCount", 0)) or None
        self._messages: list[Message] = []  # in send order
        self._by_handle: dict[str, Message] = {}
        self.consumers: list[QueueConsumer] = []
        self._wakes: set[float] = set()

    @property
    def logical_id(self) -> str:
        return self.ref.logical_id

    @property
    def arn(self) -> str:
        return self.ref.arn

    # -- producer side -------------------------------------------------------------------

    def send(
        self,
        body: str,
        *,
        message_attributes: dict[str, dict[str, Any]] | None = None,
        delay_seconds: float | None = None,
        cause: Cause = (),
        group_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Message:
        """SendMessage. Records a "delivered" step on this queue for each causing event."""
        bus = self._bus
        now = bus.clock.now
        delay = self.delay_s if delay_seconds is None else float(delay_seconds)
        message = Message(
            message_id=bus.ids.uuid(),
            body=body,
            message_attributes=dict(message_attributes or {}),
            sent_at=now,
            cause=tuple(cause),
            visible_at=now + delay,
            group_id=group_id,
        )
        self._messages.append(message)
        # The step shows the message as delivered (the body, and the FIFO group id).
        if group_id is not None:
            extra = {**(extra or {}), "message_group_id": group_id}
        bus.record(
            "delivered",
            message.cause,
            self.ref,
            message_id=message.message_id,
            **{"input": body, **(extra or {})},
        )
        self._wake_at(message.visible_at)
        return message

    def accept(self, delivery: Delivery) -> list[str]:
        """As a target (rule, pipe, destination, subscription): SendMessage."""
        self.send(
            delivery.payload,
            message_attributes=delivery.message_attributes,
            cause=delivery.cause,
            group_id=delivery.group_id,
            extra=delivery.extra,
        )
        return []

    def _accept_moved(self, message: Message) -> None:
        """A message redriven here from a source queue (same id, body and attributes)."""
        message.receive_count = 0
        message.first_received_at = None
        message.receipt_handle = None
        message.visible_at = self._bus.clock.now
        self._messages.append(message)
        self._wake_at(message.visible_at)

    # -- consumer side -------------------------------------------------------------------

    def receive(
        self, max_messages: int = 1, *, visibility_timeout: float | None = None
    ) -> list[Message]:
        """ReceiveMessage: visible messages, oldest first, made invisible for the timeout.
        A message already received maxReceiveCount times goes to the DLQ instead."""
        bus = self._bus
        now = bus.clock.now
        self._expire()
        timeout = self.visibility_timeout_s if visibility_timeout is None else visibility_timeout
        received: list[Message] = []
        for message in list(self._messages):
            if len(received) >= max_messages:
                break
            if message.visible_at > now:
                continue
            if self.max_receive_count and message.receive_count >= self.max_receive_count:
                self._redrive(message)
                continue
            message.receive_count += 1
            if message.first_received_at is None:
                message.first_received_at = now
            if message.receipt_handle:
                self._by_handle.pop(message.receipt_handle, None)
            message.receipt_handle = bus.ids.receipt_handle()
            self._by_handle[message.receipt_handle] = message
            message.visible_at = now + timeout
            self._wake_at(message.visible_at)
            received.append(message)
        return received

    def delete(self, message: Message) -> None:
        """DeleteMessage for a received message (a no-op if it is already gone)."""
        if message in self._messages:
            self._messages.remove(message)
        if message.receipt_handle:
            self._by_handle.pop(message.receipt_handle, None)

    def delete_message(self, receipt_handle: str) -> None:
        message = self._by_handle.get(receipt_handle)
        if message is not None:
            self.delete(message)

    def change_visibility(self, message: Message, timeout_s: float) -> None:
        message.visible_at = self._bus.clock.now + timeout_s
        self._wake_at(message.visible_at)

    def visible_count(self) -> int:
        now = self._bus.clock.now
        return sum(1 for message in self._messages if message.visible_at <= now)

    def _redrive(self, message: Message) -> None:
        bus = self._bus
        self._messages.remove(message)
        if message.receipt_handle:
            self._by_handle.pop(message.receipt_handle, None)
        dlq_ref = bus.index.find(self.dead_letter_arn, QUEUE)
        if dlq_ref is None:
            bus.record(
                "dropped",
                message.cause,
                self.ref,
                message_id=message.message_id,
                error=f"ResourceNotFoundException: DLQ {self.dead_letter_arn} not in the template",
            )
            return
        bus.record(
            "dead-lettered",
            message.cause,
            self.ref,
            message_id=message.message_id,
            destination=dlq_ref.logical_id,
            receive_count=message.receive_count,
        )
        bus.resources[dlq_ref.logical_id]._accept_moved(message)
        bus.record(
            "delivered",
            message.cause,
            dlq_ref,
            message_id=message.message_id,
            via=self.logical_id,
            input=message.body,
            **({"message_group_id": message.group_id} if message.group_id else {}),
        )

    def _expire(self) -> None:
        now = self._bus.clock.now
        for message in [m for m in self._messages if now - m.sent_at >= self.retention_s]:
            self._messages.remove(message)
            self._bus.record(
                "dropped",
                message.cause,
                self.ref,
                message_id=message.message_id,
                reason="MessageRetentionPeriod expired",
            )

    def _wake_at(self, when: float) -> None:
        if not self.consumers or when in self._wakes:
            return
        self._wakes.add(when)

        def wake() -> None:
            self._wakes.discard(when)
            for consumer in self.consumers:
                consumer.on_available()

        self._bus.clock.schedule_at(when, wake, f"queue {self.ref.name}")

    # -- inspection ----------------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        """Every message still on the queue (visible or in flight), oldest first."""
        self._expire()
        now = self._bus.clock.now
        return [
            {
                "MessageId": message.message_id,
                "Body": message.body,
                "MessageAttributes": message.message_attributes,
                "ApproximateReceiveCount": message.receive_count,
                "SentTimestamp": self._bus.clock.millis(message.sent_at),
                "Visible": message.visible_at <= now,
                "CausedBy": list(message.cause),
                **({"MessageGroupId": message.group_id} if message.group_id else {}),
            }
            for message in self._messages
        ]

    def bodies(self) -> list[Any]:
        """Message bodies, JSON-decoded where they are JSON."""
        out = []
        for message in self._messages:
            try:
                out.append(json.loads(message.body))
            except ValueError:
                out.append(message.body)
        return out

    def __len__(self) -> int:
        return len(self._messages)

    def to_lambda_record(self, message: Message) -> dict[str, Any]:
        """The SQS record Lambda event source mappings and pipes deliver."""
        clock = self._bus.clock
        attributes = {
            "ApproximateReceiveCount": str(message.receive_count),
            "SentTimestamp": str(clock.millis(message.sent_at)),
            "SenderId": SENDER_ID,
            "ApproximateFirstReceiveTimestamp": str(
                clock.millis(message.first_received_at or clock.now)
            ),
        }
        if self.fifo:
            attributes["MessageGroupId"] = message.group_id or ""
            attributes["SequenceNumber"] = str(self._messages.index(message) + 1).rjust(20, "0")
        return {
            "messageId": message.message_id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": attributes,
            "messageAttributes": {
                name: _lambda_attribute(value) for name, value in message.message_attributes.items()
            },
            "md5OfBody": message.md5_of_body,
            "eventSource": "aws:sqs",
            "eventSourceARN": self.arn,
            "awsRegion": self._bus.region,
        }


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = value["BinaryValue"]
    return out


def filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """What an event filter sees: the record, with a JSON body parsed under `body`."""
    try:
        body = json.loads(record["body"])
    except (ValueError, TypeError):
        return record
    return {**record, "body": body}


class QueueKind(Kind):
    types: ClassVar[Mapping[str, str]] = {QUEUE: "queues"}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> Queue:
        queue = Queue(self.engine, ref, props)
        if queue.dead_letter_arn and self.engine.index.find(queue.dead_letter_arn, QUEUE):
            self.engine.mark_dead_letter(queue.dead_letter_arn)
        return queue


class QueueConsumer:
    """Polls a queue with a batch size and a batching window (event source mapping, pipe)."""

    def __init__(
        self, bus: Engine, queue: Queue, *, batch_size: int, window_s: float, label: str
    ) -> None:
        self._bus = bus
        self.queue = queue
        self.batch_size = max(1, int(batch_size))
        self.window_s = float(window_s)
        self.label = label
        self._busy = False
        self._window = None
        queue.consumers.append(self)

    def detach(self) -> None:
        """Stop polling (a consumer that cannot run)."""
        if self in self.queue.consumers:
            self.queue.consumers.remove(self)

    def on_available(self) -> None:
        if self._busy:
            return
        visible = self.queue.visible_count()
        if visible == 0:
            return
        if visible >= self.batch_size or self.window_s <= 0:
            self._poll()
        elif self._window is None:
            # The batching window starts when the poller first sees a record.
            self._window = self._bus.clock.schedule(self.window_s, self._window_ended, self.label)

    def _window_ended(self) -> None:
        self._window = None
        self._poll()

    def _poll(self) -> None:
        if self._window is not None:
            self._window.cancel()
            self._window = None
        messages = self.queue.receive(self.batch_size)
        if messages:
            self._busy = True
            try:
                self.process(messages)
            finally:
                self._busy = False
        if self.queue.visible_count():
            self._bus.clock.schedule(0, self.on_available, self.label)

    def process(self, messages: list[Message]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

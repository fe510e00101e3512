"""SNS topics: publish and fan out to the template's subscriptions.

Subscriptions come from AWS::SNS::Subscription resources and a topic's inline Subscription list.
- sqs: the message (RawMessageDelivery "true") or SNS's JSON envelope as the body
- lambda: invoked asynchronously with SNS's event shape (so Lambda's retries apply)
- email, email-json, sms, http, https, application: recorded (trace "delivered" on the
  subscription and `topic.outbox`), nothing is sent
- FilterPolicy with FilterPolicyScope MessageAttributes (default) or MessageBody, matched with
  localbus.patterns (SNS filter policies share EventBridge's operators: exact, prefix,
  anything-but, numeric, exists; attribute values: String, Number, String.Array)
Signatures are placeholders: nothing can verify them offline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from localbus.delivery import DeliveryError
from localbus.engine import Kind
from localbus.patterns import InvalidPatternError, compile_pattern
from localbus.resources import FUNCTION, QUEUE, SUBSCRIPTION, TOPIC, Cause, ResourceRef

if TYPE_CHECKING:
    from localbus.delivery import Delivery
    from localbus.engine import Engine

_RECORDED_PROTOCOLS = frozenset({"email", "email-json", "sms", "http", "https", "application"})
_SIGNING_CERT_URL = "https://sns.{region}.amazonaws.com/SimpleNotificationService-localbus.pem"


@dataclass
class Subscription:
    ref: ResourceRef  # the AWS::SNS::Subscription (or a made-up one for an inline subscription)
    protocol: str
    endpoint: str
    raw: bool = False
    filter_policy: Any = None  # compiled pattern or None
    filter_scope: str = "MessageAttributes"
    dead_letter_arn: str | None = None


@dataclass
class Topic:
    bus: Engine
    ref: ResourceRef
    fifo: bool = False
    subscriptions: list[Subscription] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)  # email, sms, http deliveries

    def subscribe(self, ref: ResourceRef, props: dict[str, Any]) -> None:
        policy = props.get("FilterPolicy")
        if isinstance(policy, str):
            policy = json.loads(policy)
        compiled = None
        if policy:
            try:
                compiled = compile_pattern(policy)
            except InvalidPatternError as error:
                self.bus.report_unsupported("SNS FilterPolicy", ref.logical_id, str(error))
        self.subscriptions.append(
            Subscription(
                ref=ref,
                protocol=str(props.get("Protocol", "")).lower(),
                endpoint=str(props.get("Endpoint", "")),
                raw=str(props.get("RawMessageDelivery", "false")).lower() == "true",
                filter_policy=compiled,
                filter_scope=str(props.get("FilterPolicyScope") or "MessageAttributes"),
                dead_letter_arn=(props.get("RedrivePolicy") or {}).get("deadLetterTargetArn"),
            )
        )

    def publish(
        self,
        message: str,
        *,
        subject: str | None = None,
        message_attributes: dict[str, dict[str, Any]] | None = None,
        cause: Cause = (),
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Publish; returns the MessageId. Subscribers are delivered to asynchronously."""
        bus = self.bus
        message_id = bus.ids.uuid()
        bus.record(
            "delivered",
            cause,
            self.ref,
            message_id=message_id,
            **{"input": message, **(extra or {})},
        )
        notification = {
            "message_id": message_id,
            "message": message,
            "subject": subject,
            "attributes": dict(message_attributes or {}),
            "timestamp": bus.clock.iso(),
        }
        for subscription in self.subscriptions:
            bus.clock.schedule(
                0,
                lambda s=subscription: self._deliver(s, notification, cause),
                f"sns {self.ref.name} -> {subscription.protocol}",
            )
        return message_id

    def accept(self, delivery: Delivery) -> list[str]:
        """As a target (rule, pipe, destination): Publish."""
        self.publish(
            delivery.payload,
            message_attributes=delivery.message_attributes,
            cause=delivery.cause,
            extra=delivery.extra,
        )
        return []

    def _deliver(self, sub: Subscription, notification: dict[str, Any], cause: Cause) -> None:
        bus = self.bus
        common = {"message_id": notification["message_id"], "via": self.ref.logical_id}
        if sub.filter_policy is not None and not _passes(sub, notification):
            bus.record("filtered-out", cause, sub.ref, reason="FilterPolicy", **common)
            return
        try:
            fault = bus.faults.take_delivery_fault(sub.ref.logical_id)
            if fault is not None:
                raise DeliveryError(fault.error_code, fault.message)
            self._deliver_to_endpoint(sub, notification, cause, common)
        except DeliveryError as error:
            bus.record("failed", cause, sub.ref, error=str(error), **common)
            dlq = bus.index.find(sub.dead_letter_arn, QUEUE) if sub.dead_letter_arn else None
            if dlq is None:
                bus.record("dropped", cause, sub.ref, reason="delivery failed, no DLQ", **common)
                return
            bus.record("dead-lettered", cause, sub.ref, destination=dlq.logical_id, **common)
            bus.resources[dlq.logical_id].send(
                notification["message"], cause=cause, extra={"via": sub.ref.logical_id}
            )

    def _deliver_to_endpoint(
        self, sub: Subscription, notification: dict[str, Any], cause: Cause, common: dict
    ) -> None:
        bus = self.bus
        if sub.protocol in _RECORDED_PROTOCOLS:
            body = (
                json.dumps(self.envelope(sub, notification))
                if sub.protocol in ("email-json", "http", "https")
                else notification["message"]
            )
            self.outbox.append(
                {
                    "protocol": sub.protocol,
                    "endpoint": sub.endpoint,
                    "subject": notification["subject"],
                    "message": body,
                    "message_id": notification["message_id"],
                    "time": notification["timestamp"],
                }
            )
            bus.record(
                "delivered",
                cause,
                sub.ref,
                protocol=sub.protocol,
                endpoint=sub.endpoint,
                input=body,
                **common,
            )
            return
        if sub.protocol == "sqs":
            queue = bus.index.find(sub.endpoint, QUEUE)
            if queue is None:
                raise DeliveryError("ResourceNotFoundException", f"{sub.endpoint} not in template")
            if sub.raw:
                body, attributes = notification["message"], notification["attributes"]
            else:
                body, attributes = json.dumps(self.envelope(sub, notification)), None
            bus.resources[queue.logical_id].send(
                body, message_attributes=attributes, cause=cause, extra={"via": sub.ref.logical_id}
            )
            return
        if sub.protocol == "lambda":
            function = bus.index.find(sub.endpoint, FUNCTION)
            if function is None:
                raise DeliveryError("ResourceNotFoundException", f"{sub.endpoint} not in template")
            event = {
                "Records": [
                    {
                        "EventVersion": "1.0",
                        "EventSubscriptionArn": sub.ref.arn,
                        "EventSource": "aws:sns",
                        "Sns": self.envelope(sub, notification, lambda_shape=True),
                    }
                ]
            }
            bus.lambdas.invoke_async(
                function.logical_id, event, cause=cause, extra={"via": sub.ref.logical_id}
            )
            return
        bus.report_unsupported(f"SNS protocol {sub.protocol}", sub.ref.logical_id)
        raise DeliveryError("UnsupportedProtocol", f"localbus cannot deliver to {sub.protocol}")

    def envelope(
        self, sub: Subscription, notification: dict[str, Any], *, lambda_shape: bool = False
    ) -> dict[str, Any]:
        """SNS's notification JSON (the SQS body without raw delivery, the Lambda `Sns` key)."""
        region = self.bus.region
        out: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": notification["message_id"],
            "TopicArn": self.ref.arn,
        }
        if notification["subject"] is not None or lambda_shape:
            out["Subject"] = notification["subject"]
        cert_key, unsubscribe_key = (
            ("SigningCertUrl", "UnsubscribeUrl")
            if lambda_shape
            else ("SigningCertURL", "UnsubscribeURL")
        )
        out.update(
            {
                "Message": notification["message"],
                "Timestamp": notification["timestamp"],
                "SignatureVersion": "1",
                "Signature": "bG9jYWxidXM=",
                cert_key: _SIGNING_CERT_URL.format(region=region),
                unsubscribe_key: (
                    f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                    f"&SubscriptionArn={sub.ref.arn}"
                ),
            }
        )
        attributes = {
            name: {"Type": value.get("DataType", "String"), "Value": value.get("StringValue")}
            for name, value in notification["attributes"].items()
        }
        if attributes or lambda_shape:
            out["MessageAttributes"] = attributes
        return out


class TopicKind(Kind):
    types: ClassVar[Mapping[str, str]] = {TOPIC: "topics", SUBSCRIPTION: ""}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> Topic | None:
        if ref.type == SUBSCRIPTION:
            self._build_subscription(ref, props)
            return None
        engine = self.engine
        topic = Topic(engine, ref, fifo=str(props.get("FifoTopic", "false")).lower() == "true")
        for position, inline in enumerate(props.get("Subscription") or []):
            sub_ref = ResourceRef(
                f"{ref.logical_id}.Subscription[{position}]",
                SUBSCRIPTION,
                f"{ref.name}:{position}",
                f"{ref.arn}:{engine.ids.uuid()}",
            )
            topic.subscribe(sub_ref, inline)
        return topic

    def _build_subscription(self, ref: ResourceRef, props: dict[str, Any]) -> None:
        engine = self.engine
        topic_ref = engine.index.find(props.get("TopicArn"), TOPIC)
        topic = engine.resources.get(topic_ref.logical_id) if topic_ref is not None else None
        if topic is None:
            engine.report_unsupported(
                "subscription to a topic outside the template", ref.logical_id
            )
            return
        redrive = props.get("RedrivePolicy") or {}
        if isinstance(redrive, str):
            props["RedrivePolicy"] = redrive = json.loads(redrive)
        if redrive.get("deadLetterTargetArn"):
            engine.mark_dead_letter(redrive["deadLetterTargetArn"])
        topic.subscribe(ref, props)


def _passes(sub: Subscription, notification: dict[str, Any]) -> bool:
    if sub.filter_scope == "MessageBody":
        try:
            body = json.loads(notification["message"])
        except ValueError:
            return False
        return isinstance(body, dict) and sub.filter_policy.matches(body)
    values: dict[str, Any] = {}
    for name, value in notification["attributes"].items():
        data_type = str(value.get("DataType", "String"))
        text = value.get("StringValue")
        if data_type.startswith("Number"):
            try:
                values[name] = float(text)
            except (TypeError, ValueError):
                values[name] = text
        elif data_type == "String.Array":
            try:
                values[name] = json.loads(text)
            except (TypeError, ValueError):
                values[name] = text
        else:
            values[name] = text
    return bool(sub.filter_policy.matches(values))

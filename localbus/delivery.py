"""Handing a payload to a resource: the one door every rule target, pipe target, schedule,
Lambda destination and SNS subscription goes through.

The core knows resources only through this interface: a built resource that can receive a
payload has `accept(delivery) -> list[str]` (the ids of events it put on a bus, if any).
`send_to` finds the resource an ARN names, applies injected delivery faults and calls it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from localbus.resources import Cause

if TYPE_CHECKING:
    from localbus.engine import Engine

# Errors EventBridge does not retry: it sends the event straight to the DLQ.
RETRYABLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "InternalFailure"})


class DeliveryError(Exception):
    """A call that hands a payload to a resource failed."""

    def __init__(self, code: str, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = code in RETRYABLE_CODES if retryable is None else retryable


@dataclass
class Delivery:
    """One payload on its way to one resource."""

    payload: str
    cause: Cause
    event: dict[str, Any] | None = None  # the EventBridge event, forwarded as-is to a bus
    message_attributes: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None  # trace fields (rule, target_id, input, attempt, via)
    group_id: str | None = None  # FIFO MessageGroupId
    http_parameters: dict[str, Any] | None = None  # API destination path, query and headers


class Deliverable(Protocol):
    """A resource that can be a target: a queue, topic, function, bus, log group..."""

    def accept(self, delivery: Delivery) -> list[str]: ...


def send_to(
    engine: Engine,
    arn: Any,
    payload: str,
    *,
    cause: Cause,
    event: dict[str, Any] | None = None,
    message_attributes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    group_id: str | None = None,
    http_parameters: dict[str, Any] | None = None,
) -> list[str]:
    """Hand `payload` to the resource `arn` names; returns ids of events it put on a bus.

    Raises DeliveryError when the resource is not in the template, is of a type that cannot
    receive here, or an injected fault fires. `event` is the EventBridge event forwarded
    as-is to an event bus target.
    """
    ref = engine.find_target(arn)
    if ref is None:
        raise DeliveryError("ResourceNotFoundException", f"{arn} is not in the template")
    accept = getattr(engine.resources.get(ref.logical_id), "accept", None)
    if accept is None:  # reported when the template was read
        raise DeliveryError("UnsupportedTarget", f"localbus cannot deliver to {ref.type}")
    extra = dict(extra or {})
    # Rule target deliveries name their rule: fraction throttles apply to those only.
    fault = engine.faults.take_delivery_fault(ref.logical_id, cause=cause, rule=extra.get("rule"))
    if fault is not None:
        raise DeliveryError(fault.error_code, fault.message, retryable=fault.retryable)
    return accept(
        Delivery(payload, cause, event, message_attributes, extra, group_id, http_parameters)
    )


def json_or_text(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def sqs_attributes(values: dict[str, str]) -> dict[str, dict[str, str]]:
    """SQS SendMessage MessageAttributes (all strings) from a plain dict."""
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}

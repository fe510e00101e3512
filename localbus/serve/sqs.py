"""SQS on the template's queues, in both wire protocols botocore has used: JSON (awsJson1_0,
X-Amz-Target AmazonSQS.<Operation>, botocore >= 1.31.64 and current SDKs) and query (form
Action=..., XML; older SDKs and CLIs).

Served here: SendMessage, SendMessageBatch, ReceiveMessage (long polling included),
DeleteMessage, DeleteMessageBatch, GetQueueUrl, GetQueueAttributes. A queue that is not in the
template returns None: moto serves it.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
from collections.abc import Callable
from typing import Any

from localbus.serve.protocol import (
    AwsError,
    Request,
    Response,
    json_error,
    json_response,
    xml_error,
    xml_response,
    xml_value,
)

NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"
MAX_BODY_BYTES = 262_144
QUERY_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
}


class LongPoll:
    """A ReceiveMessage that found nothing yet: the HTTP thread polls again until `deadline`."""

    def __init__(self, again: Callable[[], Response | LongPoll], deadline: float) -> None:
        self.again = again
        self.deadline = deadline


def error(code: str, message: str) -> AwsError:
    return AwsError(code, message, query_code=QUERY_CODES.get(code, code))


def handle(request: Request, bus: Any) -> Response | LongPoll | None:
    """A JSON or query SQS request on a template queue; None for moto."""
    query = request.is_form
    try:
        if query:
            form = request.form()
            operation = form.get("Action", "")
            params = _from_form(operation, form)
        else:
            operation = request.target.split(".", 1)[-1]
            params = request.json()
        handler = OPERATIONS.get(operation)
        if handler is None:
            return None
        return _answer(request, bus, handler, operation, params, query, time.monotonic())
    except AwsError as failure:
        return xml_error(failure, request.request_id) if query else _json_error(failure)


def _answer(
    request: Request,
    bus: Any,
    handler: Callable[..., Any],
    operation: str,
    params: dict[str, Any],
    query: bool,
    started: float,
) -> Response | LongPoll | None:
    try:
        result = handler(bus, params, request)
    except AwsError as failure:
        return xml_error(failure, request.request_id) if query else _json_error(failure)
    if result is None:
        return None
    if isinstance(result, _Wait):
        deadline = started + result.seconds
        return LongPoll(
            lambda: _again(request, bus, handler, operation, params, query, deadline), deadline
        )
    if query:
        return xml_response(operation, _to_xml(operation, result), request.request_id, NAMESPACE)
    return json_response(result, version="1.0")


def _again(
    request: Request,
    bus: Any,
    handler: Callable[..., Any],
    operation: str,
    params: dict[str, Any],
    query: bool,
    deadline: float,
) -> Response | LongPoll | None:
    """The same ReceiveMessage again, with the first attempt's deadline (final once past)."""
    final = time.monotonic() >= deadline
    remaining = {**params, "_final": final}
    return _answer(request, bus, handler, operation, remaining, query, deadline - _wait_of(params))


def _json_error(failure: AwsError) -> Response:
    return json_error(failure, version="1.0", type_prefix="com.amazonaws.sqs#")


def _wait_of(params: dict[str, Any]) -> float:
    return float(params.get("WaitTimeSeconds") or 0)


class _Wait:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


# ---- operations ----------------------------------------------------------------------------------


def _queue(bus: Any, params: dict[str, Any]) -> Any:
    url = params.get("QueueUrl")
    if not url:
        raise error("MissingParameter", "The request must contain the parameter QueueUrl.")
    try:
        return bus.queue(str(url))
    except KeyError:
        return None


def get_queue_url(bus: Any, params: dict[str, Any], request: Request) -> dict[str, Any] | None:
    name = params.get("QueueName")
    if not name:
        raise error("MissingParameter", "The request must contain the parameter QueueName.")
    try:
        queue = bus.queue(str(name))
    except KeyError:
        return None
    return {"QueueUrl": queue_url(request.endpoint_url, bus.account_id, queue.ref.name)}


def queue_url(endpoint_url: str, account_id: str, name: str) -> str:
    return f"{endpoint_url}/{account_id}/{name}"


def send_message(bus: Any, params: dict[str, Any], request: Request) -> dict[str, Any] | None:
    queue = _queue(bus, params)
    if queue is None:
        return None
    return _send(bus, queue, params)


def _send(bus: Any, queue: Any, params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("MessageBody")
    if body is None or body == "":
        raise error("MissingParameter", "The request must contain the parameter MessageBody.")
    if len(str(body).encode()) > MAX_BODY_BYTES:
        raise error(
            "InvalidParameterValue",
            "One or more parameters are invalid. Reason: Message must be shorter than "
            f"{MAX_BODY_BYTES} bytes.",
        )
    attributes = params.get("MessageAttributes") or {}
    delay = params.get("DelaySeconds")
    if delay is not None and not 0 <= int(delay) <= 900:
        raise error(
            "InvalidParameterValue",
            f"Value {delay} for parameter DelaySeconds is invalid. Reason: must be between 0 "
            "and 900, if provided.",
        )
    # Sent by a handler that is running: the message belongs to the events it was invoked for.
    cause, function = bus.current_cause
    message = queue.send(
        str(body),
        message_attributes=attributes,
        delay_seconds=None if delay is None else float(delay),
        cause=cause,
        group_id=params.get("MessageGroupId"),
        extra={"via": function} if function else None,
    )
    result = {"MessageId": message.message_id, "MD5OfMessageBody": message.md5_of_body}
    if attributes:
        result["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
    return result


def send_message_batch(bus: Any, params: dict[str, Any], request: Request) -> dict | None:
    queue = _queue(bus, params)
    if queue is None:
        return None
    return _each_entry(params, lambda entry: _send(bus, queue, entry))


def _each_entry(
    params: dict[str, Any], act: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """A batch call's answer: each entry's own result under Successful, or its error under
    Failed; one entry's failure never fails its batch-mates, as in SQS."""
    successful, failed = [], []
    for entry in _batch(params):
        try:
            result = act(entry)
        except AwsError as failure:
            failed.append(
                {
                    "Id": entry["Id"],
                    "SenderFault": True,
                    "Code": failure.code,
                    "Message": failure.message,
                }
            )
            continue
        successful.append({"Id": entry["Id"], **result})
    return {"Successful": successful, "Failed": failed}


def _batch(params: dict[str, Any]) -> list[dict[str, Any]]:
    entries = params.get("Entries") or []
    if not entries:
        raise error("EmptyBatchRequest", "There should be at least one entry in the request.")
    if len(entries) > 10:
        raise error(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are 10. You have sent {len(entries)}.",
        )
    ids = [entry.get("Id") for entry in entries]
    if len(set(ids)) != len(ids):
        raise error("BatchEntryIdsNotDistinct", "Id values must be unique within a batch.")
    return entries


def receive_message(bus: Any, params: dict[str, Any], request: Request) -> Any:
    queue = _queue(bus, params)
    if queue is None:
        return None
    count = int(params.get("MaxNumberOfMessages") or 1)
    if not 1 <= count <= 10:
        raise error(
            "InvalidParameterValue",
            f"Value {count} for parameter MaxNumberOfMessages is invalid. Reason: Must be "
            "between 1 and 10, if provided.",
        )
    wait = float(params.get("WaitTimeSeconds") or 0)
    if not 0 <= wait <= 20:
        raise error(
            "InvalidParameterValue",
            f"Value {wait:g} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 "
            "and <= 20, if provided.",
        )
    timeout = params.get("VisibilityTimeout")
    messages = queue.receive(count, visibility_timeout=None if timeout is None else float(timeout))
    if not messages and wait > 0 and not params.get("_final"):
        return _Wait(wait)
    wanted = set(params.get("AttributeNames") or []) | set(
        params.get("MessageSystemAttributeNames") or []
    )
    wanted_attributes = set(params.get("MessageAttributeNames") or [])
    clock = bus.clock
    out = []
    for message in messages:
        item: dict[str, Any] = {
            "MessageId": message.message_id,
            "ReceiptHandle": message.receipt_handle,
            "MD5OfBody": message.md5_of_body,
            "Body": message.body,
        }
        system = {
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "SentTimestamp": str(clock.millis(message.sent_at)),
            "ApproximateReceiveCount": str(message.receive_count),
            "ApproximateFirstReceiveTimestamp": str(
                clock.millis(message.first_received_at or clock.now)
            ),
        }
        if message.group_id:
            system["MessageGroupId"] = message.group_id
        chosen = {k: v for k, v in system.items() if "All" in wanted or k in wanted}
        if chosen:
            item["Attributes"] = chosen
        attributes = {
            name: value
            for name, value in message.message_attributes.items()
            if _wanted(name, wanted_attributes)
        }
        if attributes:
            item["MessageAttributes"] = attributes
            item["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
        out.append(item)
    return {"Messages": out} if out else {}


def _wanted(name: str, patterns: set[str]) -> bool:
    return any(
        p in ("All", ".*", name) or (p.endswith(".*") and name.startswith(p[:-1])) for p in patterns
    )


def delete_message(bus: Any, params: dict[str, Any], request: Request) -> dict | None:
    queue = _queue(bus, params)
    if queue is None:
        return None
    _delete(queue, params)
    return {}


def _delete(queue: Any, params: dict[str, Any]) -> None:
    handle_ = params.get("ReceiptHandle")
    if not handle_:
        raise error("MissingParameter", "The request must contain the parameter ReceiptHandle.")
    # A handle of a message already deleted or received again is accepted, as SQS does.
    queue.delete_message(str(handle_))


def delete_message_batch(bus: Any, params: dict[str, Any], request: Request) -> dict | None:
    queue = _queue(bus, params)
    if queue is None:
        return None

    def delete(entry: dict[str, Any]) -> dict[str, Any]:
        _delete(queue, entry)
        return {}

    return _each_entry(params, delete)


def get_queue_attributes(bus: Any, params: dict[str, Any], request: Request) -> dict | None:
    queue = _queue(bus, params)
    if queue is None:
        return None
    messages = queue.messages()
    visible = sum(1 for m in messages if m["Visible"])
    attributes = {
        "QueueArn": queue.arn,
        "ApproximateNumberOfMessages": str(visible),
        "ApproximateNumberOfMessagesNotVisible": str(len(messages) - visible),
        "ApproximateNumberOfMessagesDelayed": "0",
        "VisibilityTimeout": f"{queue.visibility_timeout_s:g}",
        "MessageRetentionPeriod": f"{queue.retention_s:g}",
        "DelaySeconds": f"{queue.delay_s:g}",
        "MaximumMessageSize": str(MAX_BODY_BYTES),
        "ReceiveMessageWaitTimeSeconds": "0",
        "CreatedTimestamp": str(int(bus.clock.start)),
        "LastModifiedTimestamp": str(int(bus.clock.start)),
    }
    if queue.dead_letter_arn:
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": queue.dead_letter_arn,
                "maxReceiveCount": queue.max_receive_count,
            }
        )
    if queue.fifo:
        attributes["FifoQueue"] = "true"
    wanted = set(params.get("AttributeNames") or [])
    chosen = {k: v for k, v in attributes.items() if "All" in wanted or k in wanted}
    return {"Attributes": chosen} if chosen else {}


OPERATIONS: dict[str, Callable[..., Any]] = {
    "GetQueueUrl": get_queue_url,
    "SendMessage": send_message,
    "SendMessageBatch": send_message_batch,
    "ReceiveMessage": receive_message,
    "DeleteMessage": delete_message,
    "DeleteMessageBatch": delete_message_batch,
    "GetQueueAttributes": get_queue_attributes,
}


# ---- MD5 of message attributes (what SDKs check on send and receive) ----------------------------


def md5_of_attributes(attributes: dict[str, dict[str, Any]]) -> str:
    """SQS's digest: per attribute, sorted by name, length-prefixed name, type and value."""
    import base64

    digest = hashlib.md5()
    for name in sorted(attributes):
        value = attributes[name]
        data_type = str(value.get("DataType", "String"))
        for part in (name.encode(), data_type.encode()):
            digest.update(struct.pack(">I", len(part)) + part)
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            data = raw if isinstance(raw, bytes) else base64.b64decode(raw)
            digest.update(b"\x02" + struct.pack(">I", len(data)) + data)
        else:
            data = str(value.get("StringValue", "")).encode()
            digest.update(b"\x01" + struct.pack(">I", len(data)) + data)
    return digest.hexdigest()


# ---- query protocol: flattened form fields in, flattened XML out ---------------------------------


def _indexed(form: dict[str, str], prefix: str) -> list[dict[str, str]]:
    """Form fields `<prefix>.<n>.<rest>` as one dict of <rest> per n, in order of n."""
    groups: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        if key.startswith(prefix + "."):
            number, _, rest = key[len(prefix) + 1 :].partition(".")
            if number.isdigit():
                groups.setdefault(int(number), {})[rest] = value
    return [groups[n] for n in sorted(groups)]


def _attributes_from(fields: dict[str, str], prefix: str) -> dict[str, dict[str, Any]]:
    found = {}
    for group in _indexed(fields, prefix):
        value = {"DataType": group.get("Value.DataType", "String")}
        for key in ("StringValue", "BinaryValue"):
            if f"Value.{key}" in group:
                value[key] = group[f"Value.{key}"]
        found[group.get("Name", "")] = value
    return found


def _from_form(operation: str, form: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {
        key: value for key, value in form.items() if "." not in key and key != "Action"
    }
    names = [value for key, value in form.items() if key.startswith("AttributeName.")]
    if names:
        params["AttributeNames"] = names
    attribute_names = [v for k, v in form.items() if k.startswith("MessageAttributeName.")]
    if attribute_names:
        params["MessageAttributeNames"] = attribute_names
    attributes = _attributes_from(form, "MessageAttribute")
    if attributes:
        params["MessageAttributes"] = attributes
    batch_prefix = {
        "SendMessageBatch": "SendMessageBatchRequestEntry",
        "DeleteMessageBatch": "DeleteMessageBatchRequestEntry",
    }.get(operation)
    if batch_prefix:
        entries = []
        for group in _indexed(form, batch_prefix):
            entry: dict[str, Any] = {k: v for k, v in group.items() if "." not in k}
            entry_attributes = _attributes_from(group, "MessageAttribute")
            if entry_attributes:
                entry["MessageAttributes"] = entry_attributes
            entries.append(entry)
        params["Entries"] = entries
    return params


def _to_xml(operation: str, result: dict[str, Any]) -> str:
    if operation == "ReceiveMessage":
        return "".join(_message_xml(m) for m in result.get("Messages", []))
    if operation == "GetQueueAttributes":
        return "".join(
            xml_value("Attribute", {"Name": k, "Value": v})
            for k, v in (result.get("Attributes") or {}).items()
        )
    if operation in ("SendMessageBatch", "DeleteMessageBatch"):
        ok = (
            "SendMessageBatchResultEntry"
            if operation == "SendMessageBatch"
            else ("DeleteMessageBatchResultEntry")
        )
        return "".join(xml_value(ok, e) for e in result["Successful"]) + "".join(
            xml_value("BatchResultErrorEntry", e) for e in result["Failed"]
        )
    return "".join(xml_value(k, v) for k, v in result.items())


def _message_xml(message: dict[str, Any]) -> str:
    inner = "".join(
        xml_value(k, message[k])
        for k in ("MessageId", "ReceiptHandle", "MD5OfBody", "Body", "MD5OfMessageAttributes")
        if k in message
    )
    inner += "".join(
        xml_value("Attribute", {"Name": k, "Value": v})
        for k, v in (message.get("Attributes") or {}).items()
    )
    inner += "".join(
        xml_value("MessageAttribute", {"Name": k, "Value": v})
        for k, v in (message.get("MessageAttributes") or {}).items()
    )
    return f"<Message>{inner}</Message>"

"""SNS Publish (query protocol) to the template's topics; other topics and calls go to moto."""

from __future__ import annotations

from typing import Any

from localbus.serve.protocol import AwsError, Request, Response, xml_error, xml_response, xml_value

NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
MAX_MESSAGE_BYTES = 262_144


def handle(request: Request, bus: Any) -> Response | None:
    form = request.form()
    if form.get("Action") != "Publish":
        return None
    try:
        result = publish(bus, form)
    except AwsError as failure:
        return xml_error(failure, request.request_id)
    if result is None:
        return None
    return xml_response("Publish", xml_value("MessageId", result), request.request_id, NAMESPACE)


def publish(bus: Any, form: dict[str, str]) -> str | None:
    arn = form.get("TopicArn") or form.get("TargetArn")
    if not arn:
        raise AwsError(
            "InvalidParameter",
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
        )
    try:
        topic = bus.topic(arn)
    except KeyError:
        return None
    message = form.get("Message")
    if message is None or message == "":
        raise AwsError("InvalidParameter", "Invalid parameter: Empty message")
    if len(message.encode()) > MAX_MESSAGE_BYTES:
        raise AwsError("InvalidParameter", "Invalid parameter: Message too long")
    attributes: dict[str, dict[str, Any]] = {}
    for position in range(1, 11):
        prefix = f"MessageAttributes.entry.{position}"
        name = form.get(f"{prefix}.Name")
        if name is None:
            break
        value = {"DataType": form.get(f"{prefix}.Value.DataType", "String")}
        for key in ("StringValue", "BinaryValue"):
            if f"{prefix}.Value.{key}" in form:
                value[key] = form[f"{prefix}.Value.{key}"]
        attributes[name] = value
    return str(topic.publish(message, subject=form.get("Subject"), message_attributes=attributes))

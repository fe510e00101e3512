"""CloudFormation DescribeStacks for the served stack (query protocol): its outputs resolved,
so that tools which find their resources through stack outputs (ordersctl) find them here."""

from __future__ import annotations

from typing import Any

from localbus.runtimes.pool import local_queue_url
from localbus.serve.protocol import AwsError, Request, Response, xml_error, xml_response, xml_value

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


def handle(request: Request, bus: Any) -> Response | None:
    form = request.form()
    if form.get("Action") != "DescribeStacks":
        return None
    name = form.get("StackName") or bus.resolver.stack_name
    if name not in (bus.resolver.stack_name, _stack_id(bus)):
        return xml_error(
            AwsError("ValidationError", f"Stack with id {name} does not exist"),
            request.request_id,
        )
    outputs = []
    for key, output in (bus.template.get("Outputs") or {}).items():
        value = bus.resolver.resolve(output.get("Value"), where=f"Outputs.{key}", strict=False)
        # A queue URL points at this endpoint, as GetQueueUrl answers (SDKs send to its host).
        entry = {"OutputKey": key, "OutputValue": local_queue_url(str(value), request.endpoint_url)}
        if output.get("Description"):
            entry["Description"] = output["Description"]
        outputs.append(entry)
    stack = {
        "StackId": _stack_id(bus),
        "StackName": bus.resolver.stack_name,
        "CreationTime": bus.clock.iso(bus.clock.start),
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": outputs,
    }
    return xml_response(
        "DescribeStacks", xml_value("Stacks", [stack]), request.request_id, NAMESPACE
    )


def _stack_id(bus: Any) -> str:
    return (
        f"arn:aws:cloudformation:{bus.region}:{bus.account_id}:stack/"
        f"{bus.resolver.stack_name}/localbus"
    )

"""Readable names for a template's resources: what the trace tree and the CLIs print.

A resource is shown by its explicit name (FunctionName, QueueName, a rule's Name...), a
function's POWERTOOLS_SERVICE_NAME, or its logical id made readable (CDK's hash suffix dropped).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

BUS = "AWS::Events::EventBus"
RULE = "AWS::Events::Rule"
ARCHIVE = "AWS::Events::Archive"
QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
FUNCTION = "AWS::Lambda::Function"
PIPE = "AWS::Pipes::Pipe"

KIND_BY_TYPE = {
    QUEUE: "sqs",
    TOPIC: "sns",
    FUNCTION: "lambda",
    BUS: "bus",
    "AWS::Logs::LogGroup": "logs",
    "AWS::StepFunctions::StateMachine": "states",
}
_HASH_SUFFIX = re.compile(r"[0-9A-F]{8}$")


def friendly_name(logical_id: str) -> str:
    """RoutingAuditQueue68A35537 -> routing-audit-queue (CDK's hash suffix dropped)."""
    base = _HASH_SUFFIX.sub("", logical_id) or logical_id
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", base).lower()


@dataclass
class Resource:
    """A template resource as the routes and the trace tree show it."""

    logical_id: str
    type: str
    name: str  # physical name (explicit or generated the way CloudFormation would)
    label: str  # short, readable: explicit name, service name or friendly logical id
    arn: str = ""

    @property
    def kind(self) -> str:
        return KIND_BY_TYPE.get(self.type, self.type)


def resource_of(resolver: Any, logical_id: str) -> Resource:
    """One resource of `resolver`'s template (a localbus.intrinsics.Resolver), named."""
    kind = resolver.resource_type(logical_id)
    name = _safe(lambda: str(resolver.physical_id(logical_id)), logical_id)
    arn = _safe(lambda: str(resolver.arn(logical_id)), "")
    raw = resolver.resource(logical_id).get("Properties") or {}
    return Resource(logical_id, kind, name, label(logical_id, kind, name, raw), arn)


def all_resources(template: Mapping[str, Any], stack_name: str) -> dict[str, Resource]:
    """Every resource of the template with its physical name and readable label."""
    from localbus.intrinsics import Resolver
    from localbus.reporting import Reporter

    resolver = Resolver(template, stack_name=stack_name, reporter=Reporter())
    return {lid: resource_of(resolver, lid) for lid in resolver.resources}


def label(logical_id: str, kind: str, name: str, raw: Mapping[str, Any]) -> str:
    """The short name shown for a resource whose unresolved Properties are `raw`."""
    if kind == FUNCTION:
        variables = (raw.get("Environment") or {}).get("Variables") or {}
        service = variables.get("POWERTOOLS_SERVICE_NAME")
        if isinstance(raw.get("FunctionName"), str):
            return raw["FunctionName"]
        if isinstance(service, str):
            return service
    explicit = {BUS: "Name", RULE: "Name", ARCHIVE: "ArchiveName", PIPE: "Name"}.get(kind)
    if explicit and isinstance(raw.get(explicit), str):
        return name
    for key in ("QueueName", "TopicName"):
        if isinstance(raw.get(key), str):
            return name
    return friendly_name(logical_id)


def _safe(compute: Callable[[], str], default: str) -> str:
    try:
        return compute()
    except Exception:  # a name that only exists at deploy time: show the fallback
        return default

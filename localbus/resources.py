"""What every part of localbus calls a resource: its reference and the index that finds it.

- ResourceRef: one template resource as the flow sees it (logical id, type, name, ARN).
- ResourceIndex maps the ARNs, names and logical ids a template uses to its resources.
- The CloudFormation type names the core and several kinds share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Cause = tuple[str, ...]  # ids of the EventBridge events a payload descends from

QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
SUBSCRIPTION = "AWS::SNS::Subscription"
FUNCTION = "AWS::Lambda::Function"
EVENT_BUS = "AWS::Events::EventBus"
RULE = "AWS::Events::Rule"
LOG_GROUP = "AWS::Logs::LogGroup"
TABLE = "AWS::DynamoDB::Table"
DEFAULT_BUS = "default"


@dataclass(frozen=True)
class ResourceRef:
    """One template resource as the flow sees it."""

    logical_id: str
    type: str
    name: str
    arn: str


class ResourceIndex:
    """Finds a template resource by ARN (Lambda qualifiers and log group ':*' ignored), name
    or logical id. Built once; every later look-up is a dict access."""

    def __init__(self) -> None:
        self._refs: dict[str, ResourceRef] = {}
        self._by_key: dict[str, ResourceRef] = {}

    def add(self, ref: ResourceRef) -> None:
        self._refs[ref.logical_id] = ref
        for key in (ref.arn, ref.name):
            if key:
                self._by_key.setdefault(_normalise_arn(key), ref)

    def get(self, logical_id: str) -> ResourceRef | None:
        return self._refs.get(logical_id)

    def find(self, ref: Any, type_: str | None = None) -> ResourceRef | None:
        if not isinstance(ref, str) or not ref:
            return None
        found = self._refs.get(ref) or self._by_key.get(_normalise_arn(ref))
        if found is None and ref.startswith("arn:") and ref.count(":") >= 5:
            # e.g. an SQS queue ARN whose name is all we know
            found = self._by_key.get(ref.rsplit(":", 1)[-1]) if type_ == QUEUE else None
        if found is not None and type_ is not None and found.type != type_:
            return None
        return found

    def of_type(self, type_: str) -> list[ResourceRef]:
        return [ref for ref in self._refs.values() if ref.type == type_]


def arn_service(arn: Any) -> str:
    """The service part of an ARN (arn:aws:<service>:...), "" for anything else."""
    if not isinstance(arn, str) or not arn.startswith("arn:") or arn.count(":") < 5:
        return ""
    return arn.split(":")[2]


def _normalise_arn(value: str) -> str:
    if value.startswith("arn:"):
        parts = value.split(":")
        if parts[2] == "lambda" and len(parts) > 7:
            return ":".join(parts[:7])  # drop a version or alias qualifier
        if parts[2] == "logs" and value.endswith(":*"):
            return value[:-2]
    return value

"""Helpers for reading the synthesized template: resources by type, references, policies.

The dev template comes from the session fixture ``template`` (tests/conftest.py, one synth).
The prod stage (retention, e-mail subscribers, the event key) needs its own synth:
``prod_template`` in tests/conftest.py, also session-scoped, built only when a prod test runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cdk_json_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]


def ref_id(value: Any) -> str | None:
    """The logical id behind {"Ref": X} or {"Fn::GetAtt": [X, attr]}; None otherwise."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    """One policy statement and where it came from (resource type and logical id)."""

    source_type: str
    source_id: str
    body: dict[str, Any]

    @property
    def actions(self) -> list[str]:
        return as_list(self.body.get("Action", []))

    @property
    def resources(self) -> list[Any]:
        return as_list(self.body.get("Resource", []))

    @property
    def allows(self) -> bool:
        return self.body.get("Effect") == "Allow"


class Cfn:
    """Read-only view of a CloudFormation template."""

    ref_id = staticmethod(ref_id)
    as_list = staticmethod(as_list)

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.resources: dict[str, dict[str, Any]] = template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    def props(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties", {})

    def type_of(self, value: Any) -> str | None:
        target = ref_id(value)
        return self.resources[target]["Type"] if target in self.resources else None

    def rule_targets(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for rule_id, rule in self.of_type("AWS::Events::Rule").items():
            for target in rule["Properties"]["Targets"]:
                yield rule_id, target

    def rule_named(self, name: str) -> tuple[str, dict[str, Any]]:
        matches = [
            (logical_id, resource["Properties"])
            for logical_id, resource in self.of_type("AWS::Events::Rule").items()
            if resource["Properties"].get("Name") == name
        ]
        assert len(matches) == 1, f"expected one rule named {name}, found {len(matches)}"
        return matches[0]

    def function_with_handler(self, handler: str) -> tuple[str, dict[str, Any]]:
        matches = [
            (logical_id, resource["Properties"])
            for logical_id, resource in self.of_type("AWS::Lambda::Function").items()
            if resource["Properties"].get("Handler") == handler
        ]
        assert len(matches) == 1, f"expected one function with handler {handler}"
        return matches[0]

    def output_ref(self, name: str) -> str | None:
        return ref_id(self.template["Outputs"][name]["Value"])

    def policy_statements(self) -> Iterator[Statement]:
        """Every statement of every policy in the template: identity and resource policies."""
        documents: list[tuple[str, str, dict[str, Any]]] = []
        for logical_id, resource in self.resources.items():
            kind, props = resource["Type"], resource.get("Properties", {})
            if kind in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
                documents.append((kind, logical_id, props["PolicyDocument"]))
            elif kind == "AWS::IAM::Role":
                documents.append((kind, logical_id, props["AssumeRolePolicyDocument"]))
                documents.extend(
                    (kind, logical_id, policy["PolicyDocument"])
                    for policy in props.get("Policies", [])
                )
            elif kind == "AWS::KMS::Key":
                documents.append((kind, logical_id, props["KeyPolicy"]))
            elif kind in {"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"}:
                documents.append((kind, logical_id, props["PolicyDocument"]))
            elif kind == "AWS::Events::EventBusPolicy":
                documents.append((kind, logical_id, {"Statement": props["Statement"]}))
        for kind, logical_id, document in documents:
            for body in as_list(document["Statement"]):
                yield Statement(kind, logical_id, body)

    def queue_policy_statements(self, queue_id: str) -> list[dict[str, Any]]:
        return [
            statement
            for policy in self.of_type("AWS::SQS::QueuePolicy").values()
            if queue_id in {ref_id(queue) for queue in policy["Properties"]["Queues"]}
            for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
        ]

    def topic_policy_statements(self, topic_id: str) -> list[dict[str, Any]]:
        return [
            statement
            for policy in self.of_type("AWS::SNS::TopicPolicy").values()
            if topic_id in {ref_id(topic) for topic in policy["Properties"]["Topics"]}
            for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
        ]

    # -- queues by role -------------------------------------------------------------------------

    def queue_consumers(self) -> dict[str, list[tuple[str, str]]]:
        """Queue id -> [(kind, consumer id)] for Lambda event source mappings and pipes."""
        consumers: dict[str, list[tuple[str, str]]] = {}
        for mapping_id, mapping in self.of_type("AWS::Lambda::EventSourceMapping").items():
            queue_id = ref_id(mapping["Properties"]["EventSourceArn"])
            function_id = ref_id(mapping["Properties"]["FunctionName"])
            assert queue_id and function_id, mapping_id
            consumers.setdefault(queue_id, []).append(("lambda", function_id))
        for pipe_id, pipe in self.of_type("AWS::Pipes::Pipe").items():
            queue_id = ref_id(pipe["Properties"]["Source"])
            if self.type_of(pipe["Properties"]["Source"]) == "AWS::SQS::Queue" and queue_id:
                consumers.setdefault(queue_id, []).append(("pipe", pipe_id))
        return consumers

    def dead_letter_queue_ids(self) -> set[str]:
        """Queues something sends its failures to: redrive, rule target, async, subscription."""
        found: set[str] = set()
        for queue in self.of_type("AWS::SQS::Queue").values():
            redrive = queue["Properties"].get("RedrivePolicy")
            if redrive:
                found.add(ref_id(redrive["deadLetterTargetArn"]))
        for _, target in self.rule_targets():
            if "DeadLetterConfig" in target:
                found.add(ref_id(target["DeadLetterConfig"]["Arn"]))
        for config in self.of_type("AWS::Lambda::EventInvokeConfig").values():
            on_failure = config["Properties"].get("DestinationConfig", {}).get("OnFailure", {})
            if "Destination" in on_failure:
                found.add(ref_id(on_failure["Destination"]))
        for bus in self.of_type("AWS::Events::EventBus").values():
            dead_letter = bus["Properties"].get("DeadLetterConfig", {}).get("Arn")
            if dead_letter:
                found.add(ref_id(dead_letter))
        for subscription in self.of_type("AWS::SNS::Subscription").values():
            redrive = subscription["Properties"].get("RedrivePolicy")
            if redrive:
                found.add(ref_id(redrive["deadLetterTargetArn"]))
        found.discard(None)  # type: ignore[arg-type]
        return found

    def work_queue_ids(self) -> set[str]:
        """Queues that carry work: rule targets and queues with a consumer."""
        targets = {
            ref_id(target["Arn"])
            for _, target in self.rule_targets()
            if self.type_of(target["Arn"]) == "AWS::SQS::Queue"
        }
        return {queue for queue in targets if queue} | set(self.queue_consumers())


@pytest.fixture(scope="session")
def cfn(template: dict[str, Any]) -> Cfn:
    return Cfn(template)


@pytest.fixture(scope="session")
def dev_config() -> Any:
    from stacks.config import load_stage_config

    return load_stage_config({**cdk_json_context(), "stage": "dev"})


@pytest.fixture(scope="session")
def prod_cfn(prod_template: dict[str, Any]) -> Cfn:
    return Cfn(prod_template)

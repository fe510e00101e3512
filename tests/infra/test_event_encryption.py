"""prod: the bus, its archive and the pipe use the stage's customer managed key, with a key
policy that names each use; dev keeps AWS owned keys (no key to pay for or clean up)."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.constructs.event_encryption import (
    BUS_CONTEXT_KEY,
    EVENT_BUS_KEY_ACTIONS,
    PIPE_CONTEXT_KEY,
    PIPE_KEY_ACTIONS,
)

ENCRYPTED = ("AWS::Events::EventBus", "AWS::Events::Archive", "AWS::Pipes::Pipe")


def the_event_key(cfn: Any) -> str:
    (bus,) = cfn.of_type("AWS::Events::EventBus").values()
    key_id = cfn.ref_id(bus["Properties"]["KmsKeyIdentifier"])
    assert cfn.type_of({"Ref": key_id}) == "AWS::KMS::Key"
    return str(key_id)


@pytest.mark.parametrize("kind", ENCRYPTED)
def test_prod_encrypts_bus_archive_and_pipe_with_one_rotating_key(prod_cfn: Any, kind: str) -> None:
    # Given the key on the bus
    key_id = the_event_key(prod_cfn)

    # Then the resource names it (by ARN), and the key rotates
    for logical_id, resource in prod_cfn.of_type(kind).items():
        assert resource["Properties"]["KmsKeyIdentifier"] == {"Fn::GetAtt": [key_id, "Arn"]}, (
            logical_id
        )
    assert prod_cfn.props(key_id)["EnableKeyRotation"] is True


@pytest.mark.parametrize("kind", ENCRYPTED)
def test_dev_uses_aws_owned_keys(cfn: Any, kind: str) -> None:
    for resource in cfn.of_type(kind).values():
        assert "KmsKeyIdentifier" not in resource["Properties"]


def key_statements(cfn: Any) -> list[dict[str, Any]]:
    return list(cfn.as_list(cfn.props(the_event_key(cfn))["KeyPolicy"]["Statement"]))


def test_eventbridge_may_use_the_key_for_this_bus_only(prod_cfn: Any) -> None:
    # Given the key policy's statements for EventBridge
    for_events = [
        s for s in key_statements(prod_cfn) if s["Principal"] == {"Service": "events.amazonaws.com"}
    ]

    # Then encrypting and decrypting (bus, archive, replay) is bound to this bus's encryption
    # context and this account; describing the key to this account
    by_action = {frozenset(prod_cfn.as_list(s["Action"])): s for s in for_events}
    use = by_action[frozenset(EVENT_BUS_KEY_ACTIONS)]
    (bus_id,) = prod_cfn.of_type("AWS::Events::EventBus")
    bus_name = prod_cfn.props(bus_id)["Name"]
    context = use["Condition"]["StringEquals"][BUS_CONTEXT_KEY]["Fn::Join"][1]
    assert context[-1] == f":event-bus/{bus_name}"
    assert use["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    describe = by_action[frozenset({"kms:DescribeKey"})]
    assert describe["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    assert len(for_events) == 2


def test_only_known_principals_appear_in_the_key_policy(prod_cfn: Any) -> None:
    principals = {str(s["Principal"]) for s in key_statements(prod_cfn)}
    assert len(principals) == 2  # the account (administration) and EventBridge


def test_the_pipe_role_may_use_the_key_for_its_own_pipe_only(prod_cfn: Any) -> None:
    # Given the pipe and its role's inline policy
    (pipe_id,) = prod_cfn.of_type("AWS::Pipes::Pipe")
    pipe = prod_cfn.props(pipe_id)
    role = prod_cfn.props(prod_cfn.ref_id(pipe["RoleArn"]))
    key_id = the_event_key(prod_cfn)
    statements = [
        s
        for policy in role["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if prod_cfn.ref_id(s["Resource"]) == key_id
    ]

    # Then it may describe the key, and encrypt/decrypt only in this pipe's context
    by_action = {frozenset(prod_cfn.as_list(s["Action"])): s for s in statements}
    assert set(by_action) == {frozenset({"kms:DescribeKey"}), frozenset(PIPE_KEY_ACTIONS)}
    use = by_action[frozenset(PIPE_KEY_ACTIONS)]
    context = use["Condition"]["StringEquals"][PIPE_CONTEXT_KEY]["Fn::Join"][1]
    assert context[-1] == f":pipe/{pipe['Name']}"


def test_dev_pipe_role_has_no_key_rights(cfn: Any) -> None:
    (pipe_id,) = cfn.of_type("AWS::Pipes::Pipe")
    role = cfn.props(cfn.ref_id(cfn.props(pipe_id)["RoleArn"]))
    actions = {
        action
        for policy in role["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        for action in cfn.as_list(s["Action"])
    }
    assert not any(action.startswith("kms:") for action in actions)


def test_prod_bus_dead_letters_what_it_cannot_encrypt_and_alarms(prod_cfn: Any) -> None:
    # Given the CMK bus and its dead-letter queue (AWS: "strongly recommended" on a CMK bus)
    (bus_id, bus) = next(iter(prod_cfn.of_type("AWS::Events::EventBus").items()))
    queue_id = prod_cfn.ref_id(bus["Properties"]["DeadLetterConfig"]["Arn"])
    assert queue_id == prod_cfn.output_ref("EncryptionDlqUrl")

    # Then EventBridge may send to it for this bus only, and an alarm watches it
    assert any(
        s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "events.amazonaws.com"}
        and s["Action"] == "sqs:SendMessage"
        and s["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [bus_id, "Arn"]}}}
        for s in prod_cfn.queue_policy_statements(queue_id)
    )
    dimensions = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    assert [
        alarm
        for alarm in prod_cfn.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Dimensions") == dimensions
    ]

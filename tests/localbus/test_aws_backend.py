"""localbus.aws_backend: moto with the template's tables, and PutEvents routed to the engine."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, ParamValidationError

from localbus.aws_backend import AwsBackend
from localbus.intrinsics import Resolver

FIXTURES = Path(__file__).parent / "fixtures" / "runtime"


@pytest.fixture
def template() -> dict[str, Any]:
    return json.loads((FIXTURES / "template.json").read_text())


@pytest.fixture
def resolver(template: dict[str, Any]) -> Resolver:
    return Resolver(template, stack_name="Fixture-test")


@pytest.fixture
def backend(template: dict[str, Any], resolver: Resolver) -> Iterator[AwsBackend]:
    with AwsBackend(template, resolver) as started:
        yield started


def test_tables_are_created_from_the_template(backend: AwsBackend, resolver: Resolver):
    # Given the template's tables  When the backend is running
    dynamodb = backend.client("dynamodb")
    table = dynamodb.describe_table(TableName=resolver.physical_id("Table"))["Table"]
    provisioned = dynamodb.describe_table(TableName="fixture-provisioned")["Table"]

    # Then keys, indexes, billing and TTL are the template's
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["byStatus"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiration")
    assert provisioned["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    # And a table whose condition is false is not created
    assert set(backend.tables) == {"Table", "ProvisionedTable"}


def test_seeded_items_read_back_as_plain_python(backend: AwsBackend):
    # Given items with floats and nested values  When seeded
    backend.seed_items("Table", [{"pk": "SKU#A", "sk": "v1", "available": 3, "price": 9.5}])

    # Then a scan returns them with numbers as int/float
    assert backend.items("Table") == [{"pk": "SKU#A", "sk": "v1", "available": 3, "price": 9.5}]
    with pytest.raises(KeyError, match="tables: Table"):
        backend.items("Nope")


def test_fake_credentials_exist_only_while_active(
    template: dict[str, Any], resolver: Resolver, monkeypatch: pytest.MonkeyPatch
):
    # Given the caller's own credentials and no region
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "callers-key")
    monkeypatch.delenv("AWS_REGION", raising=False)

    # When a backend runs  Then fake credentials (moto's) and its region are set
    with AwsBackend(template, resolver):
        assert os.environ["AWS_ACCESS_KEY_ID"] not in ("", "callers-key")
        assert os.environ["AWS_REGION"] == "eu-west-1"

    # And afterwards the caller's environment is back
    assert os.environ["AWS_ACCESS_KEY_ID"] == "callers-key"
    assert "AWS_REGION" not in os.environ


def test_put_events_from_any_client_goes_to_the_hook(backend: AwsBackend):
    # Given a client made before the hook, from its own session, and the engine's hook
    early = boto3.session.Session().client("events", region_name="eu-west-1")
    received: list[list[dict[str, Any]]] = []

    def hook(entries: list[dict[str, Any]]) -> dict[str, Any]:
        received.append(entries)
        return {
            "FailedEntryCount": 1,
            "Entries": [{"EventId": "e-1"}, {"ErrorCode": "X", "ErrorMessage": "no"}],
        }

    backend.set_put_events_hook(hook)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    # When it puts events
    response = early.put_events(
        Entries=[
            {"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": "b", "Time": when},
            {"Source": "s", "DetailType": "d", "Detail": "{}", "Time": "2026-01-02T03:04:05Z"},
        ]
    )

    # Then the hook got boto3-shaped entries (Time as aware UTC datetimes) and answered
    assert received[0][0] == {
        "Source": "s",
        "DetailType": "d",
        "Detail": "{}",
        "EventBusName": "b",
        "Time": when,
    }
    assert received[0][1]["Time"] == when
    assert response["FailedEntryCount"] == 1
    assert response["Entries"][1] == {"ErrorCode": "X", "ErrorMessage": "no"}


def test_hook_value_errors_and_bad_parameters_fail_like_aws(backend: AwsBackend):
    # Given a hook that rejects batches of more than ten entries
    def hook(entries: list[dict[str, Any]]) -> dict[str, Any]:
        if len(entries) > 10:
            raise ValueError("Member must have length less than or equal to 10")
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in entries]}

    backend.set_put_events_hook(hook)
    events = backend.client("events")
    entry = {"Source": "s", "DetailType": "d", "Detail": "{}"}

    # When too many entries are sent  Then the caller gets a ValidationException
    with pytest.raises(ClientError) as raised:
        events.put_events(Entries=[entry] * 11)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    # And malformed parameters are refused by botocore's validation, as in AWS
    with pytest.raises(ParamValidationError):
        events.put_events(Entries=[{"Sourse": "typo"}])


def test_without_a_hook_moto_answers(backend: AwsBackend):
    # Given no hook  When events are put  Then moto accepts them
    response = backend.client("events").put_events(
        Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}]
    )
    assert response["FailedEntryCount"] == 0


def test_stop_restores_botocore_and_one_backend_at_a_time(
    template: dict[str, Any], resolver: Resolver
):
    # Given botocore's own API call
    original = BaseClient._make_api_call

    # When a backend runs, a second one is refused
    with AwsBackend(template, resolver):
        assert BaseClient._make_api_call is not original
        with pytest.raises(RuntimeError, match="another AwsBackend"):
            AwsBackend(template, resolver).start()

    # Then after it stops botocore is restored and a new backend can start
    assert BaseClient._make_api_call is original
    with AwsBackend(template, resolver) as again:
        assert again.active


def test_a_table_that_cannot_be_made_is_reported_and_the_others_still_are():
    # Given one table keyed on another stack's export, one with an imported KMS key for SSE
    key = [{"AttributeName": "id", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "id", "AttributeType": "S"}]
    template = {
        "Resources": {
            "Broken": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "AttributeDefinitions": attributes,
                    "KeySchema": [
                        {"AttributeName": {"Fn::ImportValue": "KeyName"}, "KeyType": "HASH"}
                    ],
                },
            },
            "Encrypted": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "AttributeDefinitions": attributes,
                    "KeySchema": key,
                    "BillingMode": "PAY_PER_REQUEST",
                    "SSESpecification": {
                        "SSEEnabled": True,
                        "KMSMasterKeyId": {"Fn::ImportValue": "SharedKey"},
                    },
                },
            },
        }
    }
    resolver = Resolver(template, stack_name="Partial")

    # When the backend starts
    with AwsBackend(template, resolver) as backend:
        created = dict(backend.tables)

    # Then the encrypted table exists (SSE does not matter locally) and the broken one is reported
    assert list(created) == ["Encrypted"]
    messages = resolver.reporter.messages()
    assert any(
        "Fn::ImportValue" in m and "Resources.Broken.Properties.KeySchema" in m for m in messages
    )
    assert not any("SharedKey" in m for m in messages)

"""localbus.aws_backend: moto with the template's tables, and PutEvents routed to the engine."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
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


def by_key(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (item["pk"], item["sk"]))


def _decrement(table: str, key: dict[str, Any], by: int) -> dict[str, Any]:
    """A TransactWriteItems Update that takes `by` from `available` if there is enough."""
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "SET available = available - :n",
            "ConditionExpression": "available >= :n",
            "ExpressionAttributeValues": {":n": {"N": str(by)}},
        }
    }


def test_a_cancelled_transaction_leaves_every_item_as_it_was(
    backend: AwsBackend, resolver: Resolver
):
    # Given a table with a sort key: two items under one partition, one under another
    table = resolver.physical_id("Table")
    seeded = [
        {"pk": "SKU#A", "sk": "v1", "available": 5, "tags": ["a", {"b": [1, 2]}]},
        {"pk": "SKU#A", "sk": "v2", "available": 1},
        {"pk": "SKU#B", "sk": "v1", "available": 7},
    ]
    backend.seed_items("Table", seeded)
    dynamodb = backend.client("dynamodb")

    # When a transaction changes one item, adds one, then fails its condition on a third
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                _decrement(table, {"pk": {"S": "SKU#A"}, "sk": {"S": "v1"}}, 2),
                {"Put": {"TableName": table, "Item": {"pk": {"S": "SKU#C"}, "sk": {"S": "v1"}}}},
                _decrement(table, {"pk": {"S": "SKU#A"}, "sk": {"S": "v2"}}, 2),
            ]
        )

    # Then nothing it did is left
    assert by_key(backend.items("Table")) == by_key(seeded)

    # And a transaction that succeeds changes exactly what it names
    dynamodb.transact_write_items(
        TransactItems=[
            _decrement(table, {"pk": {"S": "SKU#A"}, "sk": {"S": "v1"}}, 2),
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "SKU#B"}, "sk": {"S": "v1"}}}},
        ]
    )
    assert by_key(backend.items("Table")) == [
        {"pk": "SKU#A", "sk": "v1", "available": 3, "tags": ["a", {"b": [1, 2]}]},
        {"pk": "SKU#A", "sk": "v2", "available": 1},
    ]


def test_a_cancelled_transaction_on_a_partition_key_only_table_is_undone(backend: AwsBackend):
    # Given a table keyed on `id` alone
    seeded = [{"id": "a", "available": 2}, {"id": "b", "n": 1}, {"id": "d", "available": 0}]
    backend.seed_items("ProvisionedTable", seeded)
    dynamodb = backend.client("dynamodb")

    # When a transaction changes, deletes and puts items, then fails a condition
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                _decrement("fixture-provisioned", {"id": {"S": "a"}}, 1),
                {"Delete": {"TableName": "fixture-provisioned", "Key": {"id": {"S": "b"}}}},
                {"Put": {"TableName": "fixture-provisioned", "Item": {"id": {"S": "c"}}}},
                _decrement("fixture-provisioned", {"id": {"S": "d"}}, 1),
            ]
        )

    # Then the table is as it was
    assert sorted(backend.items("ProvisionedTable"), key=lambda item: item["id"]) == seeded


def test_expressions_parsed_once_still_apply_to_each_item(backend: AwsBackend):
    # Given two items and one update expression text
    backend.seed_items("ProvisionedTable", [{"id": "a", "n": 1}, {"id": "b", "n": 10}])
    dynamodb = backend.client("dynamodb")

    def add(item_id: str, by: int, below: int = 100) -> None:
        dynamodb.update_item(
            TableName="fixture-provisioned",
            Key={"id": {"S": item_id}},
            UpdateExpression="SET n = n + :by",
            ConditionExpression="n < :below",
            ExpressionAttributeValues={":by": {"N": str(by)}, ":below": {"N": str(below)}},
        )

    # When the same texts update each item, with different values, more than once
    add("a", 2)
    add("b", 5)
    add("a", 3)
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        add("b", 1, below=15)

    # Then each item got its own updates, and the condition was judged on each one's values
    assert sorted(backend.items("ProvisionedTable"), key=lambda item: item["id"]) == [
        {"id": "a", "n": 6},
        {"id": "b", "n": 15},
    ]
    # And malformed expressions are refused every time, not just the first
    for _ in range(2):
        with pytest.raises(ClientError, match="ValidationException"):
            dynamodb.update_item(
                TableName="fixture-provisioned",
                Key={"id": {"S": "a"}},
                UpdateExpression="SET n = = 1",
            )
        with pytest.raises(ValueError, match="Cannot parse condition"):  # moto's own error
            dynamodb.update_item(
                TableName="fixture-provisioned",
                Key={"id": {"S": "a"}},
                UpdateExpression="SET n = :one",
                ConditionExpression="n < ! :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )


def test_moto_and_botocore_are_left_as_found(template: dict[str, Any], resolver: Resolver):
    # Given what the backend patches in moto and botocore while it runs
    import botocore.session
    from botocore.auth import SigV4Auth
    from moto.core import responses, utils
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.request import Request
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    found = {
        "stubber": BotocoreStubber.process_request,
        "sign": SigV4Auth.add_auth,
        "walk": (DepthFirstTraverser.nodes_to_be_processed, DepthFirstTraverser.process),
        "validate": (UpdateExpressionValidator.__init__, UpdateExpressionValidator.validate),
        "parse update": vars(UpdateExpressionParser)["make"],
        "lex condition": ConditionExpressionParser._lex_condition_expression,
        "transact": DynamoDBBackend.transact_write_items,
        "authenticate": ActionAuthenticatorMixin._authenticate_and_authorize_normal_action,
        "method names": responses.method_names_from_class,
        "botocore loader": botocore.session.create_loader,
        "moto loader": utils.create_loader,
        "build request": vars(Request)["from_primitives"],
    }

    # When a backend has run, counting its requests as moto does with authorisation off
    with AwsBackend(template, resolver) as backend:
        counted = ActionAuthenticatorMixin.request_count
        backend.client("dynamodb").list_tables()
        assert ActionAuthenticatorMixin.request_count == counted + 1
        assert DynamoDBBackend.transact_write_items is not found["transact"]

    # Then every one of them is restored
    assert found == {
        "stubber": BotocoreStubber.process_request,
        "sign": SigV4Auth.add_auth,
        "walk": (DepthFirstTraverser.nodes_to_be_processed, DepthFirstTraverser.process),
        "validate": (UpdateExpressionValidator.__init__, UpdateExpressionValidator.validate),
        "parse update": vars(UpdateExpressionParser)["make"],
        "lex condition": ConditionExpressionParser._lex_condition_expression,
        "transact": DynamoDBBackend.transact_write_items,
        "authenticate": ActionAuthenticatorMixin._authenticate_and_authorize_normal_action,
        "method names": responses.method_names_from_class,
        "botocore loader": botocore.session.create_loader,
        "moto loader": utils.create_loader,
        "build request": vars(Request)["from_primitives"],
    }
    assert "__deepcopy__" not in vars(Table)


# Each update: (key, UpdateExpression, ExpressionAttributeNames, ExpressionAttributeValues).
# The same texts come back with names or values or items that make them fail, after passing.
_UPDATES: list[tuple[str, str, dict[str, str] | None, dict[str, Any] | None]] = [
    ("a", "SET #x = :v, #y = :v", {"#x": "p", "#y": "q"}, {":v": {"N": "1"}}),
    ("a", "SET #x = :v, #y = :v", {"#x": "p", "#y": "p"}, {":v": {"N": "1"}}),  # overlap
    ("a", "SET #x = :v, #y = :v", {"#x": "p", "#y": "id"}, {":v": {"N": "1"}}),  # a key
    ("a", "SET #x = :v, #y = :v", {"#x": "p", "#y": "q"}, {":v": {"N": "2"}}),
    ("a", "SET #x = :v, #y = :v", {"#x": "p", "#y": "q"}, None),  # value undefined
    ("a", "SET #x = :v, #y = :v", {"#x": "p"}, {":v": {"N": "1"}}),  # name undefined
    ("a", "SET #x = :v, #y = :v", {"#x": "p", "#y": "q"}, {":v": {"N": "3"}}),
    ("a", "SET n = n + :one", None, {":one": {"N": "1"}}),  # n missing from the item
    ("a", "SET n = :one", None, {":one": {"N": "1"}}),
    ("a", "SET n = n + :one", None, {":one": {"N": "1"}}),
    ("b", "SET n = n + :one", None, {":one": {"N": "1"}}),  # missing from this item
    ("a", "SET n = n + :one", None, {":one": {"S": "1"}}),  # wrong operand type
    ("a", "SET n = n + :one", None, {":one": {"N": "5"}}),
    ("a", "SET id = :e", None, {":e": {"S": ""}}),  # a key
    ("a", "SET #x = :v REMOVE #x", {"#x": "p"}, {":v": {"N": "1"}}),  # overlap
    ("a", "SET l = list_append(l, :l)", None, {":l": {"L": [{"N": "1"}]}}),  # no l
    ("a", "SET l = list_append(if_not_exists(l, :l), :l)", None, {":l": {"L": [{"N": "1"}]}}),
    ("a", "SET l = list_append(l, :l)", None, {":l": {"L": [{"N": "2"}]}}),
    ("a", "SET m.x = :v", None, {":v": {"N": "1"}}),  # no map m
    ("a", "SET m = :m", None, {":m": {"M": {}}}),
    ("a", "SET m.x = :v", None, {":v": {"N": "1"}}),
]


def _update_outcomes(client: Any) -> list[Any]:
    """What each of _UPDATES answers (the attributes, or the error's code and message)."""
    client.put_item(TableName="fixture-provisioned", Item={"id": {"S": "b"}})
    outcomes: list[Any] = []
    for item_id, expression, names, values in _UPDATES:
        request: dict[str, Any] = {
            "TableName": "fixture-provisioned",
            "Key": {"id": {"S": item_id}},
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        if names is not None:
            request["ExpressionAttributeNames"] = names
        if values is not None:
            request["ExpressionAttributeValues"] = values
        try:
            outcomes.append(client.update_item(**request)["Attributes"])
        except ClientError as error:
            outcomes.append((error.response["Error"]["Code"], error.response["Error"]["Message"]))
        except Exception as error:  # moto's own failures (an undefined name: KeyError)
            outcomes.append((type(error).__name__, str(error)))
    return outcomes


def _plain_moto_outcomes(
    template: dict[str, Any], outcomes: Callable[[Any], list[Any]]
) -> list[Any]:
    """`outcomes` of a DynamoDB client of plain moto (no localbus patches), with the template's
    ProvisionedTable made as the template makes it."""
    from moto import mock_aws

    properties = template["Resources"]["ProvisionedTable"]["Properties"]
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            **{key: properties[key] for key in ("TableName", "AttributeDefinitions", "KeySchema")},
            ProvisionedThroughput=properties["ProvisionedThroughput"],
        )
        return outcomes(client)


def test_update_validation_answers_as_plain_moto(backend: AwsBackend, template: dict[str, Any]):
    # Given update expressions that pass, then fail on their names, values or the item,
    # through the backend (whose moto skips checks already passed for a tree and names)
    answered = _update_outcomes(backend.client("dynamodb"))
    backend.stop()

    # When the same requests go to plain moto, the table made as the template makes it
    expected = _plain_moto_outcomes(template, _update_outcomes)

    # Then every answer is the same, errors included, in the same order
    assert answered == expected
    failures = [outcome for outcome in expected if isinstance(outcome, tuple)]
    assert len(failures) >= 10  # the sequence does exercise the errors
    assert any("overlap" in message for _, message in failures)
    assert any("does not exist in the item" in message for _, message in failures)


def test_requests_routed_once_still_honour_moto_settings(backend: AwsBackend):
    # Given a service already called once (its route found), and a URL moto has no service for
    from moto.core.config import default_user_config
    from moto.core.exceptions import ServiceNotWhitelisted

    dynamodb = backend.client("dynamodb")
    assert "fixture-provisioned" in dynamodb.list_tables()["TableNames"]
    sqs = backend.client("sqs")
    sqs.create_queue(QueueName="routed")
    core = default_user_config.setdefault("core", {})
    saved = dict(core)
    try:
        # When moto's allow-list leaves DynamoDB out  Then DynamoDB is refused, SQS is not
        core["service_whitelist"] = ["sqs"]
        with pytest.raises(ServiceNotWhitelisted):
            dynamodb.list_tables()
        assert sqs.get_queue_url(QueueName="routed")["QueueUrl"].endswith("/routed")
    finally:
        core.clear()
        core.update(saved)

    # And with the settings back, the same route answers again, and the same items each time
    assert "fixture-provisioned" in dynamodb.list_tables()["TableNames"]
    dynamodb.put_item(TableName="fixture-provisioned", Item={"id": {"S": "x"}})
    for _ in range(2):
        item = dynamodb.get_item(TableName="fixture-provisioned", Key={"id": {"S": "x"}})
        assert item["Item"] == {"id": {"S": "x"}}


def _same_tree(copied: Any, expected: Any, original: Any, pairs: dict[int, int]) -> None:
    """`copied` is built like `expected` (a deepcopy of `original`), sharing no node with it."""
    assert type(copied) is type(expected)
    if isinstance(expected, (str, int, float, bool, type(None))):
        assert copied == expected
        return
    if isinstance(expected, list):
        assert len(copied) == len(expected)
        for copied_child, expected_child, child in zip(copied, expected, original, strict=True):
            _same_tree(copied_child, expected_child, child, pairs)
        return
    assert copied is not original
    if id(expected) in pairs:  # a node met before (a parent link): the same copy both ways
        assert pairs[id(expected)] == id(copied)
        return
    pairs[id(expected)] = id(copied)
    assert vars(copied).keys() == vars(expected).keys()
    for name, value in vars(expected).items():
        _same_tree(vars(copied)[name], value, vars(original)[name], pairs)


@pytest.mark.parametrize(
    "expression",
    [
        "SET #x = :v, #y = :v",
        "SET a.b[2].c = if_not_exists(a.b[2].c, :zero) + :one REMOVE d[0], e ADD f :s DELETE g :t",
        "SET l = list_append(if_not_exists(l, :empty), :l), n = n - :one",
    ],
)
def test_update_trees_copied_from_their_pickle_are_deep_copies(
    backend: AwsBackend, expression: str
):
    # Given a parsed update expression (the parse cache's one tree for the text)
    import copy

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    tree = UpdateExpressionParser.make(expression)

    # When the validator's copy is taken twice (the second from the pickle kept)
    first, second = validators.deepcopy(tree), validators.deepcopy(tree)

    # Then each is what copy.deepcopy makes: same classes, attributes and parent links
    for copied in (first, second):
        _same_tree(copied, copy.deepcopy(tree), tree, {})
    assert first is not second and first.children[0] is not second.children[0]


def _signed_headers_of(client: Any, call: Any) -> dict[str, str]:
    """The headers botocore sent for one call (seen by a before-send handler)."""
    seen: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> None:
        seen.update({key: value for key, value in request.headers.items()})

    client.meta.events.register_first("before-send", capture)
    try:
        call()
    finally:
        client.meta.events.unregister("before-send", capture)
    return {
        key: value.decode() if isinstance(value, bytes) else value for key, value in seen.items()
    }


def test_only_requests_moto_answers_unchecked_skip_the_signature(
    backend: AwsBackend, monkeypatch: pytest.MonkeyPatch
):
    import re

    from botocore.awsrequest import AWSResponse
    from moto import settings

    from localbus.aws_backend import UNCOMPUTED_SIGNATURE

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    scope = r"Credential=\w+/\d{8}/us-east-1/dynamodb/aws4_request"

    # Given a request moto answers, with its IAM authorisation off (its default)
    headers = _signed_headers_of(dynamodb, dynamodb.list_tables)
    # Then it carries the signing headers, the same scope, and no computed signature
    assert re.fullmatch(
        rf"AWS4-HMAC-SHA256 {scope}, SignedHeaders=[a-z0-9;-]+, Signature={UNCOMPUTED_SIGNATURE}",
        headers["Authorization"],
    )
    assert "x-amz-date" in headers["Authorization"] and "X-Amz-Date" in headers
    assert headers["X-Amz-Security-Token"]

    # When moto's IAM authorisation may start (it checks signatures)  Then it is signed
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 10**9)
    headers = _signed_headers_of(dynamodb, dynamodb.list_tables)
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    assert re.fullmatch("[0-9a-f]{64}", signature) and signature != UNCOMPUTED_SIGNATURE
    monkeypatch.undo()

    # And a request moto does not answer (another endpoint) is signed as botocore signs
    elsewhere = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://db.local")

    def answer(request: Any, **_: Any) -> AWSResponse:
        body = b'{"TableNames": []}'
        return AWSResponse(request.url, 200, {}, _Raw(body))

    elsewhere.meta.events.register("before-send", answer)
    headers = _signed_headers_of(elsewhere, elsewhere.list_tables)
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    assert re.fullmatch("[0-9a-f]{64}", signature) and signature != UNCOMPUTED_SIGNATURE


class _Raw:
    """A raw HTTP body for a canned AWSResponse."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _request_as_seen(request: Any) -> dict[str, Any]:
    """Everything of a werkzeug request moto reads, the body stream by content and position."""
    environ = [
        (key, (value.getvalue(), value.tell()) if key == "wsgi.input" else value)
        for key, value in request.environ.items()
        if key != "werkzeug.request"
    ]
    return {
        "environ": environ,
        "headers": list(request.headers),
        "data": request.get_data(),
        "form": list(request.form.items(multi=True)),
        "args": list(request.args.items(multi=True)),
        "url": request.url,
        "raw_url": request.raw_url,
        "method": request.method,
    }


def test_requests_built_directly_are_the_requests_moto_builds(
    template: dict[str, Any], resolver: Resolver
):
    # Given moto's own way of building a request, and every request the backend builds
    from moto.core.request import Request

    moto_builds = vars(Request)["from_primitives"].__func__
    seen: list[tuple[Any, ...]] = []
    with AwsBackend(template, resolver) as backend:
        built = vars(Request)["from_primitives"].__func__
        assert built is not moto_builds

        def recording(cls: type[Any], *args: Any) -> Any:
            seen.append(args)
            return built(cls, *args)

        Request.from_primitives = classmethod(recording)  # type: ignore[method-assign,assignment]
        try:
            # When DynamoDB (JSON), SQS, SNS (a form body), EventBridge and S3 (bodiless
            # requests, metadata keys with underscores, a query string) are called, errors too
            dynamodb = backend.client("dynamodb")
            dynamodb.put_item(TableName="fixture-provisioned", Item={"id": {"S": "é ü"}})
            with pytest.raises(ClientError, match="ConditionalCheckFailed"):
                dynamodb.put_item(
                    TableName="fixture-provisioned",
                    Item={"id": {"S": "é ü"}},
                    ConditionExpression="attribute_not_exists(id)",
                )
            with pytest.raises(ClientError, match="ValidationException"):
                dynamodb.get_item(TableName="fixture-provisioned", Key={"nope": {"S": "x"}})
            sqs = backend.client("sqs")
            queue_url = sqs.create_queue(QueueName="direct")["QueueUrl"]
            sqs.send_message(QueueUrl=queue_url, MessageBody="line\nbreak")
            with pytest.raises(ClientError):
                sqs.get_queue_url(QueueName="missing")
            sns = backend.client("sns")
            topic = sns.create_topic(Name="direct")["TopicArn"]
            sns.publish(TopicArn=topic, Message="a&b=c")
            backend.client("events").list_event_buses(Limit=5)
            s3 = backend.client("s3")
            s3.create_bucket(
                Bucket="direct",
                CreateBucketConfiguration={"LocationConstraint": backend.region},
            )
            s3.put_object(Bucket="direct", Key="a b/ü", Body=b"x", Metadata={"my_key": "v"})
            s3.get_object(Bucket="direct", Key="a b/ü")
            s3.list_objects_v2(Bucket="direct", Prefix="a b")
        finally:
            Request.from_primitives = classmethod(built)  # type: ignore[method-assign,assignment]
    assert vars(Request)["from_primitives"].__func__ is moto_builds

    # Then each request built directly is the one moto builds, to the environ's key order
    assert len(seen) == 13
    bodiless = 0
    for args in seen:
        direct = _request_as_seen(built(Request, *args))
        assert direct == _request_as_seen(moto_builds(Request, *args)), args[:2]
        bodiless += not direct["data"]
    assert bodiless >= 2  # the builder's own path was taken too


def _transaction_outcomes(client: Any) -> list[Any]:
    """Transactions naming one table in several operations, cancelled or not, and the table."""
    table = "fixture-provisioned"
    put = {"Put": {"TableName": table, "Item": {"id": {"S": "new"}, "available": {"N": "1"}}}}
    delete = {"Delete": {"TableName": table, "Key": {"id": {"S": "b"}}}}
    for item_id, available in (("a", 3), ("b", 1), ("c", 0)):
        client.put_item(
            TableName=table, Item={"id": {"S": item_id}, "available": {"N": str(available)}}
        )
    transactions = [
        [
            _decrement(table, {"id": {"S": "a"}}, 1),
            delete,
            put,
            _decrement(table, {"id": {"S": "c"}}, 1),
        ],
        [_decrement(table, {"id": {"S": "a"}}, 5), _decrement(table, {"id": {"S": "c"}}, 1)],
        [_decrement(table, {"id": {"S": "a"}}, 1), delete, put],
        [_decrement(table, {"id": {"S": "a"}}, 1), _decrement(table, {"id": {"S": "a"}}, 1)],
        [put],  # exists now: its condition-less put replaces it
        [{**put, "Put": {**put["Put"], "ConditionExpression": "attribute_not_exists(id)"}}],
    ]
    outcomes: list[Any] = []
    for actions in transactions:
        try:
            client.transact_write_items(TransactItems=actions)
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(
                (
                    error.response["Error"]["Code"],
                    error.response["Error"]["Message"],
                    error.response.get("CancellationReasons"),
                )
            )
        outcomes.append(client.scan(TableName=table)["Items"])  # in the table's order
    return outcomes


def test_transactions_backed_up_once_per_table_answer_as_plain_moto(
    backend: AwsBackend, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given transactions naming one table in up to four operations, through the backend,
    # counting the backups it makes
    import localbus.aws_backend as aws_backend

    made: list[str] = []
    new_backup = aws_backend._new_table_backup

    def counting(table: Any, memo: dict[int, Any]) -> Any:
        made.append(table.name)
        return new_backup(table, memo)

    monkeypatch.setattr(aws_backend, "_new_table_backup", counting)
    answered = _transaction_outcomes(backend.client("dynamodb"))
    backend.stop()

    # When the same requests go to plain moto
    expected = _plain_moto_outcomes(template, _transaction_outcomes)

    # Then every answer, cancellation reasons and the table's order after each are the same
    assert answered == expected
    assert [outcome[0] for outcome in expected[::2] if outcome != "ok"] == [
        "TransactionCanceledException",
        "TransactionCanceledException",
        "ValidationException",
        "TransactionCanceledException",
    ]
    # And the table was backed up once per transaction, not once per operation
    assert made == ["fixture-provisioned"] * 6

"""localbus.transform renders a rule target's input as EventBridge delivers it.

Expected strings come from the EventBridge user guide examples, from AWS-recorded LocalStack
snapshots (tests/aws/services/events/test_events_inputs.snapshot.json) and from the InputTemplate
strings aws-cdk-lib 2.275.0 synthesizes; each test names its source where one exists.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from localbus.transform import (
    MAX_INPUT_PATHS,
    InvalidTargetInputError,
    InvalidTransformerError,
    render,
    target_input,
    validate_transformer,
)

RULE_NAME = "notify-customer"
RULE_ARN = f"arn:aws:events:eu-west-1:123456789012:rule/orders-dev/{RULE_NAME}"
RULE = {"rule_arn": RULE_ARN, "rule_name": RULE_NAME}

ORDER_CREATED: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "OrderCreated",
    "source": "com.example.orders",
    "account": "123456789012",
    "time": "2026-03-01T12:00:00Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {
        "orderId": "ORD-20260301-AB12",
        "createdAt": "2026-03-01T11:59:58Z",
        "customer": {"customerId": "CUST-0042", "email": "ada@example.com", "accountAgeDays": 3},
        "items": [
            {"sku": "BOOK-001", "quantity": 2, "unitPrice": 12.5},
            {"sku": "PEN-9", "quantity": 1, "unitPrice": 3},
        ],
        "total": 28.5,
        "currency": "EUR",
        "giftWrap": False,
        "note": None,
        "tags": ["gift", None],
    },
}

# The EC2 event of the user guide's "Input transform examples".
EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
EC2_PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}
EC2_RULE = {
    "rule_arn": "arn:aws:events:us-east-2:123456789012:rule/example",
    "rule_name": "example",
}

# InputTransformers exactly as aws-cdk-lib 2.275.0 synthesizes them (a throwaway synth of
# RuleTargetInput.from_text / from_multiline_text / from_object with EventField.from_path).
CDK_FROM_TEXT = {
    "InputPathsMap": {
        "detail-orderId": "$.detail.orderId",
        "detail-customer-email": "$.detail.customer.email",
        "detail-total": "$.detail.total",
        "detail-currency": "$.detail.currency",
    },
    "InputTemplate": (
        '"Order <detail-orderId> for <detail-customer-email> total <detail-total> '
        '<detail-currency>"'
    ),
}
CDK_FROM_MULTILINE_TEXT = {
    "InputPathsMap": {
        "detail-orderId": "$.detail.orderId",
        "detail-type": "$.detail-type",
        "detail-items": "$.detail.items",
    },
    "InputTemplate": (
        '"Order <detail-orderId> was created"\n"Type: <detail-type>"\n"Items: <detail-items>"'
    ),
}
CDK_FROM_OBJECT = {
    "InputPathsMap": {
        "detail-orderId": "$.detail.orderId",
        "detail-currency": "$.detail.currency",
        "detail-total": "$.detail.total",
        "detail-items": "$.detail.items",
        "detail-items-0--sku": "$.detail.items[0].sku",
        "source": "$.source",
        "time": "$.time",
        "id": "$.id",
        "account": "$.account",
        "region": "$.region",
    },
    "InputTemplate": (
        '{"orderId":<detail-orderId>,"summary":"Order <detail-orderId> in <detail-currency>",'
        '"total":<detail-total>,"items":<detail-items>,"firstSku":<detail-items-0--sku>,'
        '"source":<source>,"time":<time>,"id":<id>,"account":<account>,"region":<region>,'
        '"static":1,"flag":true}'
    ),
}
# RuleTargetInput.from_text('Hello "world"') and from_object({"a": 1, "b": "x"}): constant Input.
CDK_CONSTANT_TEXT_INPUT = '"Hello \\"world\\""'
CDK_CONSTANT_OBJECT_INPUT = '{"a":1,"b":"x"}'


def transformer(template: str, **paths: str) -> dict[str, Any]:
    return {"InputPathsMap": paths, "InputTemplate": template}


# --- Target input forms --------------------------------------------------------------------------


@pytest.mark.parametrize("constant", [CDK_CONSTANT_TEXT_INPUT, CDK_CONSTANT_OBJECT_INPUT])
def test_constant_input_is_delivered_exactly_as_written(constant: str) -> None:
    # Given a target with a constant Input as CDK synthesizes it
    target = {"Id": "Target0", "Input": constant}

    # When EventBridge delivers a matching event
    delivered = target_input(target, ORDER_CREATED, **RULE)

    # Then the target gets the Input text itself, quotes and escapes included
    assert delivered == constant


def test_constant_input_keeps_its_whitespace() -> None:
    # Given a hand-written constant Input with spacing and a newline
    target = {"Id": "T", "Input": '{ "action": "sweep",\n  "dryRun": true }'}

    # When it is delivered
    delivered = target_input(target, ORDER_CREATED, **RULE)

    # Then nothing from the event is added and the text is not re-serialized
    assert delivered == '{ "action": "sweep",\n  "dryRun": true }'


def test_constant_input_that_is_not_json_is_rejected() -> None:
    # Given a constant Input that is bare text (CloudFormation refuses it)
    target = {"Id": "LogTarget", "Input": "hello"}

    # When / Then the reason says the Input is not JSON
    with pytest.raises(InvalidTargetInputError, match="Input for target LogTarget is not a valid"):
        target_input(target, ORDER_CREATED, **RULE)


def test_target_without_input_gets_the_whole_event_as_compact_json() -> None:
    # Given a target with no Input, InputPath or InputTransformer
    target = {"Id": "Audit", "Arn": "arn:aws:sqs:eu-west-1:123456789012:audit"}

    # When the event is delivered
    delivered = target_input(target, ORDER_CREATED, **RULE)

    # Then the body is the event as compact JSON, keys in event order
    assert delivered.startswith('{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718",')
    assert json.loads(delivered) == ORDER_CREATED


@pytest.mark.parametrize(
    ("input_path", "expected"),
    [
        # AWS-recorded: InputPath $.detail.payload.sf_id delivered the body "baz" (quoted).
        ("$.detail.orderId", '"ORD-20260301-AB12"'),
        (
            "$.detail.customer",
            '{"customerId":"CUST-0042","email":"ada@example.com","accountAgeDays":3}',
        ),
        ("$.detail.items[1].quantity", "1"),
        ("$.detail.total", "28.5"),
        ("$.detail.giftWrap", "false"),
        ("$['detail']['currency']", '"EUR"'),
        ("$.detail.items[*].sku", '["BOOK-001","PEN-9"]'),
        ("$.detail.missing", "null"),
    ],
)
def test_input_path_delivers_the_selected_json(input_path: str, expected: str) -> None:
    # Given a target that selects part of the event
    target = {"Id": "T", "InputPath": input_path}

    # When the event is delivered
    delivered = target_input(target, ORDER_CREATED, **RULE)

    # Then the target gets the JSON of the selection
    assert delivered == expected


def test_input_path_of_the_detail_is_the_detail_object() -> None:
    # Given the common InputPath $.detail
    target = {"Id": "T", "InputPath": "$.detail"}

    # When the event is delivered
    delivered = target_input(target, ORDER_CREATED, **RULE)

    # Then the body is exactly the detail as JSON
    assert json.loads(delivered) == ORDER_CREATED["detail"]


def test_input_transformer_target_is_rendered() -> None:
    # Given a target carrying the CDK from_text transformer
    target = {"Id": "T", "InputTransformer": CDK_FROM_TEXT}

    # When the event is delivered
    delivered = target_input(target, ORDER_CREATED, **RULE)

    # Then the target gets the rendered text
    assert delivered == '"Order ORD-20260301-AB12 for ada@example.com total 28.5 EUR"'


@pytest.mark.parametrize(
    "target",
    [
        {"Id": "T1", "Input": "{}", "InputPath": "$.detail"},
        {"Id": "T1", "InputPath": "$.detail", "InputTransformer": CDK_FROM_TEXT},
        {"Id": "T1", "Input": "{}", "InputTransformer": CDK_FROM_TEXT},
    ],
)
def test_a_target_may_set_only_one_input_form(target: dict[str, Any]) -> None:
    # Given a target that sets two input forms
    # When / Then it is rejected with the message PutTargets returns
    with pytest.raises(
        InvalidTargetInputError,
        match=r"Only one of Input, InputPath, or InputTransformer must be provided for target T1\.",
    ):
        target_input(target, ORDER_CREATED, **RULE)


# --- String templates ----------------------------------------------------------------------------


def test_string_template_is_delivered_with_its_quotes() -> None:
    # Given the string template of the AWS-recorded LocalStack test
    template = '"Event of <detail-type> type, at time <timestamp>, info extracted from detail <id>"'
    paths = {"detail-type": "$.detail-type", "timestamp": "$.time", "id": "$.detail.orderId"}

    # When it is rendered
    delivered = render(transformer(template, **paths), ORDER_CREATED, **RULE)

    # Then the values are inserted as text and the surrounding quotes stay (SQS body recorded as
    # "Event of ... update-account", quotes included)
    assert delivered == (
        '"Event of OrderCreated type, at time 2026-03-01T12:00:00Z, '
        'info extracted from detail ORD-20260301-AB12"'
    )


def test_string_template_with_a_missing_path_renders_nothing_for_it() -> None:
    # Given a string template whose variable points at a path the event lacks
    template = '"Event of <detail-type> type, info extracted from detail <command>"'
    paths = {"detail-type": "$.detail-type", "command": "$.detail.notinmessage"}

    # When it is rendered
    delivered = render(transformer(template, **paths), ORDER_CREATED, **RULE)

    # Then the variable becomes empty text (AWS-recorded: "... from detail ")
    assert delivered == '"Event of OrderCreated type, info extracted from detail "'


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # User guide, "Simple string".
        ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
        # User guide, "String with escaped quotes": the template's escapes reach the target.
        (
            '"instance \\"<instance>\\" is in <state>"',
            '"instance \\"i-0123456789\\" is in RUNNING"',
        ),
        # User guide, "Including reserved variables in a string".
        ('"<aws.events.rule-name> triggered"', '"example triggered"'),
        # AWS-recorded: characters that start JSON do not make a string template JSON.
        (
            '"{[/Check with special starting characters for <state>"',
            '"{[/Check with special starting characters for RUNNING"',
        ),
    ],
)
def test_user_guide_string_templates(template: str, expected: str) -> None:
    # Given a string template from the user guide and its EC2 event
    # When it is rendered
    delivered = render(transformer(template, **EC2_PATHS), EC2_EVENT, **EC2_RULE)

    # Then the output is the one the guide shows
    assert delivered == expected


@pytest.mark.parametrize(
    ("path", "expected_text"),
    [
        ("$.detail.orderId", "ORD-20260301-AB12"),
        ("$.detail.total", "28.5"),
        ("$.detail.customer.accountAgeDays", "3"),
        ("$.detail.giftWrap", "false"),
        ("$.detail.note", ""),
        ("$.detail.missing", ""),
        ("$.detail.customer", "{customerId:CUST-0042,email:ada@example.com,accountAgeDays:3}"),
        ("$.resources", "[]"),
        ("$.detail.items[*].sku", "[BOOK-001,PEN-9]"),
    ],
)
def test_values_inside_a_string_are_inserted_as_text(path: str, expected_text: str) -> None:
    # Given a string template with one variable of each kind of value
    spec = transformer('"value=<v>."', v=path)

    # When it is rendered
    delivered = render(spec, ORDER_CREATED, **RULE)

    # Then strings go in bare, numbers and booleans as JSON, null and missing as nothing, and
    # objects and arrays as JSON with their quotes removed ("removes any internal quotes")
    assert delivered == f'"value={expected_text}."'


def test_bare_text_template_gets_values_as_text() -> None:
    # Given the API reference's unquoted template "<instance> is in state <status>"
    spec = transformer("<instance> is in state <state>", **EC2_PATHS)

    # When it is rendered
    delivered = render(spec, EC2_EVENT, **EC2_RULE)

    # Then values are inserted as text and no quotes are added
    assert delivered == "i-0123456789 is in state RUNNING"


def test_values_inside_strings_are_not_escaped() -> None:
    # Given a value holding double quotes and a newline, placed inside a string of a JSON template
    event = {**ORDER_CREATED, "detail": {"note": 'say "hi"\nbye'}}
    spec = transformer('{"text": "note: <note>", "raw": <note>}', note="$.detail.note")

    # When it is rendered
    delivered = render(spec, event, **RULE)

    # Then inside the string it goes in unescaped ("EventBridge doesn't escape values extracted by
    # Input Path"), while the unquoted placeholder gets a properly escaped JSON string
    assert delivered == '{"text": "note: say "hi"\nbye", "raw": "say \\"hi\\"\\nbye"}'


def test_non_ascii_text_is_delivered_unescaped() -> None:
    # Given a customer name outside ASCII
    event = {**ORDER_CREATED, "detail": {"name": "Zoë Ångström"}}
    spec = transformer('{"name": <n>, "greeting": "Hej <n>"}', n="$.detail.name")

    # When it is rendered
    delivered = render(spec, event, **RULE)

    # Then the characters arrive as themselves, not as \\u escapes
    assert delivered == '{"name": "Zoë Ångström", "greeting": "Hej Zoë Ångström"}'


# --- JSON templates ------------------------------------------------------------------------------


def test_json_template_with_a_missing_path_renders_an_empty_string() -> None:
    # Given the JSON template of the AWS-recorded LocalStack test, one path missing
    template = '{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}'
    paths = {"detail-type": "$.detail-type", "timestamp": "$.time", "command": "$.detail.nope"}

    # When it is rendered
    delivered = render(transformer(template, **paths), ORDER_CREATED, **RULE)

    # Then strings are quoted, the missing one is "" (AWS-recorded), the layout is kept
    assert delivered == (
        '{"detailType": "OrderCreated",  "time": "2026-03-01T12:00:00Z", "command": ""}'
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # User guide, "Simple JSON".
        (
            '{\n  "instance" : <instance>,\n  "state": <state>\n}',
            '{\n  "instance" : "i-0123456789",\n  "state": "RUNNING"\n}',
        ),
        # User guide, "JSON with strings and variables".
        (
            '{"instance" : <instance>, "state": "<state>", '
            '"instanceStatus": "instance \\"<instance>\\" is in <state>"}',
            '{"instance" : "i-0123456789", "state": "RUNNING", '
            '"instanceStatus": "instance \\"i-0123456789\\" is in RUNNING"}',
        ),
        # User guide, "JSON with a mix of variables and static information".
        (
            '{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
            '{"instance" : "i-0123456789", "state": [ 9, "RUNNING", true ], "Transformed" : "Yes"}',
        ),
        # User guide, "Including reserved variables in JSON" (without the event).
        (
            '{"ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>}',
            '{"ruleArn" : "arn:aws:events:us-east-2:123456789012:rule/example", '
            '"ruleName" : "example"}',
        ),
        # A top-level array is a JSON template too.
        ("[<instance>, <state>]", '["i-0123456789", "RUNNING"]'),
    ],
)
def test_user_guide_json_templates(template: str, expected: str) -> None:
    # Given a JSON template from the user guide and its EC2 event
    # When it is rendered
    delivered = render(transformer(template, **EC2_PATHS), EC2_EVENT, **EC2_RULE)

    # Then the output is the one the guide shows, valid JSON
    assert delivered == expected
    json.loads(delivered)


@pytest.mark.parametrize(
    ("path", "expected_json"),
    [
        ("$.detail.orderId", '"ORD-20260301-AB12"'),
        ("$.detail.total", "28.5"),
        ("$.detail.customer.accountAgeDays", "3"),
        ("$.detail.giftWrap", "false"),
        ("$.detail.note", '""'),
        ("$.detail.missing", '""'),
        (
            "$.detail.items",
            '[{"sku":"BOOK-001","quantity":2,"unitPrice":12.5},'
            '{"sku":"PEN-9","quantity":1,"unitPrice":3}]',
        ),
        ("$.detail.customer.email", '"ada@example.com"'),
        ("$.detail.items[*].quantity", "[2,1]"),
        ("$.detail.customer.*", '["CUST-0042","ada@example.com",3]'),
        ("$.detail.tags[*]", '["gift",null]'),
    ],
)
def test_unquoted_values_in_json_templates_are_json(path: str, expected_json: str) -> None:
    # Given a JSON template with an unquoted variable of each kind of value
    spec = transformer('{"v": <v>}', v=path)

    # When it is rendered
    delivered = render(spec, ORDER_CREATED, **RULE)

    # Then strings are quoted, numbers/booleans/objects/arrays are compact JSON, and null or
    # missing values become ""
    assert delivered == '{"v": ' + expected_json + "}"


def test_predefined_event_variables_are_json_objects() -> None:
    # Given the AWS-recorded template with both event variables unquoted
    spec = {
        "InputTemplate": '{"originalEvent": <aws.events.event>, '
        '"originalEventJson": <aws.events.event.json>}'
    }

    # When it is rendered (no InputPathsMap is needed for predefined variables)
    delivered = render(spec, ORDER_CREATED, **RULE)

    # Then aws.events.event is the event without detail, detail-type renamed detailType, in the
    # key order AWS delivered; aws.events.event.json is the whole event
    rendered = json.loads(delivered)
    assert list(rendered["originalEvent"]) == [
        "id",
        "account",
        "detailType",
        "time",
        "source",
        "region",
        "resources",
        "version",
    ]
    assert rendered["originalEvent"]["detailType"] == "OrderCreated"
    assert rendered["originalEventJson"] == ORDER_CREATED
    assert delivered.startswith('{"originalEvent": {"id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718",')


def test_predefined_string_variables() -> None:
    # Given the AWS-recorded template using the rule and ingestion-time variables
    spec = {
        "InputTemplate": '"Message containing all pre defined variables <aws.events.rule-arn> '
        '<aws.events.rule-name> <aws.events.event.ingestion-time>"'
    }

    # When it is rendered with an explicit ingestion time
    delivered = render(spec, ORDER_CREATED, **RULE, ingestion_time="2026-03-01T12:00:01Z")

    # Then each variable is replaced by its text
    assert delivered == (
        '"Message containing all pre defined variables '
        f'{RULE_ARN} {RULE_NAME} 2026-03-01T12:00:01Z"'
    )


def test_ingestion_time_defaults_to_the_event_time() -> None:
    # Given no ingestion time from the bus
    spec = {"InputTemplate": '{"received": <aws.events.event.ingestion-time>}'}

    # When it is rendered
    delivered = render(spec, ORDER_CREATED, **RULE)

    # Then the event's own time stands in for it
    assert delivered == '{"received": "2026-03-01T12:00:00Z"}'


# --- Templates CDK generates ---------------------------------------------------------------------


def test_cdk_from_text_template() -> None:
    # Given RuleTargetInput.from_text with EventFields, as CDK synthesizes it
    # When it is rendered
    delivered = render(CDK_FROM_TEXT, ORDER_CREATED, **RULE)

    # Then SNS/SQS get the text in its JSON quotes
    assert delivered == '"Order ORD-20260301-AB12 for ada@example.com total 28.5 EUR"'


def test_cdk_from_multiline_text_template() -> None:
    # Given RuleTargetInput.from_multiline_text: one JSON string literal per line
    # When it is rendered
    delivered = render(CDK_FROM_MULTILINE_TEXT, ORDER_CREATED, **RULE)

    # Then every line keeps its own quotes and the array loses its inner quotes
    assert delivered == (
        '"Order ORD-20260301-AB12 was created"\n'
        '"Type: OrderCreated"\n'
        '"Items: [{sku:BOOK-001,quantity:2,unitPrice:12.5},{sku:PEN-9,quantity:1,unitPrice:3}]"'
    )


def test_cdk_from_object_template() -> None:
    # Given RuleTargetInput.from_object with EventFields (CDK unquotes whole-field placeholders)
    # When it is rendered
    delivered = render(CDK_FROM_OBJECT, ORDER_CREATED, **RULE)

    # Then the result is the JSON the object describes, fields filled from the event
    assert delivered == (
        '{"orderId":"ORD-20260301-AB12","summary":"Order ORD-20260301-AB12 in EUR",'
        '"total":28.5,"items":[{"sku":"BOOK-001","quantity":2,"unitPrice":12.5},'
        '{"sku":"PEN-9","quantity":1,"unitPrice":3}],"firstSku":"BOOK-001",'
        '"source":"com.example.orders","time":"2026-03-01T12:00:00Z",'
        '"id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","account":"123456789012",'
        '"region":"eu-west-1","static":1,"flag":true}'
    )


@pytest.mark.parametrize("spec", [CDK_FROM_TEXT, CDK_FROM_MULTILINE_TEXT, CDK_FROM_OBJECT])
def test_cdk_transformers_validate(spec: dict[str, Any]) -> None:
    # Given a transformer CDK synthesizes
    # When / Then it passes validation (no exception)
    validate_transformer(spec)


# --- Invalid transformers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (
            transformer('"Event of <detail-type> with <notdefinedkey>"', **{"detail-type": "$.x"}),
            "invalid placeholder notdefinedkey",
        ),
        (
            {"InputPathsMap": {"aws.events.rule-name": "$.id"}, "InputTemplate": '"x"'},
            "reserved for predefined variables",
        ),
        ({"InputPathsMap": {"AWS.thing": "$.id"}, "InputTemplate": '"x"'}, "'AWS.thing'"),
        (
            {"InputPathsMap": {"order id": "$.detail.orderId"}, "InputTemplate": '"x"'},
            "use only letters, digits, '_' and '-'",
        ),
        (
            {"InputPathsMap": {f"v{n}": "$.id" for n in range(101)}, "InputTemplate": '"x"'},
            f"101 entries; at most {MAX_INPUT_PATHS}",
        ),
        (transformer('"<o>"', o="detail.orderId"), "must start with '$'"),
        (transformer('"<o>"', o="$.detail..orderId"), "not a valid JSONPath"),
        (transformer('"<o>"', o="$.detail.items[-1]"), "not a valid JSONPath"),
        (transformer('"<o>"', o="$['detail']"), "not a valid JSONPath"),
        (transformer('"<o>"', o="$.detail.order id"), "not a valid JSONPath at ' id'"),
        (transformer('{"<o>": 1}', o="$.id"), "cannot be used as an object key"),
        (transformer('{"id": <o>,}', o="$.id"), "not valid JSON"),
        ({"InputTemplate": '"event <aws.events.event.json>"'}, "only be used as the value"),
        ({"InputTemplate": '{"e": "<aws.events.event>"}'}, "only be used as the value"),
        ({"InputTemplate": ""}, "1 to 8192 characters"),
        ({"InputTemplate": '"' + "x" * 8192 + '"'}, "1 to 8192 characters"),
        ({"InputPathsMap": {"a": "$.id"}}, "requires InputTemplate"),
        ({"InputTemplate": {"Fn::Join": ["", ['"', "x", '"']]}}, "resolve CloudFormation"),
        ({"InputTemplate": '"x"', "InputPath": "$.id"}, "unknown properties ['InputPath']"),
    ],
)
def test_invalid_transformer_is_rejected_with_its_reason(spec: dict[str, Any], reason: str) -> None:
    # Given a transformer EventBridge would not accept
    # When it is validated or rendered
    # Then both raise InvalidTransformerError (a ValueError) naming what is wrong
    with pytest.raises(InvalidTransformerError, match=re.escape(reason)):
        validate_transformer(spec)
    with pytest.raises(ValueError, match=re.escape(reason)):
        render(spec, ORDER_CREATED, **RULE)


def test_exactly_one_hundred_variables_are_allowed() -> None:
    # Given the maximum number of variables, all used
    paths = {f"v{n}": "$.detail.currency" for n in range(MAX_INPUT_PATHS)}
    spec = {"InputPathsMap": paths, "InputTemplate": '"' + "".join(f"<{k}>" for k in paths) + '"'}

    # When it is rendered
    delivered = render(spec, ORDER_CREATED, **RULE)

    # Then every variable is filled
    assert delivered == '"' + "EUR" * MAX_INPUT_PATHS + '"'


def test_angle_brackets_that_are_not_placeholders_stay_literal() -> None:
    # Given a string template with comparison signs around blanks
    spec = transformer('"total < 100 and > 10: <t>"', t="$.detail.total")

    # When it is rendered
    delivered = render(spec, ORDER_CREATED, **RULE)

    # Then only <t> is replaced
    assert delivered == '"total < 100 and > 10: 28.5"'


# --- Further documented cases (fidelity audit) ---------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "template", "expected"),
    [
        pytest.param(
            {"detail-type": "$.detail-type"},
            '"This event was of <detail-type> type."',
            '"This event was of EC2 Instance State-change Notification type."',
            # User guide, "Tutorial: Use input transformers": the SNS message keeps its quotes.
            id="tutorial-string-template-keeps-its-quotes",
        ),
        pytest.param(
            EC2_PATHS,
            '<instance> is in state "<state>"',
            'i-0123456789 is in state "RUNNING"',
            # API reference InputTransformer: "include quote marks within a JSON string".
            id="api-reference-bare-text-with-quote-marks",
        ),
        pytest.param(
            EC2_PATHS,
            '{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<state>\\""}',
            '{"myInstance": "i-0123456789","myStatus": "i-0123456789 is in state \\"RUNNING\\""}',
            # API reference InputTransformer: "valid JSON with variables in quotes or out".
            id="api-reference-json-with-variables-in-quotes-or-out",
        ),
        pytest.param(
            {"detail": "$.detail"},
            '{"detail": <detail>}',
            '{"detail": {"instance-id":"i-0123456789","state":"RUNNING"}}',
            # User guide, common issues: "to output a JSON object ... place it as a key".
            id="object-variable-as-a-json-field-value-keeps-its-quotes",
        ),
        pytest.param(
            {"first": "$.resources[0]"},
            '{"resource": <first>}',
            '{"resource": "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"}',
            # User guide, supported JSONPath syntax: array indices.
            id="array-index-path",
        ),
        pytest.param(
            {},
            '{"action": "sweep", "dryRun": true}',
            '{"action": "sweep", "dryRun": true}',
            # InputPathsMap is optional (API model): a template without placeholders is constant.
            id="json-template-without-placeholders-is-delivered-as-written",
        ),
        pytest.param(
            {},
            '"Scheduled sweep"',
            '"Scheduled sweep"',
            id="string-template-without-placeholders-is-delivered-as-written",
        ),
    ],
)
def test_documented_templates(paths: dict[str, str], template: str, expected: str) -> None:
    # Given a template from AWS's documentation and the user guide's EC2 event
    spec = transformer(template, **paths)

    # When it is rendered
    delivered = render(spec, EC2_EVENT, **EC2_RULE)

    # Then the output is the one the documentation describes
    assert delivered == expected


@pytest.mark.parametrize(
    ("key", "path"),
    [
        # User guide, supported JSONPath syntax: "dashes", "underscores", "alphanumeric
        # characters", "forward slashes".
        pytest.param("aws/service", "$.detail.aws/service", id="forward-slash"),
        pytest.param("snake_case_2", "$.detail.snake_case_2", id="underscore-and-digit"),
        pytest.param("kebab-case", "$.detail.kebab-case", id="dash"),
    ],
)
def test_documented_path_characters_select_their_key(key: str, path: str) -> None:
    # Given an event whose detail key uses one of the documented path characters
    event = {**EC2_EVENT, "detail": {key: "found"}}
    spec = transformer('{"v": <v>}', v=path)

    # When it is rendered
    delivered = render(spec, event, **EC2_RULE)

    # Then the path selects that key
    assert delivered == '{"v": "found"}'


def test_object_variable_inside_a_string_loses_its_inner_quotes() -> None:
    # Given the user guide's common issue: "Detail is <detail>" with <detail> at $.detail
    spec = transformer('"Detail is <detail>"', detail="$.detail")

    # When it is rendered
    delivered = render(spec, EC2_EVENT, **EC2_RULE)

    # Then "EventBridge removes any internal quotes to ensure a valid string": only the
    # template's own two quotes remain (the guide's spacing, "{key1: value1}", is illustrative)
    assert delivered.startswith('"Detail is {') and delivered.endswith('}"')
    assert delivered.count('"') == 2
    assert "instance-id:i-0123456789" in delivered and "state:RUNNING" in delivered


def test_user_guide_reserved_variables_with_the_whole_event() -> None:
    # Given the user guide's template mixing string and object variables (common issues)
    spec = {
        "InputTemplate": '{"ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>, '
        '"originalEvent" : <aws.events.event.json>}'
    }

    # When it is rendered
    delivered = render(spec, EC2_EVENT, **EC2_RULE)

    # Then "EventBridge automatically adds quotes to string variable values" and none to the
    # event object, so the result is valid JSON holding the whole event
    assert json.loads(delivered) == {
        "ruleArn": "arn:aws:events:us-east-2:123456789012:rule/example",
        "ruleName": "example",
        "originalEvent": EC2_EVENT,
    }
    assert delivered.startswith(
        '{"ruleArn" : "arn:aws:events:us-east-2:123456789012:rule/example", '
        '"ruleName" : "example", "originalEvent" : {'
    )


def test_template_of_the_maximum_length_is_accepted() -> None:
    # Given an InputTemplate of exactly 8192 characters (API model: max length 8192)
    template = '"' + "x" * 8190 + '"'

    # When it is rendered
    delivered = render({"InputTemplate": template}, EC2_EVENT, **EC2_RULE)

    # Then it is delivered whole
    assert delivered == template


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        pytest.param(
            transformer("{<o>: 1}", o="$.id"),
            "cannot be used as an object key",
            # API reference InputTransformer: "The placeholder cannot be used as an object key."
            id="unquoted-placeholder-as-object-key",
        ),
        pytest.param(
            transformer('{"a": {"b": 1, <o> : 2}}', o="$.id"),
            "cannot be used as an object key",
            id="unquoted-placeholder-as-nested-object-key",
        ),
        pytest.param(
            {"InputTemplate": "<aws.events.event>"},
            "only be used as the value",
            # User guide, predefined variables: "Can only be used as a value for a JSON field".
            id="event-variable-as-a-bare-text-template",
        ),
        pytest.param(
            {"InputPathsMap": {"k" * 257: "$.id"}, "InputTemplate": '"x"'},
            "longer than 256",
            # API model: InputTransformerPathKey max length 256.
            id="paths-map-key-longer-than-256",
        ),
        pytest.param(
            transformer('"<o>"', o="$." + "a" * 255),
            "longer than 256",
            # API model: TargetInputPath (the InputPathsMap value) max length 256.
            id="paths-map-path-longer-than-256",
        ),
    ],
)
def test_more_invalid_transformers_are_rejected(spec: dict[str, Any], reason: str) -> None:
    # Given a transformer AWS's documentation or API model rules out
    # When it is validated
    # Then InvalidTransformerError names what is wrong
    with pytest.raises(InvalidTransformerError, match=re.escape(reason)):
        validate_transformer(spec)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        pytest.param(
            {"Id": "T", "InputPath": "detail.orderId"},
            "InputPath for target T: 'detail.orderId' is not a valid JSONPath",
            id="input-path-without-root",
        ),
        pytest.param(
            {"Id": "T", "InputPath": "$." + "a" * 255},
            "InputPath for target T: JSONPath",
            # API model: TargetInputPath max length 256.
            id="input-path-longer-than-256",
        ),
        pytest.param(
            {"Id": "T", "Input": '"' + "x" * 8191 + '"'},
            "Input for target T is longer than 8192 characters",
            # API model: TargetInput max length 8192.
            id="constant-input-longer-than-8192",
        ),
    ],
)
def test_invalid_target_inputs_name_the_target_and_the_property(
    target: dict[str, Any], reason: str
) -> None:
    # Given a target whose InputPath or Input the API would reject
    # When its input is rendered
    # Then the error names the property and the target (not an InputTransformer)
    with pytest.raises(InvalidTargetInputError, match=re.escape(reason)) as raised:
        target_input(target, ORDER_CREATED, **RULE)
    assert not isinstance(raised.value, InvalidTransformerError)

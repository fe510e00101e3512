"""localbus.intrinsics: Ref, Fn::GetAtt and the Fn:: functions as a deployment resolves them."""

from __future__ import annotations

from typing import Any

import pytest

from localbus.intrinsics import Resolver, Unresolved, UnsupportedError
from localbus.reporting import Reporter

ACCOUNT, REGION, STACK = "123456789012", "eu-west-1", "Shop-dev"
ARN = f"{REGION}:{ACCOUNT}"


def resolver_for(resources: dict[str, Any], **sections: Any) -> Resolver:
    template = {"Resources": resources, **sections}
    return Resolver(template, stack_name=STACK, reporter=Reporter())


def resource(kind: str, **properties: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": properties}


NAMED = resolver_for(
    {
        "Bus": resource("AWS::Events::EventBus", Name="orders-dev"),
        "BusRule": resource("AWS::Events::Rule", Name="to-inventory", EventBusName={"Ref": "Bus"}),
        "DefaultRule": resource("AWS::Events::Rule", Name="on-default"),
        "Archive": resource("AWS::Events::Archive", ArchiveName="all", SourceArn="x"),
        "Queue": resource("AWS::SQS::Queue", QueueName="work"),
        "Topic": resource("AWS::SNS::Topic", TopicName="alerts"),
        "Function": resource("AWS::Lambda::Function", FunctionName="scorer"),
        "Table": resource(
            "AWS::DynamoDB::Table",
            TableName="history",
            StreamSpecification={"StreamViewType": "NEW_IMAGE"},
        ),
        "Pipe": resource("AWS::Pipes::Pipe", Name="risk"),
        "Role": resource("AWS::IAM::Role", RoleName="runner", Path="/service/"),
        "Logs": resource("AWS::Logs::LogGroup", LogGroupName="/aws/lambda/scorer"),
        "Alarm": resource("AWS::CloudWatch::Alarm", AlarmName="dlq-not-empty"),
        "Registry": resource("AWS::EventSchemas::Registry", RegistryName="orders"),
        "Schema": resource(
            "AWS::EventSchemas::Schema",
            SchemaName="OrderCreated",
            RegistryName={"Fn::GetAtt": ["Registry", "RegistryName"]},
        ),
        "Key": resource("AWS::KMS::Key"),
        "Mapping": resource("AWS::Lambda::EventSourceMapping"),
        "Live": resource("AWS::Lambda::Alias", FunctionName={"Ref": "Function"}, Name="live"),
        "Version": resource("AWS::Lambda::Version", FunctionName={"Ref": "Function"}),
        "Deps": resource("AWS::Lambda::LayerVersion", LayerName="deps"),
        "ByArn": resource(
            "AWS::Lambda::Alias",
            FunctionName={"Fn::GetAtt": ["Function", "Arn"]},
            Name="canary",
        ),
    }
)


@pytest.mark.parametrize(
    ("intrinsic", "expected"),
    [
        ({"Ref": "Bus"}, "orders-dev"),
        ({"Fn::GetAtt": ["Bus", "Arn"]}, f"arn:aws:events:{ARN}:event-bus/orders-dev"),
        ({"Fn::GetAtt": ["Bus", "Name"]}, "orders-dev"),
        ({"Ref": "BusRule"}, "orders-dev|to-inventory"),
        ({"Fn::GetAtt": ["BusRule", "Arn"]}, f"arn:aws:events:{ARN}:rule/orders-dev/to-inventory"),
        ({"Ref": "DefaultRule"}, "on-default"),
        ({"Fn::GetAtt": ["DefaultRule", "Arn"]}, f"arn:aws:events:{ARN}:rule/on-default"),
        ({"Ref": "Archive"}, "all"),
        ({"Fn::GetAtt": ["Archive", "Arn"]}, f"arn:aws:events:{ARN}:archive/all"),
        ({"Ref": "Queue"}, f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/work"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, f"arn:aws:sqs:{ARN}:work"),
        ({"Fn::GetAtt": ["Queue", "QueueName"]}, "work"),
        (
            {"Fn::GetAtt": ["Queue", "QueueUrl"]},
            f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/work",
        ),
        ({"Ref": "Topic"}, f"arn:aws:sns:{ARN}:alerts"),
        ({"Fn::GetAtt": ["Topic", "TopicArn"]}, f"arn:aws:sns:{ARN}:alerts"),
        ({"Fn::GetAtt": ["Topic", "TopicName"]}, "alerts"),
        ({"Ref": "Function"}, "scorer"),
        ({"Fn::GetAtt": ["Function", "Arn"]}, f"arn:aws:lambda:{ARN}:function:scorer"),
        # An alias's and a version's Ref is their ARN (the function's, qualified)
        ({"Ref": "Live"}, f"arn:aws:lambda:{ARN}:function:scorer:live"),
        ({"Fn::GetAtt": ["Live", "AliasArn"]}, f"arn:aws:lambda:{ARN}:function:scorer:live"),
        ({"Ref": "ByArn"}, f"arn:aws:lambda:{ARN}:function:scorer:canary"),
        ({"Ref": "Version"}, f"arn:aws:lambda:{ARN}:function:scorer:1"),
        ({"Fn::GetAtt": ["Version", "Version"]}, "1"),
        ({"Ref": "Deps"}, f"arn:aws:lambda:{ARN}:layer:deps:1"),
        ({"Fn::GetAtt": ["Deps", "LayerVersionArn"]}, f"arn:aws:lambda:{ARN}:layer:deps:1"),
        ({"Ref": "Table"}, "history"),
        ({"Fn::GetAtt": ["Table", "Arn"]}, f"arn:aws:dynamodb:{ARN}:table/history"),
        ({"Ref": "Pipe"}, "risk"),
        ({"Fn::GetAtt": ["Pipe", "Arn"]}, f"arn:aws:pipes:{ARN}:pipe/risk"),
        ({"Ref": "Role"}, "runner"),
        ({"Fn::GetAtt": ["Role", "Arn"]}, f"arn:aws:iam::{ACCOUNT}:role/service/runner"),
        ({"Ref": "Logs"}, "/aws/lambda/scorer"),
        ({"Fn::GetAtt": ["Logs", "Arn"]}, f"arn:aws:logs:{ARN}:log-group:/aws/lambda/scorer:*"),
        ({"Ref": "Alarm"}, "dlq-not-empty"),
        ({"Fn::GetAtt": ["Alarm", "Arn"]}, f"arn:aws:cloudwatch:{ARN}:alarm:dlq-not-empty"),
        ({"Ref": "Registry"}, f"arn:aws:schemas:{ARN}:registry/orders"),
        ({"Fn::GetAtt": ["Registry", "RegistryName"]}, "orders"),
        ({"Ref": "Schema"}, f"arn:aws:schemas:{ARN}:schema/orders/OrderCreated"),
        ({"Fn::GetAtt": ["Schema", "SchemaName"]}, "OrderCreated"),
        ("Bus.Arn", f"arn:aws:events:{ARN}:event-bus/orders-dev"),
    ],
)
def test_ref_and_get_att_return_what_cloudformation_returns(intrinsic: Any, expected: str):
    # Given resources with explicit names  When the intrinsic is resolved
    value = NAMED.resolve({"Fn::GetAtt": intrinsic} if isinstance(intrinsic, str) else intrinsic)

    # Then it is the value CloudFormation gives for that resource type
    assert value == expected


def test_identifiers_without_names_are_stable_per_resource():
    # Given a KMS key, an event source mapping and a stream-enabled table
    key_id = NAMED.resolve({"Ref": "Key"})

    # When their identifiers are resolved  Then they are consistent with each other
    assert NAMED.resolve({"Fn::GetAtt": ["Key", "Arn"]}) == f"arn:aws:kms:{ARN}:key/{key_id}"
    assert NAMED.resolve({"Fn::GetAtt": ["Key", "KeyId"]}) == key_id
    mapping_id = NAMED.resolve({"Ref": "Mapping"})
    assert NAMED.resolve({"Fn::GetAtt": ["Mapping", "Id"]}) == mapping_id
    assert NAMED.resolve({"Fn::GetAtt": ["Table", "StreamArn"]}).startswith(
        f"arn:aws:dynamodb:{ARN}:table/history/stream/"
    )


def test_unnamed_resources_get_deterministic_cloudformation_like_names():
    # Given unnamed resources in two stacks
    resources = {
        "OrdersQueue1A2B3C4D": resource("AWS::SQS::Queue"),
        "Fifo": resource("AWS::SQS::Queue", FifoQueue=True),
        "LongName" + "X" * 90: resource("AWS::Lambda::Function"),
    }
    first, again = resolver_for(resources), resolver_for(resources)
    other = Resolver({"Resources": resources}, stack_name="Other-prod")

    # When their physical names are asked for
    name = first.physical_id("OrdersQueue1A2B3C4D")

    # Then they follow <stack>-<logical id>-<hash>, the same every time, different per stack
    assert name.startswith(f"{STACK}-OrdersQueue1A2B3C4D-")
    assert len(name.rsplit("-", 1)[1]) == 6
    assert again.physical_id("OrdersQueue1A2B3C4D") == name
    assert other.physical_id("OrdersQueue1A2B3C4D") != name
    # And FIFO queues end in .fifo; long names are cut to the service's limit
    assert first.physical_id("Fifo").endswith(".fifo")
    assert len(first.physical_id("LongName" + "X" * 90)) <= 64


def test_sub_resolves_variables_attributes_pseudo_parameters_and_escapes():
    # Given a template with a bus
    resolver = NAMED

    # When Fn::Sub strings are resolved  Then every form is substituted
    assert resolver.resolve({"Fn::Sub": "${Bus}@${AWS::Region}/${AWS::AccountId}"}) == (
        f"orders-dev@{REGION}/{ACCOUNT}"
    )
    assert resolver.resolve({"Fn::Sub": "${Queue.QueueName}"}) == "work"
    assert resolver.resolve({"Fn::Sub": ["${Greeting}, ${Bus}", {"Greeting": "hi"}]}) == (
        "hi, orders-dev"
    )
    assert resolver.resolve({"Fn::Sub": "${!Literal} ${AWS::Partition}"}) == "${Literal} aws"
    assert resolver.resolve({"Fn::Sub": "${AWS::StackName}.${AWS::URLSuffix}"}) == (
        f"{STACK}.amazonaws.com"
    )


def test_list_and_string_functions():
    # Given a template with a mapping
    resolver = resolver_for({}, Mappings={"Stage": {"dev": {"Threshold": 500}}})

    # When list and string functions are resolved  Then they compute as CloudFormation does
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}, 3]]}) == (
        f"a-{REGION}-3"
    )
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolver.resolve({"Fn::GetAZs": ""}) == [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
    assert resolver.resolve({"Fn::FindInMap": ["Stage", "dev", "Threshold"]}) == 500
    assert resolver.resolve({"Fn::Base64": "hi"}) == "aGk="
    assert resolver.resolve({"Fn::ToJsonString": {"a": [1]}}) == '{"a":[1]}'


def test_conditions_choose_values_and_drop_resources():
    # Given a stage parameter, conditions built from it and a prod-only resource
    resolver = resolver_for(
        {
            "Always": resource("AWS::SQS::Queue"),
            "ProdOnly": {"Type": "AWS::SQS::Queue", "Condition": "IsProd"},
        },
        Parameters={"Stage": {"Type": "String", "Default": "dev"}},
        Conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsNotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "DevAndNotProd": {"Fn::And": [{"Condition": "IsNotProd"}, {"Fn::Equals": ["a", "a"]}]},
            "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsNotProd"}]},
        },
    )

    # When conditions and Fn::If are evaluated
    value = resolver.resolve({"Fn::If": ["IsProd", "big", "small"]})

    # Then they follow the parameter's default
    assert value == "small"
    assert [resolver.condition(c) for c in ("IsProd", "IsNotProd", "DevAndNotProd", "Either")] == [
        False,
        True,
        True,
        True,
    ]
    assert list(resolver.resources_of_type("AWS::SQS::Queue")) == ["Always"]


def test_parameter_overrides_win_over_defaults():
    # Given a parameter with a default  When an override is given
    resolver = Resolver(
        {"Parameters": {"Stage": {"Type": "String", "Default": "dev"}}, "Resources": {}},
        parameters={"Stage": "prod"},
    )

    # Then Ref returns the override
    assert resolver.resolve({"Ref": "Stage"}) == "prod"


def test_no_value_removes_the_property_or_list_item():
    # Given values holding AWS::NoValue
    value = {
        "Keep": 1,
        "Drop": {"Ref": "AWS::NoValue"},
        "List": ["a", {"Fn::If": ["No", "b", {"Ref": "AWS::NoValue"}]}],
    }
    resolver = resolver_for({}, Conditions={"No": {"Fn::Equals": ["1", "2"]}})

    # When resolved  Then the key and the list item are gone
    assert resolver.resolve(value) == {"Keep": 1, "List": ["a"]}


def test_unresolvable_intrinsics_are_reported_once():
    # Given a property importing another stack's export
    resolver = resolver_for(
        {"Queue": resource("AWS::SQS::Queue", Tags=[{"Value": {"Fn::ImportValue": "Other"}}])}
    )

    # When resolved strictly  Then it raises, located in the template
    with pytest.raises(UnsupportedError) as raised:
        resolver.properties("Queue", strict=True)
    assert raised.value.where == "Resources.Queue.Properties.Tags[0].Value"
    # And non-strictly (twice) it becomes a placeholder, reported a single time
    for _ in range(2):
        tags = resolver.properties("Queue")["Tags"]
        assert isinstance(tags[0]["Value"], Unresolved)
    messages = resolver.reporter.messages()
    assert len(messages) == 1
    assert (
        "Fn::ImportValue" in messages[0]
        and "Resources.Queue.Properties.Tags[0].Value" in (messages[0])
    )


def test_attributes_of_unmodelled_types_are_reported_not_guessed():
    # Given a custom resource whose attributes only exist after deployment
    resolver = resolver_for({"Custom": {"Type": "Custom::Thing", "Properties": {}}})

    # When one of its attributes is used non-strictly
    value = resolver.resolve({"Fn::GetAtt": ["Custom", "Output"]}, strict=False, where="Outputs")

    # Then a placeholder comes back and the reporter says why
    assert isinstance(value, Unresolved)
    assert any("Custom::Thing" in message for message in resolver.reporter.messages())


def test_logical_ids_are_found_from_arns_urls_and_names():
    # Given resolved identifiers  When looked up  Then the logical id comes back
    assert NAMED.logical_id_for(f"arn:aws:sqs:{ARN}:work") == "Queue"
    assert NAMED.logical_id_for(f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/work") == "Queue"
    assert NAMED.logical_id_for("orders-dev") == "Bus"
    assert NAMED.logical_id_for("nothing") is None


def test_partition_and_url_suffix_follow_the_region():
    # Given a China region  When pseudo parameters are resolved
    resolver = Resolver({"Resources": {}}, region="cn-north-1")

    # Then partition and URL suffix are China's
    assert resolver.resolve({"Ref": "AWS::Partition"}) == "aws-cn"
    assert resolver.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com.cn"


def test_ssm_parameter_types_use_their_default_with_a_note():
    # Given CDK's BootstrapVersion parameter
    resolver = resolver_for(
        {},
        Parameters={
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version",
            }
        },
    )

    # When referenced  Then the default (the parameter's path) is used, and that is noted
    assert resolver.resolve({"Ref": "BootstrapVersion"}) == "/cdk-bootstrap/hnb659fds/version"
    assert any("SSM" in message for message in resolver.reporter.messages())


def test_references_to_resources_that_are_not_created_are_reported():
    # Given a resource whose condition is false
    resolver = resolver_for(
        {"ProdQueue": {"Type": "AWS::SQS::Queue", "Condition": "Never"}},
        Conditions={"Never": {"Fn::Equals": ["a", "b"]}},
    )

    # When something refers to it  Then the reference is reported, not given a made-up value
    value = resolver.resolve({"Fn::GetAtt": ["ProdQueue", "Arn"]}, strict=False, where="Outputs.Q")
    assert isinstance(value, Unresolved)
    assert any("not created" in message for message in resolver.reporter.messages())


def test_transforms_other_than_language_extensions_are_reported():
    # Given a SAM template  When a resolver is made  Then the untransformed template is reported
    reporter = Reporter()
    Resolver({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}}, reporter=reporter)
    assert any("AWS::Serverless-2016-10-31" in message for message in reporter.messages())


def test_s3_bucket_names_refs_and_arns_are_as_cloudformation_gives_them() -> None:
    # A rule's pattern names the bucket by Ref (S3's EventBridge notifications name it so).
    template = {
        "Resources": {
            "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "uploads-dev"}},
            "Unnamed": {"Type": "AWS::S3::Bucket"},
        }
    }
    resolver = Resolver(template, stack_name="MyStack")

    assert resolver.ref("Named") == "uploads-dev"
    assert resolver.get_att("Named", "Arn") == "arn:aws:s3:::uploads-dev"
    assert resolver.get_att("Named", "DomainName") == "uploads-dev.s3.amazonaws.com"
    generated = resolver.ref("Unnamed")
    assert generated.startswith("mystack-unnamed-") and generated == generated.lower()
    assert resolver.logical_id_for(f"arn:aws:s3:::{generated}") == "Unnamed"

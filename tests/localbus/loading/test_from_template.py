"""LocalBus.from_template: template files (YAML/JSON, SAM or plain), folders, cdk.out assemblies."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from localbus import LocalBus
from localbus.loading import TemplateLoadError

HANDLER = textwrap.dedent(
    """\
    import json
    SEEN = []

    def handler(event, context):
        SEEN.append(event)
        print(json.dumps(event))
        return {"ok": True}
    """
)

ENTRY = {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": '{"id": "o-1"}'}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def invocations(bus: LocalBus, function: str) -> list[dict]:
    return [s for s in bus.trace if s["step"] == "delivered" and s["resource"] == function]


def test_a_sam_function_with_an_eventbridge_rule_event_is_invoked_with_the_event(
    tmp_path: Path,
) -> None:
    # Given a SAM app as `sam init` lays it out: template.yaml and the code under src/
    write(tmp_path / "app" / "src" / "app.py", HANDLER)
    template = write(
        tmp_path / "app" / "template.yaml",
        """\
        AWSTemplateFormatVersion: '2010-09-09'
        Transform: AWS::Serverless-2016-10-31
        Globals:
          Function:
            Runtime: python3.12
            Timeout: 5
        Resources:
          OrderFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Handler: app.handler
              Policies:
                - AWSLambdaBasicExecutionRole
                - SQSSendMessagePolicy:
                    QueueName: !GetAtt Queue.QueueName
              Events:
                Placed:
                  Type: EventBridgeRule
                  Properties:
                    Pattern:
                      source: [shop.orders]
                      detail-type: [OrderPlaced]
          Queue:
            Type: AWS::SQS::Queue
        """,
    )

    # When it is loaded from its file and an event is put
    with LocalBus.from_template(template, seed=1) as bus:
        response = bus.put_events(Entries=[ENTRY])
        bus.run_until_idle()

        # Then the rule SAM made routes the event to the function, which ran with it
        assert response["FailedEntryCount"] == 0
        [step] = invocations(bus, "OrderFunction")
        assert step["error"] is None
        assert step["input"]["detail"] == {"id": "o-1"}
        # and the SAM transform is not reported as unsupported: it was expanded
        assert not [m for m in bus.unsupported if "Transform" in m]


def test_a_template_that_only_carries_the_sam_header_gets_no_transform_warning(
    tmp_path: Path,
) -> None:
    template = write(
        tmp_path / "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Queue:
            Type: AWS::SQS::Queue
          Rule:
            Type: AWS::Events::Rule
            Properties:
              EventPattern: {source: [shop.orders]}
              Targets: [{Id: q, Arn: !GetAtt Queue.Arn}]
        """,
    )

    with LocalBus.from_template(template) as bus:
        bus.put_events(Entries=[ENTRY])
        bus.run_until_idle()

        assert bus.unsupported == []
        assert len(bus.queue("Queue").messages()) == 1


def test_sam_keeps_other_transforms_and_reports_them(tmp_path: Path) -> None:
    template = write(
        tmp_path / "template.yaml",
        """\
        Transform: [AWS::Serverless-2016-10-31, Custom::Macro]
        Resources:
          Queue: {Type: AWS::SQS::Queue}
        """,
    )

    with (
        pytest.warns(UserWarning, match="Custom::Macro is not expanded"),
        LocalBus.from_template(template) as bus,
    ):
        assert [m for m in bus.unsupported if "Custom::Macro" in m]
        assert not [m for m in bus.unsupported if "Serverless" in m]


def test_a_plain_lambda_code_path_is_relative_to_the_template(tmp_path: Path) -> None:
    # Given a plain CloudFormation template whose Code is a local folder, as
    # `aws cloudformation package` takes it, with JSON instead of YAML
    write(tmp_path / "stack" / "code" / "index.py", HANDLER)
    template = tmp_path / "stack" / "stack.json"
    template.write_text(
        json.dumps(
            {
                "Parameters": {"Source": {"Type": "String", "Default": "other"}},
                "Resources": {
                    "Fn": {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Code": "code",
                            "Handler": "index.handler",
                            "Runtime": "python3.12",
                            "Role": "arn:aws:iam::123456789012:role/r",
                        },
                    },
                    "Rule": {
                        "Type": "AWS::Events::Rule",
                        "Properties": {
                            "EventPattern": {"source": [{"Ref": "Source"}]},
                            "Targets": [{"Id": "fn", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}],
                        },
                    },
                },
            }
        )
    )

    # When it is loaded from elsewhere, with the parameter the rule needs
    with LocalBus.from_template(template, {"Source": "shop.orders"}) as bus:
        bus.put_events(Entries=[ENTRY])
        bus.run_until_idle()

        # Then the function's code was found next to the template and ran
        [step] = invocations(bus, "Fn")
        assert step["error"] is None


def test_an_undeclared_parameter_is_refused_as_cloudformation_does(tmp_path: Path) -> None:
    template = write(tmp_path / "t.yaml", "Resources:\n  Q: {Type: AWS::SQS::Queue}\n")

    with pytest.raises(TemplateLoadError, match="Stage not declared by the template"):
        LocalBus.from_template(template, {"Stage": "dev"})


def test_a_folder_with_template_yaml_loads_it(tmp_path: Path) -> None:
    write(tmp_path / "template.yaml", "Resources:\n  Q: {Type: AWS::SQS::Queue}\n")

    with LocalBus.from_template(tmp_path) as bus:
        assert list(bus.queues) == ["Q"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p / "missing.yaml", "does not exist"),
        (lambda p: p, "neither a cdk.out manifest.json nor a template file"),
        (lambda p: write(p / "t.yaml", "Resources: [\n"), "not valid YAML"),
    ],
)
def test_unreadable_paths_are_named(tmp_path: Path, setup, message: str) -> None:
    with pytest.raises(TemplateLoadError, match=message):
        LocalBus.from_template(setup(tmp_path))


def test_a_sam_template_the_translator_refuses_says_why(tmp_path: Path) -> None:
    template = write(
        tmp_path / "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Handler: app.handler
              Runtime: python3.12
        """,
    )

    with pytest.raises(TemplateLoadError, match=r"template\.yaml: the SAM translator refused"):
        LocalBus.from_template(template)


def _assembly(root: Path) -> Path:
    """A cdk.out with two stacks: Shared exports its queue's ARN, Routing's rule imports it.
    Both carry CDK's CDKMetadata resource and BootstrapVersion parameter (same logical ids)."""
    cdk_metadata = {"CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {}}}
    bootstrap = {"BootstrapVersion": {"Type": "String", "Default": "/cdk-bootstrap/version"}}
    shared = {
        "Parameters": bootstrap,
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}, **cdk_metadata},
        "Outputs": {
            "QueueArn": {
                "Value": {"Fn::GetAtt": ["Queue", "Arn"]},
                "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-queue-arn"}},
            }
        },
    }
    routing = {
        "Parameters": bootstrap,
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "shop"}},
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventBusName": {"Ref": "Bus"},
                    "EventPattern": {"source": ["shop.orders"]},
                    "Targets": [{"Id": "q", "Arn": {"Fn::ImportValue": "Shared-queue-arn"}}],
                },
            },
            "Queue": {"Type": "AWS::SQS::Queue"},  # same logical id as Shared's queue
            **cdk_metadata,
        },
    }
    root.mkdir()
    artifacts = {}
    for name, template in (("Shared", shared), ("Routing", routing)):
        (root / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://unknown-account/unknown-region",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    (root / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": artifacts}))
    return root


def test_every_stack_of_an_assembly_loads_into_one_bus_with_imports_resolved(
    tmp_path: Path,
) -> None:
    # Given a cdk.out whose second stack's rule targets the first stack's queue by import
    cdk_out = _assembly(tmp_path / "cdk.out")

    # When the whole assembly is loaded and an event put on the second stack's bus
    with LocalBus.from_template(cdk_out, seed=1) as bus:
        bus.put_events(Entries=[{**ENTRY, "EventBusName": "shop"}])
        bus.run_until_idle()

        # Then it lands in the first stack's queue, named as CloudFormation names it there
        shared_queue = bus.queue("Queue")
        assert shared_queue.ref.name.startswith("Shared-Queue-")
        assert len(shared_queue.messages()) == 1
        # and the second stack's own queue, renamed apart, keeps its own stack's name
        assert bus.queue("RoutingQueue").ref.name.startswith("Routing-Queue-")
        assert bus.queue("RoutingQueue").messages() == []
        assert not [m for m in bus.unsupported if "ImportValue" in m]


def test_one_stack_of_an_assembly_can_be_picked(tmp_path: Path) -> None:
    cdk_out = _assembly(tmp_path / "cdk.out")

    with LocalBus.from_template(cdk_out, stack="Shared") as bus:
        assert list(bus.queues) == ["Queue"]
        assert list(bus.rules) == []

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


def test_a_code_path_naming_one_file_runs_as_the_zip_of_that_file(tmp_path: Path) -> None:
    # Given a SAM function whose CodeUri is one .py file (serverless-patterns'
    # cloudtrail-eventbridge-lambda-dynamodb-sam: `CodeUri: src/function.py`). `sam package`
    # and `aws cloudformation package` zip a function's code even when it is one file
    # (FORCE_ZIP), so the function runs with that file at the root of its code.
    write(tmp_path / "app" / "src" / "function.py", HANDLER)
    write(tmp_path / "app" / "src" / "other.py", "raise RuntimeError('not in the zip')\n")
    template = write(
        tmp_path / "app" / "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/function.py
              Handler: function.handler
              Runtime: python3.12
              Events:
                Placed:
                  Type: EventBridgeRule
                  Properties:
                    Pattern: {source: [shop.orders]}
        """,
    )

    # When it is loaded and an event is put
    with LocalBus.from_template(template, seed=1) as bus:
        assert bus.unsupported == []
        bus.put_events(Entries=[ENTRY])
        bus.run_until_idle()

        # Then the function ran from a folder holding that file alone
        [step] = invocations(bus, "Fn")
        assert step["error"] is None
        code_dir = Path(bus.lambdas._runtime.specs["Fn"].asset_dir)
        assert sorted(path.name for path in code_dir.iterdir()) == ["function.py"]


def test_a_sam_function_with_autopublishalias_is_invoked_through_its_alias(
    tmp_path: Path,
) -> None:
    # Given a SAM function with AutoPublishAlias, as gradual deployments have it: SAM points
    # its EventBridgeRule target and its SQS event source mapping at the alias (Ref of an
    # AWS::Lambda::Alias, whose Ref is the alias ARN, function:<name>:live)
    write(tmp_path / "app" / "src" / "app.py", HANDLER)
    template = write(
        tmp_path / "app" / "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Handler: app.handler
              Runtime: python3.12
              AutoPublishAlias: live
              Events:
                Placed:
                  Type: EventBridgeRule
                  Properties:
                    Pattern: {source: [shop.orders]}
                Queued:
                  Type: SQS
                  Properties:
                    Queue: !GetAtt Work.Arn
          Work:
            Type: AWS::SQS::Queue
        """,
    )

    # When an event is put and a message is sent
    with LocalBus.from_template(template, seed=1) as bus:
        assert bus.unsupported == []
        alias = bus.resolver.ref("FnAliaslive")
        assert alias == f"{bus.resolver.arn('Fn')}:live"
        assert bus.template["Resources"]["FnPlaced"]["Properties"]["Targets"][0]["Arn"] == {
            "Ref": "FnAliaslive"
        }
        bus.put_events(Entries=[ENTRY])
        bus.queue("Work").send('{"id": "m-1"}')
        bus.run_until_idle()

        # Then both reached the function (locally every invocation runs $LATEST)
        steps = invocations(bus, "Fn")
        assert [step["error"] for step in steps] == [None, None]
        assert bus.queue("Work").messages() == []


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


def test_sam_sqs_and_sns_events_become_a_mapping_and_a_subscription(tmp_path: Path) -> None:
    # Given SAM functions fed by an SQS queue (event source mapping) and an SNS topic
    write(tmp_path / "src" / "app.py", HANDLER)
    template = write(
        tmp_path / "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Globals:
          Function: {Runtime: python3.12, CodeUri: src/, Handler: app.handler}
        Resources:
          Jobs: {Type: AWS::SQS::Queue}
          Alerts: {Type: AWS::SNS::Topic}
          Worker:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Batch: {Type: SQS, Properties: {Queue: !GetAtt Jobs.Arn, BatchSize: 5}}
          Notifier:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Alert: {Type: SNS, Properties: {Topic: !Ref Alerts}}
        """,
    )

    with LocalBus.from_template(template, seed=1) as bus:
        # When a message is sent to the queue and one published to the topic
        bus.queue("Jobs").send('{"job": 1}')
        bus.topic("Alerts").publish("hello")
        bus.run_until_idle()

        # Then each function ran once, with the SQS record and the SNS notification
        [record] = invocations(bus, "Worker")
        assert record["input"]["body"] == '{"job": 1}'  # the batch's one record
        [notification] = invocations(bus, "Notifier")
        assert notification["input"]["Records"][0]["Sns"]["Message"] == "hello"
        assert bus.unsupported == []


def test_sam_expansion_needs_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a SAM function with managed policies by name and a policy template, and no network
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network used: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    write(tmp_path / "src" / "app.py", HANDLER)
    template = write(
        tmp_path / "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Handler: app.handler
              Runtime: python3.12
              Policies: [AWSLambdaBasicExecutionRole, AmazonSQSFullAccess]
        """,
    )

    # When it is expanded, Then the managed policies come from the translator's own list
    with LocalBus.from_template(template) as bus:
        role = next(r for r in bus.template["Resources"].values() if r["Type"] == "AWS::IAM::Role")
        arns = role["Properties"]["ManagedPolicyArns"]
        assert "arn:aws:iam::aws:policy/AmazonSQSFullAccess" in arns
        assert bus.functions == {"Fn"}


MULTISTACK = Path(__file__).parents[1] / "fixtures" / "multistack" / "cdk.out"


def test_a_cdk_app_s_stacks_share_a_bus_through_cdk_s_own_exports_and_imports() -> None:
    # Given a cdk.out synthesized by CDK (fixtures/multistack/app.py): Consumers' rule sits on
    # Shared's bus, named through CDK's Export / Fn::ImportValue; both stacks have a queue
    # with the same logical id
    with LocalBus.from_template(MULTISTACK, seed=1) as bus:
        # When an event is put on Shared's bus, by the name CloudFormation gives it there
        bus_name = bus.buses[next(lid for lid in bus.buses if lid.startswith("Bus"))].ref.name
        assert bus_name == "SharedBusC163BEF1"  # the Name CDK gives an unnamed EventBus
        bus.put_events(Entries=[{**ENTRY, "EventBusName": bus_name}])
        bus.run_until_idle()

        # Then Consumers' rule matched it: its function ran and its queue (not Shared's) has it
        function = next(iter(bus.functions))
        [step] = invocations(bus, function)
        assert step["error"] is None
        consumers_queue = bus.queue("ConsumersAudit3D8ADE0A")
        assert consumers_queue.ref.name.startswith("Consumers-Audit")
        assert len(consumers_queue.messages()) == 1
        assert bus.queue("Audit3D8ADE0A").messages() == []
        assert not [m for m in bus.unsupported if "ImportValue" in m]


def test_stack_names_the_stack_a_template_file_is_deployed_as(tmp_path: Path) -> None:
    template = write(
        tmp_path / "template.yaml",
        """\
        Resources:
          Queue:
            Type: AWS::SQS::Queue
            Properties: {QueueName: !Sub "${AWS::StackName}-jobs"}
        """,
    )

    # the folder's name by default (as a template.yaml is usually deployed; a stack name
    # holds letters, digits and hyphens only), else the given one
    with LocalBus.from_template(template) as bus:
        assert bus.queue("Queue").ref.name == tmp_path.name.replace("_", "-") + "-jobs"
    with LocalBus.from_template(template, stack="orders-dev") as bus:
        assert bus.queue("Queue").ref.name == "orders-dev-jobs"


def test_local_nested_stacks_load_with_their_parameters_and_outputs(tmp_path: Path) -> None:
    # Given a SAM parent with a nested application (local Location) and a nested stack (local
    # TemplateURL, as `aws cloudformation package` takes it): the parent passes its bus name
    # and its queue's ARN down, and routes to the queue the second child outputs
    write(tmp_path / "app" / "src" / "app.py", HANDLER)
    write(
        tmp_path / "app" / "routing" / "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          BusName: {Type: String}
          Stage: {Type: String, Default: test}
        Resources:
          Handler:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: ../src/
              Handler: app.handler
              Runtime: python3.12
              Events:
                Placed:
                  Type: EventBridgeRule
                  Properties:
                    EventBusName: !Ref BusName
                    Pattern: {source: [shop.orders]}
        """,
    )
    write(
        tmp_path / "app" / "queues.yaml",
        """\
        Parameters:
          Stage: {Type: String}
        Resources:
          Archive:
            Type: AWS::SQS::Queue
            Properties: {QueueName: !Sub "archive-${Stage}"}
        Outputs:
          ArchiveArn: {Value: !GetAtt Archive.Arn}
        """,
    )
    parent = write(
        tmp_path / "app" / "template.yaml",
        """\
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          Stage: {Type: String, Default: dev}
        Resources:
          Bus: {Type: AWS::Events::EventBus, Properties: {Name: !Sub "shop-${Stage}"}}
          Routing:
            Type: AWS::Serverless::Application
            Properties:
              Location: routing/template.yaml
              Parameters: {BusName: !Ref Bus}
          Queues:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: ./queues.yaml
              Parameters: {Stage: !Ref Stage}
          ToArchive:
            Type: AWS::Events::Rule
            Properties:
              EventBusName: !Ref Bus
              EventPattern: {source: [shop.orders]}
              Targets: [{Id: archive, Arn: !GetAtt Queues.Outputs.ArchiveArn}]
        """,
    )

    # When it is loaded with Stage=prod and an event put on the parent's bus
    with LocalBus.from_template(parent, {"Stage": "prod"}, seed=1) as bus:
        bus.put_events(Entries=[{**ENTRY, "EventBusName": "shop-prod"}])
        bus.run_until_idle()

        # Then the nested application's function ran (its rule is on the bus passed down, its
        # code found next to its own template) and the nested stack's queue, named with the
        # Stage passed down (not the child's own parameter of the same name), got the event
        [function] = bus.functions
        [step] = invocations(bus, function)
        assert step["error"] is None
        assert len(bus.queue("archive-prod").messages()) == 1
        assert not [m for m in bus.unsupported if "AWS::CloudFormation::Stack" in m]


def test_a_missing_nested_template_is_named_with_its_resource(tmp_path: Path) -> None:
    parent = write(
        tmp_path / "template.yaml",
        """\
        Resources:
          Child:
            Type: AWS::CloudFormation::Stack
            Properties: {TemplateURL: nested/missing.yaml}
        """,
    )

    with pytest.raises(TemplateLoadError, match=r"Resources\.Child\.Properties\.TemplateURL: .*"):
        LocalBus.from_template(parent)


def test_a_template_that_nests_itself_is_stopped(tmp_path: Path) -> None:
    parent = write(
        tmp_path / "template.yaml",
        """\
        Resources:
          Again:
            Type: AWS::CloudFormation::Stack
            Properties: {TemplateURL: ./template.yaml}
        """,
    )

    with pytest.raises(TemplateLoadError, match="nested more than 10 levels deep"):
        LocalBus.from_template(parent)


def test_stacks_in_other_accounts_or_regions_are_reported(tmp_path: Path) -> None:
    cdk_out = _assembly(tmp_path / "cdk.out")
    manifest = json.loads((cdk_out / "manifest.json").read_text())
    manifest["artifacts"]["Routing"]["environment"] = "aws://210987654321/us-east-1"
    (cdk_out / "manifest.json").write_text(json.dumps(manifest))

    with (
        pytest.warns(UserWarning, match="Routing: stack environment"),
        LocalBus.from_template(cdk_out) as bus,
    ):
        assert any("210987654321/us-east-1 runs as Shared's" in m for m in bus.unsupported)

"""The optional Kafka ingest pipe: absent by default; with the Kafka keys, a CfnPipe from the
topic through the kafka-adapter to the bus, a rejects queue (alarmed), a least-privilege role,
and the template still clean for cdk-nag, cfn-lint and checkov."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KAFKA_TOPIC
from tests.infra.conftest import Cfn, cdk_json_context, ref_id
from tests.infra.test_nag_and_lint import lint_errors

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
PIPE_NAME = "orders-dev-kafka-ingest"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-orders-AbCdEf"
CLUSTER_ARN = (
    "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0b1c2d3e-4f50-6789-abcd-ef0123456789-1"
)


def kafka_pipe(cfn: Cfn) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in cfn.of_type("AWS::Pipes::Pipe").items()
        if resource["Properties"]["Name"] == PIPE_NAME
    ]
    return found


def role_statements(cfn: Cfn, role_id: str) -> dict[str, dict[str, Any]]:
    role = cfn.props(role_id)
    return {
        statement["Sid"]: statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    }


@pytest.fixture(scope="module")
def kcfn(kafka_template: dict[str, Any]) -> Cfn:
    return Cfn(kafka_template)


def test_no_kafka_pipe_without_the_kafka_keys(cfn: Cfn) -> None:
    names = [r["Properties"]["Name"] for r in cfn.of_type("AWS::Pipes::Pipe").values()]
    assert PIPE_NAME not in names
    assert not [lid for lid in cfn.resources if "Kafka" in lid]


def test_the_pipe_reads_the_topic_and_enriches_with_the_adapter(
    kcfn: Cfn, kafka_stage_keys: dict[str, Any]
) -> None:
    # Given the dev stage synthesized with kafkaBootstrapServers and kafkaTopic
    _, pipe = kafka_pipe(kcfn)

    # Then the source is the self-managed cluster at those servers, read from the start
    assert pipe["Source"] == f"smk://{kafka_stage_keys['kafkaBootstrapServers']}"
    params = pipe["SourceParameters"]["SelfManagedKafkaParameters"]
    assert params == {
        "TopicName": KAFKA_TOPIC,
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 10,
        "ConsumerGroupID": PIPE_NAME,
    }
    # And the enrichment is the kafka-adapter function
    adapter_id = ref_id(pipe["Enrichment"])
    assert kcfn.props(adapter_id)["Handler"] == "kafka_adapter.handler.handler"


def test_the_target_is_the_bus_with_each_records_detail_type(kcfn: Cfn) -> None:
    _, pipe = kafka_pipe(kcfn)
    assert kcfn.type_of(pipe["Target"]) == "AWS::Events::EventBus"
    assert pipe["TargetParameters"] == {
        "InputTemplate": "<$.detail>",
        "EventBridgeEventBusParameters": {
            "DetailType": "$.detailType",
            "Source": "com.example.orders",
        },
    }
    assert pipe["LogConfiguration"]["Level"] == "ERROR"


def test_rejects_go_to_an_alarmed_queue_the_adapter_may_send_to(kcfn: Cfn) -> None:
    # Given the adapter and the queue named in its REJECT_QUEUE_URL
    _, pipe = kafka_pipe(kcfn)
    adapter_id = ref_id(pipe["Enrichment"])
    env = kcfn.props(adapter_id)["Environment"]["Variables"]
    queue_id = ref_id(env["REJECT_QUEUE_URL"])

    # Then it is an SQS queue whose logical id says what it holds
    assert kcfn.resources[queue_id]["Type"] == "AWS::SQS::Queue"
    assert "Reject" in queue_id
    # And an alarm fires as soon as it holds a message
    alarms = [
        alarm["Properties"]
        for alarm in kcfn.of_type("AWS::CloudWatch::Alarm").values()
        if any(
            ref_id(d.get("Value")) == queue_id for d in alarm["Properties"].get("Dimensions", [])
        )
    ]
    assert len(alarms) == 1
    assert alarms[0]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarms[0]["Threshold"] == 0
    # And the adapter's role may send to it
    adapter_role = ref_id(kcfn.props(adapter_id)["Role"])
    sends = [
        s
        for s in kcfn.policy_statements()
        if "sqs:SendMessage" in s.actions and queue_id in {ref_id(r) for r in s.resources}
    ]
    assert sends, "the adapter cannot send to the rejects queue"
    assert any(
        adapter_role in {ref_id(r) for r in kcfn.as_list(kcfn.props(s.source_id).get("Roles", []))}
        for s in sends
        if s.source_type == "AWS::IAM::Policy"
    )


def test_the_pipe_and_the_adapter_are_alarmed(kcfn: Cfn) -> None:
    pipes = [
        alarm["Properties"]
        for alarm in kcfn.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ExecutionFailed"
        and {"Name": "PipeName", "Value": PIPE_NAME} in alarm["Properties"]["Dimensions"]
    ]
    assert len(pipes) == 1
    _, pipe = kafka_pipe(kcfn)
    adapter_id = ref_id(pipe["Enrichment"])
    errors = [
        alarm
        for alarm in kcfn.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "Errors"
        and any(ref_id(d["Value"]) == adapter_id for d in alarm["Properties"]["Dimensions"])
    ]
    assert len(errors) == 1


def test_the_pipe_role_holds_exactly_what_the_pipe_does(kcfn: Cfn) -> None:
    # Given the pipe's role (self-managed Kafka without credentials or VPC)
    _, pipe = kafka_pipe(kcfn)
    statements = role_statements(kcfn, ref_id(pipe["RoleArn"]))

    # Then it invokes the adapter, puts events only as com.example.orders, writes its logs
    assert {sid: kcfn.as_list(s["Action"]) for sid, s in statements.items()} == {
        "InvokeKafkaAdapter": ["lambda:InvokeFunction"],
        "PutOrderEvents": ["events:PutEvents"],
        "WritePipeLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    }
    assert ref_id(statements["InvokeKafkaAdapter"]["Resource"]) == ref_id(pipe["Enrichment"])
    assert ref_id(statements["PutOrderEvents"]["Resource"]) == ref_id(pipe["Target"])
    assert statements["PutOrderEvents"]["Condition"] == {
        "StringEquals": {"events:source": "com.example.orders"}
    }


def test_the_kafka_template_passes_cdk_nag_and_cfn_lint(
    kafka_cloud_assembly_dir: Path, kafka_template: dict[str, Any]
) -> None:
    report = json.loads((kafka_cloud_assembly_dir / "validation-report.json").read_text())
    assert all(plugin["conclusion"] == "success" for plugin in report["pluginReports"])
    assert lint_errors(kafka_template) == []


def test_checkov_finds_no_failed_check_in_the_kafka_template(
    kafka_cloud_assembly_dir: Path,
) -> None:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} is missing: run `make setup` to install checkov")
    completed = subprocess.run(
        [
            *(
                str(CHECKOV),
                "--file",
                str(kafka_cloud_assembly_dir / "OrderEvents-dev.template.json"),
            ),
            *("--framework", "cloudformation", "--output", "json", "--compact", "--skip-download"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(completed.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = report["results"]["failed_checks"]
    assert [(c["check_id"], c["resource"]) for c in failed] == []


@pytest.fixture(scope="module")
def msk_cfn(tmp_path_factory: pytest.TempPathFactory) -> Cfn:
    """The dev stage with an MSK source and IAM access (no secret), synthesized once."""
    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out.msk")
    context = {
        **cdk_json_context(),
        "kafkaClusterArn": CLUSTER_ARN,
        "kafkaTopic": "orders",
        "kafkaConsumerGroup": "order-events",
    }
    build_app(context=context, outdir=str(outdir)).synth()
    return Cfn(json.loads((outdir / "OrderEvents-dev.template.json").read_text()))


def test_an_msk_source_reads_the_cluster_with_iam_on_its_topic_and_group(msk_cfn: Cfn) -> None:
    # Given the stage with kafkaClusterArn (synth passed cdk-nag: the VPC wildcard is explained)
    _, pipe = kafka_pipe(msk_cfn)
    assert pipe["Source"] == CLUSTER_ARN
    assert pipe["SourceParameters"]["ManagedStreamingKafkaParameters"]["TopicName"] == "orders"
    statements = role_statements(msk_cfn, ref_id(pipe["RoleArn"]))

    # Then the role reads exactly that cluster, topic and group
    assert set(statements) == {
        "DescribeMskCluster",
        "ReachBrokersInVpc",
        "ConnectToMsk",
        "ReadMskTopic",
        "UseMskConsumerGroup",
        "InvokeKafkaAdapter",
        "PutOrderEvents",
        "WritePipeLogs",
    }
    assert statements["DescribeMskCluster"]["Resource"] == CLUSTER_ARN
    prefix = "arn:aws:kafka:eu-west-1:123456789012"
    cluster_path = "orders/0b1c2d3e-4f50-6789-abcd-ef0123456789-1"
    assert _joined(statements["ReadMskTopic"]["Resource"]) == (
        f"{prefix}:topic/{cluster_path}/orders"
    )
    assert _joined(statements["UseMskConsumerGroup"]["Resource"]) == (
        f"{prefix}:group/{cluster_path}/order-events"
    )
    assert statements["ReachBrokersInVpc"]["Resource"] == "*"


def _joined(value: Any) -> str:
    """An ARN that CloudFormation builds with Fn::Join, as text (pseudo parameters by name)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_joined(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    return json.dumps(value)


@pytest.fixture(scope="module")
def vpc_cfn(tmp_path_factory: pytest.TempPathFactory) -> Cfn:
    """Self-managed Kafka in a VPC with SASL/PLAIN credentials, set per synth with -c."""
    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out.kafka-vpc")
    context = {
        **cdk_json_context(),
        "kafkaBootstrapServers": "b-1.example.com:9096,b-2.example.com:9096,b-3.example.com:9096",
        "kafkaTopic": "orders",
        "kafkaCredentialsSecretArn": SECRET_ARN,
        "kafkaVpc": '{"subnets": ["subnet-0a1b2c3d"], "securityGroups": ["sg-0b2c3d4e"]}',
        "kafkaStartingPosition": "LATEST",
        "kafkaBatchSize": "5",
    }
    build_app(context=context, outdir=str(outdir)).synth()
    return Cfn(json.loads((outdir / "OrderEvents-dev.template.json").read_text()))


def test_a_self_managed_cluster_in_a_vpc_with_credentials(vpc_cfn: Cfn) -> None:
    # Given the stage with three brokers, a secret and a VPC (synth passed cdk-nag)
    _, pipe = kafka_pipe(vpc_cfn)

    # Then the first broker is the Source, the others additional, and the VPC and secret are used
    assert pipe["Source"] == "smk://b-1.example.com:9096"
    assert pipe["SourceParameters"]["SelfManagedKafkaParameters"] == {
        "TopicName": "orders",
        "StartingPosition": "LATEST",
        "BatchSize": 5,
        "ConsumerGroupID": PIPE_NAME,
        "AdditionalBootstrapServers": ["b-2.example.com:9096", "b-3.example.com:9096"],
        "Credentials": {"BasicAuth": SECRET_ARN},
        "Vpc": {"Subnets": ["subnet-0a1b2c3d"], "SecurityGroup": ["sg-0b2c3d4e"]},
    }
    # And the role may read that secret and manage the pipe's network interfaces, nothing more
    statements = role_statements(vpc_cfn, ref_id(pipe["RoleArn"]))
    assert set(statements) == {
        "ReadKafkaCredentials",
        "ReachBrokersInVpc",
        "InvokeKafkaAdapter",
        "PutOrderEvents",
        "WritePipeLogs",
    }
    assert statements["ReadKafkaCredentials"] == {
        "Sid": "ReadKafkaCredentials",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": SECRET_ARN,
    }

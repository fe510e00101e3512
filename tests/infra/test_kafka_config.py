"""The Kafka stage keys: off by default, validated by the same model as every stage key, with
messages that name the key, the value and what is allowed; settable per synth with -c."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from stacks.config import ConfigError, load_stage_config

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"
CLUSTER_ARN = (
    "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0b1c2d3e-4f50-6789-abcd-ef0123456789-1"
)
VPC_JSON = '{"subnets": ["subnet-0123456789abcdef0"], "securityGroups": ["sg-12345678"]}'
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_orders-AbCdEf"


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"])


def problems_for(context: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_stage_config(context)
    lines = str(raised.value).splitlines()
    assert lines[0] == "invalid stage configuration:"
    return [line.strip() for line in lines[1:]]


def test_kafka_is_off_unless_a_source_is_set(context: dict[str, Any]) -> None:
    config = load_stage_config(context)
    assert not config.kafka_enabled
    assert config.kafka_bootstrap_servers is None and config.kafka_cluster_arn is None


def test_self_managed_keys_from_cdk_json(context: dict[str, Any]) -> None:
    # Given bootstrap servers as a list, a topic and the optional keys
    context["stages"]["dev"].update(
        {
            "kafkaBootstrapServers": ["b-1.example.com:9092", "b-2.example.com:9092"],
            "kafkaTopic": "orders.v1",
            "kafkaConsumerGroup": "order-events-dev",
            "kafkaStartingPosition": "LATEST",
            "kafkaBatchSize": 5,
            "kafkaCredentialsSecretArn": SECRET_ARN,
            "kafkaVpc": {"subnets": ["subnet-0abc1234"], "securityGroups": ["sg-0def5678"]},
        }
    )

    # When loaded / Then they are typed
    config = load_stage_config(context)
    assert config.kafka_enabled
    assert config.kafka_bootstrap_servers == ("b-1.example.com:9092", "b-2.example.com:9092")
    assert config.kafka_topic == "orders.v1"
    assert config.kafka_starting_position == "LATEST"
    assert config.kafka_batch_size == 5
    assert config.kafka_vpc is not None and config.kafka_vpc.subnets == ("subnet-0abc1234",)


def test_kafka_keys_can_be_set_per_synth(context: dict[str, Any]) -> None:
    # Given the keys as `npx cdk synth -c key=value` hands them to the app (text)
    context.update(
        {
            "kafkaBootstrapServers": "localhost:19092",
            "kafkaTopic": "orders",
            "kafkaBatchSize": "3",
            "kafkaVpc": VPC_JSON,
        }
    )

    # When loaded / Then they are read as their types
    config = load_stage_config(context)
    assert config.kafka_bootstrap_servers == ("localhost:19092",)
    assert config.kafka_topic == "orders"
    assert config.kafka_batch_size == 3
    assert config.kafka_vpc is not None and config.kafka_vpc.security_groups == ("sg-12345678",)


def test_msk_cluster_arn_is_the_other_source(context: dict[str, Any]) -> None:
    context.update({"kafkaClusterArn": CLUSTER_ARN, "kafkaTopic": "orders"})
    config = load_stage_config(context)
    assert config.kafka_enabled and config.kafka_cluster_arn == CLUSTER_ARN


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"kafkaBootstrapServers": "localhost"},
            "-c kafkaBootstrapServers=[\"localhost\"]: 'localhost' is not host:port "
            "(e.g. broker-1.example.com:9092)",
        ),
        (
            {"kafkaBootstrapServers": "a:1,b:2,c:3,d:4", "kafkaTopic": "orders"},
            '-c kafkaBootstrapServers=["a:1", "b:2", "c:3", "d:4"]: must name 1 to 3 brokers '
            "(one in the pipe's Source, at most 2 in AdditionalBootstrapServers)",
        ),
        (
            {"kafkaBootstrapServers": "a:1", "kafkaTopic": "orders!"},
            '-c kafkaTopic="orders!": must be a Kafka topic name: 1-249 of a-z A-Z 0-9 . _ -',
        ),
        (
            {"kafkaBootstrapServers": "a:1", "kafkaTopic": "orders", "kafkaBatchSize": "11"},
            "-c kafkaBatchSize=11: must be between 1 and 10",
        ),
        (
            {"kafkaBootstrapServers": "a:1", "kafkaTopic": "o", "kafkaStartingPosition": "EARLY"},
            "-c kafkaStartingPosition=\"EARLY\": must be one of 'TRIM_HORIZON' or 'LATEST'",
        ),
        (
            {"kafkaClusterArn": "arn:aws:kafka:eu-west-1:1:cluster/x", "kafkaTopic": "o"},
            '-c kafkaClusterArn="arn:aws:kafka:eu-west-1:1:cluster/x": must be an MSK cluster '
            "ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)",
        ),
        (
            {"kafkaBootstrapServers": "a:1", "kafkaTopic": "o", "kafkaCredentialsSecretArn": "pw"},
            '-c kafkaCredentialsSecretArn="pw": must be a Secrets Manager secret ARN '
            "(arn:aws:secretsmanager:...)",
        ),
        (
            {
                "kafkaBootstrapServers": "a:1",
                "kafkaTopic": "o",
                "kafkaVpc": '{"subnets": ["subnet-1"], "securityGroups": ["sg-12345678"]}',
            },
            '-c kafkaVpc.subnets.0="subnet-1": must be a subnet id (subnet- and 8 or 17 hex '
            "digits)",
        ),
    ],
)
def test_bad_kafka_value_is_named_with_what_is_allowed(
    context: dict[str, Any], keys: dict[str, str], message: str
) -> None:
    context.update(keys)
    assert problems_for(context) == [message]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"kafkaTopic": "orders"},
            "kafkaTopic need kafkaBootstrapServers or kafkaClusterArn (the Kafka ingest pipe is "
            "off without a source)",
        ),
        (
            {"kafkaBootstrapServers": "a:1"},
            "kafkaTopic is required when the Kafka ingest pipe is on",
        ),
        (
            {"kafkaBootstrapServers": "a:1", "kafkaClusterArn": CLUSTER_ARN, "kafkaTopic": "o"},
            "kafkaBootstrapServers (self-managed Kafka) and kafkaClusterArn (Amazon MSK) exclude "
            "each other: set one",
        ),
        (
            {
                "kafkaClusterArn": CLUSTER_ARN,
                "kafkaTopic": "o",
                "kafkaVpc": VPC_JSON,
            },
            "kafkaVpc applies to self-managed Kafka only: an MSK pipe uses the cluster's VPC",
        ),
    ],
)
def test_kafka_keys_that_do_not_fit_together_are_explained(
    context: dict[str, Any], keys: dict[str, str], message: str
) -> None:
    context.update(keys)
    (problem,) = problems_for(context)
    assert problem.endswith(message), problem


def test_a_problem_in_cdk_json_names_the_stage(context: dict[str, Any]) -> None:
    context["stages"]["prod"]["kafkaBootstrapServers"] = ["broker:9092"]
    assert problems_for(context) == [
        "stages.prod: kafkaTopic is required when the Kafka ingest pipe is on"
    ]

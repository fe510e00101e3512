"""Pipe kafka-ingest (optional, per stage): Kafka topic -> kafka-adapter enrichment -> the bus.

Built only when the stage sets kafkaBootstrapServers (self-managed Kafka) or kafkaClusterArn
(Amazon MSK). The adapter decodes each record, validates it against the schema its
``detail-type`` header names, and sets invalid records aside in the rejects queue with their
topic, partition, offset and reason: Kafka sources have no pipe DLQ, and an enrichment error
would retry the whole batch, so one bad record must never fail it. Valid records go on the bus
as events from com.example.orders with the detail-type each record carries.
"""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.access import put_events_from
from stacks.config import StageConfig
from stacks.constants import (
    AWS_ACCOUNT_ID,
    BUS_NAME_PREFIX,
    KAFKA_DETAIL_TYPE_PATH,
    KAFKA_TARGET_INPUT_TEMPLATE,
    PIPE_KAFKA_INGEST,
    SOURCE_ORDERS,
)
from stacks.constructs.building_blocks import dead_letter_queue, log_group
from stacks.constructs.event_encryption import pipe_key_statements
from stacks.constructs.functions import OrderFunctions
from stacks.constructs.risk_pipe import ENRICHMENT_ACTIONS, LOG_ACTIONS, PIPE_LOG_LEVEL

SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
# What a pipe needs to reach brokers inside a VPC (EventBridge Pipes user guide, "Amazon MSK" and
# "self managed Apache Kafka" execution role permissions). These EC2 actions have no
# resource-level permissions for Describe*, and the ENIs do not exist before the pipe makes them.
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)
MSK_CLUSTER_ACTIONS = ("kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers")
# MSK with IAM access control (no secret given): read the topic as a consumer group.
MSK_IAM_CLUSTER_ACTIONS = (
    "kafka-cluster:Connect",
    "kafka-cluster:DescribeClusterDynamicConfiguration",
)
MSK_IAM_TOPIC_ACTIONS = ("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData")
MSK_IAM_GROUP_ACTIONS = ("kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup")


def kafka_pipe_name(config: StageConfig) -> str:
    return f"{BUS_NAME_PREFIX}-{config.name}-{PIPE_KAFKA_INGEST}"


def kafka_consumer_group(config: StageConfig) -> str:
    """kafkaConsumerGroup, else the pipe's name: stable, so a redeploy resumes its offsets."""
    return config.kafka_consumer_group or kafka_pipe_name(config)


class KafkaIngestPipe(Construct):
    """Kafka records in, order events out; bad records in the (alarmed) rejects queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: OrderFunctions,
        bus: events.IEventBus,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # prod: the stage's event key encrypts the pipe's stored settings, as for risk-review.
        self._key = key
        if not config.kafka_enabled or config.kafka_topic is None:
            raise ValueError("KafkaIngestPipe needs a stage with a Kafka source and topic")
        self._config = config
        self._topic = config.kafka_topic
        self.pipe_name = kafka_pipe_name(config)
        self.reject_queue: sqs.Queue = dead_letter_queue(self, "RejectQueue", config=config)
        self.adapter = functions.build_kafka_adapter(self.reject_queue)
        self.log_group = self._build_log_group()
        self.role = self._build_role(bus)
        self.pipe = self._build_pipe(bus)

    @property
    def self_managed(self) -> bool:
        return bool(self._config.kafka_bootstrap_servers)

    def _build_log_group(self) -> logs.LogGroup:
        return log_group(
            self, "Logs", config=self._config, name=f"/aws/vendedlogs/pipes/{self.pipe_name}"
        )

    # -- role ------------------------------------------------------------------------------

    def _build_role(self, bus: events.IEventBus) -> iam.Role:
        self.source_statements = self._source_statements()
        statements = [*self.source_statements]
        statements += [
            iam.PolicyStatement(
                sid="InvokeKafkaAdapter",
                actions=list(ENRICHMENT_ACTIONS),
                resources=[self.adapter.function_arn],
            ),
            # Only as com.example.orders: the pipe cannot speak for another service.
            put_events_from("PutOrderEvents", bus.event_bus_arn, [SOURCE_ORDERS]),
            iam.PolicyStatement(
                sid="WritePipeLogs",
                actions=list(LOG_ACTIONS),
                resources=[self.log_group.log_group_arn],
            ),
            *(pipe_key_statements(self._key, self.pipe_name) if self._key else []),
        ]
        return iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "pipes.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": AWS_ACCOUNT_ID}},
            ),
            description=f"Pipe {self.pipe_name}",
            inline_policies={"KafkaIngestPipe": iam.PolicyDocument(statements=statements)},
        )

    def _source_statements(self) -> list[iam.PolicyStatement]:
        config = self._config
        statements: list[iam.PolicyStatement] = []
        if config.kafka_credentials_secret_arn:
            statements.append(
                iam.PolicyStatement(
                    sid="ReadKafkaCredentials",
                    actions=list(SECRET_ACTIONS),
                    resources=[config.kafka_credentials_secret_arn],
                )
            )
        if self.self_managed:
            if config.kafka_vpc is not None:
                statements.append(self._vpc_statement())
            return statements
        cluster_arn = str(config.kafka_cluster_arn)
        statements.append(
            iam.PolicyStatement(
                sid="DescribeMskCluster",
                actions=list(MSK_CLUSTER_ACTIONS),
                resources=[cluster_arn],
            )
        )
        # An MSK pipe always polls from inside the cluster's VPC.
        statements.append(self._vpc_statement())
        if not config.kafka_credentials_secret_arn:
            statements += self._msk_iam_statements(cluster_arn)
        return statements

    def _vpc_statement(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid="ReachBrokersInVpc", actions=list(VPC_ACTIONS), resources=["*"]
        )

    def _msk_iam_statements(self, cluster_arn: str) -> list[iam.PolicyStatement]:
        # arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> -> topic/<name>/<uuid>/<topic>
        # and group/<name>/<uuid>/<group> (MSK IAM access control resource ARNs).
        prefix, cluster_path = cluster_arn.split(":cluster/", 1)

        def arn(resource: str, name: str) -> str:
            return f"{prefix}:{resource}/{cluster_path}/{name}"

        return [
            iam.PolicyStatement(
                sid="ConnectToMsk", actions=list(MSK_IAM_CLUSTER_ACTIONS), resources=[cluster_arn]
            ),
            iam.PolicyStatement(
                sid="ReadMskTopic",
                actions=list(MSK_IAM_TOPIC_ACTIONS),
                resources=[arn("topic", self._topic)],
            ),
            iam.PolicyStatement(
                sid="UseMskConsumerGroup",
                actions=list(MSK_IAM_GROUP_ACTIONS),
                resources=[arn("group", kafka_consumer_group(self._config))],
            ),
        ]

    # -- pipe ------------------------------------------------------------------------------

    def _build_pipe(self, bus: events.IEventBus) -> pipes.CfnPipe:
        pipe = pipes.CfnPipe(
            self,
            "Pipe",
            name=self.pipe_name,
            description=f"Kafka topic {self._topic} -> kafka-adapter -> order events on the bus",
            role_arn=self.role.role_arn,
            source=self._source(),
            source_parameters=self._source_parameters(),
            enrichment=self.adapter.function_arn,
            log_configuration=pipes.CfnPipe.PipeLogConfigurationProperty(
                level=PIPE_LOG_LEVEL,
                cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
                    log_group_arn=self.log_group.log_group_arn
                ),
            ),
            target=bus.event_bus_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                input_template=KAFKA_TARGET_INPUT_TEMPLATE,
                event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                    detail_type=KAFKA_DETAIL_TYPE_PATH,
                    source=SOURCE_ORDERS,
                ),
            ),
            kms_key_identifier=self._key.key_arn if self._key is not None else None,
        )
        # The role's inline policy must exist before the pipe first polls.
        pipe.node.add_dependency(self.role)
        return pipe

    def _source(self) -> str:
        servers = self._config.kafka_bootstrap_servers
        if servers:
            return f"smk://{servers[0]}"
        return str(self._config.kafka_cluster_arn)

    def _source_parameters(self) -> pipes.CfnPipe.PipeSourceParametersProperty:
        config = self._config
        secret = config.kafka_credentials_secret_arn
        common = {
            "topic_name": self._topic,
            "starting_position": config.kafka_starting_position,
            "batch_size": config.kafka_batch_size,
            "consumer_group_id": kafka_consumer_group(config),
        }
        if self.self_managed:
            servers = config.kafka_bootstrap_servers or ()
            vpc = config.kafka_vpc
            return pipes.CfnPipe.PipeSourceParametersProperty(
                self_managed_kafka_parameters=pipes.CfnPipe.PipeSourceSelfManagedKafkaParametersProperty(
                    additional_bootstrap_servers=list(servers[1:]) or None,
                    # SASL/PLAIN user and password in the secret (username/password keys).
                    credentials=pipes.CfnPipe.SelfManagedKafkaAccessConfigurationCredentialsProperty(
                        basic_auth=secret
                    )
                    if secret
                    else None,
                    vpc=pipes.CfnPipe.SelfManagedKafkaAccessConfigurationVpcProperty(
                        subnets=list(vpc.subnets), security_group=list(vpc.security_groups)
                    )
                    if vpc is not None
                    else None,
                    **common,
                )
            )
        return pipes.CfnPipe.PipeSourceParametersProperty(
            managed_streaming_kafka_parameters=pipes.CfnPipe.PipeSourceManagedStreamingKafkaParametersProperty(
                # SASL/SCRAM-512 with the secret (MSK requires an AmazonMSK_ secret); else IAM.
                credentials=pipes.CfnPipe.MSKAccessCredentialsProperty(sasl_scram512_auth=secret)
                if secret
                else None,
                **common,
            )
        )

"""The three Lambda functions (inventory, audit, risk-scorer), their roles and log groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import Duration, SymlinkFollowMode
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stacks.access import (
    IDEMPOTENCY_TABLE_ACTIONS,
    INVENTORY_TABLE_ACTIONS,
    ORDER_HISTORY_ACTIONS,
    REJECT_QUEUE_ACTIONS,
    SQS_DESTINATION_ACTIONS,
    allow,
    put_events_from,
)
from stacks.config import StageConfig
from stacks.constants import (
    ASYNC_MAX_EVENT_AGE,
    ASYNC_RETRY_ATTEMPTS,
    AUDIT_HANDLER,
    AUDIT_TIMEOUT,
    FUNCTION_MEMORY_MB,
    INVENTORY_HANDLER,
    INVENTORY_TIMEOUT,
    KAFKA_ADAPTER_HANDLER,
    KAFKA_ADAPTER_TIMEOUT,
    LAMBDA_ARCHITECTURE,
    LAMBDA_ASSET_DIR,
    LAMBDA_ASSET_EXCLUDES,
    LAMBDA_RUNTIME,
    METRICS_NAMESPACE,
    POWERTOOLS_LAYER_PARAMETER,
    POWERTOOLS_LOG_LEVEL,
    RISK_SCORER_HANDLER,
    RISK_SCORER_TIMEOUT,
    SERVICE_AUDIT,
    SERVICE_INVENTORY,
    SERVICE_KAFKA_ADAPTER,
    SERVICE_RISK_SCORER,
    SOURCE_INVENTORY,
)
from stacks.constructs.building_blocks import checkov_skips, dead_letter_queue, log_group
from stacks.constructs.tables import OrderTables

# The stage's X-Ray mode (stacks/config.py says what each records; docs/cost.md what it costs).
TRACING = {"Active": lambda_.Tracing.ACTIVE, "PassThrough": lambda_.Tracing.PASS_THROUGH}

# Why checkov's generic Lambda checks don't apply to these functions.
FUNCTION_CHECKOV_SKIPS = {
    "CKV_AWS_116": "failures are never dropped without a Lambda DLQ: inventory (async) has an "
    "SQS on-failure destination, which also records the error; audit and risk-scorer are invoked "
    "synchronously by an event source mapping and a pipe, where a function DLQ never fires and "
    "the source queue's redrive policy holds failed messages",
    "CKV_AWS_117": "the functions call only AWS APIs (DynamoDB, EventBridge) and reach no private "
    "network resource; a VPC would add NAT or endpoint cost and cold-start latency for no gain",
    "CKV_AWS_115": "reserved concurrency is not set because new accounts' concurrency quota "
    "(10) cannot hold reservations; load is bounded upstream by batch sizes and the pipe",
    "CKV_AWS_173": "environment variables hold only resource names, the stage and thresholds, no "
    "secrets; Lambda encrypts them at rest with the AWS managed key",
}


@jsii.implements(lambda_.IDestination)
class SendOnlyQueueDestination:
    """An SQS on-failure destination; the role gets sqs:SendMessage on it, nothing else.

    aws-lambda-destinations' SqsDestination grants GetQueueAttributes and GetQueueUrl too,
    which Lambda never calls to deliver a failed event.
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self, scope: Construct, fn: lambda_.IFunction, options: Any = None
    ) -> lambda_.DestinationConfig:
        fn.add_to_role_policy(
            allow("SendFailedEvents", SQS_DESTINATION_ACTIONS, [self._queue.queue_arn])
        )
        return lambda_.DestinationConfig(destination=self._queue.queue_arn)


class OrderFunctions(Construct):
    """arm64, X-Ray, JSON logs into explicit log groups, one least-privilege role each."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        bus: events.IEventBus,
        tables: OrderTables,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._code = lambda_.Code.from_asset(
            str(LAMBDA_ASSET_DIR),
            follow_symlinks=SymlinkFollowMode.ALWAYS,
            exclude=list(LAMBDA_ASSET_EXCLUDES),
        )
        # A CloudFormation parameter of type AWS::SSM::Parameter::Value<String>: offline synth,
        # the region's layer ARN looked up by CloudFormation at deploy time.
        layer_arn = ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER)
        self._layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", layer_arn
        )
        self.roles: dict[str, iam.Role] = {}
        # Inventory is invoked asynchronously by its rule: failures after retries land here.
        self.inventory_failure_queue = dead_letter_queue(
            self, "InventoryFailureQueue", config=config
        )
        self.inventory = self._build_inventory(bus, tables)
        self.audit = self._build_audit(tables)
        self.risk_scorer = self._build_risk_scorer()
        # Built by the Kafka ingest pipe when the stage turns it on (build_kafka_adapter).
        self.kafka_adapter: lambda_.Function | None = None

    def _build_inventory(self, bus: events.IEventBus, tables: OrderTables) -> lambda_.Function:
        function = self._build_function(
            "Inventory",
            handler=INVENTORY_HANDLER,
            service=SERVICE_INVENTORY,
            timeout=INVENTORY_TIMEOUT,
            environment={
                "EVENT_BUS_NAME": bus.event_bus_name,
                "INVENTORY_TABLE_NAME": tables.inventory.table_name,
                "IDEMPOTENCY_TABLE_NAME": tables.idempotency.table_name,
            },
            on_failure=self.inventory_failure_queue,
        )
        # By hand, from what the code calls (stacks/access.py): grant_* would add more.
        for statement in (
            allow("ReserveAndReleaseStock", INVENTORY_TABLE_ACTIONS, [tables.inventory.table_arn]),
            allow("Idempotency", IDEMPOTENCY_TABLE_ACTIONS, [tables.idempotency.table_arn]),
            put_events_from("PutInventoryEvents", bus.event_bus_arn, [SOURCE_INVENTORY]),
        ):
            function.add_to_role_policy(statement)
        return function

    def _build_audit(self, tables: OrderTables) -> lambda_.Function:
        function = self._build_function(
            "Audit",
            handler=AUDIT_HANDLER,
            service=SERVICE_AUDIT,
            timeout=AUDIT_TIMEOUT,
            environment={"ORDER_HISTORY_TABLE_NAME": tables.order_history.table_name},
        )
        function.add_to_role_policy(
            allow("AppendOrderHistory", ORDER_HISTORY_ACTIONS, [tables.order_history.table_arn])
        )
        return function

    def _build_risk_scorer(self) -> lambda_.Function:
        return self._build_function(
            "RiskScorer",
            handler=RISK_SCORER_HANDLER,
            service=SERVICE_RISK_SCORER,
            timeout=RISK_SCORER_TIMEOUT,
            environment={
                "HIGH_VALUE_THRESHOLD": self._config.high_value_threshold_text,
                "NEW_ACCOUNT_MAX_AGE_DAYS": str(self._config.new_account_max_age_days),
            },
        )

    def build_kafka_adapter(self, reject_queue: sqs.IQueue) -> lambda_.Function:
        """The Kafka ingest pipe's enrichment: decodes and validates records, rejects bad ones."""
        function = self._build_function(
            "KafkaAdapter",
            handler=KAFKA_ADAPTER_HANDLER,
            service=SERVICE_KAFKA_ADAPTER,
            timeout=KAFKA_ADAPTER_TIMEOUT,
            environment={"REJECT_QUEUE_URL": reject_queue.queue_url},
        )
        # By hand (stacks/access.py): grant_send_messages adds GetQueueAttributes, GetQueueUrl.
        function.add_to_role_policy(
            allow("SetBadRecordsAside", REJECT_QUEUE_ACTIONS, [reject_queue.queue_arn])
        )
        self.kafka_adapter = function
        return function

    def _build_function(
        self,
        name: str,
        *,
        handler: str,
        service: str,
        timeout: Duration,
        environment: Mapping[str, str],
        on_failure: sqs.IQueue | None = None,
    ) -> lambda_.Function:
        logs = log_group(self, f"{name}Logs", config=self._config)
        # Own role, no AWS managed policy: log writes are granted on this log group only.
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"order-events {self._config.name} {service} function",
        )
        logs.grant_write(role)
        self.roles[name] = role
        async_invoke = (
            {
                "retry_attempts": ASYNC_RETRY_ATTEMPTS,
                "max_event_age": ASYNC_MAX_EVENT_AGE,
                "on_failure": SendOnlyQueueDestination(on_failure),
            }
            if on_failure is not None
            else {}
        )
        function = lambda_.Function(
            self,
            name,
            description=f"order-events {service} ({self._config.name})",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=handler,
            code=self._code,
            layers=[self._layer],
            memory_size=FUNCTION_MEMORY_MB,
            timeout=timeout,
            tracing=TRACING[self._config.tracing],
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=logs,
            role=role,
            environment={
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": POWERTOOLS_LOG_LEVEL,
                "STAGE": self._config.name,
                **environment,
            },
            **async_invoke,
        )
        checkov_skips(function, FUNCTION_CHECKOV_SKIPS)
        return function

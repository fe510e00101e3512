"""OrderEvents-<stage>: composes the constructs and publishes the stack outputs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import StageConfig
from stacks.constructs.building_blocks import is_production
from stacks.constructs.event_bus import OrderEventBus, bus_name_for
from stacks.constructs.event_encryption import EventEncryption
from stacks.constructs.functions import OrderFunctions
from stacks.constructs.kafka_pipe import KafkaIngestPipe
from stacks.constructs.notifications import Notifications
from stacks.constructs.observability import Observability
from stacks.constructs.risk_pipe import RiskReviewPipe
from stacks.constructs.routing import Routing
from stacks.constructs.tables import OrderTables


class OrderEventsStack(Stack):
    """Environment-agnostic: no account or region look-ups, so synth works offline."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Event-driven order pipeline on Amazon EventBridge ({config.name})",
        )
        self.config = config
        self.notifications = Notifications(self, "Notifications", config=config)
        # prod: the bus, its archive and the pipe use a customer managed key (personal data).
        self.event_encryption = (
            EventEncryption(self, "EventEncryption", config=config, bus_name=bus_name_for(config))
            if is_production(config)
            else None
        )
        key = self.event_encryption.key if self.event_encryption else None
        self.event_bus = OrderEventBus(self, "EventBus", config=config, key=key)
        self.tables = OrderTables(self, "Tables", config=config)
        self.functions = OrderFunctions(
            self, "Functions", config=config, bus=self.event_bus.bus, tables=self.tables
        )
        self.routing = Routing(
            self,
            "Routing",
            config=config,
            bus=self.event_bus.bus,
            functions=self.functions,
            notifications=self.notifications,
        )
        self.risk_pipe = RiskReviewPipe(
            self,
            "RiskReviewPipe",
            config=config,
            source=self.routing.risk_review_queue,
            enrichment=self.functions.risk_scorer,
            bus=self.event_bus.bus,
            key=key,
        )
        # Optional: only when the stage names a Kafka source (kafkaBootstrapServers or
        # kafkaClusterArn).
        self.kafka_pipe = (
            KafkaIngestPipe(
                self,
                "KafkaIngest",
                config=config,
                functions=self.functions,
                bus=self.event_bus.bus,
                key=key,
            )
            if config.kafka_enabled
            else None
        )
        pipes = {"RiskReviewPipe": self.risk_pipe.pipe_name}
        if self.kafka_pipe is not None:
            pipes["KafkaIngestPipe"] = self.kafka_pipe.pipe_name
        self.observability = Observability(
            self,
            "Observability",
            stage=config.name,
            ops_topic=self.notifications.ops_alerts,
            dead_letter_queues=self.dead_letter_queues,
            work_queues=self.routing.work_queues,
            bus_name=self.event_bus.bus.event_bus_name,
            rule_names=list(self.routing.rules),
            pipe_names=pipes,
            functions=self.all_functions,
            functions_with_destinations={"Inventory": self.functions.inventory},
        )
        self._build_outputs()

    @property
    def all_functions(self) -> dict[str, lambda_.Function]:
        """Every function of the stack, by the name its alarms and acknowledgements carry."""
        functions = {
            "Inventory": self.functions.inventory,
            "Audit": self.functions.audit,
            "RiskScorer": self.functions.risk_scorer,
        }
        if self.functions.kafka_adapter is not None:
            functions["KafkaAdapter"] = self.functions.kafka_adapter
        return functions

    @property
    def dead_letter_queues(self) -> dict[str, sqs.Queue]:
        """Every queue that only receives failures, by the name its output and alarm carry."""
        queues: dict[str, sqs.Queue] = dict(self.routing.dead_letter_queues)
        queues["InventoryFailureQueue"] = self.functions.inventory_failure_queue
        if self.event_bus.encryption_dlq is not None:
            queues["EncryptionDlq"] = self.event_bus.encryption_dlq
        if self.notifications.subscription_dlq is not None:
            queues["SubscriptionDlq"] = self.notifications.subscription_dlq
        if self.kafka_pipe is not None:
            # Records the Kafka adapter set aside: alarmed like every DLQ.
            queues["KafkaRejectQueue"] = self.kafka_pipe.reject_queue
        return queues

    def _build_outputs(self) -> None:
        bus = self.event_bus.bus
        outputs: dict[str, tuple[str, str]] = {
            "EventBusName": (bus.event_bus_name, "The custom bus (put events here)"),
            "EventBusArn": (bus.event_bus_arn, "ARN of the custom bus"),
            "ArchiveName": (self.event_bus.archive.ref, "Archive of every event, for replay"),
            "SchemaRegistryName": (
                self.event_bus.registry.attr_registry_name,
                "Schema registry of the event details",
            ),
            "AuditQueueUrl": (self.routing.audit_queue.queue_url, "Audit work queue"),
            "RiskReviewQueueUrl": (
                self.routing.risk_review_queue.queue_url,
                "High-value orders waiting for the risk-review pipe",
            ),
            "CustomerNotificationsTopicArn": (
                self.notifications.customer_notifications.topic_arn,
                "Readable order updates for customers",
            ),
            "FraudAlertsTopicArn": (
                self.notifications.fraud_alerts.topic_arn,
                "High-risk orders for the fraud team",
            ),
            "OpsAlertsTopicArn": (self.notifications.ops_alerts.topic_arn, "Alarm notifications"),
            "RiskReviewPipeName": (self.risk_pipe.pipe.ref, "The risk-review pipe"),
            "RiskReviewPipeLogGroupName": (
                self.risk_pipe.log_group.log_group_name,
                "Why risk-review pipe executions failed",
            ),
            "InventoryTableName": (self.tables.inventory.table_name, "Stock and reservations"),
            "OrderHistoryTableName": (self.tables.order_history.table_name, "Audit history"),
            "IdempotencyTableName": (self.tables.idempotency.table_name, "Idempotency records"),
            "InventoryFunctionName": (self.functions.inventory.function_name, "Inventory"),
            "AuditFunctionName": (self.functions.audit.function_name, "Audit consumer"),
            "RiskScorerFunctionName": (self.functions.risk_scorer.function_name, "Risk scorer"),
        }
        if self.kafka_pipe is not None:
            outputs["KafkaIngestPipeName"] = (self.kafka_pipe.pipe.ref, "The Kafka ingest pipe")
            outputs["KafkaAdapterFunctionName"] = (
                self.kafka_pipe.adapter.function_name,
                "Kafka adapter (the Kafka pipe's enrichment)",
            )
        for name, queue in self.dead_letter_queues.items():
            outputs[f"{name}Url"] = (queue.queue_url, "Dead-letter queue (alarmed)")
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)

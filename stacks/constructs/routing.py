"""The five rules on the bus, their targets, the work queues they fill and the audit consumer."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.access import SQS_EVENT_SOURCE_ACTIONS, allow
from stacks.config import StageConfig
from stacks.constants import (
    AUDIT_BATCH_SIZE,
    AUDIT_TIMEOUT,
    CUSTOMER_NOTIFICATION_TEMPLATE,
    INVENTORY_SHORTAGE,
    ORDER_CANCELLED,
    ORDER_CREATED,
    ORDER_RISK_ASSESSED,
    RISK_LEVEL_HIGH,
    RISK_LEVEL_UNSCORABLE,
    RISK_SCORER_TIMEOUT,
    RULE_AUDIT_ALL,
    RULE_FRAUD_ALERT,
    RULE_INVENTORY,
    RULE_NOTIFY_CUSTOMER,
    RULE_RISK_REVIEW,
    RULE_TARGET_MAX_EVENT_AGE,
    RULE_TARGET_RETRY_ATTEMPTS,
    SOURCE_INVENTORY,
    SOURCE_ORDERS,
    SOURCE_PREFIX,
    SOURCE_RISK,
)
from stacks.constructs.building_blocks import (
    consumer_visibility_timeout,
    dead_letter_queue,
    oldest_message_age_limit,
    work_queue,
)
from stacks.constructs.functions import OrderFunctions
from stacks.constructs.notifications import Notifications
from stacks.constructs.rule_targets import RuleSnsTopic, RuleSqsQueue


def customer_notification_message() -> events.RuleTargetInput:
    """'Order <orderId>: <detail-type> at <time>' via the target's InputPathsMap/InputTemplate."""
    return events.RuleTargetInput.from_text(
        CUSTOMER_NOTIFICATION_TEMPLATE.format(
            order_id=events.EventField.from_path("$.detail.orderId"),
            detail_type=events.EventField.from_path("$.detail-type"),
            time=events.EventField.from_path("$.time"),
        )
    )


class Routing(Construct):
    """Every target retries, then dead-letters into its rule's own SQS queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        bus: events.IEventBus,
        functions: OrderFunctions,
        notifications: Notifications,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        # How long the audit mapping gathers records before it invokes (docs/cost.md).
        self._audit_batch_window = Duration.seconds(config.audit_batch_window_seconds)
        self._bus = bus
        # Dead-letter queues by stable name (outputs and alarms are named after them): those
        # behind a work queue's redrive policy, and those behind a rule target.
        self.work_dead_letter_queues: dict[str, sqs.Queue] = {}
        self.rule_dead_letter_queues: dict[str, sqs.Queue] = {}
        # Work queues by stable name, with the age their oldest message may reach (alarmed).
        self.work_queues: dict[str, tuple[sqs.Queue, Duration]] = {}
        self.audit_queue = self._build_audit_queue()
        self.risk_review_queue = self._build_risk_review_queue()
        self.rules: dict[str, events.Rule] = {}
        self._build_inventory_rule(functions)
        self._build_notify_customer_rule(notifications)
        self._build_audit_all_rule()
        self._build_risk_review_rule()
        self._build_fraud_alert_rule(notifications)
        self._build_audit_consumer(functions)

    # -- work queues ---------------------------------------------------------------------------

    def _build_audit_queue(self) -> sqs.Queue:
        dlq = self._dead_letter_queue("AuditDlq", self.work_dead_letter_queues)
        return self._work_queue("AuditQueue", dlq, AUDIT_TIMEOUT, self._audit_batch_window)

    def _build_risk_review_queue(self) -> sqs.Queue:
        # Consumed by the risk-review pipe, whose slowest step is the risk-scorer enrichment.
        dlq = self._dead_letter_queue("RiskReviewDlq", self.work_dead_letter_queues)
        window = Duration.seconds(self._config.pipe_batch_window_seconds)
        return self._work_queue("RiskReviewQueue", dlq, RISK_SCORER_TIMEOUT, window)

    def _work_queue(
        self, name: str, dlq: sqs.IQueue, consumer_timeout: Duration, batching_window: Duration
    ) -> sqs.Queue:
        visibility_timeout = consumer_visibility_timeout(consumer_timeout, batching_window)
        queue = work_queue(
            self, name, config=self._config, dlq=dlq, visibility_timeout=visibility_timeout
        )
        self.work_queues[name] = (
            queue,
            oldest_message_age_limit(
                visibility_timeout, self._config.max_receive_count, batching_window
            ),
        )
        return queue

    def _build_audit_consumer(self, functions: OrderFunctions) -> None:
        # A mapping rather than SqsEventSource, whose grant adds sqs:ChangeMessageVisibility and
        # sqs:GetQueueUrl: the role gets only what Lambda's poller calls (stacks/access.py).
        functions.audit.add_to_role_policy(
            allow("ConsumeAuditQueue", SQS_EVENT_SOURCE_ACTIONS, [self.audit_queue.queue_arn])
        )
        functions.audit.add_event_source_mapping(
            "AuditQueueSource",
            event_source_arn=self.audit_queue.queue_arn,
            batch_size=AUDIT_BATCH_SIZE,
            max_batching_window=self._audit_batch_window,
            report_batch_item_failures=True,
        )

    # -- rules ---------------------------------------------------------------------------------

    def _build_inventory_rule(self, functions: OrderFunctions) -> None:
        rule = self._rule(
            "InventoryRule",
            RULE_INVENTORY,
            "Orders created or cancelled: reserve or release stock",
            events.EventPattern(
                source=[SOURCE_ORDERS], detail_type=[ORDER_CREATED, ORDER_CANCELLED]
            ),
        )
        rule.add_target(
            targets.LambdaFunction(functions.inventory, **self._delivery_guardrails("Inventory"))
        )

    def _build_notify_customer_rule(self, notifications: Notifications) -> None:
        rule = self._rule(
            "NotifyCustomerRule",
            RULE_NOTIFY_CUSTOMER,
            "Tell the customer about their order, as readable text",
            events.EventPattern(
                source=[SOURCE_ORDERS, SOURCE_INVENTORY],
                detail_type=[ORDER_CREATED, ORDER_CANCELLED, INVENTORY_SHORTAGE],
            ),
        )
        rule.add_target(
            RuleSnsTopic(
                notifications.customer_notifications,
                message=customer_notification_message(),
                **self._delivery_guardrails("NotifyCustomer"),
            )
        )

    def _build_audit_all_rule(self) -> None:
        rule = self._rule(
            "AuditAllRule",
            RULE_AUDIT_ALL,
            "Every event of ours, into the audit queue",
            events.EventPattern(source=events.Match.prefix(SOURCE_PREFIX)),
        )
        rule.add_target(RuleSqsQueue(self.audit_queue, **self._delivery_guardrails("AuditAll")))

    def _build_risk_review_rule(self) -> None:
        rule = self._rule(
            "RiskReviewRule",
            RULE_RISK_REVIEW,
            "High-value orders, queued for the risk-review pipe",
            events.EventPattern(
                source=[SOURCE_ORDERS],
                detail_type=[ORDER_CREATED],
                detail={
                    "total": events.Match.greater_than_or_equal(self._config.high_value_threshold)
                },
            ),
        )
        rule.add_target(
            RuleSqsQueue(self.risk_review_queue, **self._delivery_guardrails("RiskReview"))
        )

    def _build_fraud_alert_rule(self, notifications: Notifications) -> None:
        rule = self._rule(
            "FraudAlertRule",
            RULE_FRAUD_ALERT,
            "High-risk and unscorable assessments, to the fraud team",
            events.EventPattern(
                source=[SOURCE_RISK],
                detail_type=[ORDER_RISK_ASSESSED],
                # unscorable: a record the scorer could not read; a person must look at it.
                detail={"riskLevel": [RISK_LEVEL_HIGH, RISK_LEVEL_UNSCORABLE]},
            ),
        )
        rule.add_target(
            RuleSnsTopic(notifications.fraud_alerts, **self._delivery_guardrails("FraudAlert"))
        )

    # -- helpers -------------------------------------------------------------------------------

    def _rule(
        self, construct_id: str, name: str, description: str, pattern: events.EventPattern
    ) -> events.Rule:
        rule = events.Rule(
            self,
            construct_id,
            event_bus=self._bus,
            rule_name=name,
            description=description,
            event_pattern=pattern,
        )
        self.rules[name] = rule
        return rule

    def _delivery_guardrails(self, rule_name: str) -> dict[str, object]:
        """Retry policy plus a dead-letter queue of the rule's own, for any rule target."""
        return {
            "dead_letter_queue": self._dead_letter_queue(
                f"{rule_name}RuleDlq", self.rule_dead_letter_queues
            ),
            "retry_attempts": RULE_TARGET_RETRY_ATTEMPTS,
            "max_event_age": RULE_TARGET_MAX_EVENT_AGE,
        }

    def _dead_letter_queue(self, name: str, registry: dict[str, sqs.Queue]) -> sqs.Queue:
        queue = dead_letter_queue(self, name, config=self._config)
        registry[name] = queue
        return queue

    @property
    def dead_letter_queues(self) -> dict[str, sqs.Queue]:
        return {**self.work_dead_letter_queues, **self.rule_dead_letter_queues}

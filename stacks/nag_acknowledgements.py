"""Every cdk-nag finding this project accepts, with the reason, in one place.

cdk-nag 3 reads acknowledgements from construct metadata (``Validations.of(c).acknowledge``)
on the flagged resource or any of its ancestors. Each one here names the specific construct it
applies to; nothing is acknowledged stack-wide.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

from stacks.constructs.kafka_pipe import KafkaIngestPipe
from stacks.order_events_stack import OrderEventsStack

DLQ_REASON = (
    "{name} is a dead-letter queue: the last stop for messages that failed elsewhere. "
    "It has no consumer to fail, so no DLQ of its own; an alarm on "
    "ApproximateNumberOfMessagesVisible > 0 notifies the ops topic and messages are redriven "
    "by hand."
)
XRAY_REASON = (
    "X-Ray tracing (Active or PassThrough): xray:PutTraceSegments and xray:PutTelemetryRecords do "
    "not support resource-level permissions, so their resource must be '*'."
)
LAMBDA_DLQ_REASONS = {
    "Inventory": (
        "Invoked asynchronously by the inventory rule; failures after 2 retries go to the "
        "EventInvokeConfig on-failure destination (InventoryFailureQueue), which supersedes "
        "DeadLetterConfig and keeps the error context."
    ),
    "Audit": (
        "Invoked synchronously by the SQS event source mapping: failed records return to the "
        "audit queue and move to AuditDlq through its redrive policy; a function DLQ would "
        "never receive anything."
    ),
    "RiskScorer": (
        "Invoked synchronously by the risk-review pipe as its enrichment: failed batches return "
        "to the risk-review queue and move to RiskReviewDlq through its redrive policy; a "
        "function DLQ would never receive anything."
    ),
    "KafkaAdapter": (
        "Invoked synchronously by the Kafka ingest pipe as its enrichment: a failed batch is "
        "retried from its uncommitted offsets (Kafka sources have no pipe DLQ); invalid records "
        "never fail it, they go to KafkaRejectQueue with their reason."
    ),
}
KAFKA_VPC_REASON = (
    "The Kafka pipe reaches brokers inside a VPC through network interfaces it creates: "
    "ec2:Describe* have no resource-level permissions and the interfaces do not exist before "
    "the pipe makes them (EventBridge Pipes execution role for Kafka sources)."
)
PASS_THROUGH_TRACING_REASON = (
    "This stage traces with PassThrough (stage key tracing): the function records every request "
    "its producer sampled, since EventBridge, SQS and Pipes pass the trace header on, instead of "
    "sampling each invocation itself, which below ~2.6M invocations a month traces every one "
    "and made X-Ray 44% of the bill. Sampling is the producers' X-Ray rule; see docs/cost.md."
)
ESM_DESTINATION_REASON = (
    "SQS event source mappings do not support OnFailure destinations (only stream and Kafka "
    "sources do); the audit queue's redrive policy to AuditDlq is the failure destination."
)


class _Acknowledgements:
    """The acknowledgements gathered per construct, in the order given, written once each.

    One ``Validations.of(c).acknowledge(*rules)`` per construct records the same metadata, in the
    same order, as one call per rule (it loops over its rules), with fewer jsii round trips.
    """

    def __init__(self) -> None:
        self._by_scope: dict[str, tuple[IConstruct, list[Acknowledgment]]] = {}

    def add(self, scope: IConstruct, rule_id: str, reason: str) -> None:
        _, rules = self._by_scope.setdefault(scope.__jsii_ref__.ref, (scope, []))
        rules.append(Acknowledgment(id=rule_id, reason=reason))

    def write(self) -> None:
        for scope, rules in self._by_scope.values():
            Validations.of(scope).acknowledge(*rules)


def acknowledge_nag_findings(stack: OrderEventsStack) -> None:
    """Acknowledge, resource by resource, the findings the design accepts."""
    acknowledgements = _Acknowledgements()
    _acknowledge = acknowledgements.add
    for name, queue in stack.dead_letter_queues.items():
        _acknowledge(queue, "Serverless-SQSRedrivePolicy", DLQ_REASON.format(name=name))
        # A queue named in another queue's redrive policy already passes AwsSolutions-SQS3;
        # queues behind rule targets, async destinations and subscriptions are not seen as DLQs.
        if name not in stack.routing.work_dead_letter_queues:
            _acknowledge(queue, "AwsSolutions-SQS3", DLQ_REASON.format(name=name))

    for role in stack.functions.roles.values():
        _acknowledge(role, "AwsSolutions-IAM5[Resource::*]", XRAY_REASON)

    for name, function in stack.all_functions.items():
        _acknowledge(function, "Serverless-LambdaDLQ", LAMBDA_DLQ_REASONS[name])
        if stack.config.tracing == "PassThrough":
            _acknowledge(function, "Serverless-LambdaTracing", PASS_THROUGH_TRACING_REASON)

    _acknowledge(
        stack.functions.audit,
        "Serverless-LambdaEventSourceMappingDestination",
        ESM_DESTINATION_REASON,
    )

    if stack.kafka_pipe is not None and "ReachBrokersInVpc" in _statement_ids(stack.kafka_pipe):
        _acknowledge(stack.kafka_pipe.role, "AwsSolutions-IAM5[Resource::*]", KAFKA_VPC_REASON)
    acknowledgements.write()


def _statement_ids(pipe: KafkaIngestPipe) -> set[str]:
    return {statement.sid or "" for statement in pipe.source_statements}

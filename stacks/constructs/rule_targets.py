"""Rule targets whose resource policies let EventBridge do one thing, for one rule only.

aws-events-targets' SnsTopic and SqsQueue grant ``events.amazonaws.com`` more than delivery
needs: SnsTopic adds ``sns:Publish`` with no condition at all (any rule in any account could
publish through the service principal), SqsQueue adds ``sqs:GetQueueAttributes`` and
``sqs:GetQueueUrl`` beside ``sqs:SendMessage``. These targets add exactly the delivery action,
conditioned on ``aws:SourceArn`` (the rule) and ``aws:SourceAccount``, and render the same
target properties (retry policy, dead-letter queue, input) as the library's.
"""

from __future__ import annotations

import jsii
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from stacks.constants import AWS_ACCOUNT_ID

EVENTS_PRINCIPAL = "events.amazonaws.com"


def rule_source_conditions(rule: events.IRule) -> dict[str, dict[str, str]]:
    """Only this rule, in this account, may make EventBridge act on the resource."""
    return {
        "ArnEquals": {"aws:SourceArn": rule.rule_arn},
        "StringEquals": {"aws:SourceAccount": AWS_ACCOUNT_ID},
    }


def allow_rule_to_send(rule: events.IRule, queue: sqs.IQueue) -> None:
    """EventBridge may send this rule's events (or its dead letters) to the queue."""
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(EVENTS_PRINCIPAL)],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions=rule_source_conditions(rule),
        )
    )


class _GuardedTarget:
    """Retry policy and dead-letter queue, as the library's bindBaseTargetConfig renders them."""

    def __init__(
        self,
        *,
        dead_letter_queue: sqs.IQueue,
        retry_attempts: int,
        max_event_age: Duration,
        message: events.RuleTargetInput | None = None,
    ) -> None:
        self._dlq = dead_letter_queue
        self._retry_attempts = retry_attempts
        self._max_event_age = max_event_age
        self._message = message

    def _config(self, rule: events.IRule, arn: str) -> events.RuleTargetConfig:
        allow_rule_to_send(rule, self._dlq)
        return events.RuleTargetConfig(
            arn=arn,
            input=self._message,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self._dlq.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self._retry_attempts,
                maximum_event_age_in_seconds=int(self._max_event_age.to_seconds()),
            ),
        )


@jsii.implements(events.IRuleTarget)
class RuleSnsTopic(_GuardedTarget):
    """An SNS topic target: sns:Publish for this rule only."""

    def __init__(self, topic: sns.ITopic, **guardrails: object) -> None:
        super().__init__(**guardrails)  # type: ignore[arg-type]
        self._topic = topic

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        self._topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(EVENTS_PRINCIPAL)],
                actions=["sns:Publish"],
                resources=[self._topic.topic_arn],
                conditions=rule_source_conditions(rule),
            )
        )
        return self._config(rule, self._topic.topic_arn)


@jsii.implements(events.IRuleTarget)
class RuleSqsQueue(_GuardedTarget):
    """An SQS queue target: sqs:SendMessage for this rule only."""

    def __init__(self, queue: sqs.IQueue, **guardrails: object) -> None:
        super().__init__(**guardrails)  # type: ignore[arg-type]
        self._queue = queue

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        allow_rule_to_send(rule, self._queue)
        return self._config(rule, self._queue.queue_arn)

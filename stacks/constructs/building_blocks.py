"""Small factories shared by the constructs: every queue and log group gets the same guardrails."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import StageConfig
from stacks.constants import (
    DLQ_RETENTION,
    LOG_RETENTION,
    VISIBILITY_TIMEOUT_FACTOR,
    WORK_QUEUE_RETENTION,
)

PRODUCTION_STAGES = frozenset({"prod"})


def removal_policy_for(config: StageConfig) -> RemovalPolicy:
    """Stateful resources survive a stack deletion in prod; dev cleans up after itself."""
    return RemovalPolicy.RETAIN if config.name in PRODUCTION_STAGES else RemovalPolicy.DESTROY


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """A queue that holds what could not be delivered or processed (alarmed by Observability)."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
    )


def consumer_visibility_timeout(consumer_timeout: Duration, batching_window: Duration) -> Duration:
    """6x the consumer's timeout plus the time a batch may wait to fill (AWS guidance)."""
    seconds = VISIBILITY_TIMEOUT_FACTOR * consumer_timeout.to_seconds()
    return Duration.seconds(seconds + batching_window.to_seconds())


def work_queue(
    scope: Construct,
    construct_id: str,
    *,
    dlq: sqs.IQueue,
    max_receive_count: int,
    visibility_timeout: Duration,
) -> sqs.Queue:
    """A queue a consumer works through; poison messages move to the DLQ after N receives."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=WORK_QUEUE_RETENTION,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
    )


def log_group(scope: Construct, construct_id: str, *, config: StageConfig) -> logs.LogGroup:
    """An explicit log group with the stage's retention (never 'keep forever' by accident)."""
    return logs.LogGroup(
        scope,
        construct_id,
        retention=LOG_RETENTION[config.log_retention_days],
        removal_policy=removal_policy_for(config),
    )

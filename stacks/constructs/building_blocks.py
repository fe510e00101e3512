"""Small factories shared by the constructs: every queue and log group gets the same guardrails."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnResource, Duration, RemovalPolicy
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

# checkov findings this design answers differently, stated once and attached beside each resource
# (CloudFormation Metadata "checkov": {"skip": [...]}) by the factory that builds it.
SQS_MANAGED_SSE = (
    "encrypted at rest with SQS-managed SSE (SqsManagedSseEnabled: true); checkov 3.3 only "
    "recognises KmsMasterKeyId, and a CMK would add a KMS call per message for no extra control"
)
LOGS_DEFAULT_ENCRYPTION = (
    "CloudWatch Logs encrypts every log group at rest; these hold operational JSON logs without "
    "secrets or card data, so a CMK (and its logs.amazonaws.com key policy) adds cost, not control"
)


# jsii references of the resources whose "checkov" metadata is written: each is written once,
# whole, so no jsii call reads it back (each CDK call is a round trip to jsii's node process).
_CHECKOV_WRITTEN: set[str] = set()


def checkov_skips(construct: Construct, skips: Mapping[str, str]) -> None:
    """Record on the resource itself why checkov checks (id: reason) do not apply to it.

    Give all of a resource's skips in one call: a second call for the same resource raises.
    """
    target = construct if isinstance(construct, CfnResource) else construct.node.default_child
    assert isinstance(target, CfnResource), f"{construct.node.path} has no CloudFormation resource"
    ref = target.__jsii_ref__.ref
    if ref in _CHECKOV_WRITTEN:
        raise ValueError(f"{target.node.path}: checkov skips already written; give them at once")
    _CHECKOV_WRITTEN.add(ref)
    skip = [{"id": check_id, "comment": reason} for check_id, reason in skips.items()]
    target.add_metadata("checkov", {"skip": skip})


def checkov_skip(construct: Construct, check_id: str, reason: str) -> None:
    """Record on the resource itself why a checkov check does not apply to it."""
    checkov_skips(construct, {check_id: reason})


def is_production(config: StageConfig) -> bool:
    """Prod keeps its data on delete and encrypts events with its own key."""
    return config.name in PRODUCTION_STAGES


def removal_policy_for(config: StageConfig) -> RemovalPolicy:
    """Stateful resources survive a stack deletion (and a replacement) in prod; dev cleans up."""
    return RemovalPolicy.RETAIN if is_production(config) else RemovalPolicy.DESTROY


def dead_letter_queue(scope: Construct, construct_id: str, *, config: StageConfig) -> sqs.Queue:
    """A queue that holds what could not be delivered or processed (alarmed by Observability)."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
        removal_policy=removal_policy_for(config),
    )
    checkov_skip(queue, "CKV_AWS_27", SQS_MANAGED_SSE)
    return queue


def consumer_visibility_timeout(consumer_timeout: Duration, batching_window: Duration) -> Duration:
    """6x the consumer's timeout plus the time a batch may wait to fill (AWS guidance)."""
    seconds = VISIBILITY_TIMEOUT_FACTOR * consumer_timeout.to_seconds()
    return Duration.seconds(seconds + batching_window.to_seconds())


def oldest_message_age_limit(
    visibility_timeout: Duration, max_receive_count: int, batching_window: Duration
) -> Duration:
    """How old a work queue's oldest message may get while its consumer is healthy.

    A message waits at most one batching window to be picked up; each failed attempt hides it
    for one visibility timeout; after max_receive_count receives the redrive policy moves it to
    the DLQ. So a healthy consumer deletes or dead-letters every message within
    window + max_receive_count x visibility timeout. Older than that, nobody is receiving (a
    stopped pipe, a disabled event source mapping) or the consumer cannot keep up.
    """
    seconds = batching_window.to_seconds() + max_receive_count * visibility_timeout.to_seconds()
    return Duration.seconds(seconds)


def work_queue(
    scope: Construct,
    construct_id: str,
    *,
    config: StageConfig,
    dlq: sqs.IQueue,
    visibility_timeout: Duration,
) -> sqs.Queue:
    """A queue a consumer works through; poison messages move to the DLQ after N receives."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=WORK_QUEUE_RETENTION,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dlq, max_receive_count=config.max_receive_count
        ),
        removal_policy=removal_policy_for(config),
    )
    checkov_skip(queue, "CKV_AWS_27", SQS_MANAGED_SSE)
    return queue


def log_group(
    scope: Construct, construct_id: str, *, config: StageConfig, name: str | None = None
) -> logs.LogGroup:
    """An explicit log group with the stage's retention (never 'keep forever' by accident)."""
    group = logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=LOG_RETENTION[config.log_retention_days],
        removal_policy=removal_policy_for(config),
    )
    checkov_skip(group, "CKV_AWS_158", LOGS_DEFAULT_ENCRYPTION)
    return group

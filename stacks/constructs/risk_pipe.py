"""Pipe risk-review: SQS -> filter (new accounts) -> risk-scorer enrichment -> the bus."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.access import PUT_EVENTS_ACTIONS, put_events_from
from stacks.config import StageConfig
from stacks.constants import (
    AWS_ACCOUNT_ID,
    BUS_NAME_PREFIX,
    ORDER_RISK_ASSESSED,
    PIPE_RISK_REVIEW,
    SOURCE_RISK,
)
from stacks.constructs.building_blocks import log_group
from stacks.constructs.event_encryption import pipe_key_statements

# Exactly what the pipe does with each resource, nothing more.
SOURCE_QUEUE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
ENRICHMENT_ACTIONS = ("lambda:InvokeFunction",)
TARGET_BUS_ACTIONS = PUT_EVENTS_ACTIONS
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# ERROR: one record per failed execution step, with the error's message. No execution data:
# payloads carry customers' e-mail addresses, and logs are not where personal data should go.
PIPE_LOG_LEVEL = "ERROR"


def new_account_filter(max_age_days: int) -> dict[str, Any]:
    """Pipe filter on the SQS record: the body (the event JSON) is parsed under "body"."""
    return {
        "body": {"detail": {"customer": {"accountAgeDays": [{"numeric": ["<", max_age_days]}]}}}
    }


class RiskReviewPipe(Construct):
    """Scores high-value orders from new accounts and puts OrderRiskAssessed on the bus.

    CfnPipe rather than the aws-pipes-alpha L2: the alpha's grant helpers give the role more
    than the pipe uses (sqs:ChangeMessageVisibility, sqs:GetQueueUrl, function-version ARNs),
    and an alpha API may change under us; the L1 lets the role hold exactly the actions below.
    tests/infra/test_pipe_role_vs_alpha.py checks this against the pinned alpha release.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        source: sqs.IQueue,
        enrichment: lambda_.IFunction,
        bus: events.IEventBus,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._key = key
        self.pipe_name = f"{BUS_NAME_PREFIX}-{config.name}-{PIPE_RISK_REVIEW}"
        self.log_group = self._build_log_group()
        self.role = self._build_role(source, enrichment, bus)
        self.pipe = self._build_pipe(source, enrichment, bus)

    def _build_log_group(self) -> logs.LogGroup:
        # Why a batch failed (and so, after maxReceiveCount, why it is in the DLQ) is written
        # here; /aws/vendedlogs/ is the prefix AWS uses for logs services deliver.
        return log_group(
            self, "Logs", config=self._config, name=f"/aws/vendedlogs/pipes/{self.pipe_name}"
        )

    def _build_role(
        self, source: sqs.IQueue, enrichment: lambda_.IFunction, bus: events.IEventBus
    ) -> iam.Role:
        # Inline policy, so the pipe (which references the role) is created after its rights.
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="ReadRiskReviewQueue",
                    actions=list(SOURCE_QUEUE_ACTIONS),
                    resources=[source.queue_arn],
                ),
                iam.PolicyStatement(
                    sid="InvokeRiskScorer",
                    actions=list(ENRICHMENT_ACTIONS),
                    resources=[enrichment.function_arn],
                ),
                # Only as com.example.risk: the pipe cannot forge orders or stock events.
                put_events_from("PutRiskAssessments", bus.event_bus_arn, [SOURCE_RISK]),
                iam.PolicyStatement(
                    sid="WritePipeLogs",
                    actions=list(LOG_ACTIONS),
                    resources=[self.log_group.log_group_arn],
                ),
                *(pipe_key_statements(self._key, self.pipe_name) if self._key else []),
            ]
        )
        return iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "pipes.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": AWS_ACCOUNT_ID}},
            ),
            description=f"Pipe {self.pipe_name}",
            inline_policies={"RiskReviewPipe": policy},
        )

    def _build_pipe(
        self, source: sqs.IQueue, enrichment: lambda_.IFunction, bus: events.IEventBus
    ) -> pipes.CfnPipe:
        return pipes.CfnPipe(
            self,
            "Pipe",
            name=self.pipe_name,
            description="High-value orders from new accounts -> risk score -> OrderRiskAssessed",
            role_arn=self.role.role_arn,
            source=source.queue_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                sqs_queue_parameters=pipes.CfnPipe.PipeSourceSqsQueueParametersProperty(
                    batch_size=self._config.pipe_batch_size,
                    maximum_batching_window_in_seconds=self._config.pipe_batch_window_seconds,
                ),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[
                        pipes.CfnPipe.FilterProperty(
                            pattern=json.dumps(
                                new_account_filter(self._config.new_account_max_age_days)
                            )
                        )
                    ]
                ),
            ),
            enrichment=enrichment.function_arn,
            log_configuration=pipes.CfnPipe.PipeLogConfigurationProperty(
                level=PIPE_LOG_LEVEL,
                cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
                    log_group_arn=self.log_group.log_group_arn
                ),
            ),
            target=bus.event_bus_arn,
            # prod: the filter is stored encrypted with the stage's key (the role may use it).
            kms_key_identifier=self._key.key_arn if self._key is not None else None,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                    detail_type=ORDER_RISK_ASSESSED,
                    source=SOURCE_RISK,
                )
            ),
        )

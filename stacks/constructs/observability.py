"""Alarms that page ops: a message in any dead-letter queue, a failed pipe execution, a
function that errors or is throttled."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.constants import ALARM_PERIOD, PIPES_EXECUTION_FAILED_METRIC, PIPES_METRIC_NAMESPACE

PIPE_FAILURE_DESCRIPTIONS = {
    "RiskReviewPipe": "Pipe {} failed executions: messages return to the queue, then its DLQ",
    "KafkaIngestPipe": "Pipe {} failed executions: the batch is retried from its offsets (a Kafka "
    "source has no DLQ) and the partition waits behind it",
}


class Observability(Construct):
    """One alarm per DLQ, one per pipe, two per function, all notifying the ops topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ops_topic: sns.ITopic,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        pipe_names: Mapping[str, str],
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = cloudwatch_actions.SnsAction(ops_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, queue in dead_letter_queues.items():
            self._build_dead_letter_alarm(name, queue)
        for name, pipe_name in pipe_names.items():
            self._build_pipe_failure_alarm(name, pipe_name)
        for name, function in functions.items():
            self._build_function_alarms(name, function)

    def _build_dead_letter_alarm(self, name: str, queue: sqs.IQueue) -> None:
        metric = queue.metric_approximate_number_of_messages_visible(
            period=ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
        )
        self._alarm(
            f"{name}NotEmpty",
            metric,
            f"{name} holds messages that could not be delivered or processed: inspect and redrive",
        )

    def _build_pipe_failure_alarm(self, name: str, pipe_name: str) -> None:
        metric = cloudwatch.Metric(
            namespace=PIPES_METRIC_NAMESPACE,
            metric_name=PIPES_EXECUTION_FAILED_METRIC,
            dimensions_map={"PipeName": pipe_name},
            statistic=cloudwatch.Stats.SUM,
            period=ALARM_PERIOD,
        )
        self._alarm(f"{name}Failed", metric, PIPE_FAILURE_DESCRIPTIONS[name].format(pipe_name))

    def _build_function_alarms(self, name: str, function: lambda_.IFunction) -> None:
        # An error is retried (async, queue redrive) before anything reaches a DLQ: this alarm
        # says so while it is still happening; a throttle means the account's concurrency is short.
        self._alarm(
            f"{name}Errors",
            function.metric_errors(period=ALARM_PERIOD, statistic=cloudwatch.Stats.SUM),
            f"Function {name} raised errors: see its logs (failed events are retried)",
        )
        self._alarm(
            f"{name}Throttles",
            function.metric_throttles(period=ALARM_PERIOD, statistic=cloudwatch.Stats.SUM),
            f"Function {name} was throttled: check the account's Lambda concurrency",
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_description=description,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[construct_id] = alarm

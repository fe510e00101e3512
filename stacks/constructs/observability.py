"""Alarms that page ops, and tell them again when it is over.

Every alarm notifies the ops topic on ALARM and on OK, and is named
``order-events-<stage>-<what>`` (the ops topic lets only those alarms publish):
- a dead-letter queue holds messages (ALARM while any is visible, OK once drained);
- a work queue's oldest message is older than a healthy consumer lets it get (a stall);
- a rule's target failed for good, or its failure could not even reach the rule's DLQ;
- a pipe failed or timed out an execution (the risk-review pipe; the Kafka ingest pipe when on);
- a function errored or was throttled; the inventory function could not deliver a failed event
  to its on-failure destination.
docs/operations.md says what to do for each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.constants import (
    ALARM_NAME_PREFIX,
    ALARM_PERIOD,
    EVENTS_METRIC_NAMESPACE,
    LAMBDA_DESTINATION_DELIVERY_FAILURES_METRIC,
    PIPES_EXECUTION_FAILED_METRIC,
    PIPES_EXECUTION_TIMEOUT_METRIC,
    PIPES_METRIC_NAMESPACE,
    RULE_FAILURE_METRICS,
)

# Statistic names (static strings of aws-cdk-lib): read once, each read is a jsii round trip.
STAT_SUM = cloudwatch.Stats.SUM
STAT_MAXIMUM = cloudwatch.Stats.MAXIMUM

# What happens to a failed batch, by pipe (the alarm's description says it).
PIPE_RETRIES = {
    "RiskReviewPipe": "messages return to the queue, then its DLQ",
    "KafkaIngestPipe": "the batch is read again from its offsets (a Kafka source has no DLQ) "
    "and its partition waits behind it",
}


def alarm_name_prefix(stage: str) -> str:
    """Every alarm of the stage is named with this prefix."""
    return f"{ALARM_NAME_PREFIX}-{stage}-"


class Observability(Construct):
    """Alarms on DLQs, work-queue age, rules, the pipe and the functions, all to the ops topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        ops_topic: sns.ITopic,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        work_queues: Mapping[str, tuple[sqs.IQueue, Duration]],
        bus_name: str,
        rule_names: Iterable[str],
        pipe_names: Mapping[str, str],
        functions: Mapping[str, lambda_.IFunction],
        functions_with_destinations: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = alarm_name_prefix(stage)
        self._action = cloudwatch_actions.SnsAction(ops_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, queue in dead_letter_queues.items():
            self._build_dead_letter_alarm(name, queue)
        for name, (queue, age_limit) in work_queues.items():
            self._build_stall_alarm(name, queue, age_limit)
        for name in rule_names:
            self._build_rule_alarms(name, bus_name)
        for name, pipe_name in pipe_names.items():
            self._build_pipe_alarms(name, pipe_name)
        for name, function in functions.items():
            self._build_function_alarms(name, function)
        for name, function in functions_with_destinations.items():
            self._build_destination_alarm(name, function)

    def _build_dead_letter_alarm(self, name: str, queue: sqs.IQueue) -> None:
        # On messages visible, not on arrivals: ALARM for as long as anything waits in the DLQ,
        # OK once it is drained (redriven or inspected and deleted).
        metric = queue.metric_approximate_number_of_messages_visible(
            period=ALARM_PERIOD, statistic=STAT_MAXIMUM
        )
        self._alarm(
            f"{name}NotEmpty",
            metric,
            f"{name} holds messages that could not be delivered or processed: inspect and redrive",
        )

    def _build_stall_alarm(self, name: str, queue: sqs.IQueue, age_limit: Duration) -> None:
        # A stopped pipe or a disabled event source mapping raises no error anywhere: the only
        # sign is messages getting older than a healthy consumer lets them get.
        metric = queue.metric_approximate_age_of_oldest_message(
            period=ALARM_PERIOD, statistic=STAT_MAXIMUM
        )
        seconds = int(age_limit.to_seconds())
        self._alarm(
            f"{name}Stalled",
            metric,
            f"{name}'s oldest message is older than {seconds} s (batching window + receives x "
            "visibility timeout): its consumer is stopped, disabled or behind",
            threshold=seconds,
        )

    def _build_rule_alarms(self, name: str, bus_name: str) -> None:
        for metric_name in RULE_FAILURE_METRICS:
            metric = cloudwatch.Metric(
                namespace=EVENTS_METRIC_NAMESPACE,
                metric_name=metric_name,
                # The literal name: a custom-bus rule's Ref is "<bus>|<rule>", not its name.
                dimensions_map={"EventBusName": bus_name, "RuleName": name},
                statistic=STAT_SUM,
                period=ALARM_PERIOD,
            )
            self._alarm(
                f"{_pascal(name)}Rule{metric_name}",
                metric,
                f"Rule {name}: {metric_name} (see docs/operations.md)",
            )

    def _build_pipe_alarms(self, name: str, pipe_name: str) -> None:
        for metric_name, what in (
            (PIPES_EXECUTION_FAILED_METRIC, "failed executions"),
            (PIPES_EXECUTION_TIMEOUT_METRIC, "executions that timed out"),
        ):
            metric = cloudwatch.Metric(
                namespace=PIPES_METRIC_NAMESPACE,
                metric_name=metric_name,
                dimensions_map={"PipeName": pipe_name},
                statistic=STAT_SUM,
                period=ALARM_PERIOD,
            )
            suffix = "Failed" if metric_name == PIPES_EXECUTION_FAILED_METRIC else "TimedOut"
            self._alarm(f"{name}{suffix}", metric, f"Pipe {pipe_name} {what}: {PIPE_RETRIES[name]}")

    def _build_function_alarms(self, name: str, function: lambda_.IFunction) -> None:
        # An error is retried (async, queue redrive) before anything reaches a DLQ: this alarm
        # says so while it is still happening; a throttle means the account's concurrency is short.
        self._alarm(
            f"{name}Errors",
            function.metric_errors(period=ALARM_PERIOD, statistic=STAT_SUM),
            f"Function {name} raised errors: see its logs (failed events are retried)",
        )
        self._alarm(
            f"{name}Throttles",
            function.metric_throttles(period=ALARM_PERIOD, statistic=STAT_SUM),
            f"Function {name} was throttled: check the account's Lambda concurrency",
        )

    def _build_destination_alarm(self, name: str, function: lambda_.IFunction) -> None:
        # An async event that failed every retry and then could not be written to the on-failure
        # destination is lost: nothing else records it.
        metric = function.metric(
            LAMBDA_DESTINATION_DELIVERY_FAILURES_METRIC,
            period=ALARM_PERIOD,
            statistic=STAT_SUM,
        )
        self._alarm(
            f"{name}DestinationDeliveryFailures",
            metric,
            f"Function {name} could not deliver failed events to its on-failure destination",
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 0,
    ) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_name=f"{self._prefix}{construct_id}",
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        # Tell ops when it is over too: a drained DLQ, a consumer that caught up.
        alarm.add_ok_action(self._action)
        self.alarms[construct_id] = alarm


def _pascal(name: str) -> str:
    """'notify-customer' -> 'NotifyCustomer' (rule names are kebab-case)."""
    return "".join(part.capitalize() for part in name.split("-"))

"""The prod stage, with e-mail subscribers: what only shows up there.

One extra synth per session (fixture ``prod_template`` in tests/infra/conftest.py): prod keeps
its data when the stack goes, and subscriptions (none in dev) need their own guardrails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STATEFUL_TYPES = {
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
    "AWS::Events::EventBus",
    "AWS::Events::Archive",
}


def test_prod_stack_is_named_and_configured_for_prod(prod_cfn: Any) -> None:
    # Given the prod template / Then names and values come from cdk.json's prod stage
    context = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())
    prod = context["context"]["stages"]["prod"]
    (bus,) = prod_cfn.of_type("AWS::Events::EventBus").values()
    (archive,) = prod_cfn.of_type("AWS::Events::Archive").values()
    (pipe,) = prod_cfn.of_type("AWS::Pipes::Pipe").values()
    assert bus["Properties"]["Name"] == "orders-prod"
    assert archive["Properties"]["RetentionDays"] == prod["archiveRetentionDays"]
    window = pipe["Properties"]["SourceParameters"]["SqsQueueParameters"]
    assert window["MaximumBatchingWindowInSeconds"] == prod["pipeBatchWindowSeconds"]
    for group in prod_cfn.of_type("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == prod["logRetentionDays"]


def test_prod_audit_mapping_gathers_its_window_and_the_queue_hides_messages_past_it(
    prod_cfn: Any,
) -> None:
    # Given prod's audit window (20 s: fewer, fuller invocations; docs/cost.md)
    context = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())
    window = context["context"]["stages"]["prod"]["auditBatchWindowSeconds"]
    assert window == 20
    (mapping,) = prod_cfn.of_type("AWS::Lambda::EventSourceMapping").values()
    queue_id = prod_cfn.ref_id(mapping["Properties"]["EventSourceArn"])
    function_id = prod_cfn.ref_id(mapping["Properties"]["FunctionName"])

    # Then the mapping waits up to the window, still reporting failed items only
    assert mapping["Properties"]["MaximumBatchingWindowInSeconds"] == window
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # and the queue's visibility timeout covers 6 function timeouts plus the window (AWS)
    timeout = prod_cfn.props(function_id)["Timeout"]
    assert prod_cfn.props(queue_id)["VisibilityTimeout"] == 6 * timeout + window


def test_prod_keeps_its_data_when_the_stack_is_deleted(prod_cfn: Any) -> None:
    stateful = {
        logical_id: resource
        for logical_id, resource in prod_cfn.resources.items()
        if resource["Type"] in STATEFUL_TYPES
    }
    # 3 tables, 2 keys (topics; bus, archive and pipe), 3 function log groups, the pipe's log
    # group, 12 queues (2 work queues, 10 DLQs), the bus and its archive
    assert len(stateful) == 23
    for logical_id, resource in stateful.items():
        assert resource["DeletionPolicy"] == "Retain", logical_id
        assert resource["UpdateReplacePolicy"] == "Retain", logical_id


def test_prod_tables_are_protected_from_deletion(prod_cfn: Any) -> None:
    for logical_id, table in prod_cfn.of_type("AWS::DynamoDB::Table").items():
        assert table["Properties"]["DeletionProtectionEnabled"] is True, logical_id


def test_configured_emails_subscribe_to_their_topics(prod_cfn: Any, prod_emails: Any) -> None:
    # Given the e-mail addresses configured for prod
    expected = {
        ("CustomerNotificationsTopicArn", email)
        for email in prod_emails["customerNotificationEmails"]
    }
    expected |= {("FraudAlertsTopicArn", email) for email in prod_emails["fraudAlertEmails"]}
    expected.add(("OpsAlertsTopicArn", prod_emails["opsEmail"]))
    topic_outputs = {prod_cfn.output_ref(name): name for name, _ in expected}

    # When the subscriptions are read
    subscriptions = {
        (topic_outputs[prod_cfn.ref_id(s["Properties"]["TopicArn"])], s["Properties"]["Endpoint"])
        for s in prod_cfn.of_type("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    }

    # Then each address is subscribed to its topic, and nothing else is
    assert subscriptions == expected
    assert len(prod_cfn.of_type("AWS::SNS::Subscription")) == len(expected)


def test_every_subscription_redrives_undeliverable_messages(prod_cfn: Any) -> None:
    subscriptions = prod_cfn.of_type("AWS::SNS::Subscription")
    assert subscriptions
    for logical_id, subscription in subscriptions.items():
        # Given a subscription / When its redrive policy is read
        redrive = subscription["Properties"].get("RedrivePolicy")

        # Then undeliverable messages go to an SQS queue that SNS may write to
        assert redrive, logical_id
        queue = redrive["deadLetterTargetArn"]
        assert prod_cfn.type_of(queue) == "AWS::SQS::Queue"
        assert any(
            statement["Effect"] == "Allow"
            and statement["Principal"] == {"Service": "sns.amazonaws.com"}
            and "sqs:SendMessage" in prod_cfn.as_list(statement["Action"])
            for statement in prod_cfn.queue_policy_statements(prod_cfn.ref_id(queue))
        )


def test_subscription_dlq_is_alarmed_and_published(prod_cfn: Any) -> None:
    # Given the subscription DLQ
    queue_id = prod_cfn.output_ref("SubscriptionDlqUrl")

    # Then it is one of the dead-letter queues, and an alarm watches it for ops
    assert queue_id in prod_cfn.dead_letter_queue_ids()
    watching = [
        alarm["Properties"]
        for alarm in prod_cfn.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    ]
    assert len(watching) == 1
    ops_topic = prod_cfn.output_ref("OpsAlertsTopicArn")
    assert [prod_cfn.ref_id(action) for action in watching[0]["AlarmActions"]] == [ops_topic]


def test_prod_with_subscribers_passes_nag(prod_cloud_assembly_dir: Path) -> None:
    # Given the prod synth (it would have raised on an unacknowledged finding)
    report = json.loads((prod_cloud_assembly_dir / "validation-report.json").read_text())

    # Then no plugin reported a violation
    assert [p for p in report["pluginReports"] if p.get("violations")] == []


def test_dev_deletes_its_queues_bus_and_archive_with_the_stack(cfn: Any) -> None:
    # Given the dev template / Then nothing piles up after cdk destroy
    for kind in ("AWS::SQS::Queue", "AWS::Events::EventBus", "AWS::Events::Archive"):
        for logical_id, resource in cfn.of_type(kind).items():
            assert resource.get("DeletionPolicy", "Delete") == "Delete", logical_id

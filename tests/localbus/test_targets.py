"""Rule targets: Lambda (async, with Lambda's retries and destinations), SQS, SNS, another bus,
CloudWatch Logs, and the rule's own RetryPolicy / DeadLetterConfig."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localbus.bus import UnsupportedFeatureWarning
from tests.localbus.fixtures.engine.cdk_out import (
    arn,
    dead_lettered_queue_target,
    entry,
    event_bus,
    function,
    invoke_config,
    open_bus,
    queue,
    ref,
    rule,
    subscription,
    table,
    target,
    topic,
)

ORDERS = {"source": ["test.orders"]}


def steps(bus, event_id: str) -> list[tuple[str, str]]:
    return [(s["step"], s["resource"]) for s in bus.trace.for_event(event_id)]


def test_lambda_target_is_invoked_asynchronously_with_the_event(tmp_path: Path) -> None:
    # Given a rule on a custom bus that targets a function
    resources = {
        "Bus": event_bus("orders"),
        "Echo": function("echo"),
        "ToEcho": rule("Bus", ORDERS, target("echo", arn("Echo"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an order event is put and the bus runs
        response = bus.put_events(Entries=[entry({"orderId": "o-1"}, bus="orders")])
        bus.run_until_idle()

        # Then the function ran once with the whole event, after the rule delivered it
        event_id = response["Entries"][0]["EventId"]
        assert response["FailedEntryCount"] == 0
        assert steps(bus, event_id) == [
            ("received", "Bus"),
            ("rule-matched", "ToEcho"),
            ("delivered", "Echo"),
        ]
        delivered = bus.trace.find("delivered", resource="Echo")[0]
        assert delivered["input"]["detail"] == {"orderId": "o-1"}
        assert delivered["input"]["id"] == event_id
        assert delivered["resource_type"] == "AWS::Lambda::Function"


def test_failing_function_is_retried_by_lambda_then_sent_to_its_on_failure_queue(
    tmp_path: Path,
) -> None:
    # Given a function that always fails, 2 async retries and an SQS on-failure destination
    resources = {
        "Bus": event_bus("orders"),
        "Broken": function("flaky", FAIL_TIMES="always"),
        "BrokenConfig": invoke_config("Broken", retries=2, on_failure="Failures"),
        "Failures": queue(),
        "ToBroken": rule("Bus", ORDERS, target("broken", arn("Broken"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event reaches it
        response = bus.put_events(Entries=[entry({"orderId": "o-2"}, bus="orders")])
        bus.run_until_idle()

        # Then Lambda tried 3 times (at 0 s, +1 min, +2 min more), the rule saw no failure,
        # and the destination got Lambda's invocation record
        event_id = response["Entries"][0]["EventId"]
        attempts = bus.trace.find("failed", resource="Broken")
        assert [a["elapsed"] for a in attempts] == [0.0, 60.0, 180.0]
        assert all(
            a["error"] == f"RuntimeError: failure number {n}"
            for n, a in enumerate(attempts, start=1)
        )
        assert bus.trace.find("failed", resource="ToBroken") == []
        assert ("dead-lettered", "Broken") in steps(bus, event_id)
        [record] = bus.queues["Failures"].bodies()
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestContext"]["functionArn"].endswith(":$LATEST")
        assert record["requestPayload"]["id"] == event_id
        assert record["responseContext"] == {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        assert record["responsePayload"]["errorType"] == "RuntimeError"
        assert record["responsePayload"]["errorMessage"] == "failure number 3"
        assert bus.dead_letters()["Failures"][0]["CausedBy"] == [event_id]


def test_function_that_recovers_on_the_second_retry_is_not_dead_lettered(tmp_path: Path) -> None:
    # Given a function that fails twice, with Lambda's default async settings
    resources = {
        "Bus": event_bus("orders"),
        "Flaky": function("flaky", FAIL_TIMES="2"),
        "ToFlaky": rule("Bus", ORDERS, target("flaky", arn("Flaky"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event reaches it
        bus.put_events(Entries=[entry({"orderId": "o-3"}, bus="orders")])
        bus.run_until_idle()

        # Then the third attempt (second retry) succeeds and nothing is dropped
        outcomes = [(s["step"], s.get("attempt")) for s in bus.trace if s["resource"] == "Flaky"]
        assert outcomes == [
            ("failed", 1),
            ("retried", 2),
            ("failed", 2),
            ("retried", 3),
            ("delivered", 3),
        ]
        assert bus.trace.find("dropped") == []


def test_zero_retries_and_no_destination_drop_the_event_with_a_reason(tmp_path: Path) -> None:
    # Given a failing function configured for no retries and no destination
    resources = {
        "Bus": event_bus("orders"),
        "Broken": function("flaky", FAIL_TIMES="always"),
        "BrokenConfig": invoke_config("Broken", retries=0),
        "ToBroken": rule("Bus", ORDERS, target("broken", arn("Broken"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event reaches it
        bus.put_events(Entries=[entry({"orderId": "o-4"}, bus="orders")])
        bus.run_until_idle()

        # Then one attempt, then "dropped" says why
        assert len(bus.trace.find("failed", resource="Broken")) == 1
        [dropped] = bus.trace.find("dropped", resource="Broken")
        assert "RetriesExhausted" in dropped["reason"]


def test_function_dead_letter_queue_gets_the_payload_and_error_attributes(tmp_path: Path) -> None:
    # Given a failing function with a DeadLetterConfig and no on-failure destination
    broken = function("flaky", FAIL_TIMES="always")
    broken["Properties"]["DeadLetterConfig"] = {"TargetArn": arn("FunctionDlq")}
    resources = {
        "Bus": event_bus("orders"),
        "Broken": broken,
        "FunctionDlq": queue(),
        "ToBroken": rule("Bus", ORDERS, target("broken", arn("Broken"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event reaches it
        response = bus.put_events(Entries=[entry({"orderId": "o-5"}, bus="orders")])
        bus.run_until_idle()

        # Then the DLQ holds the original event with RequestID / ErrorCode / ErrorMessage
        [message] = bus.queues["FunctionDlq"].messages()
        assert json.loads(message["Body"])["id"] == response["Entries"][0]["EventId"]
        attributes = message["MessageAttributes"]
        assert attributes["ErrorMessage"]["StringValue"] == "failure number 3"
        assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
        assert attributes["RequestID"]["StringValue"]


def test_sqs_target_gets_the_input_transformer_output(tmp_path: Path) -> None:
    # Given a rule whose SQS target has an input transformer
    transformer = {
        "InputPathsMap": {"order": "$.detail.orderId"},
        "InputTemplate": '{"order": <order>, "rule": <aws.events.rule-name>}',
    }
    resources = {
        "Bus": event_bus("orders"),
        "Work": queue(),
        "ToWork": rule("Bus", ORDERS, target("work", arn("Work"), InputTransformer=transformer)),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an order event is put
        bus.put_events(Entries=[entry({"orderId": "o-6"}, bus="orders")])
        bus.run_until_idle()

        # Then the queue holds the rendered text as the message body
        rule_name = bus.rules["ToWork"].name
        assert bus.queues["Work"].bodies() == [{"order": "o-6", "rule": rule_name}]
        [delivered] = bus.trace.find("delivered", resource="Work")
        assert delivered["rule"] == "ToWork"
        assert delivered["target_id"] == "work"


def test_sns_target_fans_out_to_raw_and_enveloped_queues_lambda_and_email(tmp_path: Path) -> None:
    # Given a topic with a raw SQS, an enveloped SQS, a Lambda and an e-mail subscription
    resources = {
        "Bus": event_bus("orders"),
        "Alerts": topic(),
        "Raw": queue(),
        "Wrapped": queue(),
        "Echo": function("echo"),
        "RawSub": subscription("Alerts", "sqs", arn("Raw"), RawMessageDelivery="true"),
        "WrappedSub": subscription("Alerts", "sqs", arn("Wrapped")),
        "EchoSub": subscription("Alerts", "lambda", arn("Echo")),
        "MailSub": subscription("Alerts", "email", "ops@example.com"),
        "ToAlerts": rule("Bus", ORDERS, target("alerts", ref("Alerts"), InputPath="$.detail")),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an order event is put
        response = bus.put_events(Entries=[entry({"orderId": "o-7"}, bus="orders")])
        bus.run_until_idle()

        # Then every subscriber got the message in its own shape
        event_id = response["Entries"][0]["EventId"]
        assert bus.queues["Raw"].bodies() == [{"orderId": "o-7"}]
        [envelope] = bus.queues["Wrapped"].bodies()
        assert envelope["Type"] == "Notification"
        assert envelope["TopicArn"] == bus.index.get("Alerts").arn
        assert json.loads(envelope["Message"]) == {"orderId": "o-7"}
        [invoked] = bus.trace.find("delivered", resource="Echo")
        record = invoked["input"]["Records"][0]
        assert record["EventSource"] == "aws:sns"
        assert json.loads(record["Sns"]["Message"]) == {"orderId": "o-7"}
        [mail] = bus.notifications()
        assert mail["endpoint"] == "ops@example.com"
        assert json.loads(mail["message"]) == {"orderId": "o-7"}
        # and the trace shows the topic, then each subscriber, for the same event
        resources_seen = {s["resource"] for s in bus.trace.for_event(event_id)}
        assert {"Alerts", "Raw", "Wrapped", "Echo", "MailSub"} <= resources_seen


def test_sns_filter_policy_on_message_body_filters_out_a_subscription(tmp_path: Path) -> None:
    # Given two queue subscriptions, one filtering on the message body's priority
    resources = {
        "Bus": event_bus("orders"),
        "Alerts": topic(),
        "Urgent": queue(),
        "All": queue(),
        "UrgentSub": subscription(
            "Alerts",
            "sqs",
            arn("Urgent"),
            RawMessageDelivery="true",
            FilterPolicyScope="MessageBody",
            FilterPolicy={"priority": ["high"]},
        ),
        "AllSub": subscription("Alerts", "sqs", arn("All"), RawMessageDelivery="true"),
        "ToAlerts": rule("Bus", ORDERS, target("alerts", ref("Alerts"), InputPath="$.detail")),
    }
    with open_bus(tmp_path, resources) as bus:
        # When a low and a high priority event are put
        bus.put_events(
            Entries=[
                entry({"priority": "low"}, bus="orders"),
                entry({"priority": "high"}, bus="orders"),
            ]
        )
        bus.run_until_idle()

        # Then only the high one passes the filter
        assert bus.queues["Urgent"].bodies() == [{"priority": "high"}]
        assert len(bus.queues["All"].bodies()) == 2
        [filtered] = bus.trace.find("filtered-out")
        assert filtered["resource"] == "UrgentSub"


def test_event_bus_target_reenters_as_a_new_event_linked_to_its_parent(tmp_path: Path) -> None:
    # Given a rule forwarding from one bus to another, where a rule sends to a queue
    resources = {
        "Front": event_bus("front"),
        "Back": event_bus("back"),
        "Sink": queue(),
        "Forward": rule("Front", ORDERS, target("back", arn("Back"))),
        "Collect": rule("Back", ORDERS, target("sink", arn("Sink"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event is put on the front bus
        response = bus.put_events(Entries=[entry({"orderId": "o-8"}, bus="front")])
        bus.run_until_idle()

        # Then a child event with a new id reaches the back bus and the queue
        parent = response["Entries"][0]["EventId"]
        [child] = bus.trace.children(parent)
        assert child != parent
        [received] = bus.trace.find("received", event_id=child)
        assert received["resource"] == "Back"
        assert received["parent_event_id"] == parent
        [body] = bus.queues["Sink"].bodies()
        assert body["id"] == child
        assert body["detail"] == {"orderId": "o-8"}


def test_log_group_target_records_the_event(tmp_path: Path) -> None:
    # Given a rule that logs every order event
    resources = {
        "Bus": event_bus("orders"),
        "Log": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/orders"}},
        "ToLog": rule("Bus", ORDERS, target("log", arn("Log"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event is put
        bus.put_events(Entries=[entry({"orderId": "o-9"}, bus="orders")])
        bus.run_until_idle()

        # Then the log group holds the event JSON
        [line] = bus.logs["Log"]
        assert json.loads(line["message"])["detail"] == {"orderId": "o-9"}


def test_throttled_target_is_retried_by_the_rule_then_delivered(tmp_path: Path) -> None:
    # Given a queue target that is throttled twice
    resources = {
        "Bus": event_bus("orders"),
        "Work": queue(),
        "ToWork": rule("Bus", ORDERS, target("work", arn("Work"))),
    }
    with open_bus(tmp_path, resources) as bus:
        bus.faults.throttle("Work", times=2)

        # When an event is put
        bus.put_events(Entries=[entry({"orderId": "o-10"}, bus="orders")])
        bus.run_until_idle()

        # Then the rule retried with backoff (1 s, then 2 s) and the third attempt landed
        work = [(s["step"], s["elapsed"]) for s in bus.trace if s["resource"] == "Work"]
        assert work == [
            ("failed", 0.0),
            ("retried", 1.0),
            ("failed", 1.0),
            ("retried", 3.0),
            ("delivered", 3.0),
        ]
        assert bus.trace.find("failed")[0]["error"] == "ThrottlingException: Rate exceeded"
        assert len(bus.queues["Work"]) == 1


def test_rule_dead_letter_queue_gets_the_event_after_its_retry_policy(tmp_path: Path) -> None:
    # Given a target retried at most twice with an SQS dead-letter queue, throttled forever
    with open_bus(tmp_path, dead_lettered_queue_target(ORDERS)) as bus:
        bus.faults.throttle("Work", times=None)

        # When an event is put
        response = bus.put_events(Entries=[entry({"orderId": "o-11"}, bus="orders")])
        bus.run_until_idle()

        # Then after 3 attempts the DLQ has the event with EventBridge's attributes
        event_id = response["Entries"][0]["EventId"]
        assert len(bus.trace.find("failed", resource="Work")) == 3
        [message] = bus.dead_letters()["RuleDlq"]
        assert json.loads(message["Body"])["id"] == event_id
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        assert attributes["RULE_ARN"] == bus.index.get("ToWork").arn
        assert attributes["TARGET_ARN"] == bus.index.get("Work").arn
        assert attributes["ERROR_CODE"] == "ThrottlingException"
        assert attributes["ERROR_MESSAGE"] == "Rate exceeded"
        assert attributes["RETRY_ATTEMPTS"] == "2"
        assert len(bus.queues["Work"]) == 0


def test_non_retryable_failure_goes_straight_to_the_dead_letter_queue(tmp_path: Path) -> None:
    # Given a target whose delivery is denied (a non-retryable error)
    resources = {
        "Bus": event_bus("orders"),
        "Work": queue(),
        "RuleDlq": queue(),
        "ToWork": rule(
            "Bus",
            ORDERS,
            target("work", arn("Work"), DeadLetterConfig={"Arn": arn("RuleDlq")}),
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        bus.faults.fail_delivery("Work", error_code="AccessDeniedException")

        # When an event is put
        bus.put_events(Entries=[entry({"orderId": "o-12"}, bus="orders")])
        bus.run_until_idle()

        # Then there is one attempt and no retry
        assert len(bus.trace.find("failed", resource="Work")) == 1
        assert bus.trace.find("retried") == []
        assert len(bus.dead_letters()["RuleDlq"]) == 1


def test_target_outside_the_template_fails_and_is_dead_lettered(tmp_path: Path) -> None:
    # Given a rule whose target ARN is not a resource of the template
    missing = "arn:aws:sqs:eu-west-1:123456789012:somewhere-else"
    resources = {
        "Bus": event_bus("orders"),
        "RuleDlq": queue(),
        "Elsewhere": rule(
            "Bus", ORDERS, target("x", missing, DeadLetterConfig={"Arn": arn("RuleDlq")})
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event is put
        bus.put_events(Entries=[entry({"orderId": "o-13"}, bus="orders")])
        bus.run_until_idle()

        # Then the delivery fails with ResourceNotFoundException, without retries
        [failed] = bus.trace.find("failed")
        assert failed["error"].startswith("ResourceNotFoundException")
        assert len(bus.dead_letters()["RuleDlq"]) == 1


def test_handler_put_events_reenter_the_bus_with_the_causing_event_as_parent(
    tmp_path: Path,
) -> None:
    # Given a function that puts an event on the bus, and a rule that collects emitted events
    resources = {
        "Bus": event_bus("orders"),
        "Emitter": function("emit", BUS_NAME="orders"),
        "Sink": queue(),
        "ToEmitter": rule("Bus", ORDERS, target("emit", arn("Emitter"))),
        "Collect": rule("Bus", {"source": ["test.emitter"]}, target("sink", arn("Sink"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an order event is put
        response = bus.put_events(Entries=[entry({"orderId": "o-14"}, bus="orders")])
        bus.run_until_idle()

        # Then the emitted event is a child of the order event and reached the queue
        parent = response["Entries"][0]["EventId"]
        [child] = bus.trace.children(parent)
        [invoked] = bus.trace.find("delivered", resource="Emitter")
        assert invoked["produced_event_ids"] == [child]
        assert bus.trace.find("received", event_id=child)[0]["via"] == "Emitter"
        [body] = bus.queues["Sink"].bodies()
        assert body["id"] == child
        assert body["detail"] == {"cause": parent}
        [tree] = bus.trace.tree(parent)
        assert tree["children"][0]["event_id"] == child


def test_seeded_table_is_read_and_written_by_a_handler(tmp_path: Path) -> None:
    # Given a table seeded with a counter and a function that writes to it
    resources = {
        "Bus": event_bus("orders"),
        "Data": table(),
        "Writer": function("writer", TABLE_NAME=ref("Data")),
        "ToWriter": rule("Bus", ORDERS, target("writer", arn("Writer"))),
    }
    with open_bus(tmp_path, resources) as bus:
        bus.seed_table("Data", [{"pk": "COUNTER", "hits": 0}])

        # When two events are put
        response = bus.put_events(
            Entries=[entry({"n": 1}, bus="orders"), entry({"n": 2}, bus="orders")]
        )
        bus.run_until_idle()

        # Then moto holds both rows and the counter moved
        items = {item["pk"]: item for item in bus.table_items("Data")}
        assert items["COUNTER"]["hits"] == 2
        for result in response["Entries"]:
            assert items[f"EVENT#{result['EventId']}"]["source"] == "test.orders"


@pytest.mark.parametrize("state", ["DISABLED"])
def test_disabled_rule_never_matches(tmp_path: Path, state: str) -> None:
    # Given a disabled rule
    disabled = rule("Bus", ORDERS, target("work", arn("Work")))
    disabled["Properties"]["State"] = state
    resources = {"Bus": event_bus("orders"), "Work": queue(), "Off": disabled}
    with open_bus(tmp_path, resources) as bus:
        # When an event is put
        response = bus.put_events(Entries=[entry({"orderId": "o-15"}, bus="orders")])
        bus.run_until_idle()

        # Then nothing matched and the trace says the event was dropped
        event_id = response["Entries"][0]["EventId"]
        assert steps(bus, event_id) == [("received", "Bus"), ("dropped", "Bus")]
        assert len(bus.queues["Work"]) == 0


def test_on_failure_destination_on_a_bus_gets_lambdas_result_event(tmp_path: Path) -> None:
    # Given a failing function whose on-failure destination is an event bus with a catch rule
    resources = {
        "Bus": event_bus("orders"),
        "Broken": function("flaky", FAIL_TIMES="always"),
        "BrokenConfig": invoke_config("Broken", retries=0, on_failure="Bus"),
        "Failures": queue(),
        "ToBroken": rule("Bus", ORDERS, target("broken", arn("Broken"))),
        "CatchFailures": rule("Bus", {"source": ["lambda"]}, target("f", arn("Failures"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event reaches the function
        response = bus.put_events(Entries=[entry({"orderId": "o-16"}, bus="orders")])
        bus.run_until_idle()

        # Then Lambda put its invocation record on the bus as a "Failure" event
        parent = response["Entries"][0]["EventId"]
        [child] = bus.trace.children(parent)
        [body] = bus.queues["Failures"].bodies()
        assert body["id"] == child
        assert body["source"] == "lambda"
        assert body["detail-type"] == "Lambda Function Invocation Result - Failure"
        assert body["resources"] == [bus.index.get("Broken").arn + ":$LATEST"]
        assert body["detail"]["requestContext"]["condition"] == "RetriesExhausted"
        assert body["detail"]["requestPayload"]["id"] == parent


def test_on_failure_destination_on_a_topic_publishes_the_record(tmp_path: Path) -> None:
    # Given a failing function whose on-failure destination is a topic with a raw queue
    resources = {
        "Bus": event_bus("orders"),
        "Broken": function("flaky", FAIL_TIMES="always"),
        "BrokenConfig": invoke_config("Broken", retries=1, on_failure="Alerts"),
        "Alerts": topic(),
        "Inbox": queue(),
        "InboxSub": subscription("Alerts", "sqs", arn("Inbox"), RawMessageDelivery="true"),
        "ToBroken": rule("Bus", ORDERS, target("broken", arn("Broken"))),
    }
    resources["BrokenConfig"]["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] = ref(
        "Alerts"
    )
    with open_bus(tmp_path, resources) as bus:
        # When an event reaches the function
        bus.put_events(Entries=[entry({"orderId": "o-17"}, bus="orders")])
        bus.run_until_idle()

        # Then the record went through the topic after 2 attempts
        [record] = bus.queues["Inbox"].bodies()
        assert record["requestContext"]["approximateInvokeCount"] == 2
        assert record["responsePayload"]["errorType"] == "RuntimeError"


def test_rule_target_of_an_unsupported_type_is_reported_and_recorded(tmp_path: Path) -> None:
    # Given a rule that targets a Kinesis stream of the template (not emulated; AWS would
    # put the event on it)
    resources = {
        "Bus": event_bus("orders"),
        "Webhook": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "hook"}},
        "ToWebhook": rule(
            # A stream's ARN is not modelled here: the target names it by logical id.
            "Bus",
            ORDERS,
            target("api", "Webhook", RetryPolicy={"MaximumRetryAttempts": 0}),
        ),
    }
    with (
        pytest.warns(UnsupportedFeatureWarning, match="Kinesis"),
        open_bus(tmp_path, resources) as bus,
    ):
        # When an event matches it
        bus.put_events(Entries=[entry({"orderId": "o-18"}, bus="orders")])
        bus.run_until_idle()

        # Then the load reported the target, and the delivery was recorded with its input,
        # marked as not carried out, rather than failed
        [reported] = [line for line in bus.unsupported if "ToWebhook.Targets.api" in line]
        assert "type AWS::Kinesis::Stream" in reported and "recorded" in reported
        [delivered] = bus.trace.find("delivered", rule="ToWebhook")
        assert delivered["not_emulated"] == "AWS::Kinesis::Stream"
        assert json.loads(delivered["input"])["detail"] == {"orderId": "o-18"}
        assert bus.trace.find("failed") == []


def test_fifo_queue_target_keeps_the_message_group_id(tmp_path: Path) -> None:
    # Given a rule targeting a FIFO queue with a message group id
    fifo = queue()
    fifo["Properties"].update({"FifoQueue": True, "ContentBasedDeduplication": True})
    resources = {
        "Bus": event_bus("orders"),
        "Ordered": fifo,
        "ToOrdered": rule(
            "Bus",
            ORDERS,
            target("fifo", arn("Ordered"), SqsParameters={"MessageGroupId": "orders"}),
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event is put
        bus.put_events(Entries=[entry({"orderId": "o-19"}, bus="orders")])
        bus.run_until_idle()

        # Then the message carries its group id
        [message] = bus.queues["Ordered"].messages()
        assert message["MessageGroupId"] == "orders"
        assert bus.index.get("Ordered").name.endswith(".fifo")


def test_a_target_input_aws_would_refuse_is_reported_at_load_and_dead_letters_its_events(
    tmp_path: Path,
) -> None:
    # Given a rule target whose transformer names a placeholder it never defines
    resources = dead_lettered_queue_target(ORDERS)
    resources["ToWork"]["Properties"]["Targets"][0]["InputTransformer"] = {
        "InputPathsMap": {"order": "$.detail.orderId"},
        "InputTemplate": '"Order <order> for <customer>"',
    }

    # When localbus loads the template, Then it says so, naming the rule, the target and why
    with (
        pytest.warns(UnsupportedFeatureWarning, match="rule target input AWS rejects"),
        open_bus(tmp_path, resources) as bus,
    ):
        [finding] = [line for line in bus.unsupported if "input AWS rejects" in line]
        assert finding.startswith("ToWork: ")
        assert "target work" in finding and "invalid placeholder customer" in finding

        # And an event it matches is not lost: it fails as InvalidInput, into the rule's DLQ
        bus.put_events(Entries=[entry({"orderId": "o-19"}, bus="orders")])
        bus.run_until_idle()
        [message] = bus.dead_letters()["RuleDlq"]
        assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "InvalidInput"


def test_step_functions_rule_target_records_the_start_with_the_transformed_input(
    tmp_path: Path,
) -> None:
    # Given a rule whose target is a state machine, with an input transformer
    resources = {
        "Bus": event_bus("orders"),
        "Workflow": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {}},
        "ToWorkflow": rule(
            "Bus",
            ORDERS,
            target(
                "sfn",
                {"Ref": "Workflow"},  # a state machine's Ref is its ARN
                InputTransformer={
                    "InputPathsMap": {"order": "$.detail.orderId"},
                    "InputTemplate": '{"order": <order>}',
                },
            ),
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an order is put
        bus.put_events(Entries=[entry({"orderId": "o-30"}, bus="orders")])
        bus.run_until_idle()

        # Then one execution was started with the rendered input, and traced as delivered
        [execution] = bus.state_machines["Workflow"].executions
        assert execution["input"] == {"order": "o-30"}
        [step] = [s for s in bus.trace.find("delivered") if s["resource"] == "Workflow"]
        assert step["rule"] == "ToWorkflow" and step["execution_arn"] == execution["executionArn"]
        assert any("state machine" in note and "Workflow" in note for note in bus.notes)


def test_a_target_of_a_service_localbus_does_not_emulate_is_recorded_not_failed(
    tmp_path: Path,
) -> None:
    # Given a rule whose target is an AWS-owned SSM Automation document (serverless-patterns'
    # eventbridge-rule-to-ssm-automation-sam): no template resource, and a service localbus
    # does not emulate, so it cannot tell whether AWS would accept it
    document = "arn:aws:ssm:eu-west-1::automation-definition/AWSSupport-ConfigureEC2Metadata"
    resources = {
        "Bus": event_bus("orders"),
        "RuleDlq": queue(),
        "Automate": rule(
            "Bus",
            ORDERS,
            target(
                "ssm",
                document,
                InputTransformer={
                    "InputPathsMap": {"order": "$.detail.orderId"},
                    "InputTemplate": '{"InstanceId": ["<order>"]}',
                },
                DeadLetterConfig={"Arn": arn("RuleDlq")},
            ),
        ),
    }
    with pytest.warns(UserWarning, match="ssm"), open_bus(tmp_path, resources) as bus:
        # Then the load says so, naming the target and what happens to its deliveries
        [reported] = bus.unsupported
        assert "Automate.Targets.ssm" in reported and "recorded" in reported

        # When an event is put
        bus.put_events(Entries=[entry({"orderId": "o-13"}, bus="orders")])
        bus.run_until_idle()

        # Then the delivery is recorded with the input AWS would send, not failed or lost
        [delivered] = bus.trace.find("delivered", rule="Automate")
        assert delivered["not_emulated"] == "ssm"
        assert json.loads(delivered["input"]) == {"InstanceId": ["o-13"]}
        assert bus.trace.find("failed") == []
        assert len(bus.queue("RuleDlq")) == 0

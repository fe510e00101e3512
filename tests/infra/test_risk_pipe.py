"""Pipe risk-review: source, filter, enrichment, target, and a role with exactly its rights."""

from __future__ import annotations

import json
from typing import Any


def the_pipe(cfn: Any) -> tuple[str, dict[str, Any]]:
    pipes = cfn.of_type("AWS::Pipes::Pipe")
    assert len(pipes) == 1
    (pipe_id, pipe), *_ = pipes.items()
    return pipe_id, pipe["Properties"]


def test_pipe_reads_the_risk_review_queue_in_configured_batches(cfn: Any, dev_config: Any) -> None:
    # Given the pipe
    _, pipe = the_pipe(cfn)

    # Then it reads the risk-review queue with the stage's batch size and window
    assert cfn.ref_id(pipe["Source"]) == cfn.output_ref("RiskReviewQueueUrl")
    assert pipe["SourceParameters"]["SqsQueueParameters"] == {
        "BatchSize": dev_config.pipe_batch_size,
        "MaximumBatchingWindowInSeconds": dev_config.pipe_batch_window_seconds,
    }


def test_pipe_passes_only_new_customer_accounts(cfn: Any, dev_config: Any) -> None:
    # Given the pipe's filter criteria
    _, pipe = the_pipe(cfn)
    filters = pipe["SourceParameters"]["FilterCriteria"]["Filters"]

    # Then one filter matches the SQS record's parsed body on the account age
    assert [json.loads(item["Pattern"]) for item in filters] == [
        {
            "body": {
                "detail": {
                    "customer": {
                        "accountAgeDays": [{"numeric": ["<", dev_config.new_account_max_age_days]}]
                    }
                }
            }
        }
    ]


def test_pipe_enriches_with_the_risk_scorer(cfn: Any) -> None:
    _, pipe = the_pipe(cfn)
    scorer_id, _ = cfn.function_with_handler("risk_scorer.handler.handler")
    assert pipe["Enrichment"] == {"Fn::GetAtt": [scorer_id, "Arn"]}


def test_pipe_puts_order_risk_assessed_on_the_bus(cfn: Any) -> None:
    _, pipe = the_pipe(cfn)
    assert cfn.ref_id(pipe["Target"]) == cfn.output_ref("EventBusName")
    assert pipe["TargetParameters"] == {
        "EventBridgeEventBusParameters": {
            "DetailType": "OrderRiskAssessed",
            "Source": "com.example.risk",
        }
    }


def test_pipe_role_is_assumed_by_pipes_for_this_account_only(cfn: Any) -> None:
    # Given the pipe's role
    _, pipe = the_pipe(cfn)
    role = cfn.props(cfn.ref_id(pipe["RoleArn"]))

    # When its trust policy is read
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]

    # Then only EventBridge Pipes, acting for this account, may assume it
    assert trust["Principal"] == {"Service": "pipes.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_pipe_role_has_exactly_the_actions_it_needs_on_exactly_its_resources(cfn: Any) -> None:
    # Given the pipe, its source queue, enrichment function and target bus
    _, pipe = the_pipe(cfn)
    role_id = cfn.ref_id(pipe["RoleArn"])
    queue_id = cfn.ref_id(pipe["Source"])
    scorer_id = cfn.ref_id(pipe["Enrichment"])
    bus_id = cfn.ref_id(pipe["Target"])
    log_group_id = cfn.ref_id(
        pipe["LogConfiguration"]["CloudwatchLogsLogDestination"]["LogGroupArn"]
    )

    # When every Allow statement attached to the role is collected, per resource
    granted: dict[str | None, set[str]] = {}
    for statement in cfn.policy_statements():
        attached = statement.source_id == role_id and statement.source_type == "AWS::IAM::Role"
        if statement.source_type == "AWS::IAM::Policy":
            roles = cfn.props(statement.source_id)["Roles"]
            attached = role_id in {cfn.ref_id(role) for role in roles}
        if not attached or not statement.allows or "Principal" in statement.body:
            continue
        for resource in statement.resources:
            granted.setdefault(cfn.ref_id(resource), set()).update(statement.actions)

    # Then it reads and deletes from the queue, invokes the scorer, puts events and writes its
    # log records: nothing else
    assert granted == {
        queue_id: {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
        scorer_id: {"lambda:InvokeFunction"},
        bus_id: {"events:PutEvents"},
        log_group_id: {"logs:CreateLogStream", "logs:PutLogEvents"},
    }


def test_pipe_logs_why_an_execution_failed_without_the_orders_in_it(
    cfn: Any, dev_config: Any
) -> None:
    # Given the pipe's log configuration
    _, pipe = the_pipe(cfn)
    logging = pipe["LogConfiguration"]

    # Then failed steps (with their error) go to a log group of its own, with the stage's retention
    assert logging["Level"] == "ERROR"
    log_group = cfn.props(cfn.ref_id(logging["CloudwatchLogsLogDestination"]["LogGroupArn"]))
    assert log_group["LogGroupName"] == f"/aws/vendedlogs/pipes/{pipe['Name']}"
    assert log_group["RetentionInDays"] == dev_config.log_retention_days
    # And no execution data: the payload holds customers' e-mail addresses
    assert "IncludeExecutionData" not in logging

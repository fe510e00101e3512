"""Pipe targets beyond bus/SQS/SNS/Lambda, dynamic path parameters, and pipes that cannot run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localbus.bus import UnsupportedFeatureWarning
from tests.localbus.fixtures.engine.cdk_out import (
    arn,
    entry,
    event_bus,
    function,
    open_bus,
    queue,
    rule,
    target,
)

ACCOUNTS = [("o-1", "acct-a"), ("o-2", "acct-b"), ("o-3", "acct-a")]


def pipe(target_id: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Pipes::Pipe",
        "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/pipe",
            "Source": arn("Review"),
            "SourceParameters": {"SqsQueueParameters": {"BatchSize": 10}},
            "Target": arn(target_id),
            **properties,
        },
    }


def stack(target_id: str, target_resource: dict[str, Any], **pipe_properties: Any) -> dict:
    """Bus orders -> rule -> queue Review -> pipe -> the target."""
    return {
        "Bus": event_bus("orders"),
        "Review": queue(visibility_timeout=60, dlq="ReviewDlq", max_receive_count=2),
        "ReviewDlq": queue(),
        "ToReview": rule("Bus", {"source": ["test.orders"]}, target("review", arn("Review"))),
        target_id: target_resource,
        "Pipe": pipe(target_id, **pipe_properties),
    }


def put_orders(bus: Any) -> None:
    bus.put_events(
        Entries=[entry({"orderId": o, "accountId": a}, bus="orders") for o, a in ACCOUNTS]
    )
    bus.run_until_idle()


def fifo_queue() -> dict[str, Any]:
    fifo = queue()
    fifo["Properties"].update({"FifoQueue": True, "ContentBasedDeduplication": True})
    return fifo


def test_message_group_id_is_read_per_record_from_its_dynamic_path(tmp_path: Path) -> None:
    # Given a pipe to a FIFO queue whose MessageGroupId is a JSON path into the SQS body
    resources = stack(
        "Ordered",
        fifo_queue(),
        TargetParameters={
            "SqsQueueParameters": {"MessageGroupId": "$.body.detail.accountId"},
        },
    )
    with open_bus(tmp_path, resources) as bus:
        # When three orders of two accounts go through
        put_orders(bus)

        # Then each message carries its own account as group id, not the literal path
        messages = bus.queue("Ordered").messages()
        groups = {json.loads(m["Body"])["body"]: m["MessageGroupId"] for m in messages}
        assert sorted(groups.values()) == ["acct-a", "acct-a", "acct-b"]
        # And the pipe's delivery steps record the body delivered and the group id
        delivered = [s for s in bus.trace.find("delivered") if s["resource"] == "Ordered"]
        assert len(delivered) == 3
        for step in delivered:
            assert json.loads(step["input"])["messageId"]
            assert step["message_group_id"] in {"acct-a", "acct-b"}
            assert step["via"] == "Pipe"
        # And the pipe's own step for each record it took from the queue records that record
        taken = [s for s in bus.trace.find("delivered") if s["resource"] == "Pipe"]
        assert len(taken) == 3
        assert all(s["stage"] == "source" and s["input"]["eventSource"] == "aws:sqs" for s in taken)


def test_bus_target_detail_type_and_source_come_from_the_record(tmp_path: Path) -> None:
    # Given a pipe back to the bus with DetailType and Source as JSON paths
    resources = stack(
        "Bus2",
        event_bus("scored"),
        TargetParameters={
            "InputTemplate": '{"order": <$.body.detail.orderId>}',
            "EventBridgeEventBusParameters": {
                "DetailType": "$.body.detail.accountId",
                "Source": "$.body.source",
            },
        },
    )
    resources["Scored"] = queue()
    resources["Collect"] = rule("Bus2", {"source": ["test.orders"]}, target("c", arn("Scored")))
    with open_bus(tmp_path, resources) as bus:
        put_orders(bus)

        # Then each event's detail-type is its account and its source the original source,
        # while the detail is the input template's output (paths read the record, not it)
        bodies = bus.queue("Scored").bodies()
        assert sorted(b["detail-type"] for b in bodies) == ["acct-a", "acct-a", "acct-b"]
        assert {b["source"] for b in bodies} == {"test.orders"}
        assert sorted(b["detail"]["order"] for b in bodies) == ["o-1", "o-2", "o-3"]


def test_a_dynamic_path_that_matches_nothing_fails_the_batch_saying_which(tmp_path: Path) -> None:
    resources = stack(
        "Ordered",
        fifo_queue(),
        TargetParameters={"SqsQueueParameters": {"MessageGroupId": "$.body.detail.nope"}},
    )
    with open_bus(tmp_path, resources) as bus:
        put_orders(bus)

        # Then the pipe's target stage failed with the parameter and path named, and the
        # records went to the source queue's DLQ by its redrive policy
        failed = [s for s in bus.trace.find("failed") if s["resource"] == "Pipe"]
        assert failed and all("MessageGroupId $.body.detail.nope" in s["error"] for s in failed)
        assert len(bus.dead_letters()["ReviewDlq"]) == 3


def test_cloudwatch_logs_target_writes_each_item_with_its_timestamp_and_stream(
    tmp_path: Path,
) -> None:
    resources = stack(
        "Audit",
        {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/pipes/audit"}},
        TargetParameters={
            "InputTemplate": '{"order": <$.body.detail.orderId>}',
            "CloudWatchLogsParameters": {
                "LogStreamName": "$.not.a.path.here",
                "Timestamp": "$.attributes.SentTimestamp",
            },
        },
    )
    with open_bus(tmp_path, resources) as bus:
        put_orders(bus)

        # Then one log record per item: the transformed payload, the record's sent time,
        # and LogStreamName taken literally (AWS never reads it as a path)
        records = bus.logs["Audit"]
        assert sorted(json.loads(r["message"])["order"] for r in records) == ["o-1", "o-2", "o-3"]
        assert {r["logStreamName"] for r in records} == {"$.not.a.path.here"}
        # The records were sent to Review when put, at the start of the simulated clock
        assert all(r["timestamp"] == bus.clock.millis(bus.clock.start) for r in records)
        delivered = [s for s in bus.trace.find("delivered") if s["resource"] == "Audit"]
        assert len(delivered) == 3 and all(s["input"] for s in delivered)


def test_step_functions_target_records_the_start_with_the_batch_as_input(tmp_path: Path) -> None:
    resources = stack(
        "Workflow",
        {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"StateMachineType": "EXPRESS"}},
        TargetParameters={
            "StepFunctionStateMachineParameters": {"InvocationType": "FIRE_AND_FORGET"}
        },
    )
    with open_bus(tmp_path, resources) as bus:
        put_orders(bus)

        # Then one execution was started with the batch of three records as a JSON array
        [execution] = bus.state_machines["Workflow"].executions
        assert [json.loads(r["body"])["detail"]["orderId"] for r in execution["input"]] == [
            "o-1",
            "o-2",
            "o-3",
        ]
        assert execution["executionArn"].startswith("arn:aws:states:")
        # And each of the three events it came from has a delivered step naming the execution
        steps = [s for s in bus.trace.find("delivered") if s["resource"] == "Workflow"]
        assert len(steps) == 3 == len(execution["causedBy"])
        assert {s["execution_arn"] for s in steps} == {execution["executionArn"]}


def test_a_pipe_whose_target_cannot_be_emulated_is_reported_at_load_and_does_not_run(
    tmp_path: Path,
) -> None:
    # Given a pipe to a Kinesis stream (not emulated)
    resources = stack("Stream", {"Type": "AWS::Kinesis::Stream", "Properties": {}})
    resources["Pipe"]["Properties"]["Target"] = "Stream"
    with (
        pytest.warns(UnsupportedFeatureWarning, match="pipe not emulated"),
        open_bus(tmp_path, resources) as bus,
    ):
        # When orders arrive, with a short simulated-time limit
        put_orders(bus)
        bus.run_until_idle(max_time=60)

        # Then the load said why, the run ended without a "loop" error, and the records wait
        # on the source queue, untouched
        [line] = [u for u in bus.unsupported if "Pipe" in u and "pipe not emulated" in u]
        assert "AWS::Kinesis::Stream targets are not emulated" in line
        assert "records stay on Review" in line
        assert "Pipe" not in bus.pipes
        assert len(bus.queue("Review")) == 3
        assert all(m["ApproximateReceiveCount"] == 0 for m in bus.queue("Review").messages())


def rest_api_with_proxy(function_id: str) -> dict[str, Any]:
    """A REST API with POST /orders/{id} proxied to `function_id`, stage prod."""
    return {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "orders-api"}},
        "Orders": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "PathPart": "orders",
            },
        },
        "Order": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ParentId": {"Ref": "Orders"},
                "PathPart": "{id}",
            },
        },
        "PostOrder": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Ref": "Order"},
                "HttpMethod": "POST",
                "AuthorizationType": "NONE",
                "Integration": {
                    "Type": "AWS_PROXY",
                    "IntegrationHttpMethod": "POST",
                    "Uri": {
                        "Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
                        f"functions/${{{function_id}.Arn}}/invocations"
                    },
                },
            },
        },
        "Connection": {
            "Type": "AWS::Events::Connection",
            "Properties": {
                "AuthorizationType": "API_KEY",
                "AuthParameters": {
                    "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k-1"}
                },
            },
        },
        "Destination": {
            "Type": "AWS::Events::ApiDestination",
            "Properties": {
                "ConnectionArn": {"Fn::GetAtt": ["Connection", "Arn"]},
                "HttpMethod": "POST",
                "InvocationEndpoint": {
                    "Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/prod/orders/*"
                },
            },
        },
    }


def test_api_destination_to_the_templates_own_api_invokes_the_proxy_function(
    tmp_path: Path,
) -> None:
    # Given a rule whose target is an API destination on the template's REST API (Lambda proxy)
    resources = {
        "Bus": event_bus("orders"),
        "Backend": function("api"),
        **rest_api_with_proxy("Backend"),
        "ToApi": rule(
            "Bus",
            {"source": ["test.orders"]},
            target(
                "api",
                arn("Destination"),
                InputPath="$.detail",
                HttpParameters={
                    "PathParameterValues": ["o-9"],
                    "QueryStringParameters": {"dry": "no"},
                    "HeaderParameters": {"x-trace": "t-1"},
                },
            ),
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        # When an order is put
        bus.put_events(Entries=[entry({"orderId": "o-9"}, bus="orders")])
        bus.run_until_idle()

        # Then the function got API Gateway's REST proxy event for POST /orders/{id}
        [invoked] = [s for s in bus.trace.find("delivered") if s["resource"] == "Backend"]
        event = invoked["input"]
        assert event["resource"] == "/orders/{id}"
        assert event["path"] == "/orders/o-9"
        assert event["httpMethod"] == "POST"
        assert event["pathParameters"] == {"id": "o-9"}
        assert event["queryStringParameters"] == {"dry": "no"}
        assert event["headers"]["x-trace"] == "t-1" and event["headers"]["x-api-key"] == "k-1"
        assert json.loads(event["body"]) == {"orderId": "o-9"}
        assert event["requestContext"]["stage"] == "prod"
        # And the destination's call is recorded with its status
        [call] = bus.api_destinations["Destination"].calls
        assert call["status"] == 200 and call["url"].endswith("/prod/orders/o-9?dry=no")
        assert not bus.unsupported


def test_api_destination_outside_the_template_uses_a_registered_handler_or_says_why(
    tmp_path: Path,
) -> None:
    # Given an API destination to a third-party endpoint, targeted by a rule with a DLQ
    resources = {
        "Bus": event_bus("orders"),
        "RuleDlq": queue(),
        "Destination": {
            "Type": "AWS::Events::ApiDestination",
            "Properties": {"HttpMethod": "PUT", "InvocationEndpoint": "https://example.com/hook"},
        },
        "ToApi": rule(
            "Bus",
            {"source": ["test.orders"]},
            target("api", arn("Destination"), DeadLetterConfig={"Arn": arn("RuleDlq")}),
        ),
    }
    with (
        pytest.warns(UnsupportedFeatureWarning, match="register_http_handler"),
        open_bus(tmp_path, resources) as bus,
    ):
        # When an order is put with no handler registered
        bus.put_events(Entries=[entry({"orderId": "o-1"}, bus="orders")])
        bus.run_until_idle()
        # Then the delivery failed once, saying what to do, and was dead-lettered
        [failed] = bus.trace.find("failed")
        assert "register a local handler" in failed["error"]
        assert len(bus.dead_letters()["RuleDlq"]) == 1

        # When a handler is registered, Then the next event reaches it as an HTTP request
        seen: list[dict[str, Any]] = []
        bus.register_http_handler("Destination", lambda request: seen.append(request) or 202)
        bus.put_events(Entries=[entry({"orderId": "o-2"}, bus="orders")])
        bus.run_until_idle()
        [request] = seen
        assert request["method"] == "PUT" and request["url"] == "https://example.com/hook"
        assert json.loads(request["body"])["detail"] == {"orderId": "o-2"}
        assert request["headers"]["User-Agent"] == "Amazon/EventBridge/ApiDestinations"
        with pytest.raises(KeyError, match="no API destination"):
            bus.register_http_handler("Nope", lambda request: 200)


def test_pipe_to_an_api_destination_on_the_templates_http_api_sends_payload_2_0(
    tmp_path: Path,
) -> None:
    # Given a pipe to an API destination on the template's HTTP API ($default stage), whose
    # route POST /orders/{id} is a Lambda proxy integration, the id a dynamic path parameter
    resources = stack(
        "Destination",
        {
            "Type": "AWS::Events::ApiDestination",
            "Properties": {
                "HttpMethod": "POST",
                "InvocationEndpoint": {
                    "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com/orders/*"
                },
            },
        },
        TargetParameters={
            "InputTemplate": '{"order": <$.body.detail.orderId>}',
            "HttpParameters": {"PathParameterValues": ["$.body.detail.orderId"]},
        },
    )
    resources.update(
        {
            "Backend": function("api"),
            "HttpApi": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {"Name": "orders", "ProtocolType": "HTTP"},
            },
            "Integration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": arn("Backend"),
                    "PayloadFormatVersion": "2.0",
                },
            },
            "Route": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "RouteKey": "POST /orders/{id}",
                    "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "Integration"}]]},
                },
            },
        }
    )
    with open_bus(tmp_path, resources) as bus:
        put_orders(bus)

        # Then the function got one HTTP API 2.0 proxy event per record, the path filled in
        invoked = [s["input"] for s in bus.trace.find("delivered") if s["resource"] == "Backend"]
        assert sorted(e["rawPath"] for e in invoked) == [
            "/orders/o-1",
            "/orders/o-2",
            "/orders/o-3",
        ]
        assert {e["version"] for e in invoked} == {"2.0"}
        assert {e["routeKey"] for e in invoked} == {"POST /orders/{id}"}
        assert sorted(e["pathParameters"]["id"] for e in invoked) == ["o-1", "o-2", "o-3"]
        assert sorted(json.loads(e["body"])["order"] for e in invoked) == ["o-1", "o-2", "o-3"]
        assert [c["status"] for c in bus.api_destinations["Destination"].calls] == [200] * 3
        assert len(bus.queue("Review")) == 0


def test_api_destination_on_a_rest_api_defined_by_an_openapi_body_as_sam_writes_it(
    tmp_path: Path,
) -> None:
    # Given a REST API whose routes are an inline OpenAPI Body (what SAM's translator makes),
    # GET /status/{proxy+} a Lambda proxy integration, and a rule to an API destination on it
    uri = {
        "Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
        "${Backend.Arn}/invocations"
    }
    resources = {
        "Bus": event_bus("orders"),
        "Backend": function("api", STATUS="503"),
        "RuleDlq": queue(),
        "Api": {
            "Type": "AWS::ApiGateway::RestApi",
            "Properties": {
                "Body": {
                    "openapi": "3.0.1",
                    "paths": {
                        "/status/{proxy+}": {
                            "get": {
                                "x-amazon-apigateway-integration": {
                                    "type": "aws_proxy",
                                    "httpMethod": "POST",
                                    "uri": uri,
                                }
                            }
                        }
                    },
                }
            },
        },
        "Destination": {
            "Type": "AWS::Events::ApiDestination",
            "Properties": {
                "HttpMethod": "GET",
                "InvocationEndpoint": {
                    "Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/Prod/status/a/b"
                },
            },
        },
        "ToApi": rule(
            "Bus",
            {"source": ["test.orders"]},
            target(
                "api",
                arn("Destination"),
                RetryPolicy={"MaximumRetryAttempts": 1},
                DeadLetterConfig={"Arn": arn("RuleDlq")},
            ),
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        bus.put_events(Entries=[entry({"orderId": "o-5"}, bus="orders")])
        bus.run_until_idle()

        # Then the function got the REST proxy event with the greedy path parameter; its 503
        # is retryable: one retry, then the event is dead-lettered with the HTTP error
        invoked = [s["input"] for s in bus.trace.find("delivered") if s["resource"] == "Backend"]
        assert len(invoked) == 2
        assert invoked[0]["pathParameters"] == {"proxy": "a/b"}
        assert invoked[0]["resource"] == "/status/{proxy+}"
        assert invoked[0]["requestContext"]["stage"] == "Prod"
        [message] = bus.dead_letters()["RuleDlq"]
        assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "HTTP503"


def zip_lookup_stack(**enrichment: Any) -> dict[str, Any]:
    """Queue Zips -> pipe enriched by an API destination (GET .../us/*) -> queue Places."""
    return {
        "Zips": queue(visibility_timeout=30, dlq="ZipsDlq", max_receive_count=2),
        "ZipsDlq": queue(),
        "Places": queue(),
        "Lookup": {
            "Type": "AWS::Events::ApiDestination",
            "Properties": {
                "HttpMethod": "GET",
                "InvocationEndpoint": "https://api.example.com/us/*",
            },
        },
        "Pipe": {
            "Type": "AWS::Pipes::Pipe",
            "Properties": {
                "RoleArn": "arn:aws:iam::123456789012:role/pipe",
                "Source": arn("Zips"),
                "SourceParameters": {"SqsQueueParameters": {"BatchSize": 1}},
                "Enrichment": arn("Lookup"),
                "EnrichmentParameters": {
                    "HttpParameters": {"PathParameterValues": ["$.body.zip"]},
                    **enrichment,
                },
                "Target": arn("Places"),
            },
        },
    }


def test_an_api_destination_enrichment_answers_each_record_and_its_response_goes_on(
    tmp_path: Path,
) -> None:
    # Given a pipe enriched by an API destination whose path takes the message's zip code (as
    # serverless-patterns' eventbridge-pipes-sqs-enrich-with-api-destination), its endpoint
    # answered by a local handler
    with (
        pytest.warns(UnsupportedFeatureWarning, match="register_http_handler"),
        open_bus(tmp_path, zip_lookup_stack()) as bus,
    ):
        # (only the endpoint outside the template is reported; the pipe runs)
        assert [m.split(":")[0] for m in bus.unsupported] == ["Lookup"]
        seen: list[dict[str, Any]] = []

        def places(request: dict[str, Any]) -> dict[str, Any]:
            seen.append(request)
            zip_code = request["url"].rsplit("/", 1)[-1]
            return {"statusCode": 200, "body": json.dumps({"post code": zip_code, "n": 1})}

        bus.register_http_handler("Lookup", places)

        # When two messages arrive
        for zip_code in ("33162", "10001"):
            bus.queue("Zips").send(json.dumps({"zip": zip_code}))
        bus.run_until_idle()

        # Then each record was one GET with its zip in the path and the SQS record as body
        assert [request["url"] for request in seen] == [
            "https://api.example.com/us/33162",
            "https://api.example.com/us/10001",
        ]
        assert all(request["method"] == "GET" for request in seen)
        assert json.loads(seen[0]["body"])["body"] == '{"zip": "33162"}'
        # And each response body is what the target got
        assert bus.queue("Places").bodies() == [
            {"post code": "33162", "n": 1},
            {"post code": "10001", "n": 1},
        ]
        assert bus.queue("Zips").messages() == []
        assert [s["output"] for s in bus.trace.find("enriched")] == [
            {"post code": "33162", "n": 1},
            {"post code": "10001", "n": 1},
        ]


def test_an_api_destination_enrichment_that_fails_leaves_the_record_for_the_dlq(
    tmp_path: Path,
) -> None:
    # Given the same pipe, with an InputTemplate for the request and an endpoint that fails
    template = {"InputTemplate": '{"zip": "<$.body.zip>"}'}
    with (
        pytest.warns(UnsupportedFeatureWarning, match="register_http_handler"),
        open_bus(tmp_path, zip_lookup_stack(**template)) as bus,
    ):
        bodies: list[str] = []
        bus.register_http_handler("Lookup", lambda request: bodies.append(request["body"]) or 503)

        # When a message arrives and the endpoint answers 503 on every try
        bus.queue("Zips").send(json.dumps({"zip": "33162"}))
        bus.run_until_idle()

        # Then the request body was the rendered template, the target got nothing, and the
        # message went to the DLQ after the queue's two receives, the reason in the trace
        assert [json.loads(body) for body in bodies] == [{"zip": "33162"}] * 2
        assert bus.queue("Places").messages() == []
        assert len(bus.queue("ZipsDlq").messages()) == 1
        failures = bus.trace.find("failed", resource="Pipe")
        assert [f["stage"] for f in failures] == ["enrichment"] * 2
        assert "HTTP503" in failures[0]["error"]

"""Handlers in child processes over the Lambda Runtime API, served by `localbus serve`.

- aws-samples/serverless-patterns' Node.js handlers (fixtures/serve/node_example, MIT-0),
  served from their own templates (eventbridge-lambda's SAM template as written) and routed as
  their READMEs say.
- Handler styles (fixtures/serve/node_styles): an ES module importing the AWS SDK v3 from
  localbus's pinned install, CommonJS callbacks (nodejs22.x) and their refusal on nodejs24.x,
  runaway handlers (Node.js and Python) stopped at their Timeout, cold and warm starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localbus.runtimes.pool import SDK_NODE_MODULES
from tests.localbus.serving import Served, start, wait_for

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "serve"
EXAMPLE = FIXTURES / "node_example"
STYLES = FIXTURES / "node_styles"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")


@pytest.fixture(scope="module")
def example() -> Iterator[Served]:
    server = start(EXAMPLE / "eventbridge-lambda" / "template.yaml")
    yield server
    assert server.stop() == 0, "\n".join(server.lines)


@pytest.fixture(scope="module")
def publisher() -> Iterator[Served]:
    server = start(EXAMPLE / "lambda-eventbridge-terraform" / "localbus-template.yaml")
    yield server
    assert server.stop() == 0, "\n".join(server.lines)


@pytest.fixture(scope="module")
def styles() -> Iterator[Served]:
    server = start(STYLES / "template.json", "--python-handlers", "process")
    yield server
    assert server.stop() == 0, "\n".join(server.lines)


def invocations_of(served: Served, function: str) -> list[dict[str, Any]]:
    return [record for record in served.invocations() if record["function"] == function]


def invoke(served: Served, name: str, payload: Any) -> tuple[dict[str, Any], Any]:
    response = served.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload))
    return response, json.loads(response["Payload"].read())


def test_the_eventbridge_lambda_pattern_routes_as_its_readme_says(example: Served) -> None:
    # Given the pattern's event.json; when the README's step puts it on the bus
    pattern = EXAMPLE / "eventbridge-lambda"
    entries = json.loads((pattern / "event.json").read_text())
    response = example.aws("events", "put-events", "--entries", "file://event.json", cwd=pattern)
    [event_id] = [entry["EventId"] for entry in response["Entries"]]

    # Then the rule invoked the Node.js consumer, whose log shows the event (the README's
    # "retrieve the logs" step)
    records = wait_for(lambda: invocations_of(example, "ConsumerFunction"))
    assert records, "\n".join(example.lines)
    [record] = records
    assert record["error"] is None and record["cold_start"]
    assert f'"id": "{event_id}"' in record["logs"]
    assert '"location": "EUR-"' in record["logs"]
    assert "\tINFO\t" in record["logs"]  # Lambda's text log format
    steps = [step for step in example.trace() if step["event_id"] == event_id]
    assert [s["step"] for s in steps if s["resource"] == "ConsumerFunction"] == ["delivered"]

    # And an event the pattern does not match reaches no function
    other = {**entries[0], "Detail": json.dumps({"location": "USD-1"})}
    example.client("events").put_events(Entries=[other])
    time.sleep(0.5)
    assert len(invocations_of(example, "ConsumerFunction")) == 1


def test_the_lambda_eventbridge_publisher_puts_its_event_with_sdk_v3(publisher: Served) -> None:
    # When the publisher is invoked (its README: `aws lambda invoke`, then its log and the bus)
    response, result = invoke(publisher, "PublisherFunction", {})

    # Then its SDK v3 PutEvents reached the served default bus
    assert "FunctionError" not in response, result
    received = [
        step
        for step in publisher.trace()
        if step["step"] == "received" and step["source"] == "demo.event"
    ]
    assert [step["detail_type"] for step in received] == ["Message"]
    [record] = invocations_of(publisher, "PublisherFunction")
    assert "FailedEntryCount: 0" in record["logs"]


def test_an_es_module_handler_uses_the_pinned_sdk(styles: Served) -> None:
    # When an event matches the ES module's rule
    answer = styles.client("events").put_events(
        Entries=[{"Source": "styles.test", "DetailType": "esm", "Detail": '{"n": 7}'}]
    )
    # Then its SendMessage (SDK v3, from localbus's install) landed on the served queue
    sqs = styles.client("sqs")
    url = sqs.get_queue_url(QueueName="styles-out")["QueueUrl"]
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages")
    )
    assert messages, "\n".join(styles.lines)
    assert json.loads(messages[0]["Body"]) == {"from": "styles-esm", "detail": {"n": 7}}
    # and the trace puts that message under the event that invoked the handler
    [cause] = [entry["EventId"] for entry in answer["Entries"]]
    [sent] = [s for s in styles.trace() if s.get("message_id") == messages[0]["MessageId"]]
    assert (sent["event_id"], sent["via"]) == (cause, "EsmFunction")


def test_an_event_a_node_handler_puts_is_linked_to_its_cause(styles: Served) -> None:
    # When a rule invokes the publisher (serverless-patterns' lambda-eventbridge-terraform)
    answer = styles.client("events").put_events(
        Entries=[{"Source": "styles.test", "DetailType": "chain", "Detail": "{}"}]
    )
    [cause] = [entry["EventId"] for entry in answer["Entries"]]

    # Then the event its SDK v3 PutEvents sent arrives as a child of the invoking event
    def produced() -> list[dict[str, Any]]:
        return [
            step
            for step in styles.trace()
            if step["step"] == "received" and step.get("parent_event_ids") == [cause]
        ]

    [child] = wait_for(produced)
    assert (child["source"], child["detail_type"], child["via"]) == (
        "demo.event",
        "Message",
        "ChainedPublisher",
    )


def test_the_javascript_sdk_as_a_client(styles: Served) -> None:
    # Given the pinned SDK v3 in a plain Node.js script (it checks the body's MD5 digest)
    script = (FIXTURES / "js_client" / "sqs_round_trip.mjs").read_text()
    completed = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=SDK_NODE_MODULES.parent,  # where `import "@aws-sdk/..."` resolves
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ENDPOINT": styles.endpoint_url, "QUEUE_NAME": "styles-sdk-client"},
    )
    # Then a message with attributes goes there and back, the digest accepted
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    assert answer["sentId"] == answer["gotId"] and answer["body"] == "from js"
    assert answer["attributes"]["n"] == {"DataType": "Number", "StringValue": "42"}


def test_callback_handlers_cold_then_warm(styles: Served) -> None:
    response, result = invoke(styles, "styles-callback", {"a": 1})
    assert "FunctionError" not in response and result["echoed"] == {"a": 1}
    response, result = invoke(styles, "styles-callback", {"fail": "on purpose"})
    assert response["FunctionError"] == "Unhandled"
    assert result["errorType"] == "TypeError"
    assert result["errorMessage"] == "asked to fail: on purpose"
    assert result["trace"][0] == "TypeError: asked to fail: on purpose"  # Node.js's error shape
    starts = [record["cold_start"] for record in invocations_of(styles, "CallbackFunction")]
    assert starts == [True, False]
    assert wait_for(
        lambda: any("styles-callback (nodejs22.x): warm" in line for line in styles.lines), 5
    ), "\n".join(styles.lines)


def test_a_busy_function_gets_a_second_container_up_to_its_reserved_concurrency(
    styles: Served,
) -> None:
    # A handler that invokes itself while it runs: its only container is busy, so Lambda starts
    # another one (a cold start, another process)
    response, result = invoke(styles, "styles-recursive", {"depth": 0})
    assert "FunctionError" not in response, result
    assert result["inner"]["depth"] == 1 and result["inner"]["pid"] != result["pid"]
    starts = [r["cold_start"] for r in invocations_of(styles, "RecursiveFunction")]
    assert starts == [True, True]  # the inner one recorded first: it finished first

    # With ReservedConcurrentExecutions 1 the inner call is throttled instead
    response, result = invoke(styles, "styles-recursive-reserved", {"depth": 0})
    assert result["innerError"] == "TooManyRequestsException"

    # Once free, a container is reused: a warm start
    invoke(styles, "styles-recursive", {"depth": 1})
    assert invocations_of(styles, "RecursiveFunction")[-1]["cold_start"] is False


def test_a_callback_handler_is_refused_on_nodejs24(styles: Served) -> None:
    response, result = invoke(styles, "styles-callback-24", {})
    assert response["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Runtime.CallbackHandlerDeprecated"


@pytest.mark.parametrize(
    ("function", "logical_id"),
    [("styles-runaway", "RunawayFunction"), ("styles-py-runaway", "PyRunawayFunction")],
)
def test_a_runaway_handler_is_killed_at_its_timeout(
    styles: Served, function: str, logical_id: str, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    response, result = invoke(styles, function, {"pidFile": str(pid_file)})
    took = time.monotonic() - started

    # Lambda's timeout error, after about the function's Timeout (1 s), not later
    assert response["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Sandbox.Timedout"
    assert result["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert took < 10
    # and the process running the handler is gone
    pid = int(pid_file.read_text())
    assert wait_for(lambda: not _alive(pid), 5), f"process {pid} still runs"

    # The next invocation starts a new container (a cold start) in a new process
    invoke(styles, function, {"pidFile": str(pid_file)})
    assert int(pid_file.read_text()) != pid
    records = invocations_of(styles, logical_id)
    assert [(r["cold_start"], r["timed_out"]) for r in records] == [(True, True), (True, True)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting to be reaped counts as gone.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_cleanly_on_a_signal(sig: int, tmp_path: Path) -> None:
    # Given a server with a warm container and a handler running (Timeout 60 s)
    server = start(STYLES / "template.json")
    _, result = invoke(server, "styles-callback", {"a": 1})
    assert result["echoed"] == {"a": 1}
    pid_file = tmp_path / "pid"
    caller = threading.Thread(
        target=lambda: _invoke_quietly(server, "styles-slow-runaway", {"pidFile": str(pid_file)}),
        daemon=True,
    )
    caller.start()
    assert wait_for(pid_file.exists, 20), "\n".join(server.lines)

    # When it is signalled, it stops at once, the running handler's process with it
    started = time.monotonic()
    assert server.stop(sig) == 0, "\n".join(server.lines)
    assert time.monotonic() - started < 15
    assert server.lines[-1] == "localbus stopped"
    assert wait_for(lambda: not _alive(int(pid_file.read_text())), 5)


def _invoke_quietly(served: Served, name: str, payload: Any) -> None:
    from botocore.config import Config

    client = boto3.client(
        "lambda",
        endpoint_url=served.endpoint_url,
        region_name="eu-west-1",
        config=Config(retries={"max_attempts": 1}, read_timeout=90),
    )
    with contextlib.suppress(Exception):  # the server goes away mid-call: that is the point
        client.invoke(FunctionName=name, Payload=json.dumps(payload))

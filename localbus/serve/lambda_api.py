"""Lambda Invoke (REST-JSON: POST /2015-03-31/functions/{name}/invocations) on the template's
functions, RequestResponse, Event and DryRun, with Lambda's headers and error shapes."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import unquote

from localbus.serve.protocol import AwsError, Request, Response, rest_json_error

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 256 * 1024
FUNCTION = "AWS::Lambda::Function"


def handle(request: Request, bus: Any) -> Response | None:
    match = INVOKE_PATH.match(request.path)
    if request.method != "POST" or match is None:
        return None
    name = unquote(match["name"])
    ref = bus.index.find(name, FUNCTION)
    if ref is None:
        return None  # moto's (it cannot run code without Docker, but it answers)
    try:
        return invoke(request, bus, ref)
    except AwsError as failure:
        return rest_json_error(failure)


def invoke(request: Request, bus: Any, ref: Any) -> Response:
    kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
    if kind not in ("RequestResponse", "Event", "DryRun"):
        raise AwsError(
            "InvalidParameterValueException",
            f"1 validation error detected: Value '{kind}' at 'invocationType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
        )
    limit = MAX_ASYNC_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
    if len(request.body) > limit:
        raise AwsError(
            "RequestTooLargeException",
            f"Request must be smaller than {limit} bytes for the {kind} invocation type",
            413,
        )
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        raise AwsError(
            "InvalidRequestContentException",
            "Could not parse request body into json: Could not parse payload into json",
        ) from None
    if ref.logical_id not in bus.functions:
        raise AwsError(
            "ServiceException",
            f"{ref.name} cannot run locally (see localbus's warnings)",
            500,
            sender=False,
        )
    headers = {"X-Amz-Executed-Version": "$LATEST"}
    if kind == "DryRun":
        return Response(204, b"", headers)
    if kind == "Event":
        bus.lambdas.invoke_async(ref.logical_id, payload, cause=())
        return Response(202, b"", headers)
    outcome = bus.lambdas.invoke_sync(ref.logical_id, payload, cause=())
    if not outcome.ok and outcome.error_type == "TooManyRequestsException":
        # Throttled before the handler ran: an API error (429), not a function error.
        raise AwsError("TooManyRequestsException", outcome.error_message, 429)
    bus.record(
        "delivered" if outcome.ok else "failed",
        (),
        ref,
        error=None if outcome.ok else outcome.error,
        input=payload,
        request_id=outcome.request_id,
        produced_event_ids=outcome.produced or None,
        via="Invoke",
    )
    headers["Content-Type"] = "application/json"
    if request.headers.get("x-amz-log-type") == "Tail":
        tail = outcome.logs.encode()[-4096:]
        headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
    if outcome.ok:
        return Response(200, json.dumps(outcome.result).encode(), headers)
    headers["X-Amz-Function-Error"] = "Unhandled"
    return Response(200, json.dumps(_error_payload(bus, ref, outcome)).encode(), headers)


def _error_payload(bus: Any, ref: Any, outcome: Any) -> dict[str, Any]:
    """The error document as the function's runtime writes it (Node.js: `trace`)."""
    runtime = str(bus.resolver.properties(ref.logical_id, strict=False).get("Runtime", ""))
    if runtime.startswith("nodejs"):
        return {
            "errorType": outcome.error_type,
            "errorMessage": outcome.error_message,
            "trace": outcome.stack_trace,
        }
    return outcome.error_payload()

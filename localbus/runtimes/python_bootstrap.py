"""localbus's Python runtime in a child process: Lambda's runtime loop over the Runtime API.

Run as `python python_bootstrap.py` with LAMBDA_TASK_ROOT, _HANDLER and AWS_LAMBDA_RUNTIME_API
set: imports the handler (init), then for each invocation GETs the next event, calls the
handler with a context, and POSTs the result or Lambda's error document. Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import urllib.request
from importlib import import_module
from typing import Any

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"


class Context:
    """The context object the Python runtime passes to a handler."""

    def __init__(self, headers: Any) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def post(path: str, document: Any, error_type: str | None = None) -> None:
    request = urllib.request.Request(
        f"{API}{path}", data=json.dumps(document).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    if error_type:
        request.add_header("Lambda-Runtime-Function-Error-Type", error_type)
    urllib.request.urlopen(request).read()


def error_document(error: BaseException, request_id: str = "", error_type: str = "") -> dict:
    frames = traceback.format_list(traceback.extract_tb(error.__traceback__))
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": request_id,
        "stackTrace": [frame for frame in frames if __file__ not in frame],
    }


def load_handler() -> Any:
    handler = os.environ.get("_HANDLER", "")
    module_name, _, function_name = handler.replace("/", ".").rpartition(".")
    if not module_name:
        raise LoadError("Runtime.MalformedHandlerName", f"Bad handler '{handler}'")
    try:
        module = import_module(module_name)
    except ImportError as error:
        message = f"Unable to import module '{module_name}': {error}"
        raise LoadError("Runtime.ImportModuleError", message) from error
    except SyntaxError as error:
        message = f"Syntax error in module '{module_name}': {error}"
        raise LoadError("Runtime.UserCodeSyntaxError", message) from error
    function = getattr(module, function_name, None)
    if not callable(function):
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        raise LoadError("Runtime.HandlerNotFound", message)
    return function


class LoadError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def main() -> None:
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    try:
        handler = load_handler()
    except LoadError as error:
        print(f"[ERROR] {error.error_type}: {error}", file=sys.stderr, flush=True)
        post("/init/error", error_document(error, error_type=error.error_type), error.error_type)
        sys.exit(1)
    except Exception as error:  # raised while the module initialised
        print(f"[ERROR] {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        post("/init/error", error_document(error), type(error).__name__)
        sys.exit(1)
    while True:
        with urllib.request.urlopen(f"{API}/invocation/next") as response:
            headers = response.headers
            event = json.loads(response.read() or b"null")
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        try:
            result = handler(event, Context(headers))
        except Exception as error:
            document = error_document(error, request_id)
            print(f"[ERROR] {document['errorType']}: {error}", file=sys.stderr, flush=True)
            post(f"/invocation/{request_id}/error", document, document["errorType"])
            continue
        try:
            body = json.dumps(result)
        except (TypeError, ValueError) as error:
            message = f"Unable to marshal response: {error}"
            document = {
                "errorMessage": message,
                "errorType": "Runtime.MarshalError",
                "requestId": request_id,
                "stackTrace": [],
            }
            print(f"[ERROR] Runtime.MarshalError: {message}", file=sys.stderr, flush=True)
            post(f"/invocation/{request_id}/error", document, "Runtime.MarshalError")
            continue
        request = urllib.request.Request(
            f"{API}/invocation/{request_id}/response", data=body.encode(), method="POST"
        )
        urllib.request.urlopen(request).read()


if __name__ == "__main__":
    main()

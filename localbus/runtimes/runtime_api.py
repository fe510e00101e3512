"""The Lambda Runtime API one child-process container talks to (what Lambda gives a runtime).

    GET  /2018-06-01/runtime/invocation/next              the next event (blocks until one)
    POST /2018-06-01/runtime/invocation/{id}/response     the handler's result
    POST /2018-06-01/runtime/invocation/{id}/error        the handler's error document
    POST /2018-06-01/runtime/init/error                    the runtime could not start

One server per container, on 127.0.0.1 and a free port, as each Lambda execution environment
has its own endpoint (AWS_LAMBDA_RUNTIME_API). The container hands it one invocation at a time.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"


@dataclass
class Invocation:
    """One event handed to the runtime and, once it answered, its outcome."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    done: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    result: bytes | None = None
    error: dict[str, Any] | None = None


class RuntimeApi:
    """Serves the Runtime API for one container; `submit` queues an invocation for it."""

    def __init__(self) -> None:
        self._pending: queue.Queue[Invocation | None] = queue.Queue()
        self._current: Invocation | None = None
        self.init_error: dict[str, Any] | None = None
        self.init_failed = threading.Event()
        self.ready = threading.Event()  # the runtime asked for its first event: init is done
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the container's logs are the handler's
                return

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
                api.ready.set()
                invocation = api._pending.get()
                if invocation is None:  # stopping: the process is about to be killed
                    return self._reply(410, {"errorType": "Stopping", "errorMessage": ""})
                api._current = invocation
                invocation.started.set()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", invocation.request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn)
                self.send_header("Content-Length", str(len(invocation.payload)))
                self.end_headers()
                self.wfile.write(invocation.payload)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == f"{PREFIX}/init/error":
                    api.init_error = _error_document(body, self.headers)
                    api.init_failed.set()
                    return self._reply(202, {"status": "OK"})
                parts = self.path[len(PREFIX) :].strip("/").split("/")
                current = api._current
                if (
                    len(parts) != 3
                    or parts[0] != "invocation"
                    or parts[2]
                    not in (
                        "response",
                        "error",
                    )
                ):
                    return self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
                if current is None or current.request_id != parts[1] or current.done.is_set():
                    return self._reply(
                        400,
                        {"errorType": "InvalidRequestID", "errorMessage": f"unknown {parts[1]}"},
                    )
                if parts[2] == "response":
                    current.result = body
                else:
                    current.error = _error_document(body, self.headers)
                api._current = None
                current.done.set()
                return self._reply(202, {"status": "OK"})

            def _reply(self, status: int, document: dict[str, Any]) -> None:
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="localbus-runtime-api", daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> str:
        """host:port, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def submit(self, invocation: Invocation) -> None:
        self._pending.put(invocation)

    def close(self) -> None:
        self._pending.put(None)
        self._server.shutdown()
        self._server.server_close()


class QuietServer(ThreadingHTTPServer):
    """A client that goes away (a killed container, a closed keep-alive) is not an error."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


def _error_document(body: bytes, headers: Any) -> dict[str, Any]:
    """The runtime's error document; a body that is not one still says what went wrong."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        document = {"errorMessage": body.decode(errors="replace")}
    if not isinstance(document, dict):
        document = {"errorMessage": str(document)}
    document.setdefault(
        "errorType", headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown"
    )
    document.setdefault("errorMessage", "")
    return document

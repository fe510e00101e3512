"""`localbus serve`: one HTTP endpoint speaking the AWS wire protocols for a template's flow.

Each request is routed by what the SDKs send: X-Amz-Target (JSON protocols), the form's Action
and the SigV4 credential scope's service (query protocols), the path (Lambda's REST API), or
/_localbus/ (this server's own controls). EventBridge, SQS, SNS Publish, Lambda Invoke and
CloudFormation DescribeStacks on the template's resources are answered by the LocalBus; every
other call goes to moto's backends in this process. A request is answered with the service's
error shape, never a traceback: an unexpected failure is an InternalFailure (HTTP 500).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

import localbus.serve.cloudformation as cloudformation
import localbus.serve.eventbridge as eventbridge
import localbus.serve.lambda_api as lambda_api
import localbus.serve.s3 as s3
import localbus.serve.sns as sns
import localbus.serve.sqs as sqs
from localbus.runtimes.runtime_api import QuietServer
from localbus.serve.engine import Engine
from localbus.serve.protocol import (
    AwsError,
    Request,
    Response,
    json_error,
    rest_json_error,
    xml_error,
)

DEFAULT_PORT = 4010
CONTROL = "/_localbus"
POLL_S = 0.05


class LocalBusServer:
    """The served template: start() binds, loads the template and serves; stop() ends it all."""

    def __init__(
        self,
        template: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        parameters: Mapping[str, Any] | None = None,
        stack: str | None = None,
        python_mode: str = "in-process",
        out: TextIO | None = None,
        quiet: bool = False,
    ) -> None:
        self.template = template
        self.parameters = dict(parameters or {})
        self.stack = stack
        self.python_mode = python_mode
        self.out = out or sys.stdout
        self.quiet = quiet
        self._http = QuietServer((host, port), self._handler_class())
        bound_host, bound_port = self._http.server_address[:2]
        # Listening on every address: handlers (and the banner) use the loopback one.
        local = "127.0.0.1" if bound_host in ("0.0.0.0", "::", "") else bound_host
        self.endpoint_url = f"http://{local}:{bound_port}"
        self.engine = Engine(self._build)
        self.bus: Any = None
        self.runtime: Any = None  # localbus.runtimes.pool.MixedRuntime, once started
        self._moto: Callable[[Request], Response] | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    # ---- lifecycle ---------------------------------------------------------------------------

    def _build(self, engine: Engine) -> Any:
        from localbus.serve.loading import load_bus
        from localbus.serve.moto_forward import MotoForwarder
        from localbus.serve.printer import StepPrinter

        bus, self.runtime = load_bus(
            self.template,
            endpoint_url=self.endpoint_url,
            stack=self.stack,
            parameters=self.parameters,
            python_mode=self.python_mode,
            waiter=engine.wait,
        )
        # Serve mode runs on the wall clock: the simulated clock starts now.
        bus.clock.now = bus.clock.start = time.time()
        self._moto = MotoForwarder()
        if not self.quiet:
            printer = StepPrinter(bus, self.out)
            engine.after_each.append(printer)
            self.runtime.listeners.append(printer.invocation)
        return bus

    def start(self) -> LocalBusServer:
        self.bus = self.engine.start()
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="localbus-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._thread is not None:  # shutdown() waits for a serve_forever that never ran
            self._http.shutdown()
        self._http.server_close()
        if self.bus is not None:
            try:
                self.engine.call(self.bus.close, timeout=30)
            except Exception as error:  # stopping anyway; say why it was not clean
                print(f"localbus: while stopping: {error}", file=sys.stderr)
        self.engine.stop()

    def __enter__(self) -> LocalBusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- requests ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request (called on an HTTP thread)."""
        try:
            if request.path == CONTROL or request.path.startswith(CONTROL + "/"):
                return self._control(request)
            response = self.engine.call(lambda: self._route(request))
            while isinstance(response, sqs.LongPoll):
                if time.monotonic() >= response.deadline:
                    response = self.engine.call(response.again)
                    break
                time.sleep(POLL_S)
                response = self.engine.call(response.again)
            if isinstance(response, sqs.LongPoll) or response is None:
                response = self.engine.call(lambda: self._forward(request))
            return response
        except AwsError as error:
            return _error_for(request, error)
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            failure = AwsError(
                "InternalFailure",
                f"localbus could not serve the request: {error}",
                500,
                sender=False,
            )
            return _error_for(request, failure)

    def _route(self, request: Request) -> Response | sqs.LongPoll | None:
        bus = self.bus
        target = request.target
        if target.startswith("AWSEvents."):
            return eventbridge.handle(request, bus) or self._forward(request)
        if target.startswith("AmazonSQS."):
            return sqs.handle(request, bus) or self._forward(request)
        if target:
            return self._forward(request)
        if request.path.startswith("/2015-03-31/functions/"):
            return lambda_api.handle(request, bus) or self._forward(request)
        if request.signing_service == "s3":
            return self._s3(request)
        if request.method == "POST" and request.is_form:
            service = request.signing_service
            if service == "sns":
                return sns.handle(request, bus) or self._forward(request)
            if service == "sqs":
                return sqs.handle(request, bus) or self._forward(request)
            if service == "cloudformation":
                return cloudformation.handle(request, bus) or self._forward(request)
        return self._forward(request)

    def _s3(self, request: Request) -> Response:
        """S3 goes to moto; a write to an EventBridge-enabled bucket of the template then sends
        the bucket's events (localbus.serve.s3)."""
        response = self._forward(request)
        write = s3.s3_write(request)
        if write is None or response.status >= 300:
            return response
        parsed = s3.write_response(write, response)
        params = {"Bucket": write.bucket, "Key": write.key}
        self.engine.call(lambda: self.bus._handler_s3_write(write.operation, params, parsed))
        return response

    def _forward(self, request: Request) -> Response:
        assert self._moto is not None
        return self._moto(request)

    # ---- /_localbus --------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL) :].strip("/")
        if action == "advance" and request.method == "POST":
            raw = (request.query.get("seconds") or [""])[-1]
            try:
                seconds = float(raw)
            except ValueError:
                return _plain_error(400, "ValidationException", f"seconds={raw!r}: not a number")
            if not 0 <= seconds <= 30 * 86_400:
                return _plain_error(
                    400, "ValidationException", "seconds must be between 0 and 2592000"
                )
            steps = self.engine.call(lambda: self.engine.advance(seconds), top_level=True)
            body = {"advanced": seconds, "actions": steps, "now": self.engine.call(self._now)}
            return _json(200, body)
        if action == "trace" and request.method == "GET":
            return _json(200, self.engine.call(lambda: list(self.bus.trace)))
        if action == "invocations" and request.method == "GET":
            return _json(200, self.engine.call(self._invocations))
        if action == "health" and request.method == "GET":
            return _json(200, {"status": "ok", "now": self.engine.call(self._now)})
        return _plain_error(
            404,
            "ResourceNotFoundException",
            f"{request.method} {request.path}: try POST {CONTROL}/advance?seconds=N, "
            f"GET {CONTROL}/trace, GET {CONTROL}/invocations",
        )

    def _now(self) -> str:
        return str(self.bus.clock.iso())

    def _invocations(self) -> list[dict[str, Any]]:
        runtime = self.runtime
        records = [*runtime.in_process.invocations, *runtime.processes.invocations]
        return [
            {
                "function": record.function,
                "request_id": record.request_id,
                "cold_start": record.cold_start,
                "duration_ms": round(record.duration_ms, 3),
                "error": None if record.error is None else str(record.error),
                "error_type": None if record.error is None else record.error.error_type,
                "timed_out": record.exceeded_timeout,
                "logs": record.logs,
            }
            for record in records
        ]

    # ---- HTTP --------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the step lines say what happened
                return

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                body = self._body()
                request = Request(
                    method=self.command,
                    path=parts.path or "/",
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                    endpoint_url=server.endpoint_url,
                    raw_query=parts.query,
                )
                response = server.handle(request)
                self.send_response(response.status)
                headers = {"x-amzn-RequestId": request.request_id, **response.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                if not any(key.lower() == "content-length" for key in headers):
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()  # the blank line after the last chunk
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

        return Handler


def _error_for(request: Request, error: AwsError) -> Response:
    if request.target:
        return json_error(error, version="1.0" if request.target.startswith("AmazonSQS") else "1.1")
    if request.is_form:
        return xml_error(error, request.request_id)
    return rest_json_error(error)


def _json(status: int, document: Any) -> Response:
    return Response(
        status, json.dumps(document, default=str).encode(), {"Content-Type": "application/json"}
    )


def _plain_error(status: int, code: str, message: str) -> Response:
    return _json(status, {"__type": code, "message": message})


def serve(
    template: str | Path,
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    parameters: Mapping[str, Any] | None = None,
    stack: str | None = None,
    python_mode: str = "in-process",
    out: TextIO | None = None,
) -> None:
    """Serve `template` (a cdk.out folder or a template file) until SIGINT or SIGTERM."""
    server = LocalBusServer(
        template,
        host=host,
        port=port,
        parameters=parameters,
        stack=stack,
        python_mode=python_mode,
        out=out,
    )
    # Signals are caught from before start-up, so one that arrives while the template loads
    # still stops the server cleanly (children killed, moto stopped).
    done = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    stream = out or sys.stdout
    try:
        started = time.perf_counter()
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        stream.write(
            f"localbus serving {template} on {server.endpoint_url} "
            f"(ready in {time.perf_counter() - started:.2f} s; Ctrl-C stops)\n"
        )
        stream.flush()
        while not done.wait(0.2):
            pass
        server.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stream.write("localbus stopped\n")
    stream.flush()

"""Every call serve does not emulate goes to moto's server backends, in this process: the same
backends the handlers' boto3 calls reach, so a DynamoDB table is one table for both."""

from __future__ import annotations

from typing import Any

from localbus.serve.protocol import Request, Response


class MotoForwarder:
    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self._app = DomainDispatcherApplication(create_backend_app)

    def __call__(self, request: Request) -> Response:
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        host = request.headers.get("host", "localhost")
        headers = {key: value for key, value in request.headers.items() if key != "host"}
        builder = EnvironBuilder(
            method=request.method,
            path=request.path,
            query_string=request.raw_query,
            headers=headers,
            data=request.body,
            base_url=f"http://{host}",
        )
        environ = builder.get_environ()
        app_iter, status, response_headers = run_wsgi_app(self._app, environ)
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        code = int(str(status).split(" ", 1)[0])
        # A HEAD answer keeps moto's Content-Length: the size of what a GET would return.
        dropped = {"transfer-encoding", "connection", "server", "date"}
        if request.method != "HEAD":
            dropped.add("content-length")
        out: dict[str, Any] = {
            key: value for key, value in response_headers.items() if key.lower() not in dropped
        }
        return Response(code, body, out)

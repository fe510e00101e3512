"""Requests, responses and errors as the AWS wire protocols shape them.

- JSON (EventBridge awsJson1_1, SQS awsJson1_0, DynamoDB...): POST /, X-Amz-Target
  `<prefix>.<Operation>`, errors as {"__type": code, "message": ...} plus x-amzn-ErrorType.
- query (SNS, CloudFormation, SQS's older protocol): form-encoded Action=..., XML answers,
  errors as <ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>.
- REST-JSON (Lambda): the operation is in the method and path; errors carry x-amzn-ErrorType.
SDKs read the error code from exactly these places, so a bad request gets the code they expect.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape


class AwsError(Exception):
    """An error the service would return: code, message, HTTP status, who is at fault."""

    def __init__(
        self, code: str, message: str, status: int = 400, *, sender: bool = True, **extra: str
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.extra = extra  # e.g. query_code: SQS's code for clients of its query protocol


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    endpoint_url: str = ""
    raw_query: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def target(self) -> str:
        return self.headers.get("x-amz-target", "")

    @property
    def signing_service(self) -> str:
        """The service named in the SigV4 credential scope (.../region/service/aws4_request)."""
        auth = self.headers.get("authorization", "")
        try:
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
            return scope.split("/")[3].lower()
        except IndexError:
            return ""

    def json(self) -> dict[str, Any]:
        """The body of a JSON-protocol request; SerializationException if it is not one."""
        try:
            value = json.loads(self.body or b"{}")
        except ValueError as error:
            raise AwsError("SerializationException", f"Malformed JSON body: {error}") from None
        if not isinstance(value, dict):
            raise AwsError("SerializationException", "The request body must be a JSON object.")
        return value

    def form(self) -> dict[str, str]:
        """The parameters of a query-protocol request (body and query string)."""
        fields = parse_qs(self.body.decode(errors="replace"), keep_blank_values=True)
        for key, values in self.query.items():
            fields.setdefault(key, values)
        return {key: values[-1] for key, values in fields.items()}

    @property
    def is_form(self) -> bool:
        content_type = self.headers.get("content-type", "")
        return "x-www-form-urlencoded" in content_type or "Action" in self.query


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(document: Any, *, version: str = "1.1", status: int = 200) -> Response:
    return Response(
        status,
        json.dumps(document, default=str).encode(),
        {"Content-Type": f"application/x-amz-json-{version}"},
    )


def json_error(error: AwsError, *, version: str = "1.1", type_prefix: str = "") -> Response:
    headers = {"Content-Type": f"application/x-amz-json-{version}", "x-amzn-ErrorType": error.code}
    query_code = error.extra.get("query_code")
    if query_code:
        # awsQueryCompatible services (SQS): SDKs map the error back to the query code.
        fault = "Sender" if error.sender else "Receiver"
        headers["x-amzn-query-error"] = f"{query_code};{fault}"
    body = {"__type": f"{type_prefix}{error.code}", "message": error.message}
    return Response(error.status, json.dumps(body).encode(), headers)


def rest_json_error(error: AwsError) -> Response:
    body = {"Type": "User" if error.sender else "Service", "message": error.message}
    return Response(
        error.status,
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "x-amzn-ErrorType": error.code},
    )


def xml_response(action: str, result_xml: str, request_id: str, namespace: str) -> Response:
    body = (
        f'<?xml version="1.0"?>\n<{action}Response xmlns="{namespace}">'
        f"<{action}Result>{result_xml}</{action}Result>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return Response(200, body.encode(), {"Content-Type": "text/xml"})


def xml_error(error: AwsError, request_id: str) -> Response:
    fault = "Sender" if error.sender else "Receiver"
    code = error.extra.get("query_code") or error.code
    body = (
        '<?xml version="1.0"?>\n<ErrorResponse><Error>'
        f"<Type>{fault}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(error.status, body.encode(), {"Content-Type": "text/xml"})


def xml_value(name: str, value: Any) -> str:
    """<name>value</name>, lists as repeated <member>, dicts as nested elements."""
    if value is None:
        return ""
    if isinstance(value, dict):
        inner = "".join(xml_value(key, item) for key, item in value.items())
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, list):
        inner = "".join(xml_value("member", item) for item in value)
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def require(params: dict[str, Any], name: str) -> Any:
    """A required parameter, or the ValidationException the service gives without it."""
    value = params.get(name)
    if value is None or value == "":
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value null at '{name[0].lower()}{name[1:]}' failed "
            "to satisfy constraint: Member must not be null",
        )
    return value

"""EventBridge API destinations (AWS::Events::ApiDestination, AWS::Events::Connection).

An HTTP call, offline. At load each destination's InvocationEndpoint is matched against the
template's own API Gateway APIs (REST: AWS::ApiGateway::Method resources or an inline OpenAPI
Body; HTTP: AWS::ApiGatewayV2::Route + Integration or an inline Body). When the route is a
Lambda proxy integration (AWS_PROXY), a call invokes that function with the proxy event API
Gateway would send (REST: payload 1.0; HTTP API: its PayloadFormatVersion, 2.0 by default)
and its `statusCode` is the response. Otherwise a handler the user registers
(`LocalBus.register_http_handler(destination, handler)`) answers; with neither, the
destination is reported at load, and its calls fail with a clear, non-retryable error.

The request carries what EventBridge sends: HttpMethod, the endpoint with `*` replaced by
PathParameterValues in order, QueryStringParameters, HeaderParameters, Content-Type JSON,
User-Agent Amazon/EventBridge/ApiDestinations, and the connection's API key header (basic and
OAuth authorization are not applied). Responses 401, 407, 409, 429 and 5xx are retryable,
other 4xx are not (EventBridge user guide, API destinations error handling).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from localbus.delivery import Delivery, DeliveryError
from localbus.engine import Engine, Kind
from localbus.reporting import UnsupportedError
from localbus.resources import FUNCTION, Cause, ResourceRef

API_DESTINATION = "AWS::Events::ApiDestination"
CONNECTION = "AWS::Events::Connection"
REST_API = "AWS::ApiGateway::RestApi"
REST_RESOURCE = "AWS::ApiGateway::Resource"
REST_METHOD = "AWS::ApiGateway::Method"
HTTP_API = "AWS::ApiGatewayV2::Api"
HTTP_ROUTE = "AWS::ApiGatewayV2::Route"
HTTP_INTEGRATION = "AWS::ApiGatewayV2::Integration"
RETRYABLE_STATUS = frozenset({401, 407, 409, 429})
USER_AGENT = "Amazon/EventBridge/ApiDestinations"
_FUNCTION_IN_URI = re.compile(r"(arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+)")
_EXECUTE_API = re.compile(r"(?P<api>[a-z0-9]+)\.execute-api\.[\w-]+\.amazonaws\.com(\.cn)?$")

HttpHandler = Callable[[dict[str, Any]], Any]


class Route:
    """A Lambda proxy integration of one of the template's APIs."""

    def __init__(
        self, function: str, *, api_id: str, http_api: bool, payload_version: str, path: str
    ) -> None:
        self.function = function
        self.api_id = api_id
        self.http_api = http_api
        self.payload_version = payload_version
        self.path = path  # the route's resource path, e.g. /orders/{id}


class ApiDestination:
    def __init__(
        self, engine: Engine, ref: ResourceRef, props: dict[str, Any], headers: dict[str, str]
    ) -> None:
        self._engine = engine
        self.ref = ref
        self.endpoint = str(props.get("InvocationEndpoint") or "")
        self.method = str(props.get("HttpMethod") or "POST").upper()
        self.connection_headers = headers
        self.route: Route | None = None
        self.handler: HttpHandler | None = None
        self.calls: list[dict[str, Any]] = []

    def accept(self, delivery: Delivery) -> list[str]:
        self.call(
            delivery.payload,
            http=delivery.http_parameters or {},
            cause=delivery.cause,
            extra=delivery.extra or {},
        )
        return []

    def call(
        self, body: str, *, http: Mapping[str, Any], cause: Cause, extra: Mapping[str, Any]
    ) -> tuple[int, Any]:
        """One HTTP request; returns its status and response body (what a pipe's enrichment
        passes on). Raises DeliveryError when it failed."""
        engine = self._engine
        request = self._request(body, http)
        if self.route is not None:
            status, response = self._invoke_route(request, cause)
        elif self.handler is not None:
            status, response = _response(self.handler(request))
        else:
            raise DeliveryError(
                "UnsupportedTarget",
                f"API destination {self.ref.logical_id} calls {self.endpoint}, which is not an "
                "API of the template: register a local handler with "
                "bus.register_http_handler(...)",
                retryable=False,
            )
        self.calls.append({**request, "status": status, "response": response})
        if status >= 400:
            raise DeliveryError(
                f"HTTP{status}",
                f"{self.method} {request['url']} answered {status}",
                retryable=status in RETRYABLE_STATUS or status >= 500,
            )
        engine.record(
            "delivered",
            cause,
            self.ref,
            **{"input": body, **extra, "http_method": self.method, "url": request["url"]},
            status_code=status,
        )
        return status, response

    def _request(self, body: str, http: Mapping[str, Any]) -> dict[str, Any]:
        url = self.endpoint
        for value in http.get("PathParameterValues") or []:
            url = url.replace("*", str(value), 1)
        query = {str(k): str(v) for k, v in (http.get("QueryStringParameters") or {}).items()}
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            **self.connection_headers,
            **{str(k): str(v) for k, v in (http.get("HeaderParameters") or {}).items()},
        }
        full = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}" if query else url
        return {
            "method": self.method,
            "url": full,
            "headers": headers,
            "query": query,
            "body": body,
        }

    def _invoke_route(self, request: dict[str, Any], cause: Cause) -> tuple[int, Any]:
        engine = self._engine
        route = self.route
        assert route is not None
        event = _proxy_event(engine, route, request)
        outcome = engine.lambdas.invoke_sync(route.function, event, cause=cause)
        function = engine.index.get(route.function)
        assert function is not None
        engine.record(
            "delivered" if outcome.ok else "failed",
            cause,
            function,
            error=None if outcome.ok else outcome.error,
            via=self.ref.logical_id,
            request_id=outcome.request_id,
            input=event,
            produced_event_ids=outcome.produced or None,
        )
        if not outcome.ok:
            return 502, {"message": "Internal server error"}
        return _response(outcome.result)


def _response(result: Any) -> tuple[int, Any]:
    """A Lambda proxy result or a local handler's answer: (status, body)."""
    if result is None:
        return 200, None
    if isinstance(result, int) and not isinstance(result, bool):
        return result, None
    if isinstance(result, Mapping) and "statusCode" in result:
        return int(result["statusCode"]), result.get("body")
    return 200, result  # HTTP API 2.0: a plain value is a 200 with that body


def _proxy_event(engine: Engine, route: Route, request: dict[str, Any]) -> dict[str, Any]:
    """The event API Gateway sends a Lambda proxy integration for this request."""
    parts = urlsplit(request["url"])
    segments = [s for s in parts.path.split("/") if s]
    stage = "$default"
    if not route.http_api and segments:
        stage, segments = segments[0], segments[1:]
    path = "/" + "/".join(segments)
    params = _path_parameters(route.path, path) or None
    query = request["query"] or None
    headers = request["headers"]
    now_ms = engine.clock.millis()
    request_id = engine.ids.uuid()
    if route.http_api and route.payload_version == "2.0":
        route_key = f"{request['method']} {route.path}"
        return {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": path,
            "rawQueryString": parts.query,
            "headers": {k.lower(): v for k, v in headers.items()},
            "queryStringParameters": query,
            "pathParameters": params,
            "requestContext": {
                "accountId": engine.account_id,
                "apiId": route.api_id,
                "domainName": parts.netloc,
                "domainPrefix": parts.netloc.split(".")[0],
                "http": {
                    "method": request["method"],
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": USER_AGENT,
                },
                "requestId": request_id,
                "routeKey": route_key,
                "stage": stage,
                "time": engine.clock.iso(),
                "timeEpoch": now_ms,
            },
            "body": request["body"],
            "isBase64Encoded": False,
        }
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": request["method"],
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "accountId": engine.account_id,
            "apiId": route.api_id,
            "domainName": parts.netloc,
            "httpMethod": request["method"],
            "identity": {"sourceIp": "127.0.0.1", "userAgent": USER_AGENT},
            "path": parts.path,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTimeEpoch": now_ms,
            "resourcePath": route.path,
            "stage": stage,
        },
        "body": request["body"],
        "isBase64Encoded": False,
    }


def _path_parameters(template: str, path: str) -> dict[str, str] | None:
    """{name: value} when `path` matches the route `template` (`{id}`, `{proxy+}`), else None."""
    want = [s for s in template.split("/") if s]
    have = [s for s in path.split("/") if s]
    params: dict[str, str] = {}
    for position, segment in enumerate(want):
        if segment.startswith("{") and segment.endswith("+}"):
            params[segment[1:-2]] = "/".join(have[position:])
            return params if position < len(have) else None
        if position >= len(have):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            params[segment[1:-1]] = have[position]
        elif segment != have[position]:
            return None
    return params if len(want) == len(have) else None


class ApiDestinationKind(Kind):
    """API destinations, their connections, and the template's API Gateway APIs they may call
    (the APIs are read for their Lambda proxy routes; their HTTP endpoints are not served)."""

    types: ClassVar[Mapping[str, str]] = {
        CONNECTION: "",
        REST_API: "",
        REST_RESOURCE: "",
        REST_METHOD: "",
        HTTP_API: "",
        HTTP_ROUTE: "",
        HTTP_INTEGRATION: "",
        API_DESTINATION: "api_destinations",
    }
    without_arn = frozenset(
        {REST_API, REST_RESOURCE, REST_METHOD, HTTP_API, HTTP_ROUTE, HTTP_INTEGRATION}
    )

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._connections: dict[str, dict[str, str]] = {}  # connection ARN -> headers

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> ApiDestination | None:
        if ref.type == CONNECTION:
            self._connections[ref.arn] = _connection_headers(props)
            return None
        if ref.type in (REST_API, HTTP_API):
            self.engine.reporter.note(
                "API Gateway API",
                ref.logical_id,
                "its HTTP endpoint is not served locally; API destinations that call it "
                "invoke its Lambda proxy routes",
            )
            return None
        if ref.type != API_DESTINATION:
            return None  # routes, resources and methods: read by start()
        headers = self._connections.get(str(props.get("ConnectionArn")), {})
        return ApiDestination(self.engine, ref, props, headers)

    def start(self) -> None:
        engine = self.engine
        destinations = engine.collections.get("api_destinations", {})
        if not destinations:
            return
        routes = _template_routes(engine)
        for destination in destinations.values():
            destination.route = _route_for(destination, routes)
            if destination.route is None:
                engine.report_unsupported(
                    "API destination endpoint outside the template",
                    destination.ref.logical_id,
                    f"{destination.method} {destination.endpoint}: its calls fail unless a "
                    "local handler is registered (bus.register_http_handler)",
                )


def _connection_headers(props: dict[str, Any]) -> dict[str, str]:
    api_key = ((props.get("AuthParameters") or {}).get("ApiKeyAuthParameters")) or {}
    name, value = api_key.get("ApiKeyName"), api_key.get("ApiKeyValue")
    return {str(name): str(value)} if name and value is not None else {}


# ---- the template's own APIs -------------------------------------------------------------------

# (api id, http method or ANY, resource path, function logical id, http api?, payload version)
_RouteRow = tuple[str, str, str, str, bool, str]


def _template_routes(engine: Engine) -> list[_RouteRow]:
    resolver = engine.resolver
    rows: list[_RouteRow] = []
    apis: dict[str, tuple[str, bool]] = {}  # logical id -> (api id, http api?)
    for type_, http in ((REST_API, False), (HTTP_API, True)):
        for logical_id in resolver.resources_of_type(type_):
            try:
                apis[logical_id] = (str(resolver.ref(logical_id)), http)
            except (UnsupportedError, KeyError):  # an id localbus cannot make: no route then
                continue
    for logical_id, (api_id, http) in apis.items():
        body = engine.properties(logical_id).get("Body") or {}
        for path, methods in (body.get("paths") or {}).items() if isinstance(body, dict) else []:
            for method, operation in (methods or {}).items():
                integration = (operation or {}).get("x-amazon-apigateway-integration") or {}
                function = _function_of(engine, integration.get("uri"))
                if str(integration.get("type", "")).lower() == "aws_proxy" and function:
                    version = str(integration.get("payloadFormatVersion") or "2.0")
                    verb = "ANY" if method.lower() == "x-amazon-apigateway-any-method" else method
                    rows.append((api_id, verb.upper(), path, function, http, version))
    rows += _rest_methods(engine, apis) + _http_routes(engine, apis)
    return rows


def _rest_methods(engine: Engine, apis: dict[str, tuple[str, bool]]) -> list[_RouteRow]:
    resolver = engine.resolver
    resources = {
        str(resolver.ref(lid)): engine.properties(lid)
        for lid in resolver.resources_of_type(REST_RESOURCE)
    }

    def path_of(resource_id: str) -> str:
        parts: list[str] = []
        while resource_id in resources:
            parts.append(str(resources[resource_id].get("PathPart", "")))
            resource_id = str(resources[resource_id].get("ParentId", ""))
        return "/" + "/".join(reversed(parts))

    ids = {api_id for api_id, http in apis.values() if not http}
    rows: list[_RouteRow] = []
    for lid in resolver.resources_of_type(REST_METHOD):
        props = engine.properties(lid)
        integration = props.get("Integration") or {}
        function = _function_of(engine, integration.get("Uri"))
        api_id = str(props.get("RestApiId", ""))
        if api_id in ids and integration.get("Type") == "AWS_PROXY" and function:
            path = path_of(str(props.get("ResourceId", "")))
            rows.append(
                (api_id, str(props.get("HttpMethod", "ANY")).upper(), path, function, False, "1.0")
            )
    return rows


def _http_routes(engine: Engine, apis: dict[str, tuple[str, bool]]) -> list[_RouteRow]:
    resolver = engine.resolver
    integrations = {
        str(resolver.ref(lid)): engine.properties(lid)
        for lid in resolver.resources_of_type(HTTP_INTEGRATION)
    }
    ids = {api_id for api_id, http in apis.values() if http}
    rows: list[_RouteRow] = []
    for lid in resolver.resources_of_type(HTTP_ROUTE):
        props = engine.properties(lid)
        api_id = str(props.get("ApiId", ""))
        integration = integrations.get(str(props.get("Target", "")).rsplit("/", 1)[-1]) or {}
        function = _function_of(engine, integration.get("IntegrationUri"))
        if api_id not in ids or integration.get("IntegrationType") != "AWS_PROXY" or not function:
            continue
        method, _, path = str(props.get("RouteKey", "")).partition(" ")
        version = str(integration.get("PayloadFormatVersion") or "2.0")
        rows.append((api_id, method.upper(), path or "/", function, True, version))
    return rows


def _function_of(engine: Engine, uri: Any) -> str | None:
    """The template function an integration URI (or plain function ARN) invokes."""
    if not isinstance(uri, str):
        return None
    match = _FUNCTION_IN_URI.search(uri)
    ref = engine.index.find(match.group(1) if match else uri, FUNCTION)
    return ref.logical_id if ref is not None else None


def _route_for(destination: ApiDestination, routes: list[_RouteRow]) -> Route | None:
    parts = urlsplit(destination.endpoint.replace("*", "x"))
    host = _EXECUTE_API.match(parts.netloc)
    if host is None:
        return None
    segments = [s for s in parts.path.split("/") if s]
    for api_id, method, path, function, http, version in routes:
        if api_id != host.group("api") or method not in ("ANY", destination.method):
            continue
        # A REST API's URL starts with the stage; an HTTP API's $default stage has none.
        rest = segments if http else segments[1:]
        if _path_parameters(path, "/" + "/".join(rest)) is not None or (
            http and _path_parameters(path, "/" + "/".join(segments[1:])) is not None
        ):
            return Route(function, api_id=api_id, http_api=http, payload_version=version, path=path)
    return None

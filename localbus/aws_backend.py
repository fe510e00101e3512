"""The AWS the handlers talk to while localbus runs them: moto, in-process, plus a PutEvents hook.

`AwsBackend` starts moto's `mock_aws` with fake credentials (set only while it is active), creates
the template's DynamoDB tables in it, and routes every EventBridge PutEvents call made through
boto3 (any session, any client created after moto was imported) to a hook the engine installs,
so an event a handler publishes re-enters the local bus instead of moto's own event bus.
Other calls reach moto only from clients created after moto was imported (moto's own rule);
handlers create theirs during the invocation, so theirs always do.

Only one AwsBackend may be active at a time: moto's backends and the PutEvents patch are
process-wide. SQS SendMessage to a queue of the template goes to a second hook (the engine's own
queue, so a message a handler sends is received, redriven and traced like any other); SNS, other
queues and other services called directly by handlers are served by plain moto.
"""

from __future__ import annotations

import copy
import functools
import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.client import BaseClient
from botocore.exceptions import ClientError, ParamValidationError
from botocore.utils import parse_timestamp
from botocore.validate import validate_parameters
from moto import mock_aws

from localbus.intrinsics import Resolver
from localbus.moto_iam_bookkeeping import defer_iam_until_used
from localbus.reporting import Reporter, UnsupportedError
from localbus.service_listing import list_from_one_scan

PutEventsHook = Callable[[list[dict[str, Any]]], dict[str, Any]]
# (QueueUrl, SendMessage request) -> response, or None when the queue is not the engine's.
SendMessageHook = Callable[[str, dict[str, Any]], dict[str, Any] | None]

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "TimeToLiveSpecification",
    "ImportSourceSpecification",
)

_DEFAULT_THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


class AwsBackend:
    """moto for the handlers' AWS calls, with the template's tables and a PutEvents hook."""

    _active: AwsBackend | None = None

    def __init__(
        self,
        template: Mapping[str, Any],
        resolver: Resolver,
        *,
        reporter: Reporter | None = None,
    ) -> None:
        self.template = template
        self.resolver = resolver
        self.reporter = reporter if reporter is not None else resolver.reporter
        self.region = resolver.region
        self.tables: dict[str, str] = {}  # logical id -> table name
        self._hook: PutEventsHook | None = None
        self._send_message_hook: SendMessageHook | None = None
        self._s3_write_hook: Callable[..., None] | None = None
        self._s3_write_operations: frozenset[str] = frozenset()
        self.buckets: dict[str, str] = {}  # logical id -> bucket name
        self._mock: Any = None
        self._saved_environ: dict[str, str | None] = {}
        self._original_make_api_call: Any = None
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self._undo: list[Callable[[], None]] = []

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> AwsBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def active(self) -> bool:
        return self._mock is not None

    def start(self) -> None:
        if AwsBackend._active is not None:
            raise RuntimeError("another AwsBackend is active; moto's state is process-wide")
        AwsBackend._active = self
        self._set_environ(
            {
                **FAKE_CREDENTIALS,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "MOTO_ACCOUNT_ID": self.resolver.account_id,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        try:
            self._undo.append(_share_botocore_loaders())
            self._undo.append(_lighter_moto_requests())
            self._undo.append(_route_moto_requests_once())
            self._undo.append(_build_moto_requests_directly())
            self._undo.append(_sign_moto_requests_lightly())
            self._undo.append(defer_iam_until_used())
            self._mock = mock_aws()
            self._mock.start()
            self._patch_put_events()
            self._session = boto3.session.Session(region_name=self.region)
            if self.resolver.resources_of_type(*TABLE_TYPES):
                self._undo.append(_cheaper_transaction_backups())
                self._undo.append(_parse_expressions_once())
                self._undo.append(_validate_update_expressions_faster())
                self._undo.append(_copy_update_trees_faster())
            self._create_tables()
            self._create_buckets()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if AwsBackend._active is not self:
            return
        self._unpatch_put_events()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        while self._undo:
            self._undo.pop()()
        self._clients.clear()
        self._session = None
        self._restore_environ()
        AwsBackend._active = None

    # ---- PutEvents ---------------------------------------------------------------------------

    def set_put_events_hook(self, hook: PutEventsHook | None) -> None:
        """Route PutEvents to `hook(entries) -> {"FailedEntryCount", "Entries"}` (None: moto).

        Every boto3 events client's put_events call (validated as botocore validates it) goes to
        the hook while it is set; entries arrive in boto3's request shape (Source, DetailType,
        Detail, EventBusName, Resources, Time as an aware UTC datetime, TraceHeader). A
        ValueError raised by the hook reaches the caller as a ValidationException ClientError.
        """
        self._hook = hook

    def set_s3_write_hook(
        self, hook: Callable[..., None] | None, operations: Iterable[str] = ()
    ) -> None:
        """Call `hook(operation, params, response)` after each successful S3 call among
        `operations` (localbus.kinds.bucket's WRITES), to send what S3 sends to EventBridge."""
        self._s3_write_hook = hook
        self._s3_write_operations = frozenset(operations) if hook is not None else frozenset()

    def _create_buckets(self) -> None:
        s3 = self.client("s3")
        for logical_id in self.resolver.resources_of_type("AWS::S3::Bucket"):
            try:
                name = self.resolver.physical_id(logical_id)
                request: dict[str, Any] = {"Bucket": name}
                if self.region != "us-east-1":
                    request["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
                s3.create_bucket(**request)
                versioning = self.resolver.properties(logical_id).get("VersioningConfiguration")
                if (versioning or {}).get("Status") == "Enabled":
                    s3.put_bucket_versioning(
                        Bucket=name, VersioningConfiguration={"Status": "Enabled"}
                    )
            except (UnsupportedError, ClientError, ParamValidationError) as error:
                self.reporter.unsupported("S3 bucket", f"Resources.{logical_id}", str(error))
                continue
            self.buckets[logical_id] = name

    def _s3_written(
        self, original: Callable[..., Any], client: BaseClient, operation: str, params: dict
    ) -> Any:
        response = original(client, operation, params)
        if self._s3_write_hook is not None:
            self._s3_write_hook(operation, params, response)
        return response

    def set_send_message_hook(self, hook: SendMessageHook | None) -> None:
        """Route SQS SendMessage to `hook(queue_url, request)`; a None answer falls to moto."""
        self._send_message_hook = hook

    def _send_message(self, client: BaseClient, api_params: dict[str, Any]) -> Any:
        operation = client.meta.service_model.operation_model("SendMessage")
        validate_parameters(api_params, operation.input_shape)
        assert self._send_message_hook is not None
        response = self._send_message_hook(str(api_params["QueueUrl"]), api_params)
        if response is None:
            return None
        response = dict(response)
        response.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RetryAttempts": 0})
        return response

    def _send_message_batch(self, client: BaseClient, api_params: dict[str, Any]) -> Any:
        """SendMessageBatch to a queue of the template: each entry as SendMessage, answered per
        entry; the batch rules SQS checks first (entries, at most 10, distinct Ids) refused with
        its codes. A queue outside the template: None (moto serves the whole batch)."""
        operation = client.meta.service_model.operation_model("SendMessageBatch")
        validate_parameters(api_params, operation.input_shape)
        assert self._send_message_hook is not None
        entries = list(api_params.get("Entries") or [])
        ids = [str(entry["Id"]) for entry in entries]
        refusal = (
            ("EmptyBatchRequest", "There should be at least one entry in the request.")
            if not entries
            else (
                "TooManyEntriesInBatchRequest",
                f"Maximum number of entries per request are 10. You have sent {len(entries)}.",
            )
            if len(entries) > 10
            else ("BatchEntryIdsNotDistinct", "Id values must be unique within a batch.")
            if len(set(ids)) != len(ids)
            else None
        )
        if refusal is not None:
            # SQS checks the batch before anything is sent, whichever the queue.
            code, message = refusal
            raise client.exceptions.from_code(f"AWS.SimpleQueueService.{code}")(
                {"Error": {"Code": f"AWS.SimpleQueueService.{code}", "Message": message}},
                "SendMessageBatch",
            )
        queue_url = str(api_params["QueueUrl"])
        successful = []
        for entry in entries:
            result = self._send_message_hook(queue_url, {**entry, "QueueUrl": queue_url})
            if result is None:
                return None  # not a template queue: the first entry says so, nothing was sent
            successful.append({"Id": entry["Id"], **result})
        return {
            "Successful": successful,
            "Failed": [],
            "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0},
        }

    def _patch_put_events(self) -> None:
        # Patching the client's API call (not moto's events backend) catches every client, even
        # one made from a session created before moto was imported or before credentials existed.
        original = BaseClient._make_api_call
        self._original_make_api_call = original
        backend = self

        def _make_api_call(client: BaseClient, operation_name: str, api_params: dict) -> Any:
            if (
                backend._send_message_hook is not None
                and operation_name in ("SendMessage", "SendMessageBatch")
                and client.meta.service_model.service_name == "sqs"
            ):
                send = (
                    backend._send_message
                    if operation_name == "SendMessage"
                    else backend._send_message_batch
                )
                response = send(client, api_params)
                if response is not None:
                    return response
            if (
                operation_name in backend._s3_write_operations
                and client.meta.service_model.service_name == "s3"
            ):
                return backend._s3_written(original, client, operation_name, api_params)
            if (
                backend._hook is None
                or operation_name != "PutEvents"
                or client.meta.service_model.service_name != "events"
            ):
                return original(client, operation_name, api_params)
            return backend._put_events(client, api_params)

        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]

    def _put_events(self, client: BaseClient, api_params: dict[str, Any]) -> dict[str, Any]:
        operation = client.meta.service_model.operation_model("PutEvents")
        validate_parameters(api_params, operation.input_shape)  # ParamValidationError, as boto3
        entries = [_request_entry(entry) for entry in api_params.get("Entries") or []]
        try:
            response = dict(self._hook(entries))  # type: ignore[misc]
        except ValueError as error:
            raise client.exceptions.from_code("ValidationException")(
                {"Error": {"Code": "ValidationException", "Message": str(error)}}, "PutEvents"
            ) from error
        response.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RetryAttempts": 0})
        return response

    def _unpatch_put_events(self) -> None:
        if self._original_make_api_call is not None:
            BaseClient._make_api_call = self._original_make_api_call  # type: ignore[method-assign]
            self._original_make_api_call = None

    # ---- DynamoDB ----------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client served by this backend's moto (for the engine and tests)."""
        if self._session is None:
            raise RuntimeError("AwsBackend is not active")
        if service not in self._clients:
            self._clients[service] = self._session.client(service, region_name=self.region)
        return self._clients[service]

    def table_name(self, table_logical_id: str) -> str:
        try:
            return self.tables[table_logical_id]
        except KeyError:
            known = ", ".join(self.tables) or "none"
            raise KeyError(f"no DynamoDB table {table_logical_id!r} (tables: {known})") from None

    def seed_items(self, table_logical_id: str, items: Iterable[Mapping[str, Any]]) -> None:
        """Put plain-Python items (floats allowed) into the table created for `table_logical_id`."""
        table = self._session.resource("dynamodb").Table(self.table_name(table_logical_id))  # type: ignore[union-attr]
        with table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=_to_dynamodb_numbers(dict(item)))

    def items(self, table_logical_id: str) -> list[dict[str, Any]]:
        """Every item of the table, numbers as int/float (a full scan)."""
        table = self._session.resource("dynamodb").Table(self.table_name(table_logical_id))  # type: ignore[union-attr]
        response = table.scan()
        found = response["Items"]
        while "LastEvaluatedKey" in response:
            response = table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
            found.extend(response["Items"])
        return [_from_dynamodb_numbers(item) for item in found]

    def _create_tables(self) -> None:
        dynamodb = self.client("dynamodb")
        for logical_id in self.resolver.resources_of_type(*TABLE_TYPES):
            try:
                request, ttl = self._table_request(logical_id)
                dynamodb.create_table(**request)
                if ttl and str(ttl.get("Enabled", "true")).lower() == "true":
                    dynamodb.update_time_to_live(
                        TableName=request["TableName"],
                        TimeToLiveSpecification={
                            "AttributeName": ttl["AttributeName"],
                            "Enabled": True,
                        },
                    )
            except (UnsupportedError, ClientError, ParamValidationError, KeyError) as error:
                # One table that cannot be made must not stop the others; say which and why.
                self.reporter.unsupported("DynamoDB table", f"Resources.{logical_id}", str(error))
                continue
            self.tables[logical_id] = request["TableName"]

    def _table_request(self, logical_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        properties = self._table_properties(logical_id)
        if "ImportSourceSpecification" in properties:
            self.reporter.note(
                "DynamoDB import from S3",
                f"Resources.{logical_id}",
                "the table starts empty locally; seed it with seed_items()",
            )
        on_demand = properties.get("BillingMode", "PROVISIONED") == "PAY_PER_REQUEST"
        request: dict[str, Any] = {
            "TableName": self.resolver.physical_id(logical_id),
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
        }
        if on_demand:
            request["BillingMode"] = "PAY_PER_REQUEST"
        else:
            request["ProvisionedThroughput"] = _throughput(properties.get("ProvisionedThroughput"))
        indexes = []
        for index in properties.get("GlobalSecondaryIndexes") or []:
            gsi = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            if not on_demand:
                gsi["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
            indexes.append(gsi)
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        local = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in properties.get("LocalSecondaryIndexes") or []
        ]
        if local:
            request["LocalSecondaryIndexes"] = local
        stream = properties.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
            self.reporter.note(
                "DynamoDB stream",
                f"Resources.{logical_id}",
                "the table is created with a stream in moto; nothing consumes it locally",
            )
        return request, properties.get("TimeToLiveSpecification")

    def _table_properties(self, logical_id: str) -> dict[str, Any]:
        """The properties a local table needs, resolved strictly (others, e.g. SSE, ignored)."""
        raw = self.resolver.resource(logical_id).get("Properties") or {}
        return {
            key: self.resolver.resolve(raw[key], where=f"Resources.{logical_id}.Properties.{key}")
            for key in _TABLE_PROPERTIES
            if key in raw
        }

    # ---- environment -------------------------------------------------------------------------

    def _set_environ(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self._saved_environ.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_environ(self) -> None:
        for key, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environ.clear()


# ---- speed: the same answers from moto and botocore, with less repeated work ------------------

_SHARED_LOADERS: dict[str | None, botocore.loaders.Loader] = {}
_MOTO_LOADER = "<moto>"  # key of moto's own Loader in _SHARED_LOADERS


_ABSENT = object()


def _install(
    *patches: tuple[Any, str, Any], cleanup: Callable[[], None] | None = None
) -> Callable[[], None]:
    """Set each (owner, name, value); returns the undo that puts back what the owner itself
    held under each name (descriptors such as classmethods included), or removes the name
    where it held none, and then runs `cleanup`."""
    found = [(owner, name, vars(owner).get(name, _ABSENT)) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)

    def undo() -> None:
        for owner, name, original in reversed(found):
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        if cleanup is not None:
            cleanup()

    return undo


def _share_botocore_loaders() -> Callable[[], None]:
    """Give every botocore session created from now on one Loader per data path; returns undo.

    Each session (this backend's, boto3's default one the handlers use, moto's own) would
    otherwise find, read and parse the same service models and endpoint files again: tens of
    ms each. A Loader only caches files it read; every client of one session already shares
    it. moto reads its service models (with its extras) through a Loader of its own, made
    anew for each service: that one is shared too. All of them list the available services
    from one walk of each data folder (localbus.service_listing).
    """
    from moto.core import utils as moto_utils

    create_loader = botocore.session.create_loader
    create_moto_loader = moto_utils.create_loader

    def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        if search_path_string not in _SHARED_LOADERS:
            _SHARED_LOADERS[search_path_string] = create_loader(search_path_string)
            list_from_one_scan(_SHARED_LOADERS[search_path_string])
        return _SHARED_LOADERS[search_path_string]

    def shared_moto_loader() -> botocore.loaders.Loader:
        if _MOTO_LOADER not in _SHARED_LOADERS:
            _SHARED_LOADERS[_MOTO_LOADER] = create_moto_loader()
            list_from_one_scan(_SHARED_LOADERS[_MOTO_LOADER])
        return _SHARED_LOADERS[_MOTO_LOADER]

    return _install(
        (botocore.session, "create_loader", shared_loader),
        (moto_utils, "create_loader", shared_moto_loader),
    )


def _lighter_moto_requests() -> Callable[[], None]:
    """Remove two per-request costs of moto that change none of its answers; returns undo.

    - IAM authorisation is off (moto's default): moto still imports moto.iam.access_control,
      and moto.s3 with it, on the first request before finding that out. The request count it
      keeps (after which authorisation would start) is kept the same way; the import skipped.
    - Each request looks for the action's method with inspect.getmembers over the response
      class: the method names of a class are read once.
    """
    from moto import settings
    from moto.core import responses
    from moto.core.authorization import ActionAuthenticatorMixin

    authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
    method_names = responses.method_names_from_class
    names_by_class: dict[type, list[str]] = {}

    def authenticate_unless_off(self: Any, resource: str = "*") -> None:
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1  # what moto does when it is off
            return
        authenticate(self, resource)

    def method_names_once(clazz: type) -> list[str]:
        if clazz not in names_by_class:
            names_by_class[clazz] = method_names(clazz)
        return names_by_class[clazz]

    return _install(
        (
            ActionAuthenticatorMixin,
            "_authenticate_and_authorize_normal_action",
            authenticate_unless_off,
        ),
        (responses, "method_names_from_class", method_names_once),
    )


# While requests are routed: url -> whether moto's stubber answers it (see below).
_SERVED_BY_MOTO: Callable[[str], bool] | None = None

# What stands in for the SigV4 signature of a request only moto reads (see below).
UNCOMPUTED_SIGNATURE = "0" * 64


def _sign_moto_requests_lightly() -> Callable[[], None]:
    """Skip computing the SigV4 signature of requests moto answers with IAM auth off; undo.

    botocore signs every request (canonical request, string to sign, five HMACs): about a
    tenth of a call into moto. moto checks a signature only when its IAM authorisation is on
    (INITIAL_NO_AUTH_ACTION_COUNT set); otherwise it reads from the signing headers only the
    access key and the credential scope in Authorization. So for a request its stubber
    answers itself (not passed through, not refused by its allow-list), with that setting at
    its default (never on), a plain SigV4Auth adds the same headers as ever (X-Amz-Date, the
    session token, Authorization with the same Credential scope and SignedHeaders), with
    UNCOMPUTED_SIGNATURE as the signature. Every other request is signed as botocore signs.
    """
    from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
    from botocore.exceptions import NoCredentialsError
    from botocore.utils import get_current_datetime
    from moto import settings
    from moto.core.models import botocore_stubber

    add_auth = SigV4Auth.add_auth

    def add_auth_unless_moto_only(auth: Any, request: Any) -> None:
        served = _SERVED_BY_MOTO
        no_auth_requests = settings.INITIAL_NO_AUTH_ACTION_COUNT  # moto's IAM auth after these
        if (
            type(auth) is not SigV4Auth
            or served is None
            or no_auth_requests != math.inf
            or not botocore_stubber.enabled
            or not served(request.url)
        ):
            add_auth(auth, request)
            return
        if auth.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
        auth._modify_request_before_signing(request)  # as add_auth: dates, token, no old auth
        auth._inject_signature_to_request(request, UNCOMPUTED_SIGNATURE)

    return _install((SigV4Auth, "add_auth", add_auth_unless_moto_only))


def _route_moto_requests_once() -> Callable[[], None]:
    """Find the moto handler for each request URL once, not on every request; returns undo.

    For every request moto's stubber matched the URL against each service's pattern in turn
    (about fifty regular expressions before DynamoDB), then built the service's URL table and
    compiled and matched each of its patterns. Which services match a URL, and which handler
    each offers, depend on the URL alone (the tables are moto's, fixed while it runs), so that
    walk is done once per URL and its outcome replayed in the same order: the passthrough and
    allow-list settings are still read on every request, and the request is still normalised,
    recorded and dispatched as moto does it.
    """
    import re

    import moto.backend_index as backend_index
    from moto.core.base_backend import BackendDict
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.config import passthrough_service, passthrough_url, service_whitelisted
    from moto.core.exceptions import HTTPException, ServiceNotWhitelisted
    from moto.core.request import normalize_request
    from moto.core.utils import get_equivalent_url_in_aws_domain

    global _SERVED_BY_MOTO
    routes: dict[str, tuple[tuple[str, Any], ...]] = {}  # clean URL -> ((service, handler),...)

    def route(clean_url: str) -> tuple[tuple[str, Any], ...]:
        """What moto's loop finds for the URL: each matching service and its handler or None."""
        import moto.backends as backends
        from moto.core import DEFAULT_ACCOUNT_ID

        found: list[tuple[str, Any]] = []
        for service, pattern in backend_index.backend_url_patterns:
            if not pattern.match(clean_url):
                continue
            backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
            if isinstance(backend_dict, BackendDict):
                if "us-east-1" in backend_dict[DEFAULT_ACCOUNT_ID]:
                    backend = backend_dict[DEFAULT_ACCOUNT_ID]["us-east-1"]
                else:
                    backend = backend_dict[DEFAULT_ACCOUNT_ID]["aws"]
            else:
                backend = backend_dict["global"]
            handler = next(
                (
                    method
                    for url, method in backend.urls.items()
                    if re.compile(url).match(clean_url)
                ),
                None,
            )
            found.append((service, handler))
            if handler is not None:
                break
        return tuple(found)

    def found_for(clean_url: str) -> tuple[tuple[str, Any], ...]:
        found = routes.get(clean_url)
        if found is None:
            found = routes[clean_url] = route(clean_url)
        return found

    def served_by_moto(url: str) -> bool:
        """Whether moto's stubber will answer a request to `url` itself (settings as now)."""
        parsed_url, _ = get_equivalent_url_in_aws_domain(url)
        clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
        if passthrough_url(clean_url):
            return False
        for service, method_to_execute in found_for(clean_url):
            if passthrough_service(service) or not service_whitelisted(service):
                return False
            if method_to_execute is not None:
                return True
        return False

    def process_request_routed(stubber: Any, request: Any) -> Any:
        parsed_url, _ = get_equivalent_url_in_aws_domain(request.url)
        clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
        if passthrough_url(clean_url):
            return None
        found = found_for(clean_url)
        for service, method_to_execute in found:
            if passthrough_service(service):
                return None
            if not service_whitelisted(service):
                raise ServiceNotWhitelisted(service)
            if method_to_execute is None:
                continue
            from moto.moto_api import recorder

            normalized_request = normalize_request(request)
            try:
                recorder._record_request(normalized_request)
                status, headers, body = method_to_execute(
                    normalized_request,
                    normalized_request.raw_url,
                    normalized_request.headers,
                )
            except HTTPException as e:
                status = e.code
                headers = e.get_headers()
                body = e.get_body()
            return status, headers, body
        if re.compile(r"https?://.+\.amazonaws.com/.*").match(clean_url):
            return 404, {}, "Not yet implemented"
        return None

    _SERVED_BY_MOTO = served_by_moto

    def forget_routes() -> None:
        global _SERVED_BY_MOTO
        _SERVED_BY_MOTO = None
        routes.clear()

    return _install(
        (BotocoreStubber, "process_request", process_request_routed), cleanup=forget_routes
    )


def _build_moto_requests_directly() -> Callable[[], None]:
    """Build moto's werkzeug request for a botocore request without EnvironBuilder; undo.

    moto turns each botocore request into a werkzeug request through EnvironBuilder (about a
    tenth of a call into moto). What the builder derives from the method and URL alone (the
    path and query encodings, server name and port, the WSGI keys) is built by the builder
    itself once per method and URL; each request then adds, in the builder's order and as
    the builder writes them, its body stream, errors stream, CONTENT_TYPE, CONTENT_LENGTH and
    headers. Only a request with a non-empty bytes or str body and distinct string headers
    without line breaks takes this path; anything else is built by moto as before, and moto's
    own finishing steps (preserved header names, CONTENT_LENGTH default) run on both.
    """
    import sys
    from io import BytesIO
    from urllib.parse import urlparse

    from moto.core.request import Request
    from werkzeug.test import EnvironBuilder

    original = vars(Request)["from_primitives"]
    from_primitives = original.__func__

    @functools.lru_cache(maxsize=256)
    def url_environ(method: str, url: str) -> tuple[tuple[str, Any], ...]:
        parsed_url = urlparse(url)
        builder = EnvironBuilder(
            method=method,
            base_url=f"{parsed_url.scheme}://{parsed_url.netloc}",
            path=parsed_url.path,
            query_string=parsed_url.query,
        )
        try:
            return tuple(builder.get_environ().items())
        finally:
            builder.close()

    def direct_headers(headers: Any) -> list[tuple[str, str]] | None:
        """The header list moto would build, or None when the builder must handle it."""
        items: list[tuple[str, str]] = []
        seen: set[str] = set()
        for key, value in headers.items():
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            if not isinstance(key, str) or not isinstance(value, str):
                return None
            lowered = key.lower()
            if lowered == "transfer-encoding":
                continue
            if lowered in seen or "\n" in value or "\r" in value:
                return None
            seen.add(lowered)
            items.append((key, value))
        return items

    def from_primitives_directly(
        cls: type[Any], method: str, url: str, headers: Any, body: Any = None
    ) -> Any:
        if isinstance(body, str):
            body = body.encode()
        header_items = direct_headers(headers) if isinstance(body, bytes) and body else None
        if header_items is None:
            return from_primitives(cls, method, url, headers, body)
        environ: dict[str, Any] = dict(url_environ(method, url))
        environ["wsgi.input"] = BytesIO(body)
        environ["wsgi.errors"] = sys.stderr  # the builder's default, read when it is built
        content_type: str | None = None
        for key, value in header_items:
            if key.lower() == "content-type":
                content_type = value
        if content_type is not None:
            environ["CONTENT_TYPE"] = content_type
        environ["CONTENT_LENGTH"] = str(len(body))
        for key, value in header_items:
            if key.lower() not in ("content-type", "content-length"):
                environ[f"HTTP_{key.upper().replace('-', '_')}"] = value
        return finish(cls(environ), header_items)

    def finish(request: Any, header_items: list[tuple[str, str]]) -> Any:
        """moto's own steps after the builder (Request.from_primitives)."""
        from moto.core.request import (
            PRESERVED_HEADER_NAMES_ENVIRON_KEY,
            environ_key_for_header,
            should_preserve_original_header_name,
        )

        request.environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {
            environ_key_for_header(key): key
            for key, _ in header_items
            if should_preserve_original_header_name(key)
        }
        request.environ.setdefault("CONTENT_LENGTH", "0")
        return request

    return _install(
        (Request, "from_primitives", classmethod(from_primitives_directly)),
        cleanup=url_environ.cache_clear,
    )


def _parse_expressions_once() -> Callable[[], None]:
    """Parse each DynamoDB update expression text once, and lex each condition once; undo.

    moto parses an update's expression twice per call (to check its placeholders, then to run
    it), and tokenises every condition expression from scratch. The update tree and the
    condition tokens are functions of the text alone and moto never changes them (its update
    validator works on a deep copy; condition tokens are immutable tuples, consumed from a
    fresh deque here), so each text is parsed or lexed once. Errors are never cached: a bad
    expression is refused every time.
    """
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = vars(UpdateExpressionParser)["make"]
    parse = functools.lru_cache(maxsize=1024)(make.__func__)
    lex = ConditionExpressionParser._lex_condition_expression

    @functools.lru_cache(maxsize=1024)
    def tokens(text: str) -> tuple[Any, ...]:
        return tuple(lex(ConditionExpressionParser(text, None, None)))

    def lex_once(parser: Any) -> deque[Any]:
        return deque(tokens(parser.condition_expression))

    return _install(
        (UpdateExpressionParser, "make", classmethod(parse)),
        (ConditionExpressionParser, "_lex_condition_expression", lex_once),
    )


def _validate_update_expressions_faster() -> Callable[[], None]:
    """Make moto's UpdateExpression validation cheaper, with the same checks in the same order.

    moto validates an update by walking its tree once per check (ten walks), and each walk
    rebuilt the walker's node-type map for every node it visited. Here:

    - each walker builds its map once (every map is a literal of the walker's own bound
      methods, so the map is the same on every call; the state the methods read is not
      copied);
    - the first three checks (clause counts, overlapping paths, key attributes updated) read
      only the expression's tree, its ExpressionAttributeNames and the table's key names,
      and change nothing. Once they pass for one tree (the parse cache gives one tree per
      text), names and key names, they are skipped for the same three. A failure is never
      recorded, so it is raised every time. The other checks (attribute values, the item's
      paths, functions, arithmetic, types, empty keys) depend on the values or the item
      and run on every call, in moto's order.
    """
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.validators import (
        ActionCountValidator,
        OverlappingPathsValidator,
        UpdateExpressionValidator,
        UpdateHashRangeKeyValidator,
    )

    validate = UpdateExpressionValidator.validate
    pure = (ActionCountValidator, OverlappingPathsValidator, UpdateHashRangeKeyValidator)
    passed: dict[tuple[int, Any, tuple[str, ...]], Any] = {}  # key -> the tree (keeps its id)

    def processing_map(walker: Any) -> dict[type, Callable[[Any], Any]]:
        found = walker.__dict__.get("_localbus_map")
        if found is None:
            found = walker.__dict__["_localbus_map"] = walker._processing_map()
        return found

    def nodes_once(walker: Any) -> tuple[type, ...]:
        found = walker.__dict__.get("_localbus_nodes")
        if found is None:
            found = walker.__dict__["_localbus_nodes"] = tuple(processing_map(walker))
        return found

    def process_with_map(walker: Any, node: Any) -> Any:
        for class_key, processor in processing_map(walker).items():
            if isinstance(node, class_key):
                return processor(node)
        return None

    def validate_skipping_passed(validator: Any) -> Any:
        processors = validator.processors
        leading = len(pure)
        if tuple(type(p) for p in processors[:leading]) != pure:
            return validate(validator)  # a moto whose checks differ: leave them all in
        names = validator.expression_attribute_names
        expression = validator.expression_tree
        try:
            key = (
                id(expression),
                None if names is None else frozenset(names.items()),
                tuple(validator.table.table_key_attrs),
            )
        except TypeError:  # unhashable names: moto will say what is wrong with them
            return validate(validator)
        node = validator.node_to_validate
        if passed.get(key) is not expression:
            for processor in processors[:leading]:
                node = processor.traverse(node)
            if len(passed) >= 4096:
                passed.clear()
            passed[key] = expression
        for processor in processors[leading:]:
            node = processor.traverse(node)
        return node

    init = UpdateExpressionValidator.__init__

    def init_keeping_tree(validator: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        init(validator, expression, *args, **kwargs)
        validator.expression_tree = expression

    return _install(
        (DepthFirstTraverser, "nodes_to_be_processed", nodes_once),
        (DepthFirstTraverser, "process", process_with_map),
        (UpdateExpressionValidator, "__init__", init_keeping_tree),
        (UpdateExpressionValidator, "validate", validate_skipping_passed),
        cleanup=passed.clear,
    )


def _copy_update_trees_faster() -> Callable[[], None]:
    """Copy a parsed UpdateExpression tree for validation from its pickle; returns undo.

    moto's validator deep-copies the expression's tree on every update (its checks rewrite
    the copy in place): the largest deepcopy in a run. A tree made only of moto's plain
    expression nodes (no __deepcopy__, __reduce__ or state methods of their own) and of
    lists, strings, numbers, booleans and None is rebuilt by pickle exactly as deepcopy
    rebuilds it (both go through __reduce_ex__: the same classes, the same attributes, the
    parent links to the copied parents), so its pickle is taken once per tree (the parse
    cache keeps one tree per text) and loaded for each update. Anything else, and every other
    deepcopy in the module, is copied by copy.deepcopy as before.
    """
    import pickle

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node

    deepcopy = validators.deepcopy
    atoms = (str, int, float, bool, type(None))
    plain = (object.__reduce_ex__, object.__reduce__, object.__getstate__)
    pickles: dict[int, tuple[Any, bytes | None]] = {}  # id(tree) -> (tree, pickle or None)

    def plain_tree(value: Any, seen: set[int]) -> bool:
        if isinstance(value, atoms):
            return True
        if id(value) in seen:
            return True
        seen.add(id(value))
        if type(value) is list:
            return all(plain_tree(child, seen) for child in value)
        kind = type(value)
        if not isinstance(value, Node) or hasattr(value, "__deepcopy__"):
            return False
        if (kind.__reduce_ex__, kind.__reduce__, kind.__getstate__) != plain:
            return False
        if hasattr(value, "__slots__") or not hasattr(value, "__dict__"):
            return False
        return all(plain_tree(child, seen) for child in vars(value).values())

    def copy_tree(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if memo is not None or not isinstance(value, Node):
            return deepcopy(value, memo)
        found = pickles.get(id(value))
        if found is None or found[0] is not value:
            blob = (
                pickle.dumps(value, pickle.HIGHEST_PROTOCOL) if plain_tree(value, set()) else None
            )
            if len(pickles) >= 1024:
                pickles.clear()
            found = pickles[id(value)] = (value, blob)
        if found[1] is None:
            return deepcopy(value)
        return pickle.loads(found[1])

    return _install((validators, "deepcopy", copy_tree), cleanup=pickles.clear)


# While moto's TransactWriteItems runs: id(table) -> (table, its backup), made once.
_TRANSACTION_BACKUPS: ContextVar[dict[int, tuple[Any, Any]] | None] = ContextVar(
    "localbus_transaction_backups", default=None
)
# Table name -> keys (hash, range) the running TransactWriteItems names; None outside one.
_TRANSACTION_KEYS: ContextVar[dict[str, list[tuple[Any, Any]]] | None] = ContextVar(
    "localbus_transaction_keys", default=None
)


def _cheaper_transaction_backups() -> Callable[[], None]:
    """Make moto's TransactWriteItems back up only the items it may change; returns undo.

    moto deep-copies every table a transaction names before running it and puts the copy back
    if the transaction is cancelled: a cost that grows with the table, so a run that fills a
    table slows down quadratically. A transaction can only change the items its operations
    name (one operation per item: moto refuses two), so the backup made here shares every
    other item with the live table and deep-copies the named ones: a cancelled transaction
    leaves the table exactly as moto's own backup would. Tables with a stream, and operations
    whose key cannot be read, still get moto's full copy.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if "__deepcopy__" in vars(Table):  # a moto that copies tables its own way: leave it be
        return lambda: None
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        token = _TRANSACTION_KEYS.set(_keys_named(backend, transact_items))
        backups = _TRANSACTION_BACKUPS.set({})
        try:
            return original(backend, transact_items)
        finally:
            _TRANSACTION_BACKUPS.reset(backups)
            _TRANSACTION_KEYS.reset(token)

    return _install(
        (DynamoDBBackend, "transact_write_items", transact_write_items),
        (Table, "__deepcopy__", _table_backup),
    )


def _keys_named(
    backend: Any, transact_items: list[dict[str, Any]]
) -> dict[str, list[tuple[Any, Any]]] | None:
    """(hash, range) key per operation, by table name; None if one cannot be read."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys: dict[str, list[tuple[Any, Any]]] = {}
    try:
        for item in transact_items:
            ((operation, request),) = item.items()
            table = backend.tables.get(request.get("TableName"))
            if table is None:
                continue  # moto backs up only tables it finds by name
            key = request["Item"] if operation == "Put" else request["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = None
            if table.range_key_attr is not None:
                range_key = DynamoType(key[table.range_key_attr])
            keys.setdefault(table.name, []).append((hash_key, range_key))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return keys


def _table_backup(table: Any, memo: dict[int, Any]) -> Any:
    """Table.__deepcopy__: inside a transaction, a copy sharing the items it cannot change.

    moto copies a table once per operation naming it, all before the first operation runs,
    and keeps the last copy: the table is the same each time, so one backup per table and
    transaction is made and handed out for each.
    """
    made = _TRANSACTION_BACKUPS.get()
    if made is not None and id(table) in made:
        source, backup = made[id(table)]
        if source is table:
            memo[id(table)] = backup
            return backup
    backup = _new_table_backup(table, memo)
    if made is not None:
        made[id(table)] = (table, backup)
    return backup


def _new_table_backup(table: Any, memo: dict[int, Any]) -> Any:
    keys = (_TRANSACTION_KEYS.get() or {}).get(table.name)
    if keys is None or table.stream_shard is not None:
        # What copy.deepcopy does for an object without __deepcopy__ (moto's Table has none).
        clone = table.__class__.__new__(table.__class__)
        memo[id(table)] = clone
        clone.__dict__.update(copy.deepcopy(table.__dict__, memo))
        return clone
    backup = copy.copy(table)
    backup.items = copy.copy(table.items)  # defaultdict(dict): hash -> item | {range: item}
    by_hash: dict[Any, list[Any]] = {}
    for hash_key, range_key in keys:
        by_hash.setdefault(hash_key, []).append(range_key)
    for hash_key, range_keys in by_hash.items():
        if hash_key not in table.items:
            continue
        if table.range_key_attr is None:
            backup.items[hash_key] = copy.deepcopy(table.items[hash_key])
            continue
        rows = backup.items[hash_key] = dict(table.items[hash_key])
        for range_key in range_keys:
            if range_key in rows:
                rows[range_key] = copy.deepcopy(rows[range_key])
    return backup


def _throughput(value: Mapping[str, Any] | None) -> dict[str, int]:
    if not value:
        return dict(_DEFAULT_THROUGHPUT)
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


def _request_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry as the caller gave it, with Time (datetime, epoch or ISO text) made aware UTC."""
    result = dict(entry)
    when = result.get("Time")
    if when is not None and not isinstance(when, datetime):
        when = parse_timestamp(when)
    if isinstance(when, datetime):
        result["Time"] = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return result


def _to_dynamodb_numbers(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _to_dynamodb_numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamodb_numbers(item) for item in value]
    return value


def _from_dynamodb_numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamodb_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamodb_numbers(item) for item in value]
    if isinstance(value, set):
        return {_from_dynamodb_numbers(item) for item in value}
    return value

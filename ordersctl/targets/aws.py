"""boto3 clients for a stage: profile / region / endpoint, and the stage's names (stack outputs).

The stack `OrderEvents-<stage>` exports its bus name as the output `EventBusName`; when the stack
cannot be read (not deployed, a bare moto/LocalStack endpoint) the naming convention
`orders-<stage>` is used and a note says so.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from ordersctl.errors import InputError

DEFAULT_STAGE = "dev"
# The stage names the CDK app accepts (stacks/config.py STAGE_NAME_PATTERN; a test keeps the two
# equal): the stack OrderEvents-<stage> and the bus orders-<stage> are built from it.
STAGE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
BUS_OUTPUT_KEY = "EventBusName"
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, user_agent_extra="ordersctl"
)


def stack_name(stage: str) -> str:
    return f"OrderEvents-{stage}"


def conventional_bus_name(stage: str) -> str:
    return f"orders-{stage}"


def stage_problem(stage: str) -> str | None:
    """Why --stage cannot name a stage of this app, or None."""
    if STAGE_NAME_PATTERN.match(stage):
        return None
    return (
        f"--stage {stage!r}: a stage name must match {STAGE_NAME_PATTERN.pattern} "
        "(lower-case letter first; it names the stack OrderEvents-<stage> and bus orders-<stage>)"
    )


def endpoint_problem(url: str) -> str | None:
    """Why --endpoint-url is not a URL botocore can send to, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as error:
        return f"--endpoint-url {url!r}: {error}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"--endpoint-url {url!r}: not a URL; expected http(s)://host[:port], "
            "e.g. http://127.0.0.1:5000 for a moto server"
        )
    return None


def create_client(session: boto3.Session, service: str, endpoint_url: str | None) -> Any:
    """The one place clients are made (tests wrap it to count or fail calls)."""
    return session.client(service, endpoint_url=endpoint_url, config=CLIENT_CONFIG)


@dataclass
class AwsTarget:
    """An AWS account/region (or endpoint such as a moto server) and the stage deployed there."""

    stage: str = DEFAULT_STAGE
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    note: Callable[[str], None] = field(default=lambda _message: None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _outputs: dict[str, str] | None = field(default=None, init=False, repr=False)
    # put-events' first calls come from the Sender's threads at once: one of them makes the
    # client (a Session and a client, ~40-60 ms CPU), the others wait for it and share it.
    _client_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Bad --stage or --endpoint-url is bad input (exit 2), before any call."""
        problem = stage_problem(self.stage) or (
            endpoint_problem(self.endpoint_url) if self.endpoint_url is not None else None
        )
        if problem:
            raise InputError(problem)

    def client(self, service: str) -> Any:
        """The target's one `service` client (boto3 clients are thread-safe; Sessions are not)."""
        client = self._clients.get(service)
        if client is not None:
            return client
        with self._client_lock:
            if service not in self._clients:
                try:
                    session = boto3.Session(profile_name=self.profile, region_name=self.region)
                    self._clients[service] = create_client(session, service, self.endpoint_url)
                except (ValueError, ProfileNotFound) as error:  # "Invalid endpoint", bad region
                    raise InputError(f"cannot make an AWS {service} client: {error}") from error
            return self._clients[service]

    @property
    def stack_name(self) -> str:
        return stack_name(self.stage)

    def stack_outputs(self) -> dict[str, str]:
        """The stage stack's outputs ({} when the stack cannot be described)."""
        if self._outputs is None:
            try:
                stacks = self.client("cloudformation").describe_stacks(StackName=self.stack_name)
                outputs = stacks["Stacks"][0].get("Outputs", [])
                self._outputs = {o["OutputKey"]: o["OutputValue"] for o in outputs}
            except (ClientError, BotoCoreError) as error:
                self.note(f"cannot read stack {self.stack_name}: {error}")
                self._outputs = {}
        return self._outputs

    def bus_name(self, explicit: str | None = None) -> str:
        """--bus if given, else the stack's EventBusName output, else orders-<stage>."""
        if explicit:
            return explicit
        name = self.stack_outputs().get(BUS_OUTPUT_KEY)
        if name:
            return name
        name = conventional_bus_name(self.stage)
        self.note(f"using the conventional bus name {name} (no {BUS_OUTPUT_KEY} output)")
        return name

    def put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        return self.client("events").put_events(Entries=entries)

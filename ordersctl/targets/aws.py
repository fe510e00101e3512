"""boto3 clients for a stage: profile / region / endpoint, and the stage's names (stack outputs).

The stack `OrderEvents-<stage>` exports its bus name as the output `EventBusName`; when the stack
cannot be read (not deployed, a bare moto/LocalStack endpoint) the naming convention
`orders-<stage>` is used and a note says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_STAGE = "dev"
BUS_OUTPUT_KEY = "EventBusName"
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, user_agent_extra="ordersctl"
)


def stack_name(stage: str) -> str:
    return f"OrderEvents-{stage}"


def conventional_bus_name(stage: str) -> str:
    return f"orders-{stage}"


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

    def client(self, service: str) -> Any:
        if service not in self._clients:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
            self._clients[service] = create_client(session, service, self.endpoint_url)
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

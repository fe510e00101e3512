"""The local target: localbus running the synthesized template, seeded with demo inventory.

`LocalTarget.open(cdk_out)` loads the cloud assembly into a LocalBus (moto for the handlers'
DynamoDB and PutEvents, real handler code), seeds the inventory table, and collects localbus's
"not reproduced locally" warnings so the CLI can print them once, after its own output.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from ordersctl.errors import InputError
from ordersctl.inventory_seed import read_inventory_seed
from ordersctl.paths import find_project_dir

if TYPE_CHECKING:
    from ordersctl.entries import Entry
    from ordersctl.sender import SendReport

DEFAULT_SEED_FILE = "inventory-seed.json"
INVENTORY_OUTPUT = "InventoryTableName"  # the stack output naming the inventory table
INVENTORY_ENV = "INVENTORY_TABLE_NAME"  # ... and the inventory function's variable for it


def default_seed_file() -> Path | None:
    events = find_project_dir("events")
    candidate = events / DEFAULT_SEED_FILE if events else None
    return candidate if candidate and candidate.is_file() else None


def inventory_table_id(template: dict[str, Any]) -> str | None:
    """The inventory table's logical id: from the stack output, else from a function's env."""
    value = ((template.get("Outputs") or {}).get(INVENTORY_OUTPUT) or {}).get("Value")
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    for resource in (template.get("Resources") or {}).values():
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables")
        reference = (variables or {}).get(INVENTORY_ENV)
        if isinstance(reference, dict) and "Ref" in reference:
            return str(reference["Ref"])
    return None


def stock_items(seed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """inventory-seed.json rows [{sku, available}] as inventory table items.

    The key layout `SKU#<sku>` is the inventory service's (lambdas/inventory/stock_table.py).
    """
    return [{"pk": f"SKU#{row['sku']}", "available": int(row["available"])} for row in seed]


class LocalTarget:
    """A LocalBus plus what the CLI needs around it: bus name, seeding, trace printing."""

    def __init__(self, bus: Any, caught: list[warnings.WarningMessage]) -> None:
        self.bus = bus
        self.put_ids: list[str] = []
        self._caught = caught
        # Events a Kafka-sourced pipe put on the bus: also "in", from their record.
        self.kafka_origins: dict[str, str] = {}

    @classmethod
    @contextmanager
    def open(
        cls, cdk_out: Path, *, seed_inventory: Path | None = None, seed: int | None = None
    ) -> Iterator[LocalTarget]:
        from localbus import LocalBus

        if not (Path(cdk_out) / "manifest.json").is_file():
            raise InputError(f"{cdk_out} is not a cloud assembly (run `make synth` first)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bus = LocalBus.from_cdk_out(cdk_out, seed=seed)
            try:
                target = cls(bus, caught)
                target.seed_inventory(seed_inventory)
                yield target
            finally:
                bus.close()

    @property
    def bus_name(self) -> str:
        """The template's custom bus (the first one), else the default bus."""
        for bus in self.bus.buses.values():
            if bus.ref.name != "default":
                return str(bus.ref.name)
        return "default"

    def seed_inventory(self, seed_file: Path | None) -> int:
        """Put the seed file's stock into the inventory table; returns the number of rows."""
        path = seed_file or default_seed_file()
        if path is None:
            return 0
        table = inventory_table_id(self.bus.template)
        if table is None:
            raise InputError("the template has no inventory table to seed")
        rows = read_inventory_seed(Path(path))
        self.bus.seed_table(table, stock_items(rows))
        return len(rows)

    def put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.bus.put_events(Entries=entries)
        self.put_ids.extend(e["EventId"] for e in response["Entries"] if "EventId" in e)
        return response

    def send(self, entries: list[Entry]) -> SendReport:
        """Put the entries on this bus (the template's, whatever bus an entry names),
        one PutEvents call at a time: the local bus is single-threaded (simulated clock)."""
        from ordersctl.sender import Sender

        for entry in entries:  # this bus wins, as in put-events (ordersctl.put_events)
            entry.request["EventBusName"] = self.bus_name
        return Sender(self.put_events, concurrency=1).send(entries)

    def run_until_idle(self) -> None:
        self.bus.run_until_idle()
        self._take_kafka_events()

    def _take_kafka_events(self) -> None:
        """A Kafka ingest pipe's events came in from outside, like those put: count them in,
        each named by its record (topic[partition]@offset)."""
        known = set(self.put_ids)
        for step in self.bus.trace:
            position = step.get("kafka")
            if step["step"] != "received" or not position or step["event_id"] in known:
                continue
            known.add(step["event_id"])
            self.put_ids.append(step["event_id"])
            self.kafka_origins[step["event_id"]] = (
                f"Kafka {position['topic']}[{position['partition']}]@{position['offset']}"
            )

    def warnings(self) -> list[str]:
        """localbus's findings about what it does not reproduce (each once)."""
        messages = [str(w.message) for w in self._caught]
        messages += [f"localbus: {m}" for m in self.bus.unsupported]
        return list(dict.fromkeys(messages))

    def print_trace(
        self,
        out: Console,
        err: Console | None = None,
        *,
        origins: dict[str, str] | None = None,
        trees: bool = True,
    ) -> bool:
        """The path each put event took (tree), the summary table and the accounting line.
        Returns True when nothing was lost."""
        from localbus.render import TraceView

        view = TraceView.of_bus(self.bus)
        ok = view.print(out, self.put_ids, {**self.kafka_origins, **(origins or {})}, trees=trees)
        for message in self.warnings():
            (err or out).print(f"[yellow]note:[/yellow] {message}", soft_wrap=True)
        return ok


@dataclass(frozen=True)
class LocalEvents:
    """`--local` for commands that watch traffic (tail, replay): the entry files to put on a
    fresh local bus built from the cloud assembly, seeded with inventory."""

    cdk_out: Path
    event_files: Sequence[Path]
    schemas: Path | None
    seed_inventory: Path | None

    @contextmanager
    def open(self, err: Console, *, why_needed: str) -> Iterator[LocalTarget]:
        """The local bus after every entry was put on it and it ran until idle. Refuses (nothing
        sent) without event files (`why_needed` says why the command needs some) or when any
        entry is invalid."""
        from ordersctl.put_events import load_all_valid

        if not self.event_files:
            raise InputError(f"--local needs --events FILE...: {why_needed}")
        loaded = load_all_valid(self.event_files, self.schemas, err)
        with LocalTarget.open(self.cdk_out, seed_inventory=self.seed_inventory) as target:
            target.send(loaded.valid)
            target.run_until_idle()
            yield target

"""`ordersctl simulate`: generated orders and poison through the whole flow on localbus, with
faults injected; an oracle judges the outcomes, not the return codes.

1. Generate N valid orders, some cancellations and the poison (ordersctl.order_generator);
   check each valid entry against its schema and each poison entry against its own, so the
   labels are facts; seed the inventory from the generated demand.
2. Arm the faults: `fail_fraction(function, fail_rate, mode="transient", when="either",
   failures=max_failures)` on every function (before its handler runs, or after its work is
   done, so the retry is a redelivery; a unit fails up to max_failures times, which may exceed
   the retry budget), throttles on every rule target, and the delivery faults of
   ordersctl.delivery_faults (reorder, duplicates, drops).
3. Put the entries in PutEvents calls of 10 and run the bus until idle.
4. Judge (ordersctl.outcome_oracle): what the input alone implies, per order and per poison
   entry, against the end state (tables, topic deliveries, DLQs). Also count, per consumer,
   what it received and how each unit ended (ordersctl.consumer_accounting).
Exit 0 when no outcome is lost or wrong (and no consumer lost anything), 1 otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ordersctl.consumer_accounting import ConsumerReport, Recorder, account
from ordersctl.delivery_faults import DeliveryFaults
from ordersctl.errors import EXIT_FAILED, EXIT_OK, InputError
from ordersctl.order_generator import Catalog, Traffic, generate
from ordersctl.outcome_oracle import Outcome, judge
from ordersctl.targets.local import DEFAULT_SEED_FILE, LocalTarget, inventory_table_id

PUT_BATCH = 10
FUNCTION = "AWS::Lambda::Function"
COLUMNS = (
    ("received", "Received"),
    ("processed", "Processed"),
    ("filtered", "Filtered"),
    ("dead_lettered", "DLQ"),
    ("duplicates_suppressed", "Dup. suppressed"),
    ("lost", "Lost"),
)
OUTCOME_COLUMNS = (
    ("expected", "Expected"),
    ("achieved", "Achieved"),
    ("dead_lettered", "DLQ"),
    ("lost", "Lost"),
    ("wrong", "Wrong"),
)
THROTTLED_ATTEMPTS = 2  # per throttled delivery; well inside every rule's RetryPolicy


@dataclass
class SimulationReport:
    orders: int
    cancellations: int
    poison: int
    entries: int
    not_accepted: list[str]
    consumers: list[ConsumerReport]
    event_ids: list[str | None]  # per entry put: the event id, None if not accepted
    injected: dict[str, dict[str, int]]
    simulated_seconds: float
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    injected_deliveries: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return (
            sum(report.lost for report in self.consumers)
            + sum(outcome.lost for outcome in self.outcomes.values())
            + len(self.not_accepted)
        )

    @property
    def wrong(self) -> int:
        return sum(outcome.wrong for outcome in self.outcomes.values())

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.lost == 0 and self.wrong == 0 else EXIT_FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "outcomes": {name: outcome.to_json() for name, outcome in self.outcomes.items()},
            "consumers": {report.name: report.to_json() for report in self.consumers},
            "cancellations": self.cancellations,
            "poison": self.poison,
            "events_put": self.entries,
            "not_accepted": self.not_accepted,
            "injected_failures": self.injected,
            "injected_deliveries": self.injected_deliveries,
            "simulated_seconds": self.simulated_seconds,
            **self.settings,
        }


class Simulation:
    """A local bus with faults armed and every invocation observed; `run(traffic)` once."""

    def __init__(
        self,
        target: LocalTarget,
        *,
        fail_rate: float,
        seed: int,
        max_failures: int = 1,
        duplicate_rate: float = 0.0,
        reorder: bool = False,
        throttle_rate: float = 0.0,
        drop_rate: float = 0.0,
    ) -> None:
        from ordersctl.routes import all_resources

        self.target = target
        self.bus = target.bus
        self.labels = {
            logical_id: resource.label
            for logical_id, resource in all_resources(
                self.bus.template, self.bus.resolver.stack_name
            ).items()
        }
        functions = sorted(self.bus.functions)
        self.recorder = Recorder({fn: _service_name(self.bus, fn) for fn in functions})
        self.bus.lambdas.observers.append(self.recorder)
        self.faults = {
            fn: self.bus.faults.fail_fraction(
                fn, fail_rate, mode="transient", seed=seed, when="either", failures=max_failures
            )
            for fn in functions
            if fail_rate > 0
        }
        self.throttles = {
            target.ref.logical_id: self.bus.faults.throttle_fraction(
                target.ref.logical_id, throttle_rate, seed=seed, attempts=THROTTLED_ATTEMPTS
            )
            for rule in self.bus.rules.values()
            for target in rule.targets
            if throttle_rate > 0 and target.ref is not None
        }
        self.delivery_faults = DeliveryFaults(
            seed, reorder=reorder, duplicate_rate=duplicate_rate, drop_rate=drop_rate
        )
        self.delivery_faults.arm(self.bus)

    @classmethod
    @contextmanager
    def open(
        cls, cdk_out: Path, *, fail_rate: float, seed: int, **faults: Any
    ) -> Iterator[Simulation]:
        with LocalTarget.open(cdk_out, seed=seed) as target:
            yield cls(target, fail_rate=fail_rate, seed=seed, **faults)

    def seed_inventory(self, stock: dict[str, int]) -> None:
        table = inventory_table_id(self.bus.template)
        if table is None:
            raise InputError("the template has no inventory table to seed")
        self.bus.seed_table(
            table, [{"pk": f"SKU#{sku}", "available": count} for sku, count in stock.items()]
        )

    def run(self, traffic: Traffic) -> SimulationReport:
        self.seed_inventory(traffic.stock)
        not_accepted: list[str] = []
        event_ids: list[str | None] = []
        for start in range(0, len(traffic.entries), PUT_BATCH):
            response = self.target.put_events(traffic.entries[start : start + PUT_BATCH])
            for result in response["Entries"]:
                event_ids.append(result.get("EventId"))
                if "ErrorCode" in result:
                    not_accepted.append(f"{result['ErrorCode']}: {result['ErrorMessage']}")
        started = self.bus.clock.now
        self.bus.run_until_idle()
        outcomes = judge(traffic, event_ids, self.bus, self._last_errors())
        return SimulationReport(
            orders=len(traffic.orders),
            cancellations=len(traffic.cancellations),
            poison=len(traffic.poison),
            entries=len(traffic.entries),
            not_accepted=not_accepted,
            consumers=account(self.bus, self.recorder, self.labels),
            event_ids=event_ids,
            injected={
                self.labels.get(fn, fn): {
                    "invocations_failed": fault.injected,
                    "after_handler": fault.injected_after,
                }
                for fn, fault in self.faults.items()
            },
            simulated_seconds=round(self.bus.clock.now - started, 3),
            outcomes=outcomes,
            injected_deliveries=self.injected_deliveries(),
        )

    def injected_deliveries(self) -> dict[str, int]:
        counts = dict(self.delivery_faults.counts)
        throttled = sum(fault.injected for fault in self.throttles.values())
        if throttled:
            counts["deliveries throttled"] = throttled
        return counts

    def _last_errors(self) -> dict[str, str]:
        """Message id -> the last error a consumer met with it (why a redrive DLQ holds it)."""
        errors: dict[str, str] = {}
        for units in self.recorder.attempts.values():
            for unit, tries in units.items():
                failed = [attempt.error for attempt in tries if not attempt.ok and attempt.error]
                if failed:
                    errors[unit] = failed[-1]
        for step in self.bus.trace:
            if step["step"] == "failed" and step.get("message_id") and step.get("stage"):
                errors[str(step["message_id"])] = f"pipe {step['stage']}: {step['error']}"
        return errors


def make_traffic(
    seed_file: Path, *, orders: int, poison_rate: float, seed: int, bus_name: str, schemas: Path
) -> Traffic:
    """Generated traffic whose valid entries are valid and whose poison is not (checked)."""
    from ordersctl.entries import SchemaCatalog

    traffic = generate(
        Catalog.load(seed_file),
        orders=orders,
        poison_rate=poison_rate,
        seed=seed,
        bus_name=bus_name,
    )
    catalog = SchemaCatalog(schemas)
    poison_ids = {id(p.detail) for p in traffic.poison}
    for detail_type, details in (
        ("OrderCreated", traffic.orders),
        ("OrderCancelled", traffic.cancellations),
        ("OrderCreated", [p.detail for p in traffic.poison]),
    ):
        validator = catalog.validator(detail_type)
        if validator is None:
            raise InputError(f"no schema {detail_type}.json in {schemas}")
        for detail in details:
            valid = validator.is_valid(detail)
            if valid == (id(detail) in poison_ids):
                what = "poison passes" if valid else "generated order breaks"
                raise InputError(f"{what} {detail_type}.json: {json.dumps(detail)[:200]}")
    return traffic


def run(
    *,
    cdk_out: Path,
    orders: int,
    fail_rate: float,
    poison_rate: float,
    seed: int,
    as_json: bool,
    seed_file: Path | None = None,
    schemas: Path | None = None,
    max_failures: int = 1,
    duplicate_rate: float = 0.0,
    reorder: bool = False,
    throttle_rate: float = 0.0,
    drop_rate: float = 0.0,
) -> int:
    from ordersctl.output import consoles, print_json
    from ordersctl.paths import find_project_dir

    out, err = consoles()
    events_dir = find_project_dir("events")
    seed_file = seed_file or (events_dir / DEFAULT_SEED_FILE if events_dir else None)
    if seed_file is None or not seed_file.is_file():
        raise InputError("no inventory seed file (events/inventory-seed.json); use --seed-file")
    schemas = schemas or find_project_dir("schemas")
    if schemas is None:
        raise InputError("no schemas/ directory found; use --schemas")
    faults = {
        "max_failures": max_failures,
        "duplicate_rate": duplicate_rate,
        "reorder": reorder,
        "throttle_rate": throttle_rate,
        "drop_rate": drop_rate,
    }
    with Simulation.open(cdk_out, fail_rate=fail_rate, seed=seed, **faults) as simulation:
        traffic = make_traffic(
            seed_file,
            orders=orders,
            poison_rate=poison_rate,
            seed=seed,
            bus_name=simulation.target.bus_name,
            schemas=schemas,
        )
        report = simulation.run(traffic)
        report.settings = {
            "seed": seed,
            "fail_rate": fail_rate,
            "poison_rate": poison_rate,
            **faults,
        }
        if as_json:
            print_json(report.to_json())
        else:
            print_report(out, report)
        for message in simulation.target.warnings():
            err.print(f"[yellow]note:[/yellow] {message}", soft_wrap=True)
    return report.exit_code


def print_report(out: Console, report: SimulationReport) -> None:
    settings = report.settings
    faults = [f"transient failures at {settings.get('fail_rate', 0):g} into every function"]
    faults.append(f"up to {settings.get('max_failures', 1)} per unit")
    for key, text in (
        ("duplicate_rate", "duplicates"),
        ("throttle_rate", "throttles"),
        ("drop_rate", "silent drops"),
    ):
        if settings.get(key):
            faults.append(f"{text} at {settings[key]:g}")
    if settings.get("reorder"):
        faults.append("deliveries reordered")
    out.print(
        f"{report.orders} orders, {report.cancellations} cancellations and {report.poison} "
        f"poison entries: {report.entries} events put in PutEvents calls of {PUT_BATCH}; "
        f"{', '.join(faults)} (seed {settings.get('seed')}); "
        f"{report.simulated_seconds:g} simulated seconds.",
        soft_wrap=True,
    )
    for reason in report.not_accepted:
        out.print(f"[red]not accepted by PutEvents:[/red] {reason}")
    _print_outcomes(out, report)
    # A light box: names kept whole (no_wrap) and every count fits in 80 columns.
    table = Table(
        title="Per consumer",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("Consumer", no_wrap=True)
    for _, title in COLUMNS:
        table.add_column(title, justify="right", min_width=max(map(len, title.split())))
    for consumer in report.consumers:
        counts = consumer.to_json()
        cells = [str(counts[key]) for key, _ in COLUMNS]
        if consumer.lost:
            cells[-1] = f"[bold red]{cells[-1]}[/bold red]"
        table.add_row(consumer.name, *cells)
    out.print(table)
    for consumer in report.consumers:
        out.print(f"  {consumer.name}: {consumer.kind}; unit: {consumer.unit}", soft_wrap=True)
    for consumer in report.consumers:
        for title, reasons in (
            ("dead-lettered", consumer.dead_letter_reasons),
            ("lost", consumer.lost_reasons),
        ):
            if reasons:
                out.print(f"[bold]{consumer.name}[/bold] {title}:")
                for reason, count in reasons.most_common():
                    out.print(f"  {count:>5}  {reason}", soft_wrap=True, highlight=False)
    injected = ", ".join(
        f"{name} {counts['invocations_failed']} ({counts['after_handler']} after the handler)"
        for name, counts in report.injected.items()
    )
    if injected:
        out.print(f"Injected transient failures: {injected}.", soft_wrap=True)
    if report.injected_deliveries:
        deliveries = ", ".join(f"{k} {v}" for k, v in report.injected_deliveries.items())
        out.print(f"Injected delivery faults: {deliveries}.", soft_wrap=True)
    if report.lost or report.wrong:
        out.print(
            f"[bold red]Lost: {report.lost}, wrong: {report.wrong}[/bold red] (see the tables "
            "and the problems listed).",
            soft_wrap=True,
        )
    else:
        dead = sum(outcome.dead_lettered for outcome in report.outcomes.values())
        out.print(
            "[bold green]Nothing lost:[/bold green] every outcome the input implies was "
            f"achieved or is in a dead-letter queue with its reason ({dead} dead-lettered), "
            "none twice or contradicting another; every unit received by every consumer was "
            "processed, filtered by design, dead-lettered with its reason or recognised as a "
            f"duplicate ({sum(c.received for c in report.consumers)} in all).",
            soft_wrap=True,
        )


def _print_outcomes(out: Console, report: SimulationReport) -> None:
    table = Table(title="Outcomes (expected from the input, read from the end state)")
    table.title_justify = "left"
    table.add_column("Outcome", overflow="fold")
    for _, title in OUTCOME_COLUMNS:
        table.add_column(title, justify="right")
    for name, outcome in report.outcomes.items():
        counts = outcome.to_json()
        cells = [str(counts[key]) for key, _ in OUTCOME_COLUMNS]
        for position, key in ((3, "lost"), (4, "wrong")):
            if counts[key]:
                cells[position] = f"[bold red]{cells[position]}[/bold red]"
        table.add_row(name, *cells)
    out.print(table)
    for name, outcome in report.outcomes.items():
        for title, reasons in (("dead-lettered", outcome.reasons), ("problems", outcome.problems)):
            if reasons:
                out.print(f"[bold]{name}[/bold] {title}:")
                for reason, count in reasons.most_common():
                    out.print(f"  {count:>5}  {reason}", soft_wrap=True, highlight=False)


def _service_name(bus: Any, function: str) -> str:
    properties = bus.resolver.properties(function, strict=False)
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    return str(variables.get("POWERTOOLS_SERVICE_NAME", ""))


def register(app: typer.Typer) -> None:
    """Add the `simulate` command to the ordersctl app."""
    app.command(
        "simulate",
        epilog="""**Examples**

    ordersctl simulate --orders 2000 --fail-rate 0.1 --poison-rate 0.02 --seed 7

    ordersctl simulate --orders 600 --fail-rate 0.2 --max-failures 4 --duplicate-rate 0.05
    --reorder --seed 3 --json

    ordersctl simulate --orders 600 --fail-rate 0 --poison-rate 0 --drop-rate 0.02

**Exit codes**: 0 no outcome lost or wrong; 1 something was lost, wrong or not accepted;
2 bad input (no cloud assembly, seed file or schemas).""",
    )(simulate)


def simulate(
    orders: Annotated[
        int, typer.Option("--orders", min=1, help="Valid orders to generate.")
    ] = 1000,
    fail_rate: Annotated[
        float,
        typer.Option(
            "--fail-rate",
            min=0.0,
            max=1.0,
            help="Share of each function's invocations that fail transiently.",
        ),
    ] = 0.1,
    poison_rate: Annotated[
        float,
        typer.Option(
            "--poison-rate",
            min=0.0,
            max=1.0,
            help="Poison entries (schema-breaking OrderCreated) per valid order.",
        ),
    ] = 0.02,
    seed: Annotated[int, typer.Option("--seed", help="Seed: orders, faults and ids.")] = 7,
    max_failures: Annotated[
        int,
        typer.Option(
            "--max-failures",
            min=1,
            help="Times one unit (event, message) may fail by --fail-rate; above the retry "
            "budget (3 Lambda attempts, maxReceiveCount) some units must end in a DLQ.",
        ),
    ] = 1,
    duplicate_rate: Annotated[
        float,
        typer.Option(
            "--duplicate-rate",
            min=0.0,
            max=1.0,
            help="Share of events delivered twice to idempotent targets, and of SQS messages "
            "redelivered (a lost delete).",
        ),
    ] = 0.0,
    reorder: Annotated[
        bool,
        typer.Option(
            "--reorder", help="Delay each rule target delivery by a random 0-180 s (reorders)."
        ),
    ] = False,
    throttle_rate: Annotated[
        float,
        typer.Option(
            "--throttle-rate",
            min=0.0,
            max=1.0,
            help="Share of rule target deliveries throttled (twice each, then retried through).",
        ),
    ] = 0.0,
    drop_rate: Annotated[
        float,
        typer.Option(
            "--drop-rate",
            min=0.0,
            max=1.0,
            help="Share of rule target deliveries silently dropped: a real loss, to show that "
            "the oracle catches it.",
        ),
    ] = 0.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout.")
    ] = False,
    cdk_out: Annotated[
        Path, typer.Option("--cdk-out", help="Cloud assembly directory (from `make synth`).")
    ] = Path("cdk.out"),
    seed_file: Annotated[
        Path | None,
        typer.Option(
            "--seed-file", help="Inventory seed (SKUs; default events/inventory-seed.json)."
        ),
    ] = None,
    schemas: Annotated[
        Path | None, typer.Option("--schemas", help="Schemas directory (default: ./schemas).")
    ] = None,
) -> None:
    """Put generated orders and poison through the whole flow on localbus, with faults
    injected, and judge the outcomes the input implies against the end state.

    Valid orders come from realistic distributions (account ages, countries and currencies,
    the seed file's SKUs); about 5% are cancelled later; poison entries break the OrderCreated
    schema: the bus accepts them, every consumer that validates rejects them. Per consumer
    (each function, the audit queue's event source mapping, the pipe): received, processed,
    filtered, dead-lettered (with reasons), duplicates suppressed, lost. "Received" counts
    distinct events or messages, not attempts. Per outcome (reservation, stock, audited,
    risk_scored, fraud_alerted, customer_notified, and the poison ones): expected, achieved,
    dead-lettered, lost, wrong; docs/operations.md defines them.
    """
    from ordersctl.cli import _run

    _run(
        lambda: run(
            cdk_out=cdk_out,
            orders=orders,
            fail_rate=fail_rate,
            poison_rate=poison_rate,
            seed=seed,
            as_json=as_json,
            seed_file=seed_file,
            schemas=schemas,
            max_failures=max_failures,
            duplicate_rate=duplicate_rate,
            reorder=reorder,
            throttle_rate=throttle_rate,
            drop_rate=drop_rate,
        )
    )

"""`demo` (what `make demo` runs): every sample event through the local bus, path by path.

1. Load the synthesized template into localbus and seed the inventory table.
2. Validate the invalid samples (events/invalid/) and show why each is rejected: none is sent.
3. Put every entry file of events/ through the local bus (batched like put-events).
4. Run the flow until idle; print each event's path as a tree, a summary table, and the line
   that says whether everything that went in is accounted for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from ordersctl.entries import Problem, read_entry_file
from ordersctl.errors import EXIT_FAILED, EXIT_OK, InputError
from ordersctl.put_events import load_all_valid, load_and_validate
from ordersctl.targets.local import DEFAULT_SEED_FILE, LocalTarget

INVALID_DIR = "invalid"


@dataclass(frozen=True)
class Fault:
    """A fault to inject: `resource[:times]` (times omitted: every time)."""

    resource: str
    times: int | None

    @classmethod
    def parse(cls, text: str) -> Fault:
        name, _, times = text.partition(":")
        if times and not times.isdigit():
            raise InputError(f"fault {text!r}: expected NAME or NAME:TIMES")
        return cls(name, int(times) if times else None)


def _creates_orders(path: Path) -> bool:
    try:
        entries = read_entry_file(path)
    except InputError:
        return True  # reported when the file is read for sending
    return any(isinstance(e, dict) and e.get("DetailType") == "OrderCreated" for e in entries)


def sample_files(events_dir: Path) -> tuple[list[Path], list[Path]]:
    """(entry files to send, invalid samples); the inventory seed is not an entry file.

    Files that create orders go first, so a cancellation follows the order it cancels (as it
    would in production); otherwise by name.
    """
    if not events_dir.is_dir():
        raise InputError(f"{events_dir} is not a directory of entry files")
    candidates = (p for p in events_dir.glob("*.json") if p.name != DEFAULT_SEED_FILE)
    valid = sorted(candidates, key=lambda p: (not _creates_orders(p), p.name))
    invalid = sorted((events_dir / INVALID_DIR).glob("*.json"))
    if not valid:
        raise InputError(f"{events_dir} holds no entry files (*.json)")
    return valid, invalid


def rejected_table(problems: list[Problem]) -> Table:
    table = Table(title="Rejected by schema validation: nothing sent", title_justify="left")
    table.add_column("File", overflow="fold")
    table.add_column("#", justify="right")
    table.add_column("Where")
    table.add_column("Why", overflow="fold")
    for problem in problems:
        table.add_row(problem.ref.file, str(problem.ref.index), problem.path, problem.message)
    return table


def _resolve(target: LocalTarget, name: str) -> str:
    """A resource named by the labels the CLI prints (inventory, routing-audit-queue, ...)."""
    from ordersctl.routes import all_resources

    bus = target.bus
    for logical_id, resource in all_resources(bus.template, bus.resolver.stack_name).items():
        if name in (logical_id, resource.name, resource.label, resource.arn):
            return logical_id
    raise InputError(f"no resource {name!r} in the template (use the names `routes` prints)")


def run(
    *,
    cdk_out: Path,
    events_dir: Path,
    seed_inventory: Path | None,
    schemas: Path | None,
    seed: int | None,
    trees: bool,
    fail_functions: list[str],
    throttles: list[str],
) -> int:
    from ordersctl.output import consoles

    out, err = consoles()
    valid_files, invalid_files = sample_files(events_dir)
    invalid = load_and_validate(invalid_files, schemas) if invalid_files else None
    # the samples are meant to be valid: say which is not, send nothing
    loaded = load_all_valid(valid_files, schemas, err, folder=events_dir)
    seed_file = seed_inventory or (events_dir / DEFAULT_SEED_FILE)
    with LocalTarget.open(
        cdk_out, seed_inventory=seed_file if seed_file.is_file() else None, seed=seed
    ) as target:
        out.rule(f"order-events on localbus: {cdk_out}")
        for fault in map(Fault.parse, fail_functions):
            target.bus.faults.fail_function(_resolve(target, fault.resource), times=fault.times)
        for fault in map(Fault.parse, throttles):
            target.bus.faults.throttle(_resolve(target, fault.resource), times=fault.times)
        if invalid is not None:
            out.print(rejected_table(invalid.problems))
            unreported = [e for e in invalid.entries if e.valid]
            for entry in unreported:  # an "invalid" sample the schema accepts is worth a warning
                err.print(f"[yellow]note:[/yellow] {entry.ref} passes the schemas")
        entries = loaded.valid
        report = target.send(entries)
        accepted = len(report.results) - len(report.failed)
        out.print(
            f"Put {len(entries)} entries from {len(valid_files)} files in {report.calls} "
            f"PutEvents call(s): {accepted} accepted"
        )
        for failed in report.failed:
            out.print(
                f"[red]not accepted[/red] {failed.ref}: {failed.error_code}: {failed.error_message}"
            )
        target.run_until_idle()
        origins = {r.event_id: str(r.ref) for r in report.results if r.event_id}
        nothing_lost = target.print_trace(out, err, origins=origins, trees=trees)
    return EXIT_OK if nothing_lost and report.all_accepted else EXIT_FAILED

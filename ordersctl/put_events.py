"""`put-events`: read entry files, validate every Detail, then send (AWS, endpoint, localbus)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ordersctl.entries import Entry, Problem, SchemaCatalog, load_entries, validate_entries
from ordersctl.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, InputError
from ordersctl.output import print_json
from ordersctl.paths import find_project_dir
from ordersctl.sender import RetryPolicy, Sender, SendReport

PROGRESS_THRESHOLD = 100  # show a progress bar when sending more entries than this


@dataclass
class Loaded:
    """Entries read from the files, split into those that may be sent and the problems found."""

    entries: list[Entry]
    problems: list[Problem]

    @property
    def valid(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.valid]


def schema_catalog(schemas_dir: Path | None) -> SchemaCatalog:
    directory = schemas_dir or find_project_dir("schemas")
    if directory is None or not directory.is_dir():
        raise InputError("no schemas/ directory found here or above; pass --schemas DIR")
    return SchemaCatalog(directory)


def load_and_validate(files: Sequence[Path], schemas_dir: Path | None) -> Loaded:
    """Read every file (InputError on unreadable files / bad JSON) and validate every entry."""
    entries = load_entries(files)
    problems = validate_entries(entries, schema_catalog(schemas_dir))
    return Loaded(entries, problems)


def fill_bus_name(entries: Sequence[Entry], bus: str | None, default: Callable[[], str]) -> None:
    """--bus overrides every entry; otherwise entries without EventBusName get the stage's bus."""
    for entry in entries:
        if bus:
            entry.request["EventBusName"] = bus
        elif not entry.request.get("EventBusName"):
            entry.request["EventBusName"] = default()


def print_problems(problems: Sequence[Problem], err: Console) -> None:
    for problem in problems:
        err.print(f"[red]invalid[/red] {problem}", markup=True, soft_wrap=True)


def load_all_valid(
    files: Sequence[Path], schemas_dir: Path | None, err: Console, *, folder: Path | None = None
) -> Loaded:
    """load_and_validate for commands that send nothing unless every entry is valid: prints each
    problem and raises InputError when there is any (naming `folder` when the files are its)."""
    loaded = load_and_validate(files, schemas_dir)
    if loaded.problems:
        print_problems(loaded.problems, err)
        where = f" in {folder}" if folder is not None else ""
        raise InputError(f"{len(loaded.problems)} problem(s){where}: nothing sent")
    return loaded


def send_with_progress(
    sender_factory: Callable[..., Sender], entries: list[Entry], err: Console
) -> SendReport:
    """Send, with a progress bar on stderr when there are more than PROGRESS_THRESHOLD entries."""
    if len(entries) <= PROGRESS_THRESHOLD:
        return sender_factory().send(entries)
    columns = (
        TextColumn("put-events"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("put-events", total=len(entries))
        sender = sender_factory(on_progress=lambda done: progress.advance(task, done))
        return sender.send(entries)


def results_table(report: SendReport) -> Table:
    table = Table(title="PutEvents results", show_lines=False)
    table.add_column("File", overflow="fold")
    table.add_column("#", justify="right")
    table.add_column("DetailType")
    table.add_column("Result", overflow="fold")
    table.add_column("Attempts", justify="right")
    for result in report.results:
        outcome = (
            f"[green]{result.event_id}[/green]"
            if result.accepted
            else f"[red]{result.error_code}[/red]: {result.error_message}"
        )
        table.add_row(
            result.ref.file,
            str(result.ref.index),
            result.detail_type,
            outcome,
            str(result.attempts),
        )
    return table


def machine_report(report: SendReport | None, problems: Sequence[Problem]) -> dict[str, Any]:
    results = report.results if report else []
    return {
        "FailedEntryCount": sum(1 for r in results if not r.accepted),
        "Entries": [result.as_dict() for result in results],
        "Invalid": [
            {"File": p.ref.file, "Index": p.ref.index, "Path": p.path, "Message": p.message}
            for p in problems
        ],
        "PutEventsCalls": report.calls if report else 0,
    }


def exit_code(report: SendReport | None, problems: Sequence[Problem]) -> int:
    if problems:
        return EXIT_INVALID
    return EXIT_OK if report is not None and report.all_accepted else EXIT_FAILED


def send_entries(
    loaded: Loaded,
    *,
    put_events: Callable[[list[dict[str, Any]]], dict[str, Any]],
    bus: str | None,
    default_bus: Callable[[], str],
    skip_invalid: bool,
    as_json: bool,
    policy: RetryPolicy,
    concurrency: int,
    out: Console,
    err: Console,
) -> tuple[int, SendReport | None]:
    """Validate-then-send; prints problems and the results. Returns (exit code, report)."""
    print_problems(loaded.problems, err)
    if loaded.problems and not skip_invalid:
        err.print(f"[red]{len(loaded.problems)} problem(s): nothing sent[/red]")
        if as_json:
            print_json(machine_report(None, loaded.problems))
        return EXIT_INVALID, None
    to_send = loaded.valid
    fill_bus_name(to_send, bus, default_bus)

    def make_sender(on_progress: Callable[[int], None] | None = None) -> Sender:
        return Sender(put_events, policy=policy, concurrency=concurrency, on_progress=on_progress)

    report = send_with_progress(make_sender, to_send, err)
    if as_json:
        print_json(machine_report(report, loaded.problems))
    else:
        out.print(results_table(report))
        accepted = len(report.results) - len(report.failed)
        out.print(
            f"{accepted}/{len(report.results)} accepted in {report.calls} PutEvents call(s)"
            + (f", {len(loaded.problems)} invalid entr(y/ies) not sent" if loaded.problems else "")
        )
    return exit_code(report, loaded.problems), report


def run(
    *,
    files: Sequence[Path],
    bus: str | None,
    stage: str,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    local: bool,
    cdk_out: Path,
    seed_inventory: Path | None,
    schemas: Path | None,
    skip_invalid: bool,
    as_json: bool,
    max_attempts: int,
    backoff_base: float,
    backoff_cap: float,
    concurrency: int,
) -> int:
    """The put-events command. Returns the exit code."""
    from ordersctl.output import consoles

    out, err = consoles()
    loaded = load_and_validate(files, schemas)
    policy = RetryPolicy(backoff_base, backoff_cap, max_attempts)
    if local:
        from ordersctl.targets.local import LocalTarget

        with LocalTarget.open(cdk_out, seed_inventory=seed_inventory) as target:
            code, report = send_entries(
                loaded,
                put_events=target.put_events,
                bus=bus,
                default_bus=lambda: target.bus_name,
                skip_invalid=skip_invalid,
                as_json=as_json,
                policy=policy,
                concurrency=1,  # the local bus is single-threaded by design (simulated clock)
                out=out,
                err=err,
            )
            if report is not None:
                target.run_until_idle()
                if not as_json:
                    origins = {r.event_id: str(r.ref) for r in report.results if r.event_id}
                    target.print_trace(out, err, origins=origins)
            return code

    from ordersctl.targets.aws import AwsTarget

    target = AwsTarget(
        stage=stage,
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        note=lambda message: err.print(f"[yellow]note:[/yellow] {message}", soft_wrap=True),
    )
    code, _ = send_entries(
        loaded,
        put_events=target.put_events,
        bus=bus,
        default_bus=lambda: target.bus_name(),
        skip_invalid=skip_invalid,
        as_json=as_json,
        policy=policy,
        concurrency=concurrency,
        out=out,
        err=err,
    )
    return code

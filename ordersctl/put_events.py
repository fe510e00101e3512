"""`put-events`: read entry files, validate every Detail, then send (AWS, endpoint, localbus)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ordersctl.entries import Entry, Problem, SchemaCatalog, load_entries, validate_entries
from ordersctl.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, InputError
from ordersctl.output import print_json
from ordersctl.paths import find_project_dir
from ordersctl.sender import (
    ACCEPTED,
    FAILED,
    NEVER_SENT,
    UNKNOWN,
    EntryResult,
    RetryPolicy,
    Sender,
    SendReport,
)

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


def load_and_validate(
    files: Sequence[Path], schemas_dir: Path | None, err: Console | None = None
) -> Loaded:
    """Read every file (InputError on unreadable files / bad JSON) and validate every entry;
    with `err`, a progress bar there while a big send is validated."""
    entries = load_entries(files)
    catalog = schema_catalog(schemas_dir)
    if err is None or len(entries) <= PROGRESS_THRESHOLD:
        return Loaded(entries, validate_entries(entries, catalog))
    columns = (TextColumn("validating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("validating", total=len(entries))
        step = 100
        for start in range(0, len(entries), step):
            validate_entries(entries[start : start + step], catalog)
            progress.advance(task, min(step, len(entries) - start))
    return Loaded(entries, [p for entry in entries for p in entry.problems])


def bus_option_problem(bus: str) -> str | None:
    """Why --bus cannot name a bus (botocore's model of EventBusName), or None."""
    from ordersctl.entry_shape import field_shape, value_problems

    found = value_problems(bus, field_shape("EventBusName"), "--bus")
    return f"--bus {bus!r}: {found[0][1]}" if found else None


def _bus_name_of(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def fill_bus_name(
    entries: Sequence[Entry],
    bus: str | None,
    default: Callable[[], str],
    note: Callable[[str], None] = lambda _message: None,
) -> None:
    """Every entry goes to --bus, else to the target's bus (the stage's, or the local
    template's): an entry file's own EventBusName never sends it elsewhere. Entries that named
    another bus are counted in one note naming both buses."""
    chosen = bus or default()
    redirected: dict[str, int] = {}
    for entry in entries:
        named = entry.request.get("EventBusName")
        if named and _bus_name_of(named) != _bus_name_of(chosen):
            redirected[named] = redirected.get(named, 0) + 1
        entry.request["EventBusName"] = chosen
    for named, count in redirected.items():
        source = "--bus" if bus else "the target (--stage or --local)"
        note(
            f"{count} entr{'y names' if count == 1 else 'ies name'} EventBusName {named}; "
            f"sent to {chosen}, the bus of {source}"
        )


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


TABLE_ROWS = 20  # above this many entries only the ones not accepted get a row (at most this many)


def results_table(results: Sequence[EntryResult], title: str = "PutEvents results") -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("File", overflow="fold")
    table.add_column("#", justify="right")
    table.add_column("DetailType", overflow="fold")
    table.add_column("Result", overflow="fold")
    table.add_column("Tries", justify="right")
    for result in results:
        if result.accepted:
            outcome = f"[green]{result.event_id}[/green]"
        elif result.status == NEVER_SENT:
            outcome = "[yellow]never sent[/yellow]"
        elif result.status == UNKNOWN:
            outcome = "[yellow]unknown: call abandoned unanswered[/yellow]"
        else:
            outcome = f"[red]{result.error_code}[/red]: {result.error_message}"
        table.add_row(
            result.ref.file,
            str(result.ref.index),
            result.detail_type,
            outcome,
            str(result.attempts),
        )
    return table


def index_ranges(indexes: Sequence[int]) -> str:
    """0-3, 7, 9-12: entry indexes as compact ranges."""
    parts: list[str] = []
    ordered = sorted(indexes)
    start = previous = ordered[0] if ordered else 0
    for index in [*ordered[1:], None]:
        if index is not None and index == previous + 1:
            previous = index
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if index is not None:
            start = previous = index
    return ", ".join(parts)


def account(report: SendReport) -> dict[str, dict[str, str]]:
    """Per file, per status: the entry indexes as ranges ({file: {status: "0-9, 12"}})."""
    by_file: dict[str, dict[str, list[int]]] = {}
    for result in report.results:
        by_file.setdefault(result.ref.file, {}).setdefault(result.status, []).append(
            result.ref.index
        )
    return {
        file: {status: index_ranges(indexes) for status, indexes in statuses.items()}
        for file, statuses in by_file.items()
    }


def stop_reason(report: SendReport) -> str | None:
    error = report.stopped_by
    if error is None:
        return None
    if isinstance(error, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    return f"{type(error).__name__}: {error}"


def machine_report(report: SendReport | None, problems: Sequence[Problem]) -> dict[str, Any]:
    results = report.results if report else []
    counts = report.counts() if report else {}
    return {
        "FailedEntryCount": sum(1 for r in results if not r.accepted),
        "Entries": [result.as_dict() for result in results],
        "Invalid": [
            {"File": p.ref.file, "Index": p.ref.index, "Path": p.path, "Message": p.message}
            for p in problems
        ],
        "PutEventsCalls": report.calls if report else 0,
        "Summary": {
            "Accepted": counts.get(ACCEPTED, 0),
            "Failed": counts.get(FAILED, 0),
            "NeverSent": counts.get(NEVER_SENT, 0),
            "Unknown": counts.get(UNKNOWN, 0),
            "Invalid": len(problems),
        },
        "Account": account(report) if report else {},
        "Stopped": stop_reason(report) if report else None,
    }


def exit_code(report: SendReport | None, problems: Sequence[Problem]) -> int:
    if problems:
        return EXIT_INVALID
    return EXIT_OK if report is not None and report.all_accepted else EXIT_FAILED


def print_summary(
    report: SendReport, problems: Sequence[Problem], out: Console, *, quiet: bool
) -> None:
    """The results table (every entry for a small send, else only those not accepted; none
    with --quiet), one counts line, and the per-file account when not everything went in."""
    results = report.results
    if not quiet:
        if len(results) <= TABLE_ROWS:
            out.print(results_table(results))
        elif report.failed:
            shown = report.failed[:TABLE_ROWS]
            out.print(results_table(shown, "Entries not accepted"))
            if len(report.failed) > len(shown):
                more = len(report.failed) - len(shown)
                out.print(f"... and {more} more not accepted (--json lists every entry)")
    counts = report.counts()
    line = f"{counts[ACCEPTED]}/{len(results)} accepted in {report.calls} PutEvents call(s)"
    for status, words in ((FAILED, "failed"), (NEVER_SENT, "never sent"), (UNKNOWN, "unknown")):
        if counts[status]:
            line += f", {counts[status]} {words}"
    if problems:
        line += f", {len(problems)} invalid entr{'y' if len(problems) == 1 else 'ies'} not sent"
    out.print(line, soft_wrap=True)
    reason = stop_reason(report)
    if reason:
        out.print(f"[red]Stopped:[/red] {reason}", soft_wrap=True)
    if reason or not report.all_accepted:
        for file, statuses in account(report).items():
            parts = "; ".join(f"{status} {ranges}" for status, ranges in statuses.items())
            out.print(f"  {file}: {parts}", soft_wrap=True, highlight=False)


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
    quiet: bool = False,
) -> tuple[int, SendReport | None]:
    """Validate-then-send; prints problems and the results. Returns (exit code, report).

    A stop (Ctrl-C, a call failing for no entry's reason) is re-raised after the account of
    every entry (accepted, failed, never sent, unknown) was printed or emitted as JSON."""
    print_problems(loaded.problems, err)
    if loaded.problems and not skip_invalid:
        err.print(f"[red]{len(loaded.problems)} problem(s): nothing sent[/red]")
        if as_json:
            print_json(machine_report(None, loaded.problems))
        return EXIT_INVALID, None
    to_send = loaded.valid
    if not to_send:
        raise InputError("no valid entry to send: nothing sent")
    fill_bus_name(
        to_send,
        bus,
        default_bus,
        note=lambda message: err.print(f"[yellow]note:[/yellow] {message}", soft_wrap=True),
    )

    def make_sender(on_progress: Callable[[int], None] | None = None) -> Sender:
        return Sender(put_events, policy=policy, concurrency=concurrency, on_progress=on_progress)

    report = send_with_progress(make_sender, to_send, err)
    if as_json:
        print_json(machine_report(report, loaded.problems))
    else:
        print_summary(report, loaded.problems, out, quiet=quiet)
    if report.stopped_by is not None:
        raise report.stopped_by
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
    quiet: bool = False,
) -> int:
    """The put-events command. Returns the exit code."""
    from ordersctl.output import consoles

    out, err = consoles()
    if bus is not None and (problem := bus_option_problem(bus)):
        raise InputError(problem)
    loaded = load_and_validate(files, schemas, err)
    policy = RetryPolicy(backoff_base, backoff_cap, max_attempts)
    if local:
        from ordersctl.targets.local import LocalTarget

        if loaded.problems and not skip_invalid:  # nothing to send: no need to load the template
            return send_entries(
                loaded,
                put_events=lambda _entries: {},
                bus=bus,
                default_bus=lambda: "",
                skip_invalid=False,
                as_json=as_json,
                policy=policy,
                concurrency=1,
                out=out,
                err=err,
            )[0]
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
                quiet=quiet,
            )
            if report is not None:
                target.run_until_idle()
                if not as_json and not quiet:
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
        quiet=quiet,
    )
    return code

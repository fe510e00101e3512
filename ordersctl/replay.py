"""`replay`: replay the stage's archive onto its bus (optionally to some rules only) and follow it.

AWS: StartReplay with EventSourceArn = the archive's ARN and Destination {Arn: the bus ARN,
FilterArns: the rules' ARNs when --rule is given}, then DescribeReplay until the replay is
COMPLETED, FAILED or CANCELLED (Ctrl-C cancels the replay). Local: the same on localbus's archive,
after putting --events on the local bus (a fresh local bus has an empty archive).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ordersctl.errors import EXIT_FAILED, EXIT_OK, CliError, InputError

if TYPE_CHECKING:
    from ordersctl.targets.local import LocalEvents

FINAL_STATES = ("COMPLETED", "FAILED", "CANCELLED")
_RELATIVE = re.compile(r"^-?(\d+(?:\.\d+)?)\s*([smhdw])(?:\s*ago)?$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """`now`, a relative time (`-2h`, `30m ago`, `1d`: before now) or ISO 8601 (UTC if no zone)."""
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    if value == "now":
        return now
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2)
        return now - timedelta(**{_UNITS[unit]: amount})
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InputError(
            f"cannot read the time {text!r}: use ISO 8601 (2026-11-27T09:00:00Z), now, or -2h"
        ) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def replay_name(now: datetime | None = None) -> str:
    """ordersctl-<UTC time>-<6 random hex>: two replays started in one second differ."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"ordersctl-{stamp}-{secrets.token_hex(3)}"


def _not_found(error: Exception) -> bool:
    code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
    return code == "ResourceNotFoundException"


def progress_fraction(replay: dict[str, Any]) -> float:
    """How far the replay got through its time window (DescribeReplay's EventLastReplayedTime)."""
    if replay.get("State") == "COMPLETED":
        return 1.0
    start, end, last = (
        replay.get("EventStartTime"),
        replay.get("EventEndTime"),
        replay.get("EventLastReplayedTime"),
    )
    if not (
        isinstance(start, datetime) and isinstance(end, datetime) and isinstance(last, datetime)
    ):
        return 0.0
    span = (end - start).total_seconds()
    return max(0.0, min(1.0, (last - start).total_seconds() / span)) if span > 0 else 0.0


@dataclass
class ReplayPlan:
    name: str
    archive_arn: str
    bus_arn: str
    rule_arns: list[str]
    start: datetime
    end: datetime

    def request(self) -> dict[str, Any]:
        destination: dict[str, Any] = {"Arn": self.bus_arn}
        if self.rule_arns:
            destination["FilterArns"] = self.rule_arns
        return {
            "ReplayName": self.name,
            "Description": "started by ordersctl replay",
            "EventSourceArn": self.archive_arn,
            "EventStartTime": self.start,
            "EventEndTime": self.end,
            "Destination": destination,
        }


class AwsReplay:
    """Resolves names to ARNs with the events API and runs one replay."""

    def __init__(self, events: Any, *, archive_output: str | None = None) -> None:
        self.events = events
        self.archive_output = archive_output

    def bus_arn(self, bus: str) -> str:
        if bus.startswith("arn:"):
            return bus
        try:
            return str(self.events.describe_event_bus(Name=bus)["Arn"])
        except ClientError as error:
            if _not_found(error):
                raise InputError(f"no event bus {bus!r} (pass --bus or --stage)") from error
            raise

    def archive_arn(self, archive: str | None, bus_arn: str) -> str:
        name = archive or self.archive_output
        if name:
            try:
                return str(self.events.describe_archive(ArchiveName=name)["ArchiveArn"])
            except ClientError as error:
                if not _not_found(error):
                    raise
                known = [a["ArchiveName"] for a in self._archives(bus_arn)]
                raise InputError(
                    f"no archive {name!r} (archives of the bus: {', '.join(known) or 'none'})"
                ) from error
        archives = self._archives(bus_arn)
        if len(archives) != 1:
            names = ", ".join(a["ArchiveName"] for a in archives) or "none"
            raise InputError(f"pass --archive: the bus has {len(archives)} archive(s) ({names})")
        return str(
            self.events.describe_archive(ArchiveName=archives[0]["ArchiveName"])["ArchiveArn"]
        )

    def _archives(self, bus_arn: str) -> list[dict[str, Any]]:
        return list(self.events.list_archives(EventSourceArn=bus_arn).get("Archives", []))

    def rule_arn(self, rule: str, bus: str) -> str:
        """A rule by exact name, else the one rule whose name ends with `rule`."""
        rules = self._rules(bus)
        exact = [r for r in rules if r["Name"] == rule]
        candidates = exact or [r for r in rules if r["Name"].endswith(rule)]
        if len(candidates) != 1:
            known = ", ".join(sorted(r["Name"] for r in rules)) or "none"
            raise InputError(f"no single rule {rule!r} on bus {bus} (rules: {known})")
        return str(candidates[0]["Arn"])

    def _rules(self, bus: str) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self.events.list_rules(
                EventBusName=bus, **({"NextToken": token} if token else {})
            )
            rules += page.get("Rules", [])
            token = page.get("NextToken")
            if not token:
                return rules

    def start(self, plan: ReplayPlan) -> dict[str, Any]:
        try:
            return self.events.start_replay(**plan.request())
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ResourceAlreadyExistsException":
                raise InputError(
                    f"a replay named {plan.name!r} already exists: pass another --name"
                ) from error
            raise

    def describe(self, name: str) -> dict[str, Any]:
        return self.events.describe_replay(ReplayName=name)

    def cancel(self, name: str) -> None:
        self.events.cancel_replay(ReplayName=name)


def follow(
    describe: Callable[[], dict[str, Any]],
    *,
    err: Console,
    poll_seconds: float,
    timeout_seconds: float | None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll DescribeReplay (with a progress bar) until a final state or the timeout."""
    deadline = clock() + timeout_seconds if timeout_seconds is not None else None
    columns = (TextColumn("replay {task.fields[state]}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("replay", total=1.0, state="STARTING")
        while True:
            replay = describe()
            progress.update(task, completed=progress_fraction(replay), state=replay.get("State"))
            if replay.get("State") in FINAL_STATES:
                return replay
            if deadline is not None and clock() >= deadline:
                raise CliError(
                    f"replay {replay.get('ReplayName')} still {replay.get('State')} after "
                    f"{timeout_seconds:g}s; follow it with `aws events describe-replay`"
                )
            sleep(poll_seconds)


def outcome_line(replay: dict[str, Any]) -> tuple[int, str]:
    state = replay.get("State")
    reason = f": {replay['StateReason']}" if replay.get("StateReason") else ""
    if state == "COMPLETED":
        return EXIT_OK, f"[green]replay {replay.get('ReplayName')} COMPLETED[/green]{reason}"
    return EXIT_FAILED, f"[red]replay {replay.get('ReplayName')} {state}[/red]{reason}"


def run_aws(
    *,
    target: Any,
    bus: str | None,
    archive: str | None,
    rules: Sequence[str],
    start: datetime,
    end: datetime,
    name: str | None,
    poll_seconds: float,
    timeout_seconds: float | None,
    out: Console,
    err: Console,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    if end <= start:
        raise InputError("--to must be after --from")
    if name is not None:
        from ordersctl.entry_shape import option_problem

        problem = option_problem("StartReplay", "ReplayName", name, "--name")
        if problem:
            raise InputError(problem)
    bus_name = target.bus_name(bus)
    api = AwsReplay(
        target.client("events"), archive_output=target.stack_outputs().get("ArchiveName")
    )
    bus_arn = api.bus_arn(bus_name)
    plan = ReplayPlan(
        name=name or replay_name(),
        archive_arn=api.archive_arn(archive, bus_arn),
        bus_arn=bus_arn,
        rule_arns=[api.rule_arn(rule, bus_name) for rule in rules],
        start=start,
        end=end,
    )
    api.start(plan)
    scope = f"rules {', '.join(rules)}" if rules else "every rule"
    out.print(
        f"replay {plan.name}: {plan.archive_arn} events from {start:%Y-%m-%d %H:%M:%S}Z to "
        f"{end:%Y-%m-%d %H:%M:%S}Z onto {bus_name} ({scope})",
        soft_wrap=True,
    )
    try:
        replay = follow(
            lambda: api.describe(plan.name),
            err=err,
            poll_seconds=poll_seconds,
            timeout_seconds=timeout_seconds,
            sleep=sleep,
        )
    except KeyboardInterrupt:
        api.cancel(plan.name)
        err.print(f"[yellow]cancelled replay {plan.name}[/yellow]")
        return EXIT_FAILED
    code, line = outcome_line(replay)
    out.print(line)
    return code


def run_local(
    *,
    source: LocalEvents,
    archive: str | None,
    rules: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    name: str | None,
    out: Console,
    err: Console,
) -> int:
    """Put the events on a fresh local bus, then replay its archive and show the replayed paths."""
    from localbus.render import TraceView

    with source.open(err, why_needed="a fresh local bus has an empty archive") as target:
        bus = target.bus
        archive_id = archive or _only_archive(bus)
        before = len(bus.trace)
        from localbus.bus import LocalBusError

        try:
            replay = bus.start_replay(
                archive_id,
                start_time=start,
                end_time=end,
                destination_rules=list(rules) or None,
                replay_name=name or replay_name(),
            )
        except (LocalBusError, KeyError) as error:
            raise InputError(str(error)) from error
        bus.run_until_idle()
        final = bus.replays[replay["ReplayName"]]
        out.print(
            f"replay {final['ReplayName']}: {final['EventCount']} archived event(s) replayed "
            f"({'rules ' + ', '.join(rules) if rules else 'every rule'})"
        )
        view = TraceView.of_bus(bus)
        replayed = [
            s["event_id"]
            for s in bus.trace[before:]
            if s["step"] == "received" and s.get("replay_name") == final["ReplayName"]
        ]
        view.print(out, replayed)
        code, line = outcome_line(final)
        out.print(line)
        return code


def _only_archive(bus: Any) -> str:
    archives = list(bus.archives)
    if len(archives) != 1:
        raise InputError(f"pass --archive: the template has {len(archives)} archive(s)")
    return archives[0]

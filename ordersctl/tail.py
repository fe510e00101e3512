"""`tail`: follow the events arriving on a bus.

AWS: a temporary SQS queue, a queue policy that lets only the temporary rule send to it, and a
temporary rule (default pattern: every event) targeting the queue; long-poll, print, delete. The
rule, its target and the queue are removed on the way out, whatever the way out is (end of
--max-events / --timeout, an error, Ctrl-C or SIGTERM).

Local: put --events on a fresh local bus, run it until idle and print the events that arrived on
the bus (the ones put and the ones the handlers and the pipe produced) that match the pattern.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import Console

from ordersctl.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from ordersctl.targets.local import LocalEvents

DEFAULT_PATTERN: dict[str, Any] = {"source": [{"prefix": ""}]}  # every event
MAX_WAIT_SECONDS = 20  # SQS long polling maximum
TARGET_ID = "ordersctl-tail"
QUEUE_RETENTION_SECONDS = 3600


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM/SIGHUP end the tail like Ctrl-C does (KeyboardInterrupt), so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def queue_policy(queue_arn: str, rule_arn: str) -> str:
    """Only this rule (through EventBridge) may send to the queue."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OrdersctlTailRule",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        }
    )


@dataclass
class TailResources:
    """What a tail session created, so that exactly that is removed."""

    name: str
    bus: str
    queue_url: str | None = None
    queue_arn: str | None = None
    rule_arn: str | None = None
    target_added: bool = False
    cleanup_errors: list[str] = field(default_factory=list)


class AwsTail:
    def __init__(self, events: Any, sqs: Any, bus: str, pattern: dict[str, Any]) -> None:
        self.events = events
        self.sqs = sqs
        self.pattern = pattern
        self.resources = TailResources(f"ordersctl-tail-{uuid.uuid4().hex[:10]}", bus)

    def setup(self) -> None:
        res = self.resources
        res.queue_url = self.sqs.create_queue(
            QueueName=res.name,
            Attributes={"MessageRetentionPeriod": str(QUEUE_RETENTION_SECONDS)},
            tags={"created-by": "ordersctl tail"},
        )["QueueUrl"]
        res.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=res.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        res.rule_arn = self.events.put_rule(
            Name=res.name,
            EventBusName=res.bus,
            EventPattern=json.dumps(self.pattern),
            State="ENABLED",
            Description="temporary rule of `ordersctl tail` (removed when it exits)",
        )["RuleArn"]
        self.sqs.set_queue_attributes(
            QueueUrl=res.queue_url, Attributes={"Policy": queue_policy(res.queue_arn, res.rule_arn)}
        )
        self.events.put_targets(
            Rule=res.name, EventBusName=res.bus, Targets=[{"Id": TARGET_ID, "Arn": res.queue_arn}]
        )
        res.target_added = True

    def receive(self, wait_seconds: int) -> list[dict[str, Any]]:
        """Long-poll once; returns the events received (deleted from the queue)."""
        url = self.resources.queue_url
        messages = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        if messages:
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        return [_body(message["Body"]) for message in messages]

    def cleanup(self) -> list[str]:
        """Remove target, rule and queue (each attempted even if another fails)."""
        res = self.resources
        steps: list[tuple[str, Callable[[], Any]]] = []
        if res.target_added:
            steps.append(
                (
                    "remove target",
                    lambda: self.events.remove_targets(
                        Rule=res.name, EventBusName=res.bus, Ids=[TARGET_ID]
                    ),
                )
            )
        if res.rule_arn:
            steps.append(
                (
                    "delete rule",
                    lambda: self.events.delete_rule(Name=res.name, EventBusName=res.bus),
                )
            )
        if res.queue_url:
            steps.append(("delete queue", lambda: self.sqs.delete_queue(QueueUrl=res.queue_url)))
        for what, step in steps:
            try:
                step()
            except Exception as error:  # keep going: the other resources must go too
                res.cleanup_errors.append(f"{what} {res.name}: {error}")
        return res.cleanup_errors


def _body(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class Printer:
    def __init__(self, out: Console, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json

    def __call__(self, event: Any) -> None:
        if self.as_json:
            from ordersctl.output import print_ndjson

            print_ndjson(event)
            return
        if isinstance(event, dict):
            self.out.print(
                f"[bold cyan]{event.get('detail-type')}[/bold cyan] from {event.get('source')}"
                f"  [dim]{event.get('time')}  {event.get('id')}[/dim]"
                + (
                    f"  [magenta]replay {event['replay-name']}[/magenta]"
                    if event.get("replay-name")
                    else ""
                )
            )
            self.out.print_json(data=event)
        else:
            self.out.print(str(event))


def run_aws(
    *,
    target: Any,
    bus: str | None,
    pattern: dict[str, Any],
    max_events: int | None,
    timeout_seconds: float | None,
    as_json: bool,
    out: Console,
    err: Console,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    bus_name = target.bus_name(bus)
    tail = AwsTail(target.client("events"), target.client("sqs"), bus_name, pattern)
    show = Printer(out, as_json)
    seen = 0
    deadline = clock() + timeout_seconds if timeout_seconds is not None else None
    try:
        with stop_on_signals():
            tail.setup()
            err.print(
                f"tailing bus {bus_name} with rule {tail.resources.name} "
                f"(pattern {json.dumps(pattern)}); Ctrl-C to stop",
                soft_wrap=True,
            )
            while max_events is None or seen < max_events:
                remaining = None if deadline is None else deadline - clock()
                if remaining is not None and remaining <= 0:
                    break
                wait = (
                    MAX_WAIT_SECONDS if remaining is None else min(MAX_WAIT_SECONDS, int(remaining))
                )
                for event in tail.receive(max(wait, 0)):
                    show(event)
                    seen += 1
    except KeyboardInterrupt:
        err.print("[yellow]stopped[/yellow]")
    finally:
        problems = tail.cleanup()
        for problem in problems:
            err.print(f"[red]cleanup failed:[/red] {problem}", soft_wrap=True)
        if not problems and tail.resources.queue_url:
            err.print(f"removed rule, target and queue {tail.resources.name}; {seen} event(s) seen")
    return EXIT_FAILED if tail.resources.cleanup_errors else EXIT_OK


def run_local(
    *,
    source: LocalEvents,
    pattern: dict[str, Any],
    max_events: int | None,
    as_json: bool,
    out: Console,
    err: Console,
) -> int:
    """The events that arrived on the local bus (put and produced), in arrival order."""
    from localbus.patterns import matches

    show = Printer(out, as_json)
    with source.open(err, why_needed="a fresh local bus has no traffic") as target:
        shown = 0
        for event in arrived_events(target.bus):
            if max_events is not None and shown >= max_events:
                break
            if matches(pattern, event):
                show(event)
                shown += 1
        err.print(f"{shown} event(s) matched on the local bus {target.bus_name}")
    return EXIT_OK


def arrived_events(bus: Any) -> list[dict[str, Any]]:
    """Every event received on the bus, in order: the full event from the archive when the
    archive kept it, else the envelope the trace recorded."""
    archived = {
        kept.event["id"]: kept.event for archive in bus.archives.values() for kept in archive.events
    }
    events = []
    for step in bus.trace:
        if step["step"] != "received":
            continue
        event = archived.get(step["event_id"]) or {
            "id": step["event_id"],
            "source": step.get("source"),
            "detail-type": step.get("detail_type"),
            "time": step.get("time"),
        }
        events.append(event)
    return events

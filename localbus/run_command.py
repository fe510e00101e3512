"""`localbus run TEMPLATE`: load an app, feed it events and messages, show what happened.

Inputs are applied in the order given on the command line, at the bus's start time, then the
bus runs until idle (or `--until` simulated seconds). The output is the path each event took as a
tree, a summary, the end state of queues, topics and log groups, and what was not emulated;
`--json` prints the same as one JSON document.
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HELP = "Load a template (CloudFormation, SAM or cdk.out), feed it events, print the trace."
PUT_EVENTS_LIMIT = 10  # entries per PutEvents call, as AWS accepts


class InputFileError(ValueError):
    """An input file or option cannot be used; the message names it and says why."""


@dataclass
class Inputs:
    """The inputs in command-line order: (kind, argument) pairs."""

    items: list[tuple[str, str]] = field(default_factory=list)


class _Ordered(argparse.Action):
    """Appends (option kind, value) to one shared list, so inputs keep their given order."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        namespace.inputs.items.append((self.dest, values))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "template",
        help="template file (JSON/YAML, SAM or plain CloudFormation), cdk.out folder, "
        "or a folder holding template.yaml",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="template parameter value (repeatable)",
    )
    parser.set_defaults(inputs=Inputs())
    parser.add_argument(
        "--put-events",
        dest="put_events",
        action=_Ordered,
        metavar="FILE",
        help="PutEvents entries, as `aws events put-events --entries file://FILE` takes them",
    )
    parser.add_argument(
        "--send",
        action=_Ordered,
        metavar="QUEUE=FILE",
        help="send FILE's content as one message body to QUEUE (name, logical id, ARN or URL)",
    )
    parser.add_argument(
        "--inject",
        action=_Ordered,
        metavar="FILE",
        help="AWS service event(s) (aws.s3, aws.ec2, ...) delivered to the default bus",
    )
    parser.add_argument(
        "--until",
        type=float,
        metavar="SECONDS",
        help="run SECONDS of simulated time (schedules fire) instead of until idle",
    )
    parser.add_argument("--json", action="store_true", help="print the trace and end state as JSON")
    parser.add_argument("--seed", type=int, help="make ids and the start time reproducible")
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="the stack name a template file is deployed as (AWS::StackName; default: its "
        "file or folder name), or the one stack of a cdk.out to load (default: all)",
    )


def run(args: argparse.Namespace) -> int:
    """Exit status: 0 when every input was accepted, 1 when one was refused or work was left
    pending, 2 when an input or the template cannot be read."""
    from rich.console import Console
    from rich.markup import escape

    from localbus.assembly import AssemblyError
    from localbus.bus import LocalBus, UnsupportedFeatureWarning

    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    try:
        parameters = _parameters(args.param)
        loaded = [(kind, _read_input(kind, value)) for kind, value in args.inputs.items]
        with warnings.catch_warnings():
            # Listed once under "Not emulated" at the end instead of as warnings at load.
            warnings.simplefilter("ignore", UnsupportedFeatureWarning)
            bus = LocalBus.from_template(
                args.template, parameters, stack=args.stack, seed=args.seed
            )
    except (InputFileError, AssemblyError, KeyError) as error:
        err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        return 2
    with bus:
        try:
            results = [_apply(bus, kind, payload) for kind, payload in loaded]
        except InputFileError as error:
            err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
            return 2
        pending = _run(bus, args.until)
        refused = [r for r in results if r.get("refused")]
        if args.json:
            print(json.dumps(_state(bus, results, pending), indent=2, default=str))
        else:
            _print(out, bus, results, pending)
        return 1 if refused or pending else 0


def _parameters(pairs: list[str]) -> dict[str, str]:
    parameters = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise InputFileError(f"--param {pair!r}: expected KEY=VALUE")
        parameters[key] = value
    return parameters


def _read_json(path: str, option: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputFileError(f"{option} {path}: no such file") from None
    except json.JSONDecodeError as error:
        raise InputFileError(f"{option} {path}: not valid JSON: {error}") from None


def _read_input(kind: str, value: str) -> Any:
    if kind == "put_events":
        data = _read_json(value, "--put-events")
        entries = data.get("Entries") if isinstance(data, dict) and "Entries" in data else data
        entries = [entries] if isinstance(entries, dict) else entries
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise InputFileError(f"--put-events {value}: expected a JSON array of entries")
        return {"file": value, "entries": entries}
    if kind == "send":
        queue, eq, path = value.partition("=")
        if not eq or not queue or not path:
            raise InputFileError(f"--send {value!r}: expected QUEUE=FILE")
        try:
            body = Path(path).read_text()
        except OSError as error:
            raise InputFileError(f"--send {value}: {error.strerror or error}: {path}") from None
        return {"file": path, "queue": queue, "body": body}
    data = _read_json(value, "--inject")
    events = [data] if isinstance(data, dict) else data
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise InputFileError(f"--inject {value}: expected an event object or an array of them")
    return {"file": value, "events": events}


def _apply(bus: Any, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    if kind == "put_events":
        responses = []
        entries = payload["entries"]
        # PutEvents takes at most 10 entries a call: send a longer file in calls of 10.
        for start in range(0, len(entries), PUT_EVENTS_LIMIT):
            try:
                responses.append(bus.put_events(Entries=entries[start : start + PUT_EVENTS_LIMIT]))
            except Exception as error:  # a request AWS refuses as a whole (ValidationException)
                return {"input": f"--put-events {payload['file']}", "refused": str(error)}
        result: dict[str, Any] = {"input": f"--put-events {payload['file']}"}
        result["entries"] = [e for r in responses for e in r.get("Entries", [])]
        failed = [e for e in result["entries"] if e.get("ErrorCode")]
        if failed:
            result["refused"] = "; ".join(
                f"{e['ErrorCode']}: {e.get('ErrorMessage')}" for e in failed
            )
        return result
    if kind == "send":
        try:
            queue = bus.queue(payload["queue"])
        except KeyError as error:
            raise InputFileError(f"--send {payload['queue']}={payload['file']}: {error}") from None
        message = queue.send(payload["body"])
        return {
            "input": f"--send {payload['queue']}={payload['file']}",
            "message_id": message.message_id,
        }
    inject = getattr(bus, "inject_event", None)
    if inject is None:
        raise InputFileError("--inject: this localbus has no inject_event")
    result = {"input": f"--inject {payload['file']}", "entries": []}
    for event in payload["events"]:
        try:
            result["entries"].append({"EventId": inject(event)["id"]})
        except Exception as error:  # an event AWS would not deliver: say which and why
            result["refused"] = str(error)
    return result


def _run(bus: Any, until: float | None) -> str:
    """Run the bus; returns why work is still pending ("" when none is)."""
    from localbus.clock import SimulationLimitError

    if until is not None:
        bus.advance(until)
        return ""
    try:
        bus.run_until_idle()
    except SimulationLimitError as error:
        return str(error)
    return ""


def root_event_ids(trace: list[dict[str, Any]]) -> list[str]:
    """Events that arrived from outside (put or injected), in arrival order."""
    return [
        step["event_id"]
        for step in trace
        if step["step"] == "received"
        and not step.get("parent_event_ids")
        and not step.get("parent_event_id")
    ]


def end_state(bus: Any) -> dict[str, Any]:
    """Queues (with their messages), topics (published messages and e-mail/SMS/HTTP
    notifications), log groups and dead-letter queues, by logical id."""
    published: dict[str, list[dict[str, Any]]] = {}
    for step in bus.trace:
        if step["step"] == "delivered" and step["resource"] in bus.topics:
            published.setdefault(step["resource"], []).append(
                {k: step[k] for k in ("time", "event_id", "message_id", "input") if k in step}
            )
    return {
        "queues": {
            logical_id: {
                "name": queue.ref.name,
                "dead_letter_queue": logical_id in bus.dead_letter_queues,
                "messages": queue.messages(),
            }
            for logical_id, queue in bus.queues.items()
        },
        "topics": {
            logical_id: {
                "name": topic.ref.name,
                "published": published.get(logical_id, []),
                "notifications": list(topic.outbox),
            }
            for logical_id, topic in bus.topics.items()
        },
        "logs": {
            logical_id: {"name": _name(bus, logical_id), "records": list(records)}
            for logical_id, records in bus.logs.items()
        },
        "dead_letters": bus.dead_letters(),
    }


def _name(bus: Any, logical_id: str) -> str:
    ref = bus.index.get(logical_id)
    return str(ref.name) if ref is not None else logical_id


def notes_only(bus: Any) -> list[str]:
    """The bus's notes that are not also "not emulated" findings."""
    unsupported = set(bus.unsupported)
    return [message for message in bus.notes if message not in unsupported]


def _state(bus: Any, results: list[dict[str, Any]], pending: str) -> dict[str, Any]:
    return {
        "inputs": results,
        "trace": list(bus.trace),
        **end_state(bus),
        "unsupported": bus.unsupported,
        "notes": notes_only(bus),
        "pending": pending or None,
    }


def _print(out: Any, bus: Any, results: list[dict[str, Any]], pending: str) -> None:
    from rich.markup import escape

    from localbus.render import TraceView

    view = TraceView.of_bus(bus)
    for result in results:
        if result.get("refused"):
            text = escape(f"{result['input']}: {result['refused']}")
            out.print(f"[red]refused[/red] {text}", highlight=False)
    roots = root_event_ids(bus.trace)
    for event_id in roots:
        out.print(view.event_tree(event_id))
    direct = view.direct_messages_tree()
    if direct is not None:
        out.print(direct)
    ordered = [e for root in roots for e in (root, *view.descendants([root]))]
    if ordered:
        out.print(view.summary_table(list(dict.fromkeys(ordered))))
    _print_end_state(out, view, end_state(bus))
    if pending:
        out.print(f"[yellow]still pending:[/yellow] {escape(pending)}", highlight=False)
    if bus.unsupported:
        out.print("[bold]Not emulated[/bold]")
        for message in bus.unsupported:
            out.print(f"  - {message}", highlight=False, markup=False)
    for message in notes_only(bus):
        out.print(f"[dim]note:[/dim] {escape(message)}", highlight=False)


def _print_end_state(out: Any, view: Any, state: dict[str, Any]) -> None:
    lines = []
    for logical_id, queue in state["queues"].items():
        if queue["messages"]:
            lines.append(
                f"  {view.label(logical_id, 'AWS::SQS::Queue')}: "
                f"{len(queue['messages'])} message(s)"
            )
            lines += [f"    {_one_line(m['Body'])}" for m in queue["messages"]]
    for logical_id, topic in state["topics"].items():
        for sent in topic["notifications"]:
            lines.append(f"  {view.label(logical_id, 'AWS::SNS::Topic')} sent: {_one_line(sent)}")
    for group in state["logs"].values():
        lines.append(f"  log group {group['name']}: {len(group['records'])} record(s)")
        lines += [f"    {_one_line(record.get('message', record))}" for record in group["records"]]
    if lines:
        out.print("[bold]End state[/bold]")
        for line in lines:
            out.print(line, highlight=False, markup=False)


def _one_line(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

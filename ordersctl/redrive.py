"""`ordersctl redrive DLQ`: send each dead letter back to where it failed, keeping the original
event and its id, and delete it from the DLQ only once the resend succeeded.

Where a message goes is read from the message itself:
- Lambda's on-failure record (`requestPayload`, `requestContext.functionArn`): the function is
  invoked again, asynchronously, with the original event (its retries and on-failure
  destination apply again);
- a rule target's DLQ message (attributes RULE_ARN, TARGET_ARN; the body is the event): the
  event goes to that target, through the target's Input / InputPath / InputTransformer, as
  the rule would deliver it (Lambda invoked asynchronously, SQS, SNS); never back on the bus,
  so the other rules do not see it again;
- any other message of a queue's redrive DLQ: back to the source queue (the queue whose
  redrive policy names this DLQ), body and attributes as they were.
A message that fits none of these, or whose target cannot be reached, is left in the DLQ, and
the report says why. The same core runs on AWS (boto3) and on localbus (`--local`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.table import Table

from ordersctl.errors import EXIT_FAILED, EXIT_OK, InputError

RECEIVE_BATCH = 10
VISIBILITY_S = 120  # long enough for one resend; a message left behind is made visible again
LAMBDA_SERVICE = "lambda"
SQS_SERVICE = "sqs"
SNS_SERVICE = "sns"


@dataclass
class Letter:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, Any]  # SQS MessageAttributes

    def event(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Outcome:
    message_id: str
    event_id: str | None
    detail_type: str | None
    action: str  # resent | left | would-resend
    sent_to: str | None
    reason: str | None = None


class Backend(Protocol):
    """What redrive needs from AWS or from localbus."""

    dlq_label: str

    def receive(self, count: int) -> list[Letter]: ...
    def delete(self, letter: Letter) -> None: ...
    def release(self, letter: Letter) -> None: ...
    def source_queues(self) -> list[str]: ...
    def invoke_async(self, function_arn: str, payload: Any, event_id: str | None) -> None: ...
    def send_to_queue(
        self, queue: str, body: str, attributes: dict[str, Any], event_id: str | None
    ) -> None: ...
    def publish(self, topic_arn: str, message: str, event_id: str | None) -> None: ...
    def rule_target(self, rule_arn: str, target_arn: str) -> tuple[dict[str, Any], str] | None: ...


def redrive(backend: Backend, *, limit: int | None = None, dry_run: bool = False) -> list[Outcome]:
    """Every message of the DLQ (up to `limit`), one outcome each."""
    outcomes: list[Outcome] = []
    held: list[Letter] = []
    try:
        while limit is None or len(outcomes) < limit:
            batch = backend.receive(RECEIVE_BATCH)
            if not batch:
                break
            for letter in batch[: None if limit is None else limit - len(outcomes)]:
                outcome = _one(backend, letter, dry_run)
                outcomes.append(outcome)
                if outcome.action != "resent":
                    held.append(letter)
    finally:
        for letter in held:  # left in the DLQ, visible again for the next look
            backend.release(letter)
    return outcomes


def _one(backend: Backend, letter: Letter, dry_run: bool) -> Outcome:
    event = letter.event()
    try:
        send, where, original = _plan(backend, letter, event)
    except _Left as left:
        return Outcome(letter.message_id, *_names(event), "left", left.where, str(left))
    event_id, detail_type = _names(original)
    if dry_run:
        return Outcome(letter.message_id, event_id, detail_type, "would-resend", where)
    try:
        send()
    except Exception as error:
        return Outcome(
            letter.message_id, event_id, detail_type, "left", where, f"resend failed: {error}"
        )
    try:
        backend.delete(letter)
    except Exception as error:
        return Outcome(
            letter.message_id,
            event_id,
            detail_type,
            "resent",
            where,
            f"resent, but the delete failed ({error}): it will come back; consumers are "
            "idempotent on the event id",
        )
    return Outcome(letter.message_id, event_id, detail_type, "resent", where)


class _Left(Exception):
    def __init__(self, reason: str, where: str | None = None) -> None:
        super().__init__(reason)
        self.where = where


def _plan(
    backend: Backend, letter: Letter, event: Any
) -> tuple[Callable[[], None], str, Mapping[str, Any]]:
    """(what to call, where it goes, the original event) for one dead letter."""
    if isinstance(event, dict) and isinstance(event.get("requestPayload"), dict | list):
        payload = event["requestPayload"]
        function = str((event.get("requestContext") or {}).get("functionArn", ""))
        function = _unqualified(function)
        if not function:
            raise _Left("a Lambda destination record without requestContext.functionArn")
        original = payload if isinstance(payload, dict) else {}
        event_id = _names(original)[0]
        return (
            lambda: backend.invoke_async(function, payload, event_id),
            f"function {function}",
            original,
        )
    rule_arn = _attribute(letter, "RULE_ARN")
    target_arn = _attribute(letter, "TARGET_ARN")
    if rule_arn and target_arn:
        if not isinstance(event, dict):
            raise _Left("a rule DLQ message whose body is not an event")
        found = backend.rule_target(rule_arn, target_arn)
        if found is None:
            raise _Left(f"rule {rule_arn} has no target {target_arn} any more", target_arn)
        target, rule_name = found
        from localbus.transform import target_input

        text = target_input(target, event, rule_arn=rule_arn, rule_name=rule_name)
        service = target_arn.split(":")[2] if target_arn.count(":") >= 5 else ""
        event_id = _names(event)[0]
        if service == LAMBDA_SERVICE:
            payload = _json_or_text(text)
            return (
                lambda: backend.invoke_async(target_arn, payload, event_id),
                f"target {target_arn}",
                event,
            )
        if service == SQS_SERVICE:
            return (
                lambda: backend.send_to_queue(target_arn, text, {}, event_id),
                f"target {target_arn}",
                event,
            )
        if service == SNS_SERVICE:
            return (
                lambda: backend.publish(target_arn, text, event_id),
                f"target {target_arn}",
                event,
            )
        raise _Left(
            f"a {service or 'unknown'} target cannot be sent the event with its id "
            "(only Lambda, SQS and SNS targets)",
            target_arn,
        )
    sources = backend.source_queues()
    if len(sources) == 1:
        attributes = _sendable(letter.attributes)
        event_id = _names(event)[0]
        return (
            lambda: backend.send_to_queue(sources[0], letter.body, attributes, event_id),
            f"queue {sources[0]}",
            event if isinstance(event, dict) else {},
        )
    if not sources:
        raise _Left(
            f"{backend.dlq_label}: no Lambda record, no RULE_ARN/TARGET_ARN and no source queue "
            "redrives to it: cannot tell where this message failed"
        )
    raise _Left(f"{len(sources)} source queues redrive to {backend.dlq_label}: ambiguous")


def _names(event: Any) -> tuple[str | None, str | None]:
    if not isinstance(event, dict):
        return None, None
    event_id, detail_type = event.get("id"), event.get("detail-type")
    return (
        event_id if isinstance(event_id, str) else None,
        detail_type if isinstance(detail_type, str) else None,
    )


def _attribute(letter: Letter, name: str) -> str | None:
    value = (letter.attributes.get(name) or {}).get("StringValue")
    return str(value) if value else None


def _sendable(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Message attributes as SendMessage takes them."""
    keep = ("DataType", "StringValue", "BinaryValue")
    return {
        name: {key: value[key] for key in keep if key in value}
        for name, value in attributes.items()
        if isinstance(value, dict)
    }


def _unqualified(function_arn: str) -> str:
    parts = function_arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else function_arn


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


# ---- AWS --------------------------------------------------------------------------------------


class AwsBackend:
    def __init__(self, target: Any, dlq: str) -> None:
        self._target = target
        self._sqs = target.client("sqs")
        self.dlq_url = self._queue_url(dlq)
        self.dlq_label = self.dlq_url

    def _queue_url(self, name: str) -> str:
        if name.startswith(("https://", "http://")):
            return name
        if name.startswith("arn:"):
            parts = name.split(":")
            return str(
                self._sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])[
                    "QueueUrl"
                ]
            )
        # An output key of the stage's stack (InventoryFailureQueueUrl, ...), else a queue name.
        outputs = self._target.stack_outputs() if name.endswith("Url") else {}
        if name in outputs:
            return str(outputs[name])
        if name.endswith("Url") and name.isalnum():
            known = ", ".join(key for key in outputs if key.endswith("Url")) or "none readable"
            raise InputError(
                f"{name} is not an output of stack {self._target.stack_name} (queue outputs: "
                f"{known}); give the queue's URL, ARN or name instead"
            )
        return str(self._sqs.get_queue_url(QueueName=name)["QueueUrl"])

    def receive(self, count: int) -> list[Letter]:
        messages = self._sqs.receive_message(
            QueueUrl=self.dlq_url,
            MaxNumberOfMessages=count,
            MessageAttributeNames=["All"],
            VisibilityTimeout=VISIBILITY_S,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        return [
            Letter(m["MessageId"], m["ReceiptHandle"], m["Body"], m.get("MessageAttributes") or {})
            for m in messages
        ]

    def delete(self, letter: Letter) -> None:
        self._sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=letter.receipt_handle)

    def release(self, letter: Letter) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self.dlq_url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0
        )

    def source_queues(self) -> list[str]:
        found = self._sqs.list_dead_letter_source_queues(QueueUrl=self.dlq_url)
        return list(found.get("queueUrls", []))

    def invoke_async(self, function_arn: str, payload: Any, event_id: str | None) -> None:
        response = self._target.client("lambda").invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(payload)
        )
        if response.get("StatusCode") != 202:
            raise RuntimeError(f"Lambda answered {response.get('StatusCode')}, not 202")

    def send_to_queue(
        self, queue: str, body: str, attributes: dict[str, Any], event_id: str | None
    ) -> None:
        url = self._queue_url(queue)
        request: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
        if attributes:
            request["MessageAttributes"] = attributes
        self._sqs.send_message(**request)

    def publish(self, topic_arn: str, message: str, event_id: str | None) -> None:
        self._target.client("sns").publish(TopicArn=topic_arn, Message=message)

    def rule_target(self, rule_arn: str, target_arn: str) -> tuple[dict[str, Any], str] | None:
        # arn:aws:events:<region>:<account>:rule/<bus>/<name> (default bus: rule/<name>)
        path = rule_arn.split(":", 5)[-1].removeprefix("rule/")
        bus, _, name = path.rpartition("/")
        request = {"Rule": name, **({"EventBusName": bus} if bus else {})}
        events = self._target.client("events")
        for target in events.list_targets_by_rule(**request).get("Targets", []):
            if target.get("Arn") == target_arn:
                return dict(target), name
        return None


# ---- localbus ---------------------------------------------------------------------------------


class LocalBackend:
    QUEUE = "AWS::SQS::Queue"

    def __init__(self, bus: Any, dlq: str) -> None:
        self._bus = bus
        try:
            self._queue = bus.queue(_output_ref(bus, dlq) or dlq)
        except KeyError as error:
            raise InputError(f"no dead-letter queue {dlq!r} in the template") from error
        self.dlq_label = self._queue.ref.name
        self._held: dict[str, Any] = {}

    def receive(self, count: int) -> list[Letter]:
        messages = self._queue.receive(count, visibility_timeout=VISIBILITY_S)
        letters = []
        for message in messages:
            self._held[message.receipt_handle] = message
            letters.append(
                Letter(
                    message.message_id,
                    message.receipt_handle,
                    message.body,
                    dict(message.message_attributes),
                )
            )
        return letters

    def delete(self, letter: Letter) -> None:
        self._queue.delete_message(letter.receipt_handle)

    def release(self, letter: Letter) -> None:
        message = self._held.get(letter.receipt_handle)
        if message is not None:
            self._queue.change_visibility(message, 0)

    def source_queues(self) -> list[str]:
        bus = self._bus
        return [
            queue.ref.arn
            for queue in bus.queues.values()
            if queue.dead_letter_arn
            and getattr(bus.index.find(queue.dead_letter_arn, self.QUEUE), "logical_id", None)
            == self._queue.ref.logical_id
        ]

    def _cause(self, event_id: str | None) -> tuple[str, ...]:
        return (event_id,) if event_id else ()

    def invoke_async(self, function_arn: str, payload: Any, event_id: str | None) -> None:
        ref = self._bus.index.find(function_arn, "AWS::Lambda::Function")
        if ref is None:
            raise RuntimeError(f"ResourceNotFoundException: function {function_arn}")
        self._bus.lambdas.invoke_async(ref.logical_id, payload, cause=self._cause(event_id))

    def send_to_queue(
        self, queue: str, body: str, attributes: dict[str, Any], event_id: str | None
    ) -> None:
        self._bus.queue(queue).send(
            body,
            message_attributes=attributes,
            cause=self._cause(event_id),
            extra={"input": body, "via": "redrive"},
        )

    def publish(self, topic_arn: str, message: str, event_id: str | None) -> None:
        self._bus.topic(topic_arn).publish(
            message, cause=self._cause(event_id), extra={"input": message, "via": "redrive"}
        )

    def rule_target(self, rule_arn: str, target_arn: str) -> tuple[dict[str, Any], str] | None:
        bus = self._bus
        rule_ref = bus.index.find(rule_arn, "AWS::Events::Rule")
        wanted = bus.index.find(target_arn)
        if rule_ref is None or wanted is None:
            return None
        rule = bus.rules[rule_ref.logical_id]
        for target in rule.targets:
            if target.ref is not None and target.ref.logical_id == wanted.logical_id:
                return dict(target.target), str(rule.name)
        return None


def _output_ref(bus: Any, name: str) -> str | None:
    value = (bus.template.get("Outputs", {}).get(name) or {}).get("Value")
    return str(value["Ref"]) if isinstance(value, dict) and "Ref" in value else None


# ---- the command ------------------------------------------------------------------------------


def print_outcomes(out: Console, dlq: str, outcomes: list[Outcome]) -> None:
    table = Table(title=f"Redrive of {dlq}", title_justify="left")
    for column in ("Message", "Event id", "Detail-type", "Action", "Sent to / why left"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        where = outcome.sent_to or ""
        if outcome.reason:
            where = f"{where}: {outcome.reason}" if where else outcome.reason
        style = "green" if outcome.action == "resent" else "yellow"
        table.add_row(
            outcome.message_id,
            outcome.event_id or "-",
            outcome.detail_type or "-",
            f"[{style}]{outcome.action}[/{style}]",
            where,
        )
    out.print(table)
    resent = sum(1 for o in outcomes if o.action == "resent")
    left = sum(1 for o in outcomes if o.action == "left")
    out.print(f"{resent} resent and deleted from the DLQ, {left} left in it.")


def _exit(outcomes: list[Outcome]) -> int:
    return EXIT_FAILED if any(o.action == "left" for o in outcomes) else EXIT_OK


def run_aws(target: Any, dlq: str, *, limit: int | None, dry_run: bool, as_json: bool) -> int:
    from ordersctl.output import consoles, print_json

    out, _ = consoles()
    outcomes = redrive(AwsBackend(target, dlq), limit=limit, dry_run=dry_run)
    if as_json:
        print_json({"dlq": dlq, "messages": [asdict(o) for o in outcomes]})
    else:
        print_outcomes(out, dlq, outcomes)
    return _exit(outcomes)


@contextmanager
def _rehearsal(
    cdk_out: Path,
    events: list[Path],
    schemas: Path | None,
    seed_inventory: Path | None,
    fail_functions: list[str],
) -> Iterator[Any]:
    """A local bus where `events` ran with the faults armed (so the DLQ fills), faults then
    cleared: the fix is deployed, the redrive can run."""
    from ordersctl.demo import Fault, _resolve
    from ordersctl.output import consoles
    from ordersctl.put_events import load_all_valid
    from ordersctl.targets.local import LocalTarget

    _, err = consoles()
    if not events:
        raise InputError("--local needs --events FILE...: the events that fail into the DLQ")
    loaded = load_all_valid(events, schemas, err)
    with LocalTarget.open(cdk_out, seed_inventory=seed_inventory) as target:
        for fault in map(Fault.parse, fail_functions):
            target.bus.faults.fail_function(_resolve(target, fault.resource), times=fault.times)
        target.send(loaded.valid)
        target.run_until_idle()
        target.bus.faults.clear()
        yield target


def run_local(
    *,
    cdk_out: Path,
    dlq: str,
    events: list[Path],
    schemas: Path | None,
    seed_inventory: Path | None,
    fail_functions: list[str],
    limit: int | None,
    dry_run: bool,
    as_json: bool,
) -> int:
    from ordersctl.output import consoles, print_json

    out, _ = consoles()
    with _rehearsal(cdk_out, events, schemas, seed_inventory, fail_functions) as target:
        backend = LocalBackend(target.bus, dlq)
        before = len(target.bus.queue(backend.dlq_label))
        outcomes = redrive(backend, limit=limit, dry_run=dry_run)
        target.run_until_idle()
        after = len(target.bus.queue(backend.dlq_label))
        if as_json:
            print_json(
                {
                    "dlq": backend.dlq_label,
                    "messages": [asdict(o) for o in outcomes],
                    "dlq_before": before,
                    "dlq_after": after,
                }
            )
        else:
            print_outcomes(out, backend.dlq_label, outcomes)
            out.print(
                f"{backend.dlq_label}: {before} message(s) before the redrive, {after} after "
                "everything resent ran again (with the faults cleared).",
                soft_wrap=True,
            )
    return _exit(outcomes)


def register(app: typer.Typer) -> None:
    """Add the `redrive` command to the ordersctl app."""
    app.command(
        "redrive",
        epilog="""**Examples**

    ordersctl redrive InventoryFailureQueueUrl --stage dev

    ordersctl redrive AuditDlqUrl --stage prod --dry-run

    ordersctl redrive InventoryFailureQueueUrl --local --fail-function inventory
    --events events/order-created.json

**Exit codes**: 0 every message was resent and deleted; 1 some were left (each with its
reason) or AWS refused; 2 bad input (unknown queue, no cloud assembly, invalid events).""",
    )(redrive_command)


def redrive_command(
    ctx: typer.Context,
    dlq: Annotated[
        str,
        typer.Argument(
            help="The DLQ: a stack output key (InventoryFailureQueueUrl, AuditDlqUrl, ...), a "
            "queue URL, ARN or name; with --local, also a logical id."
        ),
    ],
    limit: Annotated[
        int | None, typer.Option("--max-messages", min=1, help="Stop after this many.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say where each message would go; send nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Per-message JSON on stdout.")] = False,
    stage: Annotated[
        str,
        typer.Option("--stage", envvar="ORDERS_STAGE", help="Stage (stack OrderEvents-<stage>)."),
    ] = "dev",
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region.")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="e.g. a moto server.")
    ] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="Rehearse on localbus: put --events with --fail-function armed, clear the "
            "faults, then redrive.",
        ),
    ] = False,
    events: Annotated[
        list[Path] | None, typer.Option("--events", help="--local: entry files to put first.")
    ] = None,
    fail_functions: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-function", help="--local: NAME[:TIMES] fails while the events first run."
        ),
    ] = None,
    cdk_out: Annotated[
        Path, typer.Option("--cdk-out", help="--local: cloud assembly (make synth).")
    ] = Path("cdk.out"),
    schemas: Annotated[Path | None, typer.Option("--schemas", help="Schemas directory.")] = None,
    seed_inventory: Annotated[
        Path | None, typer.Option("--seed-inventory", help="--local: inventory seed file.")
    ] = None,
) -> None:
    """Send each message of a dead-letter queue back to where it failed, keeping the original
    event and its id; delete it only after the resend succeeded; report per message.

    A Lambda on-failure record re-invokes the function (asynchronously) with the original
    event; a rule target's DLQ message goes to that target only (through its input
    transformer), not back on the bus; a work queue's DLQ message goes back to its source
    queue. Anything else stays in the DLQ, with the reason.
    """
    from ordersctl.cli import _aws_target, _refuse_aws_options_with_local, _run

    _refuse_aws_options_with_local(ctx, local)
    if local:
        _run(
            lambda: run_local(
                cdk_out=cdk_out,
                dlq=dlq,
                events=list(events or []),
                schemas=schemas,
                seed_inventory=seed_inventory,
                fail_functions=list(fail_functions or []),
                limit=limit,
                dry_run=dry_run,
                as_json=as_json,
            )
        )
        return
    # The target is made inside _run: a bad --stage or --endpoint-url is exit 2, not a traceback.
    _run(
        lambda: run_aws(
            _aws_target(stage, profile, region, endpoint_url),
            dlq,
            limit=limit,
            dry_run=dry_run,
            as_json=as_json,
        )
    )

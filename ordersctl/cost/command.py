"""The `ordersctl cost` typer command: options in, one report out (table, markdown or JSON)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from ordersctl.cost.bill import CodeFolders
from ordersctl.cost.comparison import Report, compare
from ordersctl.cost.events import Schemas
from ordersctl.cost.json_report import report_json
from ordersctl.cost.markdown import markdown, write_docs
from ordersctl.cost.mix import Sample, parse_mix_options
from ordersctl.cost.prices import DEFAULT_REGION, PRICING_FILE, PriceList
from ordersctl.cost.terminal import print_report
from ordersctl.errors import CliError, InputError
from ordersctl.routes import load_template


def load_samples(path: Path) -> list[Sample]:
    """(event, bus) of each entry of a sample file."""
    from ordersctl.routes_view import load_events

    return [(sample.event, sample.bus) for sample in load_events(path)]


def build_report(
    *,
    orders: int,
    cdk_out: Path,
    stack: str | None = None,
    region: str = DEFAULT_REGION,
    mix_options: Iterable[str] = (),
    mix_file: Path | None = None,
    pricing: Path = PRICING_FILE,
    schemas_dir: Path | None = None,
) -> Report:
    from ordersctl.paths import find_project_dir

    overrides = parse_mix_options(mix_options)
    prices = PriceList.load(pricing, region)
    template, stack_name = load_template(cdk_out, stack)
    if mix_file is None:
        events_dir = find_project_dir("events")
        if events_dir is None:
            raise InputError("no events/ folder found: pass --mix-file")
        mix_file = events_dir / "orders-batch.json"
    samples = load_samples(mix_file)
    schemas = Schemas(schemas_dir or find_project_dir("schemas"))
    return compare(
        template,
        stack_name,
        orders=orders,
        prices=prices,
        samples=samples,
        samples_source=str(mix_file),
        overrides=overrides,
        schemas=schemas,
        code=CodeFolders(asset_folders(cdk_out, stack), find_project_dir("lambdas")),
    )


def asset_folders(cdk_out: Path, stack: str | None = None) -> dict[str, Path]:
    """Each function's code folder in a cloud assembly (directory assets only), by logical id."""
    from localbus.assembly import AssemblyError, AssetNotFoundError, CloudAssembly

    if not Path(cdk_out).is_dir():
        return {}
    try:
        assembly = CloudAssembly.load(cdk_out)
        artifact = assembly.stack(stack)
    except (AssemblyError, OSError, KeyError, ValueError):
        return {}
    folders = {}
    for logical_id, resource in (artifact.template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        try:
            folder = assembly.asset_dir(artifact, logical_id)
        except (AssetNotFoundError, AssemblyError, OSError):
            continue
        if folder.is_dir() and assembly.directory in folder.parents:
            folders[logical_id] = folder
    assembly.close()  # removes only folders it extracted, which are not kept above
    return folders


def _markdown_command(orders: int, region: str, mix: list[str], mix_file: Path | None) -> str:
    """The command line the markdown report names: the options that change it."""
    return " ".join(
        [
            f"ordersctl cost --orders-per-month {orders}",
            *([f"--region {region}"] if region != DEFAULT_REGION else []),
            *[f"--mix {option}" for option in mix],
            *([f"--mix-file {mix_file}"] if mix_file else []),
            "--markdown",
        ]
    )


EPILOG = """**Examples**

    ordersctl cost --orders-per-month 1000000

    ordersctl cost --orders-per-month 100000000 --json

    ordersctl cost --orders-per-month 1000000 --mix high-value=0.05 --mix new-account=0.2

    ordersctl cost --orders-per-month 1000000 --markdown --write-docs docs/cost.md

**Mix keys**: high-value (share of orders the risk-review rule queues), new-account (share of
those the pipe filter passes), cancelled (cancellations per order), shortage, high-risk,
high-risk-established. Default: the shares in events/orders-batch.json and pricing.json.

**Exit codes**: 0 printed; 2 bad input (no cloud assembly, unpriced region, bad --mix)."""


def cost(
    orders_per_month: Annotated[
        int, typer.Option("--orders-per-month", min=1, help="Orders (OrderCreated) a month.")
    ],
    cdk_out: Annotated[
        Path, typer.Option("--cdk-out", help="Cloud assembly directory, or a template JSON file.")
    ] = Path("cdk.out"),
    stack: Annotated[
        str | None, typer.Option("--stack", help="Stack in the assembly (default: the first).")
    ] = None,
    region: Annotated[
        str, typer.Option("--region", help="Region whose prices to use (see pricing.json).")
    ] = DEFAULT_REGION,
    mix: Annotated[
        list[str] | None,
        typer.Option("--mix", metavar="KEY=VALUE", help="Override a share of the order mix."),
    ] = None,
    mix_file: Annotated[
        Path | None,
        typer.Option("--mix-file", help="Sample entries (default: events/orders-batch.json)."),
    ] = None,
    pricing: Annotated[
        Path, typer.Option("--pricing", help="Price list and assumptions.")
    ] = PRICING_FILE,
    schemas: Annotated[
        Path | None, typer.Option("--schemas", help="Schemas directory (default: ./schemas).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout.")
    ] = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Markdown tables (what docs/cost.md embeds).")
    ] = False,
    write_docs_path: Annotated[
        Path | None,
        typer.Option("--write-docs", help="With --markdown: refresh this volume's block there."),
    ] = None,
) -> None:
    """Estimate the monthly AWS bill of the order flow, per service and per million orders,
    beside the same flow built naively (x86 functions, no pipe filter, no batching).

    Read from the synthesized template: the rules each event crosses (matched with localbus's
    pattern engine against the sample orders), the pipe's filter, batch sizes and windows,
    functions' memory, architecture, timeout, tracing and log retention. Prices and every
    assumption (durations, log sizes, shares) come from ordersctl/pricing.json and are printed.
    """
    from ordersctl.output import consoles, print_json

    out, err = consoles()
    mix_options = list(mix or [])
    try:
        report = build_report(
            orders=orders_per_month,
            cdk_out=cdk_out,
            stack=stack,
            region=region,
            mix_options=mix_options,
            mix_file=mix_file,
            pricing=pricing,
            schemas_dir=schemas,
        )
        if as_json:
            print_json(report_json(report))
        elif as_markdown:
            command = _markdown_command(orders_per_month, region, mix_options, mix_file)
            text = markdown(report, command)
            if write_docs_path is not None:
                changed = write_docs(write_docs_path, orders_per_month, text)
                state = "updated" if changed else "already up to date"
                err.print(f"{write_docs_path}: {state}")
            else:
                out.print(text, markup=False, highlight=False, soft_wrap=True, end="")
        else:
            print_report(report, out)
    except CliError as error:
        err.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(error.exit_code) from None


def register(app: typer.Typer) -> None:
    """Add `cost` to an ordersctl typer app."""
    app.command("cost", epilog=EPILOG)(cost)

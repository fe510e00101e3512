"""The report for people at a terminal: rich tables, highlights, assumptions and notes."""

from __future__ import annotations

from typing import Any

from ordersctl.cost.comparison import Report
from ordersctl.cost.report import (
    SERVICE_HEADERS,
    assumptions,
    events_text,
    function_rows,
    highlights,
    service_rows,
    short_count,
)

# FUNCTION_HEADERS folded onto two lines, so the Functions table fits an 80-column terminal.
FUNCTION_HEADERS_TERMINAL = [
    "Function",
    "Arch",
    "MB",
    "Time-\nout",
    "Invoc-\nations",
    "Records\n/inv.",
    "ms\n/inv.",
    "Lambda\n$",
    "Naive\ninv.",
    "Naive\n$",
]


def print_report(report: Report, out: Any) -> None:
    from rich import box
    from rich.table import Table

    out.print(
        f"[bold]order-events monthly cost[/bold]: {short_count(report.orders)} orders a month, "
        f"{report.prices.region}, prices retrieved {report.prices.retrieved}"
    )
    table = Table(title="Per service (USD)", title_justify="left")
    for index, header in enumerate(SERVICE_HEADERS):
        table.add_column(header, justify="left" if index == 0 else "right", no_wrap=index == 0)
    rows = service_rows(report)
    for row in rows[:-1]:
        table.add_row(*row)
    table.add_row(*rows[-1], style="bold", end_section=True)
    out.print(table)
    # Ten columns in 80: headers on two lines, no box, every figure whole (never "$0.…").
    functions = Table(
        title="Functions",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
    )
    for index, header in enumerate(FUNCTION_HEADERS_TERMINAL):
        functions.add_column(header, justify="left" if index < 2 else "right", no_wrap=True)
    for row in function_rows(report):
        functions.add_row(*row)
    out.print(functions)
    out.print(f"Events per order: {events_text(report)}")
    for line in highlights(report):
        out.print(f"• {line}")
    out.print("[bold]Assumptions[/bold]")
    for line in assumptions(report):
        out.print(f"  - {line}", soft_wrap=True)
    for note in report.notes():
        out.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)

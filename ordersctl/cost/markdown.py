"""The report as GitHub markdown, and the blocks of it that docs/cost.md embeds."""

from __future__ import annotations

import re
from pathlib import Path

from ordersctl.cost.comparison import Report
from ordersctl.cost.report import (
    FUNCTION_HEADERS,
    SERVICE_HEADERS,
    events_text,
    function_rows,
    highlights,
    service_rows,
)


def markdown(report: Report, command: str) -> str:
    """The report as GitHub markdown (what docs/cost.md embeds)."""
    lines = [
        f"`{command}` ({report.prices.region}, prices retrieved {report.prices.retrieved}):",
        "",
        *_table(SERVICE_HEADERS, service_rows(report), bold_last=True),
        "",
        *_table(FUNCTION_HEADERS, function_rows(report)),
        "",
        f"Events per order: {events_text(report)}.",
        "",
        f"Order mix: {report.mix.text()}",
        "",
        *[f"- {line}" for line in highlights(report)],
    ]
    notes = report.notes()
    if notes:
        lines += ["", *[f"- Note: {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def _table(headers: list[str], rows: list[list[str]], bold_last: bool = False) -> list[str]:
    """A markdown table, first column left-aligned, the others right; bold last row if asked."""
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|")
    for index, row in enumerate(rows):
        cells = row
        if bold_last and index == len(rows) - 1:
            cells = [f"**{cell}**" for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def docs_markers(orders: int) -> tuple[str, str]:
    return (
        f"<!-- ordersctl cost --orders-per-month {orders}: start -->",
        f"<!-- ordersctl cost --orders-per-month {orders}: end -->",
    )


def embedded_block(document: str, orders: int) -> str | None:
    """The block for this volume in `document`, without its markers; None when there is none."""
    start, end = docs_markers(orders)
    match = re.search(re.escape(start) + r"\n(.*?)" + re.escape(end), document, re.DOTALL)
    return match.group(1) if match else None


def write_docs(path: Path, orders: int, block: str) -> bool:
    """Replace (or append) this volume's block in `path`; True when the file changed."""
    start, end = docs_markers(orders)
    document = path.read_text(encoding="utf-8") if path.exists() else ""
    fresh = f"{start}\n{block}{end}"
    if embedded_block(document, orders) is not None:
        pattern = re.escape(start) + r"\n.*?" + re.escape(end)
        updated = re.sub(pattern, lambda _: fresh, document, count=1, flags=re.DOTALL)
    else:
        updated = document.rstrip("\n") + ("\n\n" if document else "") + fresh + "\n"
    if updated == document:
        return False
    path.write_text(updated, encoding="utf-8")
    return True

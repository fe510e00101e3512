"""`routes`: print the rules/targets/pipe of the synthesized template, explain an event, or
print (and write into docs/architecture.md and README.md) the Mermaid architecture diagram."""

from __future__ import annotations

from pathlib import Path

from ordersctl.errors import InputError

DOCS_START = "<!-- routes:mermaid:start -->"
DOCS_END = "<!-- routes:mermaid:end -->"
# The documents that embed the diagram between those markers (a test keeps each in sync).
DIAGRAM_DOCUMENTS = (Path("docs/architecture.md"), Path("README.md"))


def docs_block(mermaid: str) -> str:
    """What docs/architecture.md holds between its markers: the diagram in a mermaid fence."""
    return f"{DOCS_START}\n```mermaid\n{mermaid}```\n{DOCS_END}"


def embedded_mermaid(document: str) -> str | None:
    """The diagram text currently embedded in a document (None when the markers are missing)."""
    start, end = document.find(DOCS_START), document.find(DOCS_END)
    if start < 0 or end < start:
        return None
    block = document[start + len(DOCS_START) : end].strip("\n")
    lines = block.splitlines()
    if lines and lines[0].startswith("```"):
        lines = lines[1:]
    if lines and lines[-1].startswith("```"):
        lines = lines[:-1]
    return "\n".join(lines) + "\n"


def write_docs(path: Path, mermaid: str) -> bool:
    """Replace the block between the markers; True when the file changed."""
    try:
        document = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error}") from error
    start, end = document.find(DOCS_START), document.find(DOCS_END)
    if start < 0 or end < start:
        raise InputError(f"{path} has no {DOCS_START} ... {DOCS_END} markers")
    updated = document[:start] + docs_block(mermaid) + document[end + len(DOCS_END) :]
    if updated == document:
        return False
    path.write_text(updated, encoding="utf-8")
    return True


def run(
    *,
    cdk_out: Path,
    stack: str | None,
    event_files: list[Path],
    mermaid: bool,
    write_docs_paths: list[Path],
) -> int:
    from ordersctl.mermaid import render_mermaid
    from ordersctl.output import consoles
    from ordersctl.routes import build_model, load_template
    from ordersctl.routes_view import load_events, print_routes

    out, err = consoles()
    template, stack_name = load_template(cdk_out, stack)
    model = build_model(template, stack_name)
    if mermaid or write_docs_paths:
        diagram = render_mermaid(model)
        for path in write_docs_paths:
            changed = write_docs(path, diagram)
            err.print(f"{path}: {'updated' if changed else 'already up to date'}")
        if not write_docs_paths:
            out.file.write(diagram)
        return 0
    samples = [sample for path in event_files for sample in load_events(path)]
    print_routes(model, out, samples)
    return 0

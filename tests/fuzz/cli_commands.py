"""The ordersctl commands as the CLI registers them (discovered, never listed by hand), and the
wrong-shaped values hypothesis draws for their options.

A command gets values by its options: first a plan for that command (CommandPlan, in
tests/fuzz/test_fuzz_cli.py), then a strategy shared by option name (OPTION_VALUES here), then
one by the option's type. A command with no plan (added after this was written) still gets the
values that every command must refuse before doing anything: wrong types, unknown options,
missing required ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import typer.main
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Option:
    """One parameter of a command, as click parses it."""

    name: str  # the Python name (cdk_out)
    flag: str | None  # --cdk-out; None for an argument
    kind: str  # flag, int, float, path, text
    multiple: bool
    required: bool


def _kind(param: Any) -> str:
    if getattr(param, "is_flag", False):
        return "flag"
    descriptor = getattr(param, "type_descriptor", None)
    annotation = str(getattr(descriptor, "annotation", ""))
    if getattr(descriptor, "is_path", False) or "Path" in annotation:
        return "path"
    if "int" in annotation:
        return "int"
    if "float" in annotation:
        return "float"
    return "text"


def commands(app: typer.Typer) -> dict[str, list[Option]]:
    """Every runnable command ("put-events", "kafka produce", ...) and its options."""
    found: dict[str, list[Option]] = {}

    def walk(command: Any, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, [*path, name])
            return
        found[" ".join(path)] = [
            Option(
                name=str(param.name),
                flag=next((o for o in param.opts if o.startswith("--")), None)
                if param.param_type_name == "option"
                else None,
                kind=_kind(param),
                multiple=bool(param.multiple) or (param.nargs == -1),
                required=bool(param.required),
            )
            for param in command.params
        ]

    walk(typer.main.get_command(app), [])
    return found


# -- wrong-shaped files ---------------------------------------------------------------------------

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@dataclass(frozen=True)
class FileSpec:
    """A file to create for an option: `kind` says how it is wrong (or `valid`)."""

    kind: str
    content: bytes | None = None  # None: nothing written (missing) or a directory
    nul_in_name: bool = False

    def create(self, where: Path, name: str) -> str:
        path = where / name
        if self.kind == "missing":
            return str(path)
        if self.kind == "directory":
            path.mkdir(parents=True, exist_ok=True)
            if self.content is not None:  # a directory holding a broken JSON file
                (path / "Broken.json").write_bytes(self.content)
            return str(path)
        path.write_bytes(self.content or b"")
        return str(path) + ("\x00x" if self.nul_in_name else "")


def wrong_typed(keys: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """The right keys with values of the wrong type, as an object or inside an array."""
    bad = st.dictionaries(st.sampled_from(keys), JSON_VALUES, min_size=1, max_size=len(keys))
    return bad | st.lists(bad, min_size=1, max_size=3)


def bad_files(keys: tuple[str, ...], valid: tuple[Path, ...]) -> st.SearchStrategy[FileSpec]:
    """Missing, empty, a directory, not JSON, the wrong JSON shape, wrong types, huge,
    non-UTF-8, NUL bytes (in the content and the name), and sometimes a valid file."""

    def as_json(value: Any) -> bytes:
        return json.dumps(value).encode()

    huge = st.sampled_from(
        [
            b"[" + b",".join([b'{"a": 1}'] * 60_000) + b"]",
            json.dumps({"k": "x" * 2_000_000}).encode(),
            b"[" * 100_000 + b"]" * 100_000,
        ]
    )
    kinds = [
        st.just(FileSpec("missing")),
        st.just(FileSpec("empty", b"")),
        st.just(FileSpec("directory")),
        st.just(FileSpec("directory", b"{broken")),
        st.binary(max_size=40).map(lambda b: FileSpec("not-json", b"{" + b)),
        JSON_VALUES.map(lambda v: FileSpec("wrong-shape", as_json(v))),
        wrong_typed(keys).map(lambda v: FileSpec("wrong-types", as_json(v))),
        huge.map(lambda b: FileSpec("huge", b)),
        st.binary(min_size=1, max_size=40).map(lambda b: FileSpec("non-utf8", b"\xff\xfe" + b)),
        st.just(FileSpec("nul-bytes", b'[{"Source": "a\x00b"}]\x00')),
        st.just(FileSpec("nul-name", b"[]", nul_in_name=True)),
    ]
    if valid:
        kinds.append(st.sampled_from(valid).map(lambda p: FileSpec("valid", p.read_bytes())))
    return st.one_of(*kinds)


ENTRY_KEYS = ("Source", "DetailType", "Detail", "Time", "Resources", "EventBusName", "TraceHeader")
EVENT_KEYS = ("id", "account", "source", "time", "region", "detail-type", "detail", "resources")
SAMPLE_ENTRIES = tuple(sorted((ROOT / "events").glob("order-*.json")))
SAMPLE_INVALID = tuple(sorted((ROOT / "events" / "invalid").glob("*.json")))

# Strategies shared by option name (any command with an option of that name gets them).
FILE_OPTIONS: dict[str, st.SearchStrategy[FileSpec]] = {
    "files": bad_files(ENTRY_KEYS, SAMPLE_ENTRIES + SAMPLE_INVALID),
    "event": bad_files(ENTRY_KEYS + EVENT_KEYS, SAMPLE_ENTRIES),
    "events": bad_files(ENTRY_KEYS, SAMPLE_ENTRIES),
    "mix_file": bad_files(ENTRY_KEYS, SAMPLE_ENTRIES),
    "seed_inventory": bad_files(("sku", "available"), (ROOT / "events/inventory-seed.json",)),
    "seed_file": bad_files(("sku", "available"), (ROOT / "events/inventory-seed.json",)),
    "pricing": bad_files(
        ("regions", "assumptions", "currency"), (ROOT / "ordersctl/pricing.json",)
    ),
    "cdk_out": bad_files(("Resources", "Outputs", "artifacts", "version"), ()),
    "schemas": bad_files(("type", "properties", "required"), ()),
    "events_dir": bad_files(ENTRY_KEYS, ()),
}

JUNK_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "-", "--", "null", "[]", "{}", "é" * 300, "a\nb"]),
)


def json_argument(files: st.SearchStrategy[FileSpec]) -> st.SearchStrategy[Any]:
    """A JSON-or-file:// argument: junk text, JSON of any shape, or file:// a bad file."""
    return st.one_of(
        JUNK_TEXT,
        JSON_VALUES.map(json.dumps),
        files.map(lambda spec: ("file://", spec)),
    )


def ints(low: int | None = None, high: int | None = None) -> st.SearchStrategy[str]:
    in_range = st.integers(min_value=low, max_value=high).map(str)
    return st.one_of(in_range, st.integers().map(str), JUNK_TEXT, st.just("1e3"))


def floats(low: float = 0.0, high: float = 1.0) -> st.SearchStrategy[str]:
    in_range = st.floats(min_value=low, max_value=high).map(repr)
    return st.one_of(in_range, st.sampled_from(["nan", "-1", "abc", "", "1e400", "-0.0"]))


def by_kind(option: Option) -> st.SearchStrategy[Any]:
    if option.name in FILE_OPTIONS:
        return FILE_OPTIONS[option.name]
    if option.kind == "path":
        return bad_files(ENTRY_KEYS, ())
    if option.kind == "int":
        return ints(-5, 5)
    if option.kind == "float":
        return floats()
    return JUNK_TEXT


def click_refusals(options: list[Option]) -> st.SearchStrategy[list[str]]:
    """Arguments every command must refuse in parsing (exit 2) before running anything: a wrong
    type for a typed option, an unknown option, a value given to a flag."""
    typed = [o for o in options if o.flag and o.kind in ("int", "float")]
    flags = [o for o in options if o.flag and o.kind == "flag"]
    choices: list[st.SearchStrategy[list[str]]] = [
        st.just(["--no-such-option-anywhere"]),
    ]
    if typed:
        choices.append(
            st.tuples(st.sampled_from(typed), st.sampled_from(["abc", "", "1x", "--"])).map(
                lambda pair: [str(pair[0].flag), pair[1]]
            )
        )
    if flags:
        choices.append(st.sampled_from(flags).map(lambda o: [f"{o.flag}=true"]))
    return st.one_of(*choices)


Materialise = Callable[[Any, str], str]


def materialise(value: Any, where: Path, label: str) -> Iterator[str]:
    """Turn a drawn value into command-line text (files are created under `where`)."""
    if isinstance(value, FileSpec):
        yield value.create(where, label)
    elif isinstance(value, tuple) and value and value[0] == "file://":
        yield "file://" + value[1].create(where, label)
    else:
        yield str(value)

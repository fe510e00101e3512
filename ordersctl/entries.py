"""Reading PutEvents entry files; validating each Detail against schemas/<DetailType>.json.

Accepted file shapes (all produce a list of PutEventsRequestEntry dicts):
- a JSON array of entries (the `aws events put-events --entries file://...` format used in events/);
- a single entry object;
- an object {"Entries": [...]} (the `--cli-input-json` shape);
- NDJSON: one entry object per line.

`Detail` may be a JSON string (as the AWS CLI requires) or an object, which is serialised.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError

from ordersctl.errors import InputError

# PutEvents limits (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html)
MAX_REQUEST_BYTES = 256 * 1024
# Optional in the API; required here because the Detail is validated against schemas/<DetailType>.
REQUIRED_FIELDS = ("Source", "DetailType", "Detail")


def _reject_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; JSON has neither, and EventBridge refuses them.
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str) -> Any:
    """json.loads that accepts only real JSON (no NaN, Infinity or -Infinity); a document
    nested deeper than Python's recursion limit is a ValueError, not a RecursionError."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply to read") from None


@functools.cache
def ecma_pattern(pattern: str) -> str:
    r"""A JSON Schema (ECMA 262) pattern for Python's re: `$` ends the string, as in ECMA.

    Python's `$` also matches before a final newline, so "ORD-1\n" would pass `^ORD-1$` here
    and fail in the handlers (fastjsonschema); `\Z` is ECMA's `$` without multiline.
    """
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(char)
    return "".join(out)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Any:
    if validator.is_type(instance, "string") and not re.search(ecma_pattern(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Draft-04 with the schema's patterns read as the handlers read them.
DetailValidator = validators.extend(Draft4Validator, {"pattern": _pattern})


@dataclass(frozen=True, order=True)
class EntryRef:
    """Where an entry came from: the file as the user named it and its 0-based index there."""

    file: str
    index: int

    def __str__(self) -> str:
        return f"{self.file}: entry {self.index}"


@dataclass(frozen=True)
class Problem:
    """Why an entry cannot be sent. `path` is a JSON path into the entry, e.g. Detail.items[0]."""

    ref: EntryRef
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.ref}: {where}{self.message}"


@dataclass
class Entry:
    """One PutEvents request entry (Detail always a string) and where it came from."""

    ref: EntryRef
    request: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def detail_type(self) -> str:
        return str(self.request.get("DetailType", ""))


def entry_size(request: dict[str, Any]) -> int:
    """The size AWS counts against the 256 KB PutEvents limit (the documented algorithm)."""
    size = 14 if request.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        value = request.get(key)
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
    for resource in request.get("Resources") or []:
        if isinstance(resource, str):
            size += len(resource.encode("utf-8"))
    return size


def json_path(parts: Iterable[str | int], root: str = "") -> str:
    """Render jsonschema's path deque as Detail.items[0].quantity."""
    text = root
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_entry_file(path: Path, *, display: str | None = None) -> list[Any]:
    """The raw entries of one file. Raises InputError naming the file (and line) when unreadable."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name}: cannot read: not UTF-8 text (byte {error.start}: {error.reason})"
        ) from error
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise InputError(f"{name}: cannot read: {reason}") from error
    try:
        document = loads(text)
    except ValueError as error:
        if not isinstance(error, json.JSONDecodeError):
            raise InputError(f"{name}: invalid JSON: {error}") from error
        if error.msg == "Extra data":  # more than one document: NDJSON
            return _read_ndjson(text, name)
        raise InputError(
            f"{name}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}"
        ) from error
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("Entries"), list):
        return document["Entries"]
    if isinstance(document, dict):
        return [document]
    raise InputError(f"{name}:1: expected a JSON array of entries or an entry object")


def _read_ndjson(text: str, name: str) -> list[Any]:
    entries: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(loads(line))
        except ValueError as error:
            if not isinstance(error, json.JSONDecodeError):
                raise InputError(f"{name}:{number}: invalid JSON (NDJSON line): {error}") from error
            raise InputError(
                f"{name}:{number}:{error.colno}: invalid JSON (NDJSON line): {error.msg}"
            ) from error
    return entries


def load_entries(paths: Sequence[Path | str]) -> list[Entry]:
    """Read every file (in order) into Entries, checking their PutEvents shape (not the schema).

    A file holding no entry is an InputError: sending "nothing" is never what was meant."""
    if not paths:
        raise InputError("no entry files given")
    entries: list[Entry] = []
    for given in paths:
        path = Path(given)
        raw_entries = read_entry_file(path, display=str(given))
        if not raw_entries:
            raise InputError(f"{given}: holds no entries: nothing sent")
        for index, raw in enumerate(raw_entries):
            entries.append(_normalise(EntryRef(str(given), index), raw))
    return entries


def _normalise(ref: EntryRef, raw: Any) -> Entry:
    from ordersctl.entry_shape import shape_problems

    if not isinstance(raw, dict):
        return Entry(ref, {}, [Problem(ref, "", "an entry must be a JSON object")])
    request = dict(raw)
    problems = [Problem(ref, key, "is required") for key in REQUIRED_FIELDS if key not in request]
    if isinstance(request.get("Detail"), dict):
        try:
            request["Detail"] = json.dumps(request["Detail"], separators=(",", ":"))
        except (RecursionError, ValueError):
            problems.append(Problem(ref, "Detail", "is nested too deeply to send"))
            return Entry(ref, request, problems)
    # Everything boto3 would refuse, from botocore's own model of the request entry.
    problems += [Problem(ref, path, reason) for path, reason in shape_problems(request)]
    if entry_size(request) > MAX_REQUEST_BYTES:
        problems.append(
            Problem(ref, "", f"entry is {entry_size(request)} bytes; PutEvents allows 262144")
        )
    return Entry(ref, request, problems)


class SchemaCatalog:
    """The detail-type schemas of a schemas/ directory (draft-04, with format checks)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._validators: dict[str, Draft4Validator] = {}
        # Names come from the directory listing: a DetailType is never used as a path.
        self._files = {path.stem: path for path in directory.glob("*.json")}

    def validator(self, detail_type: str) -> Draft4Validator | None:
        if detail_type not in self._validators:
            path = self._files.get(detail_type)
            if path is None:
                return None
            schema = json.loads(path.read_text(encoding="utf-8"))
            self._validators[detail_type] = DetailValidator(
                schema, format_checker=Draft4Validator.FORMAT_CHECKER
            )
        return self._validators[detail_type]

    def detail_problems(self, entry: Entry) -> list[Problem]:
        """Schema problems of the entry's Detail, one per violation, in path order."""
        ref, request = entry.ref, entry.request
        try:
            detail = loads(request["Detail"])
        except ValueError as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            return [Problem(ref, "Detail", f"is not valid JSON: {reason}")]
        if not isinstance(detail, dict):
            return [Problem(ref, "Detail", "must be a JSON object")]
        validator = self.validator(entry.detail_type)
        if validator is None:
            return [
                Problem(
                    ref, "DetailType", f"no schema {entry.detail_type}.json in {self.directory}"
                )
            ]
        try:
            errors: list[ValidationError] = sorted(
                validator.iter_errors(detail), key=lambda e: [str(p) for p in e.absolute_path]
            )
        except RecursionError:
            return [Problem(ref, "Detail", "is nested too deeply to validate")]
        return [Problem(ref, json_path(e.absolute_path, "Detail"), concise(e)) for e in errors]


MAX_MESSAGE = 160


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def concise(error: ValidationError) -> str:
    """jsonschema's message, unless it would quote a whole enum or array: then a short one."""
    if len(error.message) <= MAX_MESSAGE:
        return error.message
    instance, expected = error.instance, error.validator_value
    if error.validator == "enum":
        return f"{_short(instance)} is not one of the {len(expected)} allowed values"
    if error.validator == "maxItems":
        return f"has {len(instance)} items, more than the maximum of {expected}"
    if error.validator == "minItems":
        return f"has {len(instance)} items, fewer than the minimum of {expected}"
    return error.message.replace(repr(instance), _short(instance))[:MAX_MESSAGE]


def validate_entries(entries: Sequence[Entry], catalog: SchemaCatalog) -> list[Problem]:
    """Attach schema problems to each well-formed entry; return every problem found."""
    for entry in entries:
        if entry.valid:
            entry.problems.extend(catalog.detail_problems(entry))
    return [problem for entry in entries for problem in entry.problems]

"""Hypothesis strategies made from the detail-type schemas (JSON Schema draft-04) in schemas/.

``valid_instances(schema)`` draws instances the schema accepts; ``invalid_instances(schema)``
draws a valid instance with exactly one known defect and the JSON path of what it broke. The
schema files are the only source: nothing here restates a field, a pattern or a bound.

The generator understands the keywords our schemas use (type, properties, required,
additionalProperties, items, min/maxItems, uniqueItems, enum, pattern, minimum/maximum with
draft-04's boolean exclusiveMinimum/exclusiveMaximum, min/maxLength, format date-time and
email, and ``$ref`` into the same document). Any other keyword raises, so a schema that grows
one fails loudly here instead of being fuzzed with instances it does not describe.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"

JsonPath = tuple[str | int, ...]
Schema = dict[str, Any]

SUPPORTED_KEYWORDS = frozenset(
    {
        "$schema",
        "$ref",
        "title",
        "description",
        "definitions",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "enum",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "format",
    }
)
JSON_TYPES = ("string", "integer", "number", "boolean", "null", "array", "object")

# Defect kinds, each a different rule broken at one place of an otherwise valid instance.
REQUIRED = "required"  # a required property dropped
TYPE = "type"  # a value of another JSON type
RANGE = "range"  # a number below its minimum or above its maximum
PATTERN = "pattern"  # a string that does not match its pattern
LENGTH = "length"  # a string shorter than minLength or longer than maxLength
FORMAT = "format"  # a string that is not a date-time / an e-mail address
ADDITIONAL = "additional"  # a property the object does not allow
MIN_ITEMS = "minItems"  # an array with too few items (empty)
MAX_ITEMS = "maxItems"  # an array with one item too many
ENUM = "enum"  # a value of the right type outside the enum
DEFECT_KINDS = (
    REQUIRED,
    TYPE,
    RANGE,
    PATTERN,
    LENGTH,
    FORMAT,
    ADDITIONAL,
    MIN_ITEMS,
    MAX_ITEMS,
    ENUM,
)


# --- schemas ------------------------------------------------------------------------------


def detail_types() -> list[str]:
    """Every detail-type with a schema, sorted."""
    return sorted(path.stem for path in SCHEMAS_DIR.glob("*.json"))


@cache
def _schema_text(detail_type: str) -> str:
    return (SCHEMAS_DIR / f"{detail_type}.json").read_text(encoding="utf-8")


def load_schema(detail_type: str) -> Schema:
    """A fresh copy of ``schemas/<detail_type>.json``."""
    return json.loads(_schema_text(detail_type))


def resolve(node: Schema, root: Schema) -> Schema:
    """Follow ``$ref`` (a JSON pointer into ``root``, e.g. ``#/definitions/sku``) to a schema."""
    seen: set[str] = set()
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise NotImplementedError(f"$ref {ref!r}: only acyclic refs into the same document")
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    unknown = set(node) - SUPPORTED_KEYWORDS
    if unknown:
        raise NotImplementedError(f"schema keywords not supported by the generator: {unknown}")
    return node


def _type_of(node: Schema) -> str | None:
    declared = node.get("type")
    if isinstance(declared, list):
        raise NotImplementedError("a list of types is not supported by the generator")
    if declared is None and "enum" not in node:
        raise NotImplementedError(f"a schema without type or enum: {node}")
    return declared


# --- formats ------------------------------------------------------------------------------

# RFC 5322 dot-atom local part: no leading, trailing or doubled dot (format "email").
_DOT_ATOM_EMAIL = re.compile(r"(?!\.)(?!.*\.\.)[^@\s]+(?<!\.)@[^@\s.][^@\s]*\.[^@\s.]+")
_PLAIN_EMAIL = r"[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[a-z]{2,6}"


def is_email(value: str) -> bool:
    """What ``format: email`` means here: one ``@``, a dot-atom local part, a dotted domain."""
    return _DOT_ATOM_EMAIL.fullmatch(value) is not None


@st.composite
def rfc3339_date_times(draw: st.DrawFn) -> str:
    """``format: date-time``: RFC 3339 with a T, optional fraction, ``Z`` or ``+hh:mm``."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    text = moment.replace(microsecond=0).isoformat(timespec="seconds")
    text += draw(st.just("") | st.from_regex(r"\.[0-9]{1,9}", fullmatch=True))
    offset = draw(st.none() | st.integers(-(23 * 60 + 59), 23 * 60 + 59))
    if offset is None:
        return text + "Z"
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def _broken_date_times(valid: str) -> SearchStrategy[str]:
    """Strings no RFC 3339 reader accepts, most of them one edit away from ``valid``."""
    return (
        st.sampled_from(
            [
                valid.replace("T", " ", 1),  # separator
                valid[:10],  # date only
                valid[:19],  # no time zone
                valid[:5] + "13" + valid[7:],  # month 13
                valid[:8] + "32" + valid[10:],  # day 32
                valid[:11] + "24" + valid[13:],  # hour 24
                valid[:14] + "61" + valid[16:],  # minute 61
                valid.replace("-", "/", 2),
            ]
        )
        | st.text(max_size=12)
    )


def _broken_emails(valid: str) -> SearchStrategy[str]:
    local, _, domain = valid.rpartition("@")
    return st.sampled_from(
        [
            valid.replace("@", "", 1),  # no @
            f"{local}@@{domain}",  # two @
            f"{local}@",  # no domain
            f"@{domain}",  # no local part
            f".{valid}",  # leading dot
            f"{local}..{local}@{domain}",  # doubled dot
        ]
    )


# --- valid instances ----------------------------------------------------------------------


def valid_instances(schema: Schema) -> SearchStrategy[Any]:
    """Instances ``schema`` (a whole schema document) accepts."""
    return _valid(schema, schema)


def valid_detail(detail_type: str) -> SearchStrategy[dict[str, Any]]:
    return valid_instances(load_schema(detail_type))


def _valid(node: Schema, root: Schema) -> SearchStrategy[Any]:
    node = resolve(node, root)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = _type_of(node)
    builders: dict[str, Callable[[Schema, Schema], SearchStrategy[Any]]] = {
        "object": _valid_object,
        "array": _valid_array,
        "string": lambda n, _: _valid_string(n),
        "integer": lambda n, _: _valid_integer(n),
        "number": lambda n, _: _valid_number(n),
        "boolean": lambda n, _: st.booleans(),
        "null": lambda n, _: st.none(),
    }
    return builders[kind](node, root)


def _valid_object(node: Schema, root: Schema) -> SearchStrategy[dict[str, Any]]:
    properties = node.get("properties", {})
    required = node.get("required", [])
    undeclared = [key for key in required if key not in properties]
    if undeclared:
        raise NotImplementedError(f"required but not declared: {undeclared}")
    return st.fixed_dictionaries(
        {key: _valid(properties[key], root) for key in required},
        optional={key: _valid(sub, root) for key, sub in properties.items() if key not in required},
    )


def _valid_array(node: Schema, root: Schema) -> SearchStrategy[list[Any]]:
    items = node.get("items", {"type": "null"})  # no items schema: any item is valid
    if not isinstance(items, dict):
        raise NotImplementedError("tuple-typed items are not supported by the generator")
    return st.lists(
        _valid(items, root),
        min_size=node.get("minItems", 0),
        max_size=node.get("maxItems"),
        unique_by=_canonical if node.get("uniqueItems") else None,
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@cache
def _matching(pattern: str) -> SearchStrategy[str]:
    # One strategy per pattern: from_regex is costly to build, cheap to draw from.
    return st.from_regex(pattern, fullmatch=True)


def _length_ok(node: Schema) -> Callable[[str], bool]:
    low, high = node.get("minLength", 0), node.get("maxLength", math.inf)
    return lambda text: low <= len(text) <= high


def _valid_string(node: Schema) -> SearchStrategy[str]:
    fmt = node.get("format")
    if "pattern" in node:
        strategy = _matching(node["pattern"])
        if fmt == "email":
            strategy = strategy.filter(is_email)
        elif fmt == "date-time":
            raise NotImplementedError("date-time with a pattern is not supported")
    elif fmt == "date-time":
        strategy = rfc3339_date_times()
    elif fmt == "email":
        strategy = st.from_regex(_PLAIN_EMAIL, fullmatch=True)
    else:
        return st.text(min_size=node.get("minLength", 0), max_size=node.get("maxLength"))
    return strategy.filter(_length_ok(node))


def _bounds(node: Schema) -> tuple[float | None, bool, float | None, bool]:
    return (
        node.get("minimum"),
        bool(node.get("exclusiveMinimum")),
        node.get("maximum"),
        bool(node.get("exclusiveMaximum")),
    )


def _valid_integer(node: Schema) -> SearchStrategy[int]:
    low, low_open, high, high_open = _bounds(node)
    least = None if low is None else math.floor(low) + 1 if low_open else math.ceil(low)
    most = None if high is None else math.ceil(high) - 1 if high_open else math.floor(high)
    if least is not None and most is not None and least > most:
        return st.nothing()  # no integer in range (a number schema may still hold floats)
    return st.integers(min_value=least, max_value=most)


def _valid_number(node: Schema) -> SearchStrategy[int | float]:
    low, low_open, high, high_open = _bounds(node)
    floats = st.floats(
        min_value=low,
        max_value=high,
        exclude_min=low_open and low is not None,
        exclude_max=high_open and high is not None,
        allow_nan=False,
        allow_infinity=False,
    )
    return _valid_integer(node) | floats


# --- invalid instances --------------------------------------------------------------------


@dataclass(frozen=True)
class Defect:
    """One rule broken at ``path``: the missing or extra property itself for ``required`` and
    ``additional``, else the value that breaks the rule."""

    kind: str
    path: JsonPath

    @property
    def parent(self) -> JsonPath:
        return self.path[:-1]

    @property
    def names_a_property(self) -> bool:
        """Validators report these on the object holding the property, naming it in words."""
        return self.kind in (REQUIRED, ADDITIONAL)

    def dotted(self, root: str = "detail") -> str:
        """The path in the handlers' notation, e.g. ``detail.items[0].quantity``."""
        return dotted(self.path, root)


def dotted(path: JsonPath, root: str) -> str:
    return root + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


@dataclass(frozen=True)
class InvalidSample:
    instance: Any
    defect: Defect


@dataclass(frozen=True)
class _Site:
    """A place a defect can be planted. ``mutation()`` makes the strategy drawing (path, new
    value or _DELETE); it is built only for the site drawn, since building strategies for
    every site of every example costs more than drawing from them."""

    kind: str
    mutation: Callable[[], SearchStrategy[tuple[JsonPath, Any]]]


_DELETE = object()


def invalid_instances(schema: Schema) -> SearchStrategy[InvalidSample]:
    """A valid instance of ``schema`` with exactly one defect, and where it is."""
    return _invalid(schema, valid_instances(schema))


def invalid_detail(detail_type: str) -> SearchStrategy[InvalidSample]:
    return invalid_instances(load_schema(detail_type))


def defect_kinds(schema: Schema, instance: Any) -> set[str]:
    """The defect kinds ``instance`` offers a place for (lets tests check coverage)."""
    return {site.kind for site in _sites(schema, schema, instance, ())}


@st.composite
def _invalid(draw: st.DrawFn, schema: Schema, valid: SearchStrategy[Any]) -> InvalidSample:
    instance = draw(valid)
    sites = _sites(schema, schema, instance, ())
    # Kind first, then place: rare kinds (maxItems, enum) come up as often as type errors.
    kind = draw(st.sampled_from(sorted({site.kind for site in sites})))
    site = draw(st.sampled_from([site for site in sites if site.kind == kind]))
    path, value = draw(site.mutation())
    return InvalidSample(_planted(instance, path, value), Defect(kind, path))


def _planted(instance: Any, path: JsonPath, value: Any) -> Any:
    broken = copy.deepcopy(instance)
    holder = broken
    for part in path[:-1]:
        holder = holder[part]
    if value is _DELETE:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    return broken


def _sites(node: Schema, root: Schema, value: Any, path: JsonPath) -> list[_Site]:
    node = resolve(node, root)
    sites: list[_Site] = []
    # The root's own type is the caller's business (e.g. "Detail must be an object"); an
    # enum without a type allows every type.
    if path and "type" in node:
        sites.append(_Site(TYPE, _at(path, lambda: _wrong_type(node))))
    if "enum" in node:
        sites.append(_Site(ENUM, _at(path, lambda: _outside_enum(node["enum"]))))
    kind = _type_of(node)
    if kind == "object":
        sites += _object_sites(node, root, value, path)
    elif kind == "array":
        sites += _array_sites(node, root, value, path)
    elif kind == "string":
        sites += _string_sites(node, value, path)
    elif kind in ("integer", "number"):
        sites += _number_sites(node, kind, path)
    return sites


def _object_sites(node: Schema, root: Schema, value: dict[str, Any], path: JsonPath) -> list[_Site]:
    properties = node.get("properties", {})
    sites = [
        _Site(REQUIRED, _at((*path, key), lambda: st.just(_DELETE)))
        for key in node.get("required", [])
        if key in value
    ]
    if node.get("additionalProperties") is False:
        sites.append(_Site(ADDITIONAL, lambda: _extra_property(path, properties)))
    for key, sub in value.items():
        sites += _sites(properties[key], root, sub, (*path, key))
    return sites


def _array_sites(node: Schema, root: Schema, value: list[Any], path: JsonPath) -> list[_Site]:
    sites = []
    if node.get("minItems", 0) >= 1:
        sites.append(_Site(MIN_ITEMS, _at(path, lambda: st.just([]))))
    if "maxItems" in node and value:
        # Repeat the (valid) items: only the count is wrong.
        too_many = [value[i % len(value)] for i in range(node["maxItems"] + 1)]
        sites.append(_Site(MAX_ITEMS, _at(path, lambda: st.just(too_many))))
    for index, item in enumerate(value):
        sites += _sites(node["items"], root, item, (*path, index))
    return sites


def _string_sites(node: Schema, value: str, path: JsonPath) -> list[_Site]:
    sites = []
    if "pattern" in node:
        sites.append(_Site(PATTERN, _at(path, lambda: _off_pattern(node["pattern"], value))))
    low, high = node.get("minLength", 0), node.get("maxLength")
    if low > 0:
        sites.append(_Site(LENGTH, _at(path, lambda: st.just(value[: low - 1]))))
    if high is not None:
        longer = lambda: st.text(min_size=high + 1, max_size=high + 20)  # noqa: E731
        sites.append(_Site(LENGTH, _at(path, longer)))
    if node.get("format") == "date-time":
        sites.append(_Site(FORMAT, _at(path, lambda: _broken_date_times(value))))
    elif node.get("format") == "email":
        sites.append(_Site(FORMAT, _at(path, lambda: _broken_emails(value))))
    return sites


def _number_sites(node: Schema, kind: str, path: JsonPath) -> list[_Site]:
    low, high = node.get("minimum"), node.get("maximum")
    if low is None and high is None:
        return []
    return [_Site(RANGE, _at(path, lambda: _out_of_range(node, kind)))]


def _out_of_range(node: Schema, kind: str) -> SearchStrategy[int | float]:
    low, low_open, high, high_open = _bounds(node)
    outside: list[SearchStrategy[int | float]] = []
    if low is not None:
        below = math.floor(low) if low_open else math.ceil(low) - 1
        outside.append(st.integers(max_value=below))
        if kind == "number":
            outside.append(st.floats(max_value=low, exclude_max=not low_open, allow_infinity=False))
    if high is not None:
        above = math.ceil(high) if high_open else math.floor(high) + 1
        outside.append(st.integers(min_value=above))
        if kind == "number":
            outside.append(
                st.floats(min_value=high, exclude_min=not high_open, allow_infinity=False)
            )
    return st.one_of(outside).filter(lambda number: not math.isnan(number))


def _at(
    path: JsonPath, values: Callable[[], SearchStrategy[Any]]
) -> Callable[[], SearchStrategy[tuple[JsonPath, Any]]]:
    return lambda: st.tuples(st.just(path), values())


def _extra_property(
    path: JsonPath, properties: dict[str, Any]
) -> SearchStrategy[tuple[JsonPath, Any]]:
    names = st.text(min_size=1, max_size=30).filter(lambda key: key not in properties)
    return st.tuples(names.map(lambda key: (*path, key)), _ANY_JSON)


def _off_pattern(pattern: str, valid: str) -> SearchStrategy[str]:
    """Strings the pattern rejects, most of them one edit away from a valid one.

    Judged with Python's ``re.search`` (where ``$`` also matches before a final newline), so a
    string here is rejected under every regex dialect, not only under ECMA 262's.
    """
    near_misses = st.sampled_from(
        [valid[:-1], valid[1:], valid + valid[-1:], f" {valid}", valid.lower(), valid + "!"]
    )
    one_char = st.tuples(st.integers(0, max(len(valid) - 1, 0)), st.characters()).map(
        lambda at: valid[: at[0]] + at[1] + valid[at[0] + 1 :]
    )
    regex = re.compile(pattern)
    return (near_misses | one_char | st.text(max_size=20)).filter(
        lambda text: regex.search(text) is None
    )


def _outside_enum(allowed: list[Any]) -> SearchStrategy[Any]:
    strings = [value for value in allowed if isinstance(value, str)]
    near_misses = st.sampled_from(
        [s.lower() for s in strings] + [s + "X" for s in strings] + [s[:-1] for s in strings]
        if strings
        else [None]
    )
    return (near_misses | st.text(max_size=5) | st.integers()).filter(
        lambda value: value not in allowed
    )


def _wrong_type(node: Schema) -> SearchStrategy[Any]:
    declared = _type_of(node)
    allowed = {declared, "integer"} if declared == "number" else {declared}
    return st.one_of([_JSON_OF_TYPE[name] for name in JSON_TYPES if name not in allowed])


_ANY_JSON: SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


_JSON_OF_TYPE: dict[str, SearchStrategy[Any]] = {
    "string": st.text(max_size=10),
    "integer": st.integers(),
    # A float is not an integer in draft-04, even 3.0 ("a number without a fraction part").
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(st.integers() | st.text(max_size=3), max_size=3),
    "object": st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
}

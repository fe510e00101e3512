"""Value-level matchers for event patterns: what one leaf value of an event must look like.

A field of a pattern holds a list of terms (exact values and operator objects); the field matches a
leaf value when any term does. ``build_field_matcher`` turns that list into one ``FieldMatcher``
whose ``test`` is specialised once, at compile time: exact strings and numbers become sets,
prefixes and suffixes become tuples for ``str.startswith``/``str.endswith``, wildcards become
compiled regular expressions, CIDR blocks become integer ranges.

Semantics follow AWS Event Ruler (the matcher behind EventBridge):
- strings, numbers, booleans and null never match each other (``true`` is not ``1`` nor ``"true"``);
- numbers compare as IEEE-754 doubles, so ``300``, ``300.0`` and ``3e2`` are equal; a number no
  double holds exactly (``12345678901234567890``, ``0.30000000000000001``) is not comparable, as in
  Ruler's ComparableNumber: it only equals the same literal text and matches no numeric operator;
- a string pattern that is an IP address matches the same address however it is written;
- anything-but rejects only values of its own type: ``{"anything-but": "x"}`` passes ``5`` and null.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# Term kinds, produced by the pattern compiler and consumed by build_field_matcher.
EXACT_STRING = "exact-string"  # a bare string value (IP addresses compare by address)
EXACTLY = "exactly"  # {"exactly": "..."}: a string compared as text only
NUMBER = "number"  # a bare number value a double holds exactly: payload its double
NUMBER_TEXT = "number-text"  # a bare number no double holds exactly: payload its literal text
TRUE, FALSE, NULL = "true", "false", "null"
PREFIX, SUFFIX = "prefix", "suffix"
PREFIX_IGNORE_CASE, SUFFIX_IGNORE_CASE = "prefix-ignore-case", "suffix-ignore-case"
EQUALS_IGNORE_CASE = "equals-ignore-case"
WILDCARD = "wildcard"
NUMERIC = "numeric"  # payload: NumericRange
CIDR = "cidr"  # payload: (family bytes, low, high)
EXISTS, ABSENT = "exists", "absent"
ANYTHING_BUT_STRINGS = "anything-but-strings"
ANYTHING_BUT_NUMBERS = "anything-but-numbers"
ANYTHING_BUT_PREFIX = "anything-but-prefix"
ANYTHING_BUT_SUFFIX = "anything-but-suffix"
ANYTHING_BUT_IGNORE_CASE = "anything-but-ignore-case"
ANYTHING_BUT_WILDCARD = "anything-but-wildcard"

Term = tuple[str, Any]
Predicate = Callable[[Any], bool]

_IPV4_SHAPE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")  # Ruler's Constants.IPv4_REGEX
_IPV6_SHAPE = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")  # Ruler's Constants.IPv6_REGEX
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


class PatternValueError(ValueError):
    """A malformed operator argument; the compiler adds where it was found."""


@dataclass(frozen=True, slots=True)
class NumericRange:
    """``low < x`` (or ``<=``) and ``x < high`` (or ``<=``); None means unbounded."""

    low: float | None
    low_open: bool
    high: float | None
    high_open: bool

    def contains(self, x: float) -> bool:
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        return self.high is None or (x < self.high if self.high_open else x <= self.high)


_MIN_NORMAL = 2.2250738585072014e-308
_EXACT_INT = 2**53  # every int up to this is a double whose shortest decimal is itself


class InexactFloat(float):
    """A JSON number literal that no double holds exactly (``0.30000000000000001``, ``1e400``);
    ``text`` keeps the literal, which is all Ruler can match it by."""

    __slots__ = ("text",)

    def __new__(cls, value: float, text: str) -> InexactFloat:
        number = super().__new__(cls, value)
        number.text = text
        return number

    def __repr__(self) -> str:
        return self.text


def _java_decimal(x: float) -> Decimal:
    """The value of Java's ``Double.toString(x)``: the shortest decimal, except that a one-digit
    one is widened to the nearest two-digit decimal (they differ only for subnormals)."""
    text = repr(x)
    if 0 < abs(x) < _MIN_NORMAL:
        digits = text.split("e")[0].replace("-", "").replace(".", "").strip("0")
        if len(digits) == 1:
            text = f"{x:.1e}"
    return Decimal(text)


def parse_json_float(literal: str) -> float:
    """A JSON float literal as a float, or an InexactFloat if Ruler could not compare it (its
    ComparableNumber rejects a number unless ``BigDecimal.valueOf(double)`` equals the literal)."""
    value = float(literal)
    if len(literal) <= 15 and "e" not in literal and "E" not in literal:
        return value  # at most 15 significant digits of a normal double: always exact
    if math.isfinite(value) and _java_decimal(value) == Decimal(literal):
        return value
    return InexactFloat(value, literal)


def comparable_double(value: Any) -> float | None:
    """The double Ruler compares a JSON number (int or float) as; None if it cannot compare it."""
    c = value.__class__
    if c is int:
        if -_EXACT_INT <= value <= _EXACT_INT:
            return float(value)
        try:
            double = float(value)
        except OverflowError:
            return None
        return double if _java_decimal(double) == value else None
    if c is float:
        if 0 < abs(value) < _MIN_NORMAL and _java_decimal(value) != Decimal(repr(value)):
            return None
        return value if math.isfinite(value) else None
    return None


def number_text(value: Any) -> str:
    """The JSON text of a number, as Ruler matches a number it cannot compare."""
    if isinstance(value, InexactFloat):
        return value.text
    return str(value) if value.__class__ is int else repr(value)


def ip_key(text: str) -> tuple[int, int] | None:
    """(address length in bytes, address as int) if ``text`` is an IP literal Ruler accepts."""
    parts = text.split(".")
    # _IPV4_SHAPE.fullmatch(text), without the regex: four non-empty runs of ASCII digits
    # (for ASCII text, str.isdigit is exactly [0-9]+).
    if (
        len(parts) == 4
        and text.isascii()
        and parts[0].isdigit()
        and parts[1].isdigit()
        and parts[2].isdigit()
        and parts[3].isdigit()
    ):
        value = 0
        for octet in parts:
            number = int(octet)
            if number > 255:
                return None
            value = (value << 8) | number
        return 4, value
    if _IPV6_SHAPE.fullmatch(text):
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            return None
        # Java's InetAddress turns IPv4-mapped IPv6 literals into IPv4 addresses.
        if address in _IPV4_MAPPED:
            return 4, int(address) & 0xFFFFFFFF
        return 16, int(address)
    return None


def parse_cidr(text: str) -> tuple[int, int, int]:
    """(family bytes, lowest, highest address) of a CIDR block, as Ruler's CIDR.cidr reads it.

    Ruler keeps the address as written (host bits are not cleared) and sets the host bits for the
    top of the range; IPv4 masks must be < 32 and IPv6 masks < 128.
    """
    parts = text.split("/")
    while parts and parts[-1] == "":  # Java's String.split drops trailing empty strings
        parts.pop()
    if len(parts) != 2:
        raise PatternValueError(f"malformed CIDR {text!r}: exactly one '/' is required")
    if not re.fullmatch(r"[+-]?[0-9]+", parts[1]):
        raise PatternValueError(f"malformed CIDR {text!r}: mask bits must be an integer")
    bits = int(parts[1])
    if bits < 0:
        raise PatternValueError(f"malformed CIDR {text!r}: mask bits must not be negative")
    key = ip_key(parts[0])
    if key is None:
        raise PatternValueError(f"malformed CIDR {text!r}: {parts[0]!r} is not an IP address")
    family, address = key
    width = family * 8
    if bits >= width:
        kind = "IPv4" if family == 4 else "IPv6"
        raise PatternValueError(f"malformed CIDR {text!r}: {kind} mask bits must be < {width}")
    return family, address, address | ((1 << (width - bits)) - 1)


def compile_wildcard(text: str) -> re.Pattern[str]:
    """A regex for a wildcard value: ``*`` is any run of characters, ``\\*`` a star, ``\\\\`` a
    backslash. Consecutive ``*`` and any other backslash escape are invalid (Ruler's
    WildcardParser)."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            if i + 1 < len(text) and text[i + 1] == "*":
                raise PatternValueError(
                    f"consecutive wildcard characters at position {i} of {text!r}"
                )
            parts.append(".*")
        elif char == "\\":
            if i + 1 < len(text) and text[i + 1] in "*\\":
                parts.append(re.escape(text[i + 1]))
                i += 1
            else:
                raise PatternValueError(f"invalid escape character at position {i} of {text!r}")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _case_alternatives(text: str) -> str:
    """Regex where each character matches its lower- or upper-case form, as Ruler does per UTF-16
    char (so characters outside the BMP only match themselves)."""
    parts = []
    for char in text:
        forms = {char} if ord(char) > 0xFFFF else {char.lower(), char.upper()}
        if len(forms) == 1:
            parts.append(re.escape(next(iter(forms))))
        else:
            parts.append("(?:" + "|".join(re.escape(f) for f in sorted(forms)) + ")")
    return "".join(parts)


def ignore_case_predicate(text: str, mode: str) -> Predicate:
    """A test on a string for equals-ignore-case (``mode`` "equals"), or for a prefix or suffix
    compared ignoring case (``mode`` "prefix" / "suffix")."""
    n = len(text)
    if text.isascii():
        # ASCII letters only have ASCII case forms, so the matched part must be ASCII too.
        lowered = text.lower()
        if mode == "equals":
            return lambda v: len(v) == n and v.isascii() and v.lower() == lowered
        if mode == "prefix":
            return lambda v: v[:n].isascii() and v[:n].lower() == lowered
        if n == 0:
            return lambda v: True
        return lambda v: v[-n:].isascii() and v[-n:].lower() == lowered
    body = _case_alternatives(text)
    if mode == "equals":
        return re.compile(body, re.DOTALL).fullmatch  # type: ignore[return-value]
    if mode == "prefix":
        return re.compile(body, re.DOTALL).match  # type: ignore[return-value]
    return re.compile(f"(?:{body})\\Z", re.DOTALL).search  # type: ignore[return-value]


class FieldMatcher:
    """What one field of a sub-rule accepts.

    ``absent_ok``: the field may be missing (``{"exists": false}``).
    ``needs_value``: some term matches present values; ``test(value)`` says whether one does.
    ``shape``: for the common kinds of ``test``, what it checks, so that generated code can test
    a value in line (``_patterns_codegen``): ("strings", frozenset) for exact strings only,
    ("affix", strings, prefixes, suffixes), ("range", NumericRange) for one numeric range only,
    ("not-strings", frozenset) for one anything-but of strings only; None for any other.
    """

    __slots__ = ("absent_ok", "needs_value", "shape", "test")

    def __init__(
        self,
        absent_ok: bool,
        needs_value: bool,
        test: Predicate,
        shape: tuple[Any, ...] | None = None,
    ) -> None:
        self.absent_ok = absent_ok
        self.needs_value = needs_value
        self.test = test
        self.shape = shape


def build_field_matcher(terms: Iterable[Term]) -> FieldMatcher:
    strings: set[str] = set()
    ips: set[tuple[int, int]] = set()
    numbers: set[float] = set()
    number_texts: set[str] = set()  # numbers no double holds: equal only their own text
    literals: set[Any] = set()  # True / False / None, compared by identity below
    prefixes: list[str] = []
    suffixes: list[str] = []
    string_tests: list[Predicate] = []
    number_tests: list[Callable[[float], bool]] = []
    any_tests: list[Predicate] = []  # anything-but: may accept values of any type
    ranges: list[NumericRange] = []  # the numeric terms, and the anything-but of strings,
    anything_but: list[tuple[str, Any]] = []  # for FieldMatcher.shape
    absent_ok = exists = False
    value_terms = 0

    for kind, arg in terms:
        if kind == ABSENT:
            absent_ok = True
            continue
        value_terms += 1
        if kind == EXISTS:
            exists = True
        elif kind == EXACT_STRING:
            strings.add(arg)
            key = ip_key(arg)
            if key is not None:
                ips.add(key)
        elif kind == EXACTLY:
            strings.add(arg)
        elif kind == NUMBER:
            numbers.add(arg)
        elif kind == NUMBER_TEXT:
            number_texts.add(arg)
        elif kind in (TRUE, FALSE, NULL):
            literals.add({TRUE: True, FALSE: False, NULL: None}[kind])
        elif kind == PREFIX:
            prefixes.append(arg)
        elif kind == SUFFIX:
            suffixes.append(arg)
        elif kind == PREFIX_IGNORE_CASE:
            string_tests.append(ignore_case_predicate(arg, "prefix"))
        elif kind == SUFFIX_IGNORE_CASE:
            string_tests.append(ignore_case_predicate(arg, "suffix"))
        elif kind == EQUALS_IGNORE_CASE:
            string_tests.append(ignore_case_predicate(arg, "equals"))
        elif kind == WILDCARD:
            string_tests.append(arg.fullmatch)
        elif kind == NUMERIC:
            number_tests.append(_range_test(arg))
            ranges.append(arg)
        elif kind == CIDR:
            string_tests.append(_cidr_predicate(*arg))
        else:
            any_tests.append(_anything_but_predicate(kind, arg))
            if kind == ANYTHING_BUT_STRINGS:
                anything_but.append((kind, arg))

    if exists:
        return FieldMatcher(absent_ok, True, lambda v: True, ("any",))
    if not value_terms:
        return FieldMatcher(absent_ok, False, lambda v: False)
    only_plain_strings = not (
        ips or numbers or number_texts or literals or prefixes or suffixes or string_tests
    ) and not (number_tests or any_tests)
    if strings and only_plain_strings:
        frozen = frozenset(strings)
        return FieldMatcher(
            absent_ok, True, lambda v: v.__class__ is str and v in frozen, ("strings", frozen)
        )
    # Two more common shapes get a test of their own; each answers as _general_test would,
    # whose other branches cannot return True for these terms.
    if (prefixes or suffixes) and not (
        ips or numbers or number_texts or literals or string_tests or number_tests or any_tests
    ):
        affixes = (frozenset(strings), tuple(prefixes), tuple(suffixes))
        return FieldMatcher(absent_ok, True, _string_affix_test(*affixes), ("affix", *affixes))
    if len(any_tests) == 1 and value_terms == 1:  # one anything-but and nothing else
        shape = ("not-strings", frozenset(anything_but[0][1])) if anything_but else None
        return FieldMatcher(absent_ok, True, any_tests[0], shape)
    # One numeric range and nothing else: the general test, and a shape to inline it.
    range_shape = ("range", ranges[0]) if len(ranges) == 1 and value_terms == 1 else None
    return FieldMatcher(
        absent_ok,
        True,
        _general_test(
            frozenset(strings),
            frozenset(ips),
            frozenset(numbers),
            frozenset(number_texts),
            literals,
            tuple(prefixes),
            tuple(suffixes),
            string_tests,
            number_tests,
            any_tests,
        ),
        range_shape,
    )


def _range_test(r: NumericRange) -> Callable[[float], bool]:
    """``r.contains`` as one comparison chain with the bounds bound in (no attribute look-ups);
    the doubles it is given are finite, so ``not x <= low`` is ``x > low``."""
    low, high = r.low, r.high
    if low is None or high is None:
        if high is not None:
            return (lambda x: x < high) if r.high_open else (lambda x: x <= high)
        if low is not None:
            return (lambda x: x > low) if r.low_open else (lambda x: x >= low)
        return r.contains
    if r.low_open:
        return (lambda x: low < x < high) if r.high_open else (lambda x: low < x <= high)
    return (lambda x: low <= x < high) if r.high_open else (lambda x: low <= x <= high)


def _string_affix_test(
    strings: frozenset[str], prefixes: tuple[str, ...], suffixes: tuple[str, ...]
) -> Predicate:
    """Exact strings (none of them an IP address), prefixes and suffixes only."""

    def test(v: Any) -> bool:
        if v.__class__ is not str:
            return False
        return (
            v in strings
            or (bool(prefixes) and v.startswith(prefixes))
            or (bool(suffixes) and v.endswith(suffixes))
        )

    return test


def _general_test(
    strings: frozenset[str],
    ips: frozenset[tuple[int, int]],
    numbers: frozenset[float],
    number_texts: frozenset[str],
    literals: set[Any],
    prefixes: tuple[str, ...],
    suffixes: tuple[str, ...],
    string_tests: list[Predicate],
    number_tests: list[Callable[[float], bool]],
    any_tests: list[Predicate],
) -> Predicate:
    match_true, match_false, match_null = True in literals, False in literals, None in literals

    def test(v: Any) -> bool:
        c = v.__class__
        if c is str:
            if v in strings:
                return True
            if prefixes and v.startswith(prefixes):
                return True
            if suffixes and v.endswith(suffixes):
                return True
            if ips and ip_key(v) in ips:
                return True
            for p in string_tests:
                if p(v):
                    return True
        elif c is int or c is float or c is InexactFloat:
            # Inline fast paths: small ints and normal doubles are always comparable.
            if c is float and (v >= _MIN_NORMAL or v <= -_MIN_NORMAL or v == 0.0):
                double = v
            elif c is int and -_EXACT_INT <= v <= _EXACT_INT:
                double = float(v)
            else:
                double = comparable_double(v)
            if double is None:
                if number_texts and number_text(v) in number_texts:
                    return True
            else:
                if double in numbers:
                    return True
                for n in number_tests:
                    if n(double):
                        return True
        elif v is True:
            if match_true:
                return True
        elif v is False:
            if match_false:
                return True
        elif v is None and match_null:
            return True
        for p in any_tests:  # noqa: SIM110 - a plain loop is faster than any() on this hot path
            if p(v):
                return True
        return False

    return test


def _cidr_predicate(family: int, low: int, high: int) -> Predicate:
    def in_block(v: str) -> bool:
        key = ip_key(v)
        return key is not None and key[0] == family and low <= key[1] <= high

    return in_block


def _anything_but_predicate(kind: str, arg: Any) -> Predicate:
    """Anything-but passes every present value except strings (or numbers) it names."""
    if kind == ANYTHING_BUT_STRINGS:
        excluded: frozenset[Any] = frozenset(arg)
        return lambda v: v.__class__ is not str or v not in excluded
    if kind == ANYTHING_BUT_NUMBERS:
        excluded = frozenset(arg)

        def not_listed_number(v: Any) -> bool:
            # A number Ruler cannot compare never equals a listed (comparable) one.
            return comparable_double(v) not in excluded

        return not_listed_number
    if kind == ANYTHING_BUT_PREFIX:
        starts = tuple(arg)
        return lambda v: v.__class__ is not str or not v.startswith(starts)
    if kind == ANYTHING_BUT_SUFFIX:
        ends = tuple(arg)
        return lambda v: v.__class__ is not str or not v.endswith(ends)
    if kind == ANYTHING_BUT_IGNORE_CASE:
        tests = [ignore_case_predicate(text, "equals") for text in arg]
        return lambda v: v.__class__ is not str or not any(t(v) for t in tests)
    if kind == ANYTHING_BUT_WILDCARD:
        tests = [regex.fullmatch for regex in arg]
        return lambda v: v.__class__ is not str or not any(t(v) for t in tests)
    raise AssertionError(f"unknown term kind {kind}")


def is_finite_number(value: Any) -> bool:
    """A JSON number (not a bool) that a double can hold."""
    if value.__class__ is int:
        try:
            float(value)
        except OverflowError:
            return False
        return True
    return isinstance(value, float) and math.isfinite(value)

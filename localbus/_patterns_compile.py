"""Parse an event pattern into flat sub-rules, rejecting what EventBridge rejects.

Like AWS Event Ruler's JsonRuleCompiler, a pattern becomes a list of sub-rules, one per way
through its ``$or`` branches; a sub-rule maps a dotted field name ("detail.total") to the terms
its value may match. Fields before an ``$or`` are copied into every branch, fields after it are
added to every branch, and a field named twice on the same way keeps its last terms.
Every check names what is wrong and where, e.g.
``invalid pattern at detail.total: "numeric" expects pairs of operator and number, got [">"]``.
"""

from __future__ import annotations

import json
from typing import Any

from localbus import _patterns_values as pv

OR_KEY = "$or"

# Names an object inside "$or" may not use as field names (Ruler's Constants).
RESERVED_IN_OR = frozenset(
    {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "html",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)

OPERATORS = (
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
    "exactly",
)
_ANYTHING_BUT_NESTED = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_LOWER_BOUNDS = (">", ">=")
_UPPER_BOUNDS = ("<", "<=")

SubRule = dict[str, list[pv.Term]]


class InvalidPatternError(ValueError):
    """The event pattern is not one EventBridge accepts; ``path`` and ``reason`` say why."""

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        where = f" at {path}" if path else ""
        super().__init__(f"invalid pattern{where}: {reason}")


class DuplicateKeyObject(dict):  # type: ignore[type-arg]
    """A JSON object that named a key more than once; ``pairs`` keeps every occurrence, as
    Ruler's streaming parser sees them (the dict itself keeps the last value)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs


def load_pattern_text(text: str) -> Any:
    """Parse pattern JSON the way Ruler's parser reads it (duplicate keys kept, no NaN)."""

    def pairs_hook(pairs: list[tuple[str, Any]]) -> Any:
        if len({key for key, _ in pairs}) != len(pairs):
            return DuplicateKeyObject(pairs)
        return dict(pairs)

    def reject_constant(name: str) -> Any:
        raise InvalidPatternError(f"{name} is not valid JSON")

    try:
        return json.loads(
            text,
            object_pairs_hook=pairs_hook,
            parse_float=pv.parse_json_float,
            parse_constant=reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise InvalidPatternError(f"not valid JSON: {exc}") from None


def compile_subrules(pattern: Any, or_enabled: bool = True) -> list[SubRule]:
    """The sub-rules of ``pattern``. With ``or_enabled`` False, "$or" is an ordinary field name
    (Ruler's legacy RuleCompiler, which it falls back to when the JSON compiler refuses)."""
    if not isinstance(pattern, dict):
        raise InvalidPatternError(f"a pattern must be a JSON object, got {_show(pattern)}")
    rules: list[SubRule] = []
    _parse_object(rules, (), pattern, "", in_or=False, or_enabled=or_enabled)
    return rules


def contains_or_key(node: Any) -> bool:
    if isinstance(node, dict):
        return any(key == OR_KEY or contains_or_key(value) for key, value in _items(node))
    if isinstance(node, list):
        return any(contains_or_key(item) for item in node)
    return False


def _items(obj: dict[str, Any]) -> list[tuple[str, Any]]:
    pairs = getattr(obj, "pairs", None)
    return pairs if pairs is not None else list(obj.items())


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _parse_object(
    rules: list[SubRule],
    steps: tuple[str, ...],
    obj: dict[str, Any],
    where: str,
    in_or: bool,
    or_enabled: bool,
) -> None:
    items = _items(obj)
    if not items:
        raise InvalidPatternError("empty objects are not allowed", where)
    for key, value in items:
        if not isinstance(key, str):
            raise InvalidPatternError(f"field names must be strings, got {key!r}", where)
        here = _join(where, key)
        if or_enabled and key == OR_KEY:
            _parse_or(rules, steps, value, here, or_enabled)
            continue
        if in_or and key in RESERVED_IN_OR:
            raise InvalidPatternError(
                f'"{key}" is a reserved keyword and cannot be a field name inside "$or"', here
            )
        if isinstance(value, dict):
            _parse_object(rules, (*steps, key), value, here, in_or, or_enabled)
        elif isinstance(value, list):
            _write_field(rules, ".".join((*steps, key)), value, here)
        else:
            raise InvalidPatternError(
                f"a field must hold an object or an array of values, got {_show(value)}", here
            )


def _parse_or(
    rules: list[SubRule], steps: tuple[str, ...], branches: Any, where: str, or_enabled: bool
) -> None:
    if not isinstance(branches, list):
        raise InvalidPatternError(
            f'"$or" must be an array of at least 2 objects, got {_show(branches)}', where
        )
    before = [dict(rule) for rule in rules]
    rules.clear()
    for index, branch in enumerate(branches):
        here = f"{where}[{index}]"
        if not isinstance(branch, dict):
            raise InvalidPatternError(f'"$or" may only hold objects, got {_show(branch)}', here)
        branch_rules = [dict(rule) for rule in before] or [{}]
        _parse_object(branch_rules, steps, branch, here, in_or=True, or_enabled=or_enabled)
        rules.extend(branch_rules)
    if len(branches) < 2:
        raise InvalidPatternError(
            f'"$or" needs at least 2 objects, got {len(branches)}: {_show(branches)}', where
        )


def _write_field(rules: list[SubRule], name: str, values: list[Any], where: str) -> None:
    if not values:
        raise InvalidPatternError("empty arrays are not allowed", where)
    terms = [term for value in values for term in _value_terms(value, where)]
    if not rules:
        rules.append({})
    for rule in rules:
        rule[name] = terms


def _value_terms(value: Any, where: str) -> list[pv.Term]:
    if isinstance(value, str):
        return [(pv.EXACT_STRING, value)]
    if value is True:
        return [(pv.TRUE, None)]
    if value is False:
        return [(pv.FALSE, None)]
    if value is None:
        return [(pv.NULL, None)]
    if isinstance(value, int | float):
        if isinstance(value, pv.InexactFloat):
            return [(pv.NUMBER_TEXT, value.text)]
        if isinstance(value, float) and not pv.is_finite_number(value):
            raise InvalidPatternError(f"{value!r} is not a JSON number", where)
        # Ruler adds a numeric-equality matcher if it can compare the number, else only the text.
        double = pv.comparable_double(value)
        if double is None:
            return [(pv.NUMBER_TEXT, pv.number_text(value))]
        return [(pv.NUMBER, double)]
    if isinstance(value, dict):
        try:
            return [_operator_term(value)]
        except pv.PatternValueError as exc:
            raise InvalidPatternError(str(exc), where) from None
    raise InvalidPatternError(
        "a value must be a string, number, true, false, null or an operator object, "
        f"got {_show(value)}",
        where,
    )


def _operator_term(expression: dict[str, Any]) -> pv.Term:
    items = _items(expression)
    if not items:
        raise pv.PatternValueError(
            "an operator object must name one operator (" + ", ".join(OPERATORS) + "), got {}"
        )
    if len(items) > 1:
        names = ", ".join(f'"{key}"' for key, _ in items)
        raise pv.PatternValueError(f"an operator object takes exactly one key, got {names}")
    operator, arg = items[0]
    parse = _OPERATOR_PARSERS.get(operator)
    if parse is None:
        raise pv.PatternValueError(
            f'unknown operator "{operator}" (expected one of: ' + ", ".join(OPERATORS) + ")"
        )
    return parse(arg)


def _string_arg(operator: str, arg: Any) -> str:
    if not isinstance(arg, str):
        raise pv.PatternValueError(f'"{operator}" expects a string, got {_show(arg)}')
    return arg


def _prefix_or_suffix(operator: str, arg: Any) -> pv.Term:
    plain, ignore_case = (
        (pv.PREFIX, pv.PREFIX_IGNORE_CASE)
        if operator == "prefix"
        else (pv.SUFFIX, pv.SUFFIX_IGNORE_CASE)
    )
    if isinstance(arg, dict):
        items = _items(arg)
        if len(items) != 1 or items[0][0] != "equals-ignore-case":
            raise pv.PatternValueError(
                f'"{operator}" takes a string or {{"equals-ignore-case": "<string>"}}, '
                f"got {_show(arg)}"
            )
        return ignore_case, _string_arg(f"{operator}.equals-ignore-case", items[0][1])
    if not isinstance(arg, str):
        raise pv.PatternValueError(
            f'"{operator}" expects a string or {{"equals-ignore-case": "<string>"}}, '
            f"got {_show(arg)}"
        )
    return plain, arg


def _wildcard(arg: Any) -> pv.Term:
    return pv.WILDCARD, pv.compile_wildcard(_string_arg("wildcard", arg))


def _exists(arg: Any) -> pv.Term:
    if arg is True:
        return pv.EXISTS, None
    if arg is False:
        return pv.ABSENT, None
    raise pv.PatternValueError(f'"exists" expects true or false, got {_show(arg)}')


def _cidr(arg: Any) -> pv.Term:
    return pv.CIDR, pv.parse_cidr(_string_arg("cidr", arg))


def _operand(operator: str, value: Any) -> float:
    """A numeric operand as a double; Ruler rejects what a double cannot hold."""
    if value.__class__ is bool or not isinstance(value, int | float):
        raise pv.PatternValueError(f'"{operator}" must be followed by a number, got {_show(value)}')
    text = pv.number_text(value)
    if not pv.is_finite_number(value):
        raise pv.PatternValueError(f"{text} is out of the range of a double")
    double = pv.comparable_double(value)
    if double is None:
        # Ruler's ComparableNumber: BigDecimal.valueOf(double) must equal the number as written.
        raise pv.PatternValueError(f"{text} cannot be compared: no double equals it exactly")
    return double


def _numeric(arg: Any) -> pv.Term:
    got = _show(arg)
    if not isinstance(arg, list):
        raise pv.PatternValueError(
            f'"numeric" expects an array of operator/number pairs, got {got}'
        )
    if not arg or len(arg) % 2:
        raise pv.PatternValueError(f'"numeric" expects pairs of operator and number, got {got}')
    if len(arg) > 4:
        raise pv.PatternValueError(f'"numeric" takes at most two operator/number pairs, got {got}')
    operators = arg[0::2]
    for op in operators:
        if op not in ("=", *_LOWER_BOUNDS, *_UPPER_BOUNDS):
            raise pv.PatternValueError(
                f'"numeric": unknown operator {_show(op)} (expected =, <, <=, >, >=), got {got}'
            )
    numbers = [_operand(op, value) for op, value in zip(operators, arg[1::2], strict=True)]
    if operators[0] == "=":
        if len(arg) > 2:
            raise pv.PatternValueError(f'"numeric": "=" takes exactly one number, got {got}')
        return pv.NUMERIC, pv.NumericRange(numbers[0], False, numbers[0], False)
    if len(arg) == 2:
        low_or_high = numbers[0]
        if operators[0] in _LOWER_BOUNDS:
            return pv.NUMERIC, pv.NumericRange(low_or_high, operators[0] == ">", None, False)
        return pv.NUMERIC, pv.NumericRange(None, False, low_or_high, operators[0] == "<")
    if operators[0] not in _LOWER_BOUNDS or operators[1] not in _UPPER_BOUNDS:
        raise pv.PatternValueError(
            '"numeric": a range is a lower bound (">" or ">=") followed by an upper bound '
            f'("<" or "<="), got {got}'
        )
    low, high = numbers
    if low >= high:
        raise pv.PatternValueError(
            f'"numeric": the lower bound {_show(arg[1])} must be less than the upper bound '
            f"{_show(arg[3])}"
        )
    return pv.NUMERIC, pv.NumericRange(low, operators[0] == ">", high, operators[1] == "<")


def _anything_but(arg: Any) -> pv.Term:
    if isinstance(arg, dict):
        return _anything_but_nested(arg)
    if isinstance(arg, str):
        return pv.ANYTHING_BUT_STRINGS, (arg,)
    if isinstance(arg, int | float) and not isinstance(arg, bool):
        return pv.ANYTHING_BUT_NUMBERS, (_operand("anything-but", arg),)
    if isinstance(arg, list):
        strings = [v for v in arg if isinstance(v, str)]
        numbers = [v for v in arg if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(strings) + len(numbers) != len(arg) or not arg:
            raise pv.PatternValueError(
                '"anything-but" lists hold only strings or only numbers, got ' + _show(arg)
            )
        if strings and numbers:
            raise pv.PatternValueError(
                '"anything-but" lists cannot mix strings and numbers, got ' + _show(arg)
            )
        if strings:
            return pv.ANYTHING_BUT_STRINGS, tuple(strings)
        return pv.ANYTHING_BUT_NUMBERS, tuple(_operand("anything-but", v) for v in numbers)
    raise pv.PatternValueError(
        '"anything-but" expects a string, a number, an array of strings or of numbers, or an '
        'object with "prefix", "suffix", "equals-ignore-case" or "wildcard", got ' + _show(arg)
    )


def _anything_but_nested(arg: dict[str, Any]) -> pv.Term:
    items = _items(arg)
    if len(items) != 1 or items[0][0] not in _ANYTHING_BUT_NESTED:
        names = ", ".join(f'"{key}"' for key, _ in items) or "nothing"
        raise pv.PatternValueError(
            '"anything-but" can only wrap one of "prefix", "suffix", "equals-ignore-case" or '
            f'"wildcard", got {names}'
        )
    operator, value = items[0]
    texts = value if isinstance(value, list) else [value]
    if not all(isinstance(text, str) for text in texts):
        raise pv.PatternValueError(
            f'"anything-but.{operator}" expects a string or an array of strings, got {_show(value)}'
        )
    if operator in ("prefix", "suffix") and "" in texts:
        raise pv.PatternValueError(f'"anything-but.{operator}" cannot be an empty string')
    if operator == "prefix":
        return pv.ANYTHING_BUT_PREFIX, tuple(texts)
    if operator == "suffix":
        return pv.ANYTHING_BUT_SUFFIX, tuple(texts)
    if operator == "equals-ignore-case":
        return pv.ANYTHING_BUT_IGNORE_CASE, tuple(texts)
    return pv.ANYTHING_BUT_WILDCARD, tuple(pv.compile_wildcard(text) for text in texts)


_OPERATOR_PARSERS = {
    "exactly": lambda arg: (pv.EXACTLY, _string_arg("exactly", arg)),
    "prefix": lambda arg: _prefix_or_suffix("prefix", arg),
    "suffix": lambda arg: _prefix_or_suffix("suffix", arg),
    "equals-ignore-case": lambda arg: (
        pv.EQUALS_IGNORE_CASE,
        _string_arg("equals-ignore-case", arg),
    ),
    "wildcard": _wildcard,
    "numeric": _numeric,
    "anything-but": _anything_but,
    "exists": _exists,
    "cidr": _cidr,
}


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."

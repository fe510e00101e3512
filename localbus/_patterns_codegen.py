"""A match function generated once per compiled pattern: the pattern's walk as straight-line code.

The interpreted matcher (``CompiledPattern``'s loop over fields, ``FieldPath.free_match``, each
``FieldMatcher.test``) pays a Python call per field and per value test. Here the source of one
function is built from the pattern (its field names as literal keys, its common value tests in
line) and compiled with ``compile``/``exec`` once, when the compiled pattern has been matched
``GENERATE_AFTER`` times (compiling the source costs about 1 ms, what 2,000 matches save).

The generated code mirrors ``FieldPath.free_match`` step for step: a field is found by one
``dict.get`` per dotted atom; a key of the event that could name the same field with a dot in it
("detail.total" in the event's top level), a list where an object is expected, or a leaf list
holding objects or lists (``_free_leaf_match`` returns None) may need array consistency, and
sends the event to the general path (``general``), which answers for every event. Otherwise a
field is present or absent and passes or fails on its own, so a field that fails decides (a
sub-rule is an AND) and any sub-rule passing decides (``$or`` is an OR): the answer is the
general path's. Only the pattern's own names and numbers appear in the source, as ``repr``
literals; sets, tuples and tests are bound as constants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from localbus._patterns_event import FieldPath, _free_leaf_match
from localbus._patterns_values import _EXACT_INT, _MIN_NORMAL, FieldMatcher

Match = Callable[[Any], bool]
SubRule = Sequence[tuple[int, FieldMatcher]]

# Limits past which no function is generated (the interpreted matcher answers): the nesting of
# the generated code grows with a sub-rule's fields, its size with the number of sub-rules.
MAX_FIELDS_PER_SUBRULE = 30
MAX_SUBRULES = 64


def generate_match(
    paths: Sequence[FieldPath],
    subrules: Sequence[SubRule],
    general: Callable[[dict[str, Any]], bool],
    load_event: Callable[[Any], dict[str, Any]],
) -> Match | None:
    """A function ``match(event) -> bool`` answering as ``general`` does (an event that is not
    a dict goes through ``load_event`` first), or None if the pattern is too big to generate."""
    if len(subrules) > MAX_SUBRULES or any(len(s) > MAX_FIELDS_PER_SUBRULE for s in subrules):
        return None
    names: dict[str, Any] = {
        "G": general,
        "L": _free_leaf_match,
        "M": object(),  # a missing key; its class is neither dict nor list
        "U": object(),  # a field not evaluated yet
        "load_event": load_event,
    }
    lines = [
        "def match(event):",
        "    if event.__class__ is not dict:",
        "        event = load_event(event)",
    ]
    if len(subrules) == 1:  # each field once, with one matcher
        for index, matcher in subrules[0]:
            _walk(lines, "    ", paths[index])
            _leaf_must_pass(lines, "    ", index, matcher, names)
        lines.append("    return True")
    else:
        _any_subrule(lines, paths, subrules, names)
    source = "\n".join(lines) + "\n"
    try:
        code = compile(source, "<event pattern>", "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    exec(code, names)  # our own source: identifiers, and repr() of the pattern's values
    match: Match = names["match"]
    return match


def _walk(lines: list[str], ind: str, path: FieldPath) -> None:
    """Code leaving in ``v`` the node at ``path`` (M when absent), as ``free_match`` walks it."""
    alternatives = path.dotted_alternatives
    if alternatives[0]:
        lines.append(f"{ind}if {_any_key_in(alternatives[0], 'event')}: return G(event)")
    lines.append(f"{ind}v = event.get({path.atoms[0]!r}, M)")
    for i in range(1, len(path.atoms)):
        lines.append(f"{ind}c = v.__class__")
        lines.append(f"{ind}if c is dict:")
        if alternatives[i]:
            lines.append(f"{ind}    if {_any_key_in(alternatives[i], 'v')}: return G(event)")
        lines.append(f"{ind}    v = v.get({path.atoms[i]!r}, M)")
        lines.append(f"{ind}elif c is list: return G(event)")
        lines.append(f"{ind}else: v = M")


def _any_key_in(keys: Sequence[str], node: str) -> str:
    return " or ".join(f"{key!r} in {node}" for key in keys)


def _leaf_must_pass(
    lines: list[str], ind: str, index: int, matcher: FieldMatcher, names: dict[str, Any]
) -> None:
    """Code returning False unless the field (``v``) passes; G's answer when it cannot tell."""
    names[f"F{index}"] = matcher
    lines += [
        f"{ind}if v is not M:",
        f"{ind}    c = v.__class__",
        f"{ind}    if c is dict or c is list:",
        f"{ind}        r = L(v, F{index})",
        f"{ind}        if r is None: return G(event)",
        f"{ind}        if not r: return False",
        f"{ind}    elif not ({_test_expression(index, matcher, names)}): return False",
    ]
    if not matcher.absent_ok:
        lines.append(f"{ind}else: return False")


def _leaf_result(
    lines: list[str], ind: str, index: int, matcher: FieldMatcher, names: dict[str, Any]
) -> None:
    """Code setting ``r<index>`` to whether the field (``v``) passes; G's answer when it
    cannot tell."""
    names[f"F{index}"] = matcher
    r = f"r{index}"
    lines += [
        f"{ind}if v is M: {r} = {matcher.absent_ok!r}",
        f"{ind}else:",
        f"{ind}    c = v.__class__",
        f"{ind}    if c is dict or c is list:",
        f"{ind}        {r} = L(v, F{index})",
        f"{ind}        if {r} is None: return G(event)",
        f"{ind}    else: {r} = True if ({_test_expression(index, matcher, names)}) else False",
    ]


def _any_subrule(
    lines: list[str],
    paths: Sequence[FieldPath],
    subrules: Sequence[SubRule],
    names: dict[str, Any],
) -> None:
    """Code returning True as soon as one sub-rule passes; each field is evaluated once, and
    only when a sub-rule still standing needs it."""
    body: list[str] = []
    # One result per field and matcher (a field may take other values in another "$or" way).
    slots: dict[tuple[int, int], int] = {}
    done: set[int] = set()  # slots evaluated on every way to where the code is
    seen: set[int] = set()  # slots evaluated on some way
    maybe: set[int] = set()  # slots read where they may not have been evaluated: start as U
    for subrule in subrules:
        ind = "    "
        for index, matcher in subrule:
            slot = slots.setdefault((index, id(matcher)), len(slots))
            if slot not in done:
                inner = ind
                if slot in seen:
                    maybe.add(slot)
                    body.append(f"{ind}if r{slot} is U:")
                    inner = ind + "    "
                _walk(body, inner, paths[index])
                _leaf_result(body, inner, slot, matcher, names)
                seen.add(slot)
                if ind == "    ":
                    done.add(slot)
            body.append(f"{ind}if r{slot}:")
            ind += "    "
        body.append(f"{ind}return True")
    body.append("    return False")
    lines += [f"    r{slot} = U" for slot in sorted(maybe)]
    lines += body


def _test_expression(index: int, matcher: FieldMatcher, names: dict[str, Any]) -> str:
    """A Python expression on ``v`` (a leaf: neither dict nor list) and ``c`` (its class), true
    exactly when ``matcher.test(v)`` is."""
    if not matcher.needs_value:
        return "False"
    shape = matcher.shape
    kind = shape[0] if shape else None
    if kind == "any":
        return "True"
    if kind == "strings":
        names[f"S{index}"] = shape[1]  # type: ignore[index]
        return f"c is str and v in S{index}"
    if kind == "not-strings":
        names[f"S{index}"] = shape[1]  # type: ignore[index]
        return f"c is not str or v not in S{index}"
    if kind == "affix":
        strings, prefixes, suffixes = shape[1:]  # type: ignore[index]
        parts = []
        if strings:
            names[f"S{index}"] = strings
            parts.append(f"v in S{index}")
        if prefixes:
            names[f"P{index}"] = prefixes
            parts.append(f"v.startswith(P{index})")
        if suffixes:
            names[f"X{index}"] = suffixes
            parts.append(f"v.endswith(X{index})")
        return f"c is str and ({' or '.join(parts) or 'False'})"
    names[f"T{index}"] = matcher.test
    if kind == "range":
        bounds = _range_expression(shape[1])  # type: ignore[index]
        if bounds is not None:
            # The numbers _general_test compares as they are (normal doubles and zero, ints a
            # double holds exactly; an int compares with a float exactly); any other value
            # goes through the test itself.
            return (
                f"({bounds}) if (c is float and (v >= {_MIN_NORMAL!r} or v <= {-_MIN_NORMAL!r}"
                f" or v == 0.0)) or (c is int and {-_EXACT_INT} <= v <= {_EXACT_INT})"
                f" else T{index}(v)"
            )
    return f"T{index}(v)"


def _range_expression(r: Any) -> str | None:
    """``r.contains(v)`` as a comparison chain with the bounds as literals."""
    text = "v"
    if r.low is not None:
        text = f"{r.low!r} {'<' if r.low_open else '<='} {text}"
    if r.high is not None:
        text = f"{text} {'<' if r.high_open else '<='} {r.high!r}"
    return None if text == "v" else text

"""Generated match functions answer as the general path does, on generated patterns and events.

``CompiledPattern.matches`` is a function generated per pattern (localbus/_patterns_codegen.py);
``_general_matches`` collects every field's values and keeps array consistency, the path every
event took before any fast path existed. Hypothesis draws patterns with nested fields, dotted
names, ``$or`` (nested too), and every operator (prefix/suffix, their ignore-case forms,
wildcard, anything-but in each form, numeric, exists, cidr, equals-ignore-case, exactly), and
events with the shapes that matter: arrays of leaves, of objects and of arrays, empty arrays and
objects, dotted keys, values of every JSON type.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from localbus import patterns
from localbus._patterns_codegen import MAX_FIELDS_PER_SUBRULE
from localbus.patterns import InvalidPatternError, compile_pattern, matches

# Reproducible (derandomize, no example database); FUZZ_NO_SHRINK=1 reports a failure as found,
# as in tests/fuzz.
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=(Phase.explicit, Phase.generate) if os.environ.get("FUZZ_NO_SHRINK") else tuple(Phase),
)

KEYS = ("a", "b", "c", "a.b", "b.c")
STRINGS = ("x", "y", "X", "xy", "yx", "", "10.1.2.3", "192.0.2.1", "::ffff:10.0.0.1", "ß", "İx")
NUMBERS = (0, 1, -1, 5, 1.5, 0.0, -0.0, 300, 3e2, 2**53, 2**60, 5e-324, 1e300, -7.25)

leaf_values = st.one_of(
    st.sampled_from(STRINGS),
    st.sampled_from(NUMBERS),
    st.sampled_from([True, False, None]),
)


def _numeric() -> st.SearchStrategy[dict[str, Any]]:
    bound = st.sampled_from([-1, 0, 1, 1.5, 5, 300, 2**53])
    one = st.tuples(st.sampled_from(["<", "<=", ">", ">=", "="]), bound).map(list)
    two = st.tuples(
        st.sampled_from([">", ">="]), bound, st.sampled_from(["<", "<="]), bound
    ).filter(lambda t: t[1] < t[3])
    return st.one_of(one, two.map(list)).map(lambda arg: {"numeric": arg})


text = st.sampled_from(STRINGS)
nonempty_text = text.filter(bool)
operators = st.one_of(
    text.map(lambda s: {"prefix": s}),
    text.map(lambda s: {"suffix": s}),
    text.map(lambda s: {"prefix": {"equals-ignore-case": s}}),
    text.map(lambda s: {"suffix": {"equals-ignore-case": s}}),
    text.map(lambda s: {"equals-ignore-case": s}),
    text.map(lambda s: {"exactly": s}),
    st.sampled_from(["x*", "*y", "x*y", "*", "1*.3", "\\*x"]).map(lambda s: {"wildcard": s}),
    text.map(lambda s: {"anything-but": s}),
    st.lists(text, min_size=1, max_size=3).map(lambda s: {"anything-but": s}),
    st.sampled_from([0, 1, 5, 1.5]).map(lambda n: {"anything-but": n}),
    st.lists(st.sampled_from([0, 1, 5, 300]), min_size=1, max_size=3).map(
        lambda n: {"anything-but": n}
    ),
    nonempty_text.map(lambda s: {"anything-but": {"prefix": s}}),
    nonempty_text.map(lambda s: {"anything-but": {"suffix": s}}),
    text.map(lambda s: {"anything-but": {"equals-ignore-case": s}}),
    st.sampled_from(["x*", "*y"]).map(lambda s: {"anything-but": {"wildcard": s}}),
    _numeric(),
    st.booleans().map(lambda b: {"exists": b}),
    st.sampled_from(["10.0.0.0/8", "192.0.2.0/24", "::ffff:0:0/96"]).map(lambda c: {"cidr": c}),
)
terms = st.lists(st.one_of(leaf_values, operators), min_size=1, max_size=3)


def _pattern_objects(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    child: st.SearchStrategy[Any] = terms
    if depth > 0:
        child = st.one_of(terms, terms, st.deferred(lambda: _pattern_objects(depth - 1)))
    fields = st.dictionaries(st.sampled_from(KEYS), child, min_size=1, max_size=3)
    if depth == 0:
        return fields
    branches = st.lists(st.deferred(lambda: _pattern_objects(depth - 1)), min_size=2, max_size=3)
    with_or = st.tuples(fields, branches).map(lambda fb: {**fb[0], "$or": fb[1]})
    return st.one_of(fields, fields, with_or)


event_values = st.recursive(
    leaf_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    ),
    max_leaves=8,
)
events = st.dictionaries(st.sampled_from(KEYS), event_values, max_size=4)


def _literals(node: Any) -> list[Any]:
    """The strings and numbers a pattern names, as values an event may hold."""
    if isinstance(node, dict):
        return [v for value in node.values() for v in _literals(value)]
    if isinstance(node, list):
        return [v for value in node for v in _literals(value)]
    return [node] if isinstance(node, str | int | float) and node.__class__ is not bool else []


def _event_like(draw: Any, pattern: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    """An event with the pattern's fields (or not), holding values the pattern names (or not),
    as leaves, in arrays, in arrays of objects, under dotted keys."""
    leaf = st.one_of(st.sampled_from(values), leaf_values) if values else leaf_values
    fields: dict[str, Any] = {}
    for key, value in pattern.items():
        if key == "$or":
            for branch in value:
                fields.update(_event_like(draw, branch, values))
            continue
        if isinstance(value, dict):
            shape = draw(st.sampled_from(["object", "array-of-objects", "dotted", "leaf", "none"]))
            if shape == "object":
                fields[key] = _event_like(draw, value, values)
            elif shape == "array-of-objects":
                size = draw(st.integers(0, 3))
                fields[key] = [_event_like(draw, value, values) for _ in range(size)]
            elif shape == "dotted":
                for inner, held in _event_like(draw, value, values).items():
                    fields[f"{key}.{inner}"] = held
            elif shape == "leaf":
                fields[key] = draw(leaf)
        else:
            shape = draw(st.sampled_from(["leaf", "leaf", "array", "none", "object", "nested"]))
            if shape == "leaf":
                fields[key] = draw(leaf)
            elif shape == "array":
                fields[key] = draw(st.lists(leaf, max_size=3))
            elif shape == "object":
                fields[key] = draw(st.dictionaries(st.sampled_from(KEYS), leaf, max_size=2))
            elif shape == "nested":
                fields[key] = draw(st.lists(st.lists(leaf, max_size=2), max_size=2))
    fields.update(draw(st.dictionaries(st.sampled_from(KEYS), event_values, max_size=1)))
    return fields


@SETTINGS
@given(pattern=_pattern_objects(2), data=st.data())
def test_the_generated_function_answers_as_the_general_path(
    pattern: dict[str, Any], data: st.DataObject
) -> None:
    # Given a compiled pattern (its matches is a generated function), and events shaped like it
    try:
        compiled = compile_pattern(pattern)
    except InvalidPatternError:
        return
    values = _literals(pattern)
    event_list = [data.draw(events)] + [_event_like(data.draw, pattern, values) for _ in range(3)]
    for event in event_list:
        # When an event is matched by the interpreted walk, the generated function and the
        # general path
        expected = compiled._general_matches(event)
        assert compiled.matches(event) is expected, (pattern, event)  # not generated yet
    generated = compiled._generate()
    assert generated.__name__ == "match"
    assert compiled.matches is generated
    for event in event_list:
        # Then all agree, as do matches(dict, ...) through the cache and the event as JSON text
        expected = compiled._general_matches(event)
        assert generated(event) is expected, (pattern, event)
        assert compiled._interpreted_matches(event) is expected, (pattern, event)
        assert matches(pattern, event) is expected, (pattern, event)
        assert compiled.matches(json.dumps(event)) is expected, (pattern, event)


def test_a_pattern_too_big_to_generate_is_interpreted() -> None:
    # Given a pattern with more fields in one sub-rule than a function is generated for
    pattern = {f"f{i}": [{"exists": False}] for i in range(MAX_FIELDS_PER_SUBRULE)}
    pattern["a"] = [{"anything-but": "x"}]
    compiled = compile_pattern(pattern)
    # When matched / Then the interpreted walk answers, as the general path does
    assert compiled._generate() == compiled._interpreted_matches
    for event in ({}, {"a": "x"}, {"a": "y"}, {"a": ["x", "y"]}, {"a": "y", "f3": 1}):
        assert compiled.matches(event) is compiled._general_matches(event)


def test_field_names_are_literals_whatever_they_hold() -> None:
    # Given field names and values that would be code if pasted into source unquoted
    names = ["'); import os; ('", 'a"b', "line\nbreak", "\\", "{x}", "a.'b'"]
    for name in names:
        pattern = {name: [name], "z": [{"prefix": name}]}
        # When matched / Then they are only names and values
        assert matches(pattern, {name: name, "z": name + "!"}) is True
        assert matches(pattern, {name: "other", "z": name}) is False
    patterns.clear_cache()


def _near(x: float) -> list[Any]:
    return [x, math.nextafter(x, -math.inf), math.nextafter(x, math.inf), int(x)]


SINGLE_TERMS: list[Any] = [
    "x",
    "10.1.2.3",
    5,
    1.5,
    True,
    None,
    {"prefix": "x"},
    {"suffix": "y"},
    {"prefix": {"equals-ignore-case": "X"}},
    {"equals-ignore-case": "ß"},
    {"exactly": "10.1.2.3"},
    {"wildcard": "x*y"},
    {"anything-but": "x"},
    {"anything-but": ["x", "y"]},
    {"anything-but": 5},
    {"anything-but": {"prefix": "x"}},
    {"anything-but": {"suffix": "y"}},
    {"anything-but": {"equals-ignore-case": "X"}},
    {"anything-but": {"wildcard": "x*"}},
    {"exists": True},
    {"exists": False},
    {"cidr": "10.0.0.0/8"},
    *(
        {"numeric": arg}
        for arg in (
            ["<", 5],
            ["<=", 5],
            [">", -1.5],
            [">=", -1.5],
            ["=", 0],
            [">", 0, "<", 2**53],
            [">=", -1.5, "<=", 5],
            [">", 1e-300, "<=", 1],
        )
    ),
]
LEAVES: list[Any] = [
    *STRINGS,
    *NUMBERS,
    True,
    False,
    None,
    *(v for b in (5, -1.5, 0.0, 2**53, 1e-300, 1) for v in _near(float(b))),
    2**53 + 1,
    -(2**53) - 1,
    10**400,
    math.inf,
    -math.inf,
    math.nan,
    2.2250738585072014e-308,
    -2.2250738585072014e-308,
    1e-320,
]


def test_every_single_term_on_every_leaf_value() -> None:
    # Given patterns of each kind of term, alone, with another term beside it, and in "$or"
    for term in SINGLE_TERMS:
        for pattern in (
            {"a": [term]},
            {"a": [term, "z"]},
            {"$or": [{"a": [term]}, {"b": ["q"]}]},
            {"b": ["q"], "$or": [{"a": [term]}, {"c": {"d": [term]}}]},
        ):
            compiled = compile_pattern(pattern)
            generated = compiled._generate()
            for leaf in LEAVES:
                for event in (
                    {"a": leaf},
                    {"a": [leaf]},
                    {"b": leaf},
                    {"a": {"b": leaf}},
                    {"b": "q", "c": {"d": leaf}},
                    {"b": "q", "a": leaf},
                ):
                    # When matched by the generated function / Then as by the general path
                    expected = compiled._general_matches(event)
                    assert generated(event) is expected, (pattern, event)


def test_the_function_is_generated_after_enough_matches() -> None:
    # Given a pattern compiled afresh
    patterns.clear_cache()
    pattern = {"source": [{"prefix": "com.example."}], "detail": {"total": [{"numeric": [">", 5]}]}}
    compiled = compile_pattern(pattern)
    events = [{"source": "com.example.orders", "detail": {"total": t}} for t in (1, 10)]
    # When it is matched fewer times than GENERATE_AFTER / Then it is interpreted, not generated
    for n in range(patterns.GENERATE_AFTER - 1):
        assert matches(pattern, events[n % 2]) is bool(n % 2)
    assert compiled.matches == compiled._counted_matches
    # When matched once more / Then its function is generated and answers from then on
    assert matches(pattern, events[0]) is False
    assert compiled.matches.__name__ == "match"
    assert [compiled.matches(event) for event in events] == [False, True]
    patterns.clear_cache()

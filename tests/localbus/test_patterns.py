"""localbus.patterns matches events the way EventBridge does.

Expectations come from the EventBridge user guide ("Content filtering in Amazon EventBridge
event patterns", "Comparison operators for use in event patterns") and, where the guide is
silent, from AWS Event Ruler's behaviour (see test_patterns_ruler_corpus.py for cases taken
directly from Ruler's tests).
"""

from __future__ import annotations

import ipaddress
import json
from collections import OrderedDict
from typing import Any

import pytest

from localbus import patterns
from localbus.patterns import CompiledPattern, InvalidPatternError, compile_pattern, matches

ORDER_CREATED: dict[str, Any] = {
    "version": "0",
    "id": "7f9e3b1c-0d1e-4c2a-9a57-1f0b5c0e8a11",
    "detail-type": "OrderCreated",
    "source": "com.example.orders",
    "account": "123456789012",
    "time": "2026-11-27T10:00:00Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {
        "orderId": "ORD-20261127-AB12",
        "total": 1250.5,
        "currency": "EUR",
        "customer": {"customerId": "CUST-A1B2", "email": "a@example.com", "accountAgeDays": 3},
        "items": [
            {"sku": "SKU-1", "quantity": 2, "unitPrice": 125.25},
            {"sku": "SKU-2", "quantity": 1, "unitPrice": 1000},
        ],
        "tags": ["gift", "express"],
        "note": None,
        "giftWrap": False,
        "sourceIp": "192.0.2.44",
    },
}


def detail(**fields: Any) -> dict[str, Any]:
    return {"detail": fields}


def check(pattern: dict[str, Any], expected: bool, event: dict[str, Any] = ORDER_CREATED) -> None:
    assert matches(pattern, event) is expected
    assert compile_pattern(pattern).matches(json.dumps(event)) is expected


# --- exact values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["com.example.orders"]}, True),
        ({"source": ["com.example.inventory", "com.example.orders"]}, True),
        ({"source": ["com.example.inventory"]}, False),
        ({"source": ["COM.EXAMPLE.ORDERS"]}, False),
        ({"detail-type": ["OrderCreated"], "source": ["com.example.orders"]}, True),
        ({"detail-type": ["OrderCancelled"], "source": ["com.example.orders"]}, False),
        (detail(customer={"customerId": ["CUST-A1B2"]}), True),
        (detail(customer={"customerId": ["CUST-XXXX"]}), False),
    ],
)
def test_exact_strings_and_fields_are_anded(pattern: dict[str, Any], expected: bool) -> None:
    # Given an order event / When matched against exact values / Then OR within a field, AND across
    check(pattern, expected)


@pytest.mark.parametrize(
    ("value", "event_value", "expected"),
    [
        (300, 300, True),
        (300, 300.0, True),
        (300.0, 300, True),
        (3e2, 300, True),
        (300, 301, False),
        (0.1, 0.1, True),
        (-5, -5.0, True),
        (123456789012, 123456789012, True),
        (300, "300", False),
        ("300", 300, False),
        (1, True, False),
        (True, 1, False),
        (True, "true", False),
        ("true", True, False),
        (True, True, True),
        (False, False, True),
        (False, 0, False),
        (None, None, True),
        (None, "null", False),
        ("", "", True),
        ("", None, False),
    ],
)
def test_exact_values_compare_by_json_type(value: Any, event_value: Any, expected: bool) -> None:
    # Given a pattern value and an event value of possibly different JSON types
    # When matched / Then numbers compare numerically, and types never equal one another
    check({"v": [value]}, expected, {"v": event_value})


def test_json_text_numbers_compare_numerically() -> None:
    # Given number literals written differently in JSON text
    # When matched / Then 300, 300.0 and 3e2 are the same number
    assert matches('{"v": [3e2]}', '{"v": 300.0}') is True
    assert matches('{"v": [300]}', '{"v": 3.0E+2}') is True


def test_null_does_not_match_a_missing_field() -> None:
    # Given a pattern for null / When the field is missing / Then no match
    check({"detail": {"missing": [None]}}, False)
    check({"detail": {"note": [None]}}, True)


# --- arrays in the event --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (detail(tags=["express"]), True),
        (detail(tags=["standard", "gift"]), True),
        (detail(tags=["standard"]), False),
        (detail(items={"sku": ["SKU-2"]}), True),
        (detail(items={"sku": ["SKU-2"], "quantity": [1]}), True),
        (detail(items={"sku": ["SKU-2"], "quantity": [2]}), False),  # from different items
        (detail(items={"sku": ["SKU-1"], "unitPrice": [{"numeric": [">", 500]}]}), False),
        (detail(items={"sku": ["SKU-2"], "unitPrice": [{"numeric": [">", 500]}]}), True),
        (detail(items=["SKU-1"]), False),  # an array of objects is not a leaf
        ({"resources": [{"exists": True}]}, False),  # an empty array holds no value
        ({"resources": [{"exists": False}]}, True),
    ],
)
def test_arrays_match_on_any_element(pattern: dict[str, Any], expected: bool) -> None:
    # Given an event with arrays of strings and of objects
    # When matched / Then any element may match, but fields of one object come from one element
    check(pattern, expected)


def test_array_consistency_holds_for_nested_arrays() -> None:
    # Given orders, each with lines, in nested arrays
    event = {
        "orders": [
            {"id": "A", "lines": [{"sku": "X", "qty": 1}, {"sku": "Y", "qty": 5}]},
            {"id": "B", "lines": [{"sku": "X", "qty": 5}]},
        ]
    }
    # When fields are combined across levels
    # Then they must come from the same order and the same line
    check({"orders": {"id": ["A"], "lines": {"sku": ["X"], "qty": [5]}}}, False, event)
    check({"orders": {"id": ["B"], "lines": {"sku": ["X"], "qty": [5]}}}, True, event)
    check({"orders": {"id": ["A"], "lines": {"sku": ["Y"], "qty": [5]}}}, True, event)


def test_exists_false_inside_an_array_is_judged_in_field_name_order() -> None:
    # Given items where only one lacks a voucher and a discount
    event = {"items": [{"sku": "A", "voucher": 5, "discount": 5}, {"sku": "B"}]}
    # When asking for an item of a sku with no voucher ("voucher" sorts after "sku")
    # Then the absence is checked in the element the sku came from
    check({"items": {"sku": ["B"], "voucher": [{"exists": False}]}}, True, event)
    check({"items": {"sku": ["A"], "voucher": [{"exists": False}]}}, False, event)
    # When the absent field sorts before "sku" ("discount")
    # Then, as in Event Ruler, whose state machine walks a rule's fields in name order, the
    # absence is judged before any element is chosen: a discount anywhere in the array fails it
    check({"items": {"sku": ["B"], "discount": [{"exists": False}]}}, False, event)
    check({"items": {"discount": [{"exists": False}]}}, False, event)


def test_arrays_of_arrays_are_flattened() -> None:
    # Given a matrix of numbers / When matched / Then any nested element may match
    check({"m": [4]}, True, {"m": [[1, 2], [3, [4]]]})
    check({"m": [{"numeric": [">", 10]}]}, False, {"m": [[1, 2], [3, [4]]]})


def test_dotted_event_keys_and_nested_keys_are_the_same_field() -> None:
    # Given Ruler's flattening, which joins nested keys with dots
    # When a pattern key or an event key contains dots / Then they still line up
    check({"detail": {"customer": {"email": ["a@example.com"]}}}, True)
    check({"detail.customer.email": ["a@example.com"]}, True)
    check({"a": {"b": ["x"]}}, True, {"a.b": "x"})
    check({"a": {"b": {"c": ["x"]}}}, True, {"a.b": {"c": "x"}})


# --- prefix, suffix, equals-ignore-case, wildcard ------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ({"prefix": "com.example."}, "com.example.orders", True),
        ({"prefix": "com.example."}, "com.other.orders", False),
        ({"prefix": ""}, "anything", True),
        ({"prefix": {"equals-ignore-case": "COM.EXAMPLE"}}, "com.Example.orders", True),
        ({"prefix": {"equals-ignore-case": "COM.EXAMPLE"}}, "org.example", False),
        ({"suffix": ".png"}, "photo.png", True),
        ({"suffix": ".png"}, "photo.PNG", False),
        ({"suffix": {"equals-ignore-case": ".png"}}, "photo.PNG", True),
        ({"suffix": {"equals-ignore-case": ".png"}}, "photo.jpg", False),
        ({"equals-ignore-case": "alice"}, "ALICE", True),
        ({"equals-ignore-case": "alice"}, "alicia", False),
        ({"equals-ignore-case": "straße"}, "STRASSE", True),  # per-character case forms
        ({"equals-ignore-case": "k"}, "\u212a", False),  # the Kelvin sign is not an ASCII K
        ({"wildcard": "dir/*.png"}, "dir/a/b.png", True),
        ({"wildcard": "dir/*.png"}, "dir/a/b.jpg", False),
        ({"wildcard": "*"}, "", True),
        ({"wildcard": "a\\*b"}, "a*b", True),
        ({"wildcard": "a\\*b"}, "axb", False),
        ({"wildcard": "a\\\\b"}, "a\\b", True),
        ({"wildcard": "line*end"}, "line\nend", True),
    ],
)
def test_string_operators(operator: dict[str, Any], value: str, expected: bool) -> None:
    # Given a string operator / When matched against a string / Then it behaves as documented
    check({"v": [operator]}, expected, {"v": value})


@pytest.mark.parametrize(
    "operator",
    [
        {"prefix": "1"},
        {"suffix": "1"},
        {"equals-ignore-case": "1"},
        {"wildcard": "*"},
        {"prefix": {"equals-ignore-case": "t"}},
        {"exactly": "1"},
    ],
)
@pytest.mark.parametrize("value", [1, True, None])
def test_string_operators_never_match_other_types(operator: dict[str, Any], value: Any) -> None:
    # Given a string operator / When the event value is a number, boolean or null / Then no match
    check({"v": [operator]}, False, {"v": value})


def test_exactly_compares_text_not_ip_addresses() -> None:
    # Given a bare IP string (compared by address) and an "exactly" one (compared as text)
    # When the event writes the address differently
    # Then only the bare value matches
    check({"ip": ["::1"]}, True, {"ip": "0:0:0:0:0:0:0:1"})
    check({"ip": [{"exactly": "::1"}]}, False, {"ip": "0:0:0:0:0:0:0:1"})
    check({"ip": [{"exactly": "::1"}]}, True, {"ip": "::1"})


# --- anything-but -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ({"anything-but": "EUR"}, "USD", True),
        ({"anything-but": "EUR"}, "EUR", False),
        ({"anything-but": ["EUR", "USD"]}, "GBP", True),
        ({"anything-but": ["EUR", "USD"]}, "USD", False),
        ({"anything-but": 0}, 1, True),
        ({"anything-but": 0}, 0.0, False),
        ({"anything-but": [100, 200]}, 200.0, False),
        ({"anything-but": [100, 200]}, 150, True),
        # anything-but only rules out values of its own type
        ({"anything-but": "100"}, 100, True),
        ({"anything-but": [100]}, "100", True),
        ({"anything-but": "x"}, None, True),
        ({"anything-but": "x"}, True, True),
        ({"anything-but": {"prefix": "us-"}}, "eu-west-1", True),
        ({"anything-but": {"prefix": "us-"}}, "us-east-1", False),
        ({"anything-but": {"prefix": ["us-", "ap-"]}}, "ap-south-1", False),
        ({"anything-but": {"prefix": "us-"}}, 5, True),
        ({"anything-but": {"suffix": ".png"}}, "a.jpg", True),
        ({"anything-but": {"suffix": ".png"}}, "a.png", False),
        ({"anything-but": {"equals-ignore-case": "stopped"}}, "STOPPED", False),
        ({"anything-but": {"equals-ignore-case": ["stopped", "failed"]}}, "Failed", False),
        ({"anything-but": {"equals-ignore-case": ["stopped", "failed"]}}, "running", True),
        ({"anything-but": {"wildcard": "*/lib/*"}}, "/usr/lib/x", False),
        ({"anything-but": {"wildcard": ["*/lib/*", "*.tmp"]}}, "/usr/bin/x", True),
        ({"anything-but": {"wildcard": ["*/lib/*", "*.tmp"]}}, "a.tmp", False),
    ],
)
def test_anything_but(operator: dict[str, Any], value: Any, expected: bool) -> None:
    # Given an anything-but operator / When matched / Then it passes all but the named values
    check({"v": [operator]}, expected, {"v": value})


def test_anything_but_does_not_match_a_missing_field() -> None:
    # Given anything-but / When the field is missing or not a leaf / Then no match
    check({"v": [{"anything-but": "x"}]}, False, {"other": 1})
    check({"v": [{"anything-but": "x"}]}, False, {"v": {"nested": "y"}})


def test_anything_but_on_an_array_needs_one_other_element() -> None:
    # Given an array field / When anything-but is applied / Then one acceptable element suffices
    check({"tags": [{"anything-but": "banned"}]}, True, {"tags": ["banned", "ok"]})
    check({"tags": [{"anything-but": "banned"}]}, False, {"tags": ["banned"]})


# --- numeric ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numeric", "value", "expected"),
    [
        (["=", 1250.5], 1250.5, True),
        (["=", 100], 100.0, True),
        (["=", 100], 100.000001, False),
        ([">", 1000], 1250.5, True),
        ([">", 1250.5], 1250.5, False),
        ([">=", 1250.5], 1250.5, True),
        (["<", 1250.5], 1250.5, False),
        (["<=", 1250.5], 1250.5, True),
        ([">", 0, "<=", 5], 5, True),
        ([">", 0, "<=", 5], 0, False),
        ([">=", 0, "<", 5], 0, True),
        ([">=", 0, "<", 5], 5, False),
        ([">", -1e9, "<", -5], -10, True),
        ([">=", 2.0e-6, "<=", 4.0e-6], 3e-6, True),
        ([">", 5e9], 6e9, True),  # numbers are doubles: no ±5e9 cap since Ruler 1.8
        ([">", 0], "5", False),
        ([">", 0], True, False),
        ([">", 0], None, False),
    ],
)
def test_numeric(numeric: list[Any], value: Any, expected: bool) -> None:
    # Given a numeric range / When matched / Then only JSON numbers inside it match
    check({"v": [{"numeric": numeric}]}, expected, {"v": value})


def test_numeric_and_exact_values_combine_as_or() -> None:
    # Given several matchers in one array / When any one matches / Then the field matches
    pattern = {"v": [{"numeric": ["<", 0]}, {"numeric": [">", 100]}, 50, "fifty"]}
    for value, expected in [(-1, True), (101, True), (50, True), ("fifty", True), (10, False)]:
        check(pattern, expected, {"v": value})


# --- cidr -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "ip", "expected"),
    [
        ("192.0.2.0/24", "192.0.2.44", True),
        ("192.0.2.0/24", "192.0.3.1", False),
        ("10.0.0.0/8", "10.255.255.255", True),
        ("0.0.0.0/0", "8.8.8.8", True),
        ("2001:db8::/32", "2001:db8:ffff::1", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("2001:db8::/32", "192.0.2.44", False),
        ("192.0.2.0/24", "::ffff:c000:22c", True),  # IPv4-mapped IPv6 reads as IPv4
        ("192.0.2.0/24", "192.0.2", False),
        ("192.0.2.0/24", "192.0.2.256", False),
        ("192.0.2.0/24", "not an ip", False),
    ],
)
def test_cidr(cidr: str, ip: str, expected: bool) -> None:
    # Given a CIDR block / When matched against an address string / Then membership decides
    check({"ip": [{"cidr": cidr}]}, expected, {"ip": ip})


# --- exists -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (detail(orderId=[{"exists": True}]), True),
        (detail(orderId=[{"exists": False}]), False),
        (detail(refund=[{"exists": True}]), False),
        (detail(refund=[{"exists": False}]), True),
        (detail(note=[{"exists": True}]), True),  # null is a value
        (detail(giftWrap=[{"exists": True}]), True),
        (detail(customer=[{"exists": True}]), False),  # an object is not a leaf
        (detail(customer=[{"exists": False}]), True),
        ({"nothing": {"here": [{"exists": False}]}}, True),
        (detail(refund=[{"exists": False}, "full"]), True),
    ],
)
def test_exists_works_on_leaves_only(pattern: dict[str, Any], expected: bool) -> None:
    # Given exists true/false / When matched / Then only leaf values count as existing
    check(pattern, expected)


# --- $or --------------------------------------------------------------------------------------


def test_or_matches_when_any_branch_does() -> None:
    # Given high-value or new-customer orders
    pattern = {
        "source": ["com.example.orders"],
        "$or": [
            {"detail": {"total": [{"numeric": [">=", 1000]}]}},
            {"detail": {"customer": {"accountAgeDays": [{"numeric": ["<", 7]}]}}},
        ],
    }
    # When orders of each kind arrive / Then each branch can match on its own
    check(pattern, True)
    small_old = json.loads(json.dumps(ORDER_CREATED))
    small_old["detail"]["total"] = 10
    check(pattern, True, small_old)
    small_old["detail"]["customer"]["accountAgeDays"] = 400
    check(pattern, False, small_old)


def test_or_nests_and_applies_at_its_level() -> None:
    # Given an $or inside detail with an $or inside a branch
    pattern = {
        "detail": {
            "$or": [
                {"currency": ["USD"]},
                {"currency": ["EUR"], "$or": [{"giftWrap": [True]}, {"tags": ["express"]}]},
            ]
        }
    }
    # When the inner branches are satisfied or not / Then the nesting is respected
    check(pattern, True)
    check(pattern, False, {"detail": {"currency": "EUR", "tags": ["gift"], "giftWrap": False}})
    check(pattern, True, {"detail": {"currency": "USD"}})


def test_fields_after_an_or_apply_to_every_branch() -> None:
    # Given fields both before and after an $or
    pattern = {"a": ["1"], "$or": [{"b": ["2"]}, {"c": ["3"]}], "d": ["4"]}
    # When d is missing / Then no branch matches
    check(pattern, True, {"a": "1", "c": "3", "d": "4"})
    check(pattern, False, {"a": "1", "c": "3"})


# --- API ----------------------------------------------------------------------------------


def test_event_and_pattern_may_be_json_text() -> None:
    # Given pattern and event as JSON strings / When matched / Then they are parsed first
    assert matches(json.dumps({"source": ["com.example.orders"]}), json.dumps(ORDER_CREATED))
    assert compile_pattern('{"source": ["x"]}').matches('{"source": "x"}') is True


def test_event_mappings_of_other_classes_are_accepted() -> None:
    # Given an OrderedDict event / When matched / Then it behaves like a dict
    event = OrderedDict(source="com.example.orders", detail=OrderedDict(total=5))
    assert matches({"detail": {"total": [5]}}, event) is True


def test_an_event_that_is_not_an_object_is_refused() -> None:
    # Given an event that is a JSON array / When matched / Then ValueError (not a pattern error)
    with pytest.raises(ValueError, match="event must be a JSON object"):
        matches({"a": ["b"]}, "[1, 2]")


def test_compiled_pattern_exposes_its_fields() -> None:
    # Given a pattern with an $or / When compiled / Then each event field it reads is listed once
    compiled = compile_pattern({"a": ["x"], "$or": [{"b": {"c": [1]}}, {"a": ["y"]}]})
    assert isinstance(compiled, CompiledPattern)
    assert sorted(compiled.field_names) == ["a", "b.c"]
    assert compile_pattern(compiled) is compiled


def test_a_pattern_seen_before_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an empty cache and a spy on the parser
    patterns.clear_cache()
    calls: list[str] = []
    real_build = patterns._build_compiled

    def spy(pattern: Any, canonical: str) -> CompiledPattern:
        calls.append(canonical)
        return real_build(pattern, canonical)

    monkeypatch.setattr(patterns, "_build_compiled", spy)
    pattern = {"source": ["com.example.orders"], "detail": {"total": [{"numeric": [">", 1]}]}}
    # When the same pattern is used many times, as a dict, a copy and as JSON text
    for _ in range(5):
        assert matches(pattern, ORDER_CREATED) is True
    assert matches(json.loads(json.dumps(pattern)), ORDER_CREATED) is True
    assert matches(json.dumps(pattern), ORDER_CREATED) is True
    assert matches(json.dumps(pattern, indent=2), ORDER_CREATED) is True
    # Then it was parsed exactly once
    assert len(calls) == 1
    # And a different pattern is parsed once more
    matches({"source": ["other"]}, ORDER_CREATED)
    assert len(calls) == 2
    assert patterns.cache_info()["size"] == 2


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cache of 3 entries
    monkeypatch.setattr(patterns, "_by_canonical", patterns._LRU(3))
    monkeypatch.setattr(patterns, "_by_text", patterns._LRU(3))
    monkeypatch.setattr(patterns, "_by_marshal", patterns._marshal_cache(3))
    calls: list[str] = []
    real_build = patterns._build_compiled
    monkeypatch.setattr(
        patterns, "_build_compiled", lambda p, c: calls.append(c) or real_build(p, c)
    )
    # When 4 patterns are compiled, then the first again
    for i in range(4):
        compile_pattern({"n": [i]})
    compile_pattern({"n": [0]})
    # Then the least recently used one was evicted and parsed again, the newest was kept
    assert len(calls) == 5
    compile_pattern({"n": [3]})
    assert len(calls) == 5


def test_invalid_patterns_are_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an invalid pattern / When compiled twice / Then it fails both times
    for _ in range(2):
        with pytest.raises(InvalidPatternError):
            compile_pattern({"a": "not-an-array"})


def test_python_containers_in_a_pattern_mean_what_their_json_means() -> None:
    # Given patterns written with tuples and OrderedDicts
    # When matched / Then they behave as the JSON they serialise to
    assert matches({"a": ("x", "y")}, {"a": "y"}) is True
    assert matches(OrderedDict(a=OrderedDict(b=["x"])), {"a": {"b": "x"}}) is True
    assert compile_pattern({"a": ("x",)}) is compile_pattern({"a": ["x"]})


def test_patterns_python_calls_equal_but_json_tells_apart_are_not_confused() -> None:
    # Given pairs of patterns that compare equal in Python (==) but are different JSON
    big = 2**60  # no double holds it: matched by its literal text only
    pairs = [
        ({"a": [True]}, {"a": [1]}, {"a": 1}),
        ({"n": [float(big)]}, {"n": [big]}, {"n": big}),
        # Key order decides which terms a field keeps when it is also named inside "$or".
        (
            {"$or": [{"a": ["y"]}, {"b": ["z"]}], "a": ["x"]},
            {"a": ["x"], "$or": [{"a": ["y"]}, {"b": ["z"]}]},
            {"a": "y"},
        ),
    ]
    for first, second, event in pairs:
        assert first == second
        # When each is matched, in both orders / Then each keeps its own JSON's meaning
        for _ in range(2):
            assert matches(first, event) is False
            assert matches(second, event) is True


def test_a_pattern_changed_in_place_is_matched_as_it_is_now() -> None:
    # Given a dict pattern that has been matched (and so cached)
    pattern: dict[str, Any] = {"a": [True]}
    assert matches(pattern, {"a": True}) is True
    # When the caller changes it in place / Then the next match uses what it says now
    pattern["a"][0] = 1
    assert matches(pattern, {"a": True}) is False
    assert matches(pattern, {"a": 1}) is True
    pattern["a"].append(-0.0)
    assert matches(pattern, {"a": 0}) is True


def test_str_subclasses_in_a_pattern_mean_their_json() -> None:
    # Given a str subclass whose repr lies about its value
    class Liar(str):
        def __repr__(self) -> str:
            return "'y'"

    # When matched twice / Then it means the string it holds, as its JSON does
    for _ in range(2):
        assert matches({"a": [Liar("x")]}, {"a": "x"}) is True
        assert matches({"a": [Liar("x")]}, {"a": "y"}) is False
        assert matches({"a": ["y"]}, {"a": "y"}) is True


def test_a_pattern_holding_what_json_cannot_write_is_refused_every_time() -> None:
    # Given patterns with a set and bytes inside (Python values JSON has no form for)
    for pattern in ({"a": [{1, 2}]}, {"a": [b"x"]}):
        # When matched twice / Then both times it is refused, naming the type
        for _ in range(2):
            with pytest.raises(InvalidPatternError, match=r"not JSON.*(set|bytes)"):
                matches(pattern, {"a": 1})


def test_patterns_without_or_answer_as_the_general_path_does() -> None:
    # Given patterns without "$or" (matched field by field, without collecting values) and
    # events with the shapes that need the general path: arrays of objects, arrays of arrays,
    # dotted keys, empty arrays, objects where a leaf is expected, missing fields
    single = [
        {"a": ["x"]},
        {"a": [{"exists": False}]},
        {"a": [{"exists": True}]},
        {"a": {"b": ["x"]}, "c": [1]},
        {"a": {"b": ["x"], "c": [{"exists": False}]}},
        {"a": {"b": [{"prefix": "x"}]}, "d": [{"anything-but": "y"}]},
        {"a": {"b": [{"equals-ignore-case": "X"}]}},
        {"a.b": ["x"]},
    ]
    events = [
        {},
        {"a": "x"},
        {"a": []},
        {"a": ["x", "y"]},
        {"a": {"b": "x"}, "c": 1},
        {"a": {"b": "y"}, "c": 1, "d": "z"},
        {"a": [{"b": "x"}, {"c": 1}], "c": 1},
        {"a": [{"b": "x", "c": 2}], "c": [1, 2]},
        {"a": [["x"], ["y"]]},
        {"a.b": "x"},
        {"a": {"b.c": 1, "b": "X"}, "c": 1},
        {"a": {"b": ["x", {"z": 1}]}, "c": 1},
        {"a": {"b": None}, "d": 5},
    ]
    for pattern in single:
        compiled = compile_pattern(pattern)
        generated = compiled._generate()
        for event in events:
            # When matched each way (the generated function, the interpreted field-by-field
            # walk, and the general path every event took before) / Then the answers are the same
            expected = compiled._general_matches(event)
            assert generated(event) is expected, (pattern, event)
            assert compiled._interpreted_matches(event) is expected, (pattern, event)


def test_numeric_range_tests_agree_with_the_range_at_and_around_its_bounds() -> None:
    # Given every shape of range (one bound or two, each open or closed)
    from localbus._patterns_values import NumericRange, _range_test

    bounds = [(None, 5.0), (-1.5, None), (-1.5, 5.0), (0.0, 0.5)]
    points = [-1e308, -2.0, -1.5, -1.4999999999999998, 0.0, -0.0, 0.5, 4.999999999999999, 5.0]
    points += [5.000000000000001, 1e308, 5e-324]
    for low, high in bounds:
        for low_open in (False, True):
            for high_open in (False, True):
                r = NumericRange(low, low_open, high, high_open)
                test = _range_test(r)
                # When a finite double is tested / Then the answer is the range's own
                for x in points:
                    assert test(x) is r.contains(x), (r, x)


def test_ipv4_addresses_are_recognised_exactly_as_rulers_regex_says() -> None:
    # Given strings near the shape of an IPv4 address (Ruler's [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)
    from localbus._patterns_values import _IPV4_MAPPED, _IPV4_SHAPE, _IPV6_SHAPE, ip_key

    def reference(text: str) -> tuple[int, int] | None:  # ip_key as written with the regex
        if _IPV4_SHAPE.fullmatch(text):
            octets = [int(o) for o in text.split(".")]
            return None if max(octets) > 255 else (4, int.from_bytes(bytes(octets), "big"))
        if _IPV6_SHAPE.fullmatch(text):
            try:
                address = ipaddress.IPv6Address(text)
            except ValueError:
                return None
            if address in _IPV4_MAPPED:
                return 4, int(address) & 0xFFFFFFFF
            return 16, int(address)
        return None

    texts = ["10.1.2.3", "010.001.0.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..3.4", "1.2.3.4\n"]
    texts += ["1.2.3.٤", "1.2.3.²", " 1.2.3.4", "+1.2.3.4", "1.2.3.-4", "a.b.c.d", "1.2.3.4 "]
    texts += ["::1", "::ffff:10.0.0.1", "", "...", "99999999999999999999.1.1.1"]
    for text in texts:
        # When its IP key is taken / Then it is what the regex-based reading gives
        assert ip_key(text) == reference(text), text


def test_cache_info_counts_one_hit_or_miss_per_look_up() -> None:
    # Given an empty cache
    patterns.clear_cache()
    pattern = {"source": ["com.example.orders"]}
    # When a dict pattern is matched three times, then a tuple copy, then as JSON text twice
    for _ in range(3):
        matches(pattern, ORDER_CREATED)
    matches({"source": ("com.example.orders",)}, ORDER_CREATED)
    for _ in range(2):
        matches(json.dumps(pattern), ORDER_CREATED)
    # Then one compilation (a miss) and a hit for every other look-up, whichever cache answered
    assert patterns.cache_info() == {
        "size": 1,
        "max_size": patterns.CACHE_SIZE,
        "hits": 5,
        "misses": 1,
    }
    patterns.clear_cache()
    assert patterns.cache_info() == {
        "size": 0,
        "max_size": patterns.CACHE_SIZE,
        "hits": 0,
        "misses": 0,
    }

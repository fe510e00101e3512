"""An audit of localbus.patterns against AWS Event Ruler (github.com/aws/event-ruler).

Only cases not already in test_patterns.py, test_patterns_invalid.py or
test_patterns_ruler_corpus.py; each names the Ruler test or source it comes from.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from localbus.patterns import InvalidPatternError, matches, validate

# RulerTest.java WHEN_WeTryAnythingButRules_THEN_Theywork: one rule, eleven events.
ANYTHING_BUT_RULE = {
    "a": [{"anything-but": ["dad0", "dad1", "dad2"]}],
    "b": [{"anything-but": [111, 222, 333]}],
    "c": [{"anything-but": "zdd"}],
    "d": [{"anything-but": 444}],
    "z": [{"numeric": [">", 0, "<", 1]}],
    "w": [{"anything-but": {"prefix": "zax"}}],
    "n": [{"anything-but": {"suffix": "ing"}}],
    "o": [{"anything-but": {"equals-ignore-case": "CamelCase"}}],
    "p": [{"anything-but": {"equals-ignore-case": ["CamelCase", "AbC"]}}],
}
ANYTHING_BUT_BASE = {
    "a": "child1",
    "b": "444",
    "c": "child1",
    "d": 123,
    "w": "xaz",
    "z": 0.001,
    "n": "nomatch",
    "o": "nomatch",
    "p": "nomatch",
}


def _anything_but_event(**changes: Any) -> dict[str, Any]:
    return {**ANYTHING_BUT_BASE, **changes}


# Cases given as JSON text keep number literals exactly as written (Ruler reads the text).
TEXT_CASES: list[tuple[str, str, str, bool]] = [
    # --- number normalisation: JsonRuleCompiler.writeRules adds numericEquals + exact text ---
    ("int equals float", '{"a": [300]}', '{"a": 300.0}', True),
    ("int equals exponent", '{"a": [300]}', '{"a": 3e2}', True),
    ("exponent equals float", '{"a": [3.0E+2]}', '{"a": 300.000}', True),
    ("numeric = exponent", '{"a": [{"numeric": ["=", 3e2]}]}', '{"a": 300}', True),
    # ComparableNumberTest WHEN_EventHasVaryingPrecision_THEN_MatchRuleWithDecimalAsString
    ("precision 17 digits", '{"x": [27.807807921694092]}', '{"x": 27.807807921694092}', True),
    ("precision 16 digits", '{"x": [27.807807921694092]}', '{"x": 27.80780792169409}', False),
    ("precision 15 digits", '{"x": [27.807807921694092]}', '{"x": 27.8078079216940}', False),
    ("precision 6 decimals", '{"x": [27.807807921694092]}', '{"x": 27.807807}', False),
    # ComparableNumberTest WHEN_EventHasVaryingPrecision_THEN_MatchWithSixDecimals
    ("six decimals rule, same", '{"x": [37.80780]}', '{"x": 37.80780}', True),
    ("six decimals rule, longer", '{"x": [37.80780]}', '{"x": 37.807807}', False),
    ("six decimals rule, 17 digits", '{"x": [37.80780]}', '{"x": 37.807807921694092}', False),
    # ComparableNumber.generate (base-128 version): a number is compared only if
    # BigDecimal.valueOf(double) equals it as written; otherwise only its text can match.
    ("big int same text", '{"a": [12345678901234567890]}', '{"a": 12345678901234567890}', True),
    ("big int same double", '{"a": [12345678901234567890]}', '{"a": 12345678901234567891}', False),
    (
        "big int as exponent",
        '{"a": [12345678901234567890]}',
        '{"a": 1.2345678901234567890e19}',
        False,
    ),
    (
        "big int not in range",
        '{"a": [{"numeric": [">", 0]}]}',
        '{"a": 12345678901234567890}',
        False,
    ),
    (
        "big int is not a listed number",
        '{"a": [{"anything-but": [1, 2]}]}',
        '{"a": 12345678901234567890}',
        True,
    ),
    ("long decimal vs short", '{"a": [0.30000000000000001]}', '{"a": 0.3}', False),
    ("short vs long decimal", '{"a": [0.3]}', '{"a": 0.30000000000000001}', False),
    ("long decimal same text", '{"a": [0.30000000000000001]}', '{"a": 0.30000000000000001}', True),
    (
        "long decimal not in range",
        '{"a": [{"numeric": [">", 0]}]}',
        '{"a": 0.30000000000000001}',
        False,
    ),
    ("2^53 is exact", '{"a": [9007199254740992]}', '{"a": 9007199254740992.0}', True),
    ("2^53+1 is not", '{"a": [9007199254740993]}', '{"a": 9007199254740992}', False),
]

CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # --- RulerTest.java WHEN_WeTryAnythingButRules_THEN_Theywork ---
    ("ab all pass", ANYTHING_BUT_RULE, _anything_but_event(), True),
    ("ab c listed", ANYTHING_BUT_RULE, _anything_but_event(a="dad789", b=789, c="zdd"), False),
    ("ab z out of range", ANYTHING_BUT_RULE, _anything_but_event(a="dad789", b=789, z=1.01), False),
    ("ab a listed", ANYTHING_BUT_RULE, _anything_but_event(a="dad1", b=345), False),
    ("ab b listed 111", ANYTHING_BUT_RULE, _anything_but_event(a="abc", b=111), False),
    ("ab b listed 333", ANYTHING_BUT_RULE, _anything_but_event(a="dad1", b=333), False),
    ("ab d listed", ANYTHING_BUT_RULE, _anything_but_event(a="abc", b=0, d=444, z=0.999999), False),
    ("ab w prefix", ANYTHING_BUT_RULE, _anything_but_event(w="zaxonie"), False),
    ("ab n suffix", ANYTHING_BUT_RULE, _anything_but_event(n="matching"), False),
    ("ab o ignore case", ANYTHING_BUT_RULE, _anything_but_event(o="camelcase"), False),
    ("ab p ignore case list", ANYTHING_BUT_RULE, _anything_but_event(p="abc"), False),
    ("ab d 444 as a string", ANYTHING_BUT_RULE, _anything_but_event(d="444"), True),
    # --- RulerTest.java WHEN_WeTryEqualsIgnoreCaseRules_THEN_TheyWork ---
    (
        "eic b has extra char",
        {"a": [{"equals-ignore-case": "aBc"}], "b": [{"equals-ignore-case": "Def"}]},
        {"a": "ABC", "b": "defx"},
        False,
    ),
    (
        "eic swapped values",
        {"b": [{"equals-ignore-case": "Def"}], "c": [{"equals-ignore-case": "xyZ"}]},
        {"b": "xYz", "c": "def"},
        False,
    ),
    # --- RulerTest.java WHEN_WeTryWildcardRules_THEN_TheyWork ---
    (
        "wildcard c missing",
        {"a": [{"wildcard": "*bc"}], "c": [{"wildcard": "xy*"}], "d": [{"wildcard": "xy*"}]},
        {"a": "abcbc", "b": "deeeef", "d": "xyzzz"},
        False,
    ),
    (
        "wildcard swapped",
        {"b": [{"wildcard": "d*f"}], "c": [{"wildcard": "xy*"}]},
        {"b": "xy", "c": "deeeef"},
        False,
    ),
    # --- ComparableNumberTest tinyNumberTest ---
    ("tiny closed low", {"a": [{"numeric": [">=", 2.0e-6, "<=", 4.0e-6]}]}, {"a": 2e-6}, True),
    ("tiny closed high", {"a": [{"numeric": [">=", 2.0e-6, "<=", 4.0e-6]}]}, {"a": 4e-6}, True),
    ("tiny closed below", {"a": [{"numeric": [">=", 2.0e-6, "<=", 4.0e-6]}]}, {"a": 1e-6}, False),
    ("tiny closed above", {"a": [{"numeric": [">=", 2.0e-6, "<=", 4.0e-6]}]}, {"a": 5e-6}, False),
    ("tiny open low", {"a": [{"numeric": [">", 2.0e-6, "<", 4.0e-6]}]}, {"a": 2e-6}, False),
    ("tiny open mid", {"a": [{"numeric": [">", 2.0e-6, "<", 4.0e-6]}]}, {"a": 3e-6}, True),
    ("tiny open high", {"a": [{"numeric": [">", 2.0e-6, "<", 4.0e-6]}]}, {"a": 4e-6}, False),
    ("tiny zero", {"a": [{"numeric": [">=", 2.0e-6, "<=", 4.0e-6]}]}, {"a": 0}, False),
    # --- ComparableNumberTest epocTimestampRangeTest ---
    ("epoch <= edge", {"t": [{"numeric": ["<=", 1628872008]}]}, {"t": 1628872008.0}, True),
    ("epoch <= above", {"t": [{"numeric": ["<=", 1628872008]}]}, {"t": 1628872009.0}, False),
    (
        "epoch between top",
        {"t": [{"numeric": [">=", 1628872008, "<=", 1629044808]}]},
        {"t": 1629044808.0},
        True,
    ),
    (
        "epoch between above",
        {"t": [{"numeric": [">=", 1628872008, "<=", 1629044808]}]},
        {"t": 1629044809.0},
        False,
    ),
    ("epoch >= below", {"t": [{"numeric": [">=", 1629044808]}]}, {"t": 1628872008.0}, False),
    # --- ComparableNumber (base-128): every double is allowed, no ±5e9 limit any more ---
    ("range beyond 5e9", {"a": [{"numeric": [">", 5e9]}]}, {"a": 5e11}, True),
    ("range below -5e9", {"a": [{"numeric": ["<", -5e9]}]}, {"a": -499999999999.99997}, True),
    ("exact beyond 5e9", {"a": [5e11]}, {"a": 500000000000}, True),
    ("huge double", {"a": [{"numeric": [">", 1e300]}]}, {"a": 1.7976931348623157e308}, True),
    (
        "most negative double",
        {"a": [{"numeric": [">=", -1.7976931348623157e308]}]},
        {"a": -1e308},
        True,
    ),
    ("subnormal bound", {"a": [{"numeric": ["<", 1e-320]}]}, {"a": 0}, True),
    # --- README "Prefix/Suffix/Equals-ignore-case/Wildcard matches only work on strings" ---
    ("prefix on number", {"a": [{"prefix": "12"}]}, {"a": 123}, False),
    ("suffix on bool", {"a": [{"suffix": "ue"}]}, {"a": True}, False),
    ("empty suffix on string", {"a": [{"suffix": ""}]}, {"a": "x"}, True),
    ("empty suffix on number", {"a": [{"suffix": ""}]}, {"a": 5}, False),
    ("empty wildcard on empty", {"a": [{"wildcard": ""}]}, {"a": ""}, True),
    ("empty wildcard on text", {"a": [{"wildcard": ""}]}, {"a": "x"}, False),
    ("star wildcard on number", {"a": [{"wildcard": "*"}]}, {"a": 5}, False),
    ("empty equals-ignore-case", {"a": [{"equals-ignore-case": ""}]}, {"a": ""}, True),
    ("prefix ignore case empty", {"a": [{"prefix": {"equals-ignore-case": ""}}]}, {"a": "x"}, True),
    # --- anything-but nested forms: they rule out strings only (ByteMachine anything-but) ---
    (
        "ab ignore case empty",
        {"a": [{"anything-but": {"equals-ignore-case": ""}}]},
        {"a": ""},
        False,
    ),
    ("ab wildcard empty, empty", {"a": [{"anything-but": {"wildcard": ""}}]}, {"a": ""}, False),
    ("ab wildcard empty, text", {"a": [{"anything-but": {"wildcard": ""}}]}, {"a": "x"}, True),
    ("ab wildcard star on number", {"a": [{"anything-but": {"wildcard": "*"}}]}, {"a": 5}, True),
    ("ab wildcard star on text", {"a": [{"anything-but": {"wildcard": "*"}}]}, {"a": "x"}, False),
    ("ab suffix on null", {"a": [{"anything-but": {"suffix": "a"}}]}, {"a": None}, True),
    ("ab numbers on string", {"a": [{"anything-but": [1, 2]}]}, {"a": "1"}, True),
    ("ab number 1 vs 1.0", {"a": [{"anything-but": 1}]}, {"a": 1.0}, False),
    ("ab on empty array", {"a": [{"anything-but": "x"}]}, {"a": []}, False),
    # --- README "Exists matching ... only works on the leaf nodes" ---
    ("exists false on null", {"a": [{"exists": False}]}, {"a": None}, False),
    ("exists true on [null]", {"a": [{"exists": True}]}, {"a": [None]}, True),
    ("exists false on empty array", {"a": [{"exists": False}]}, {"a": []}, True),
    ("exists false on empty object", {"a": [{"exists": False}]}, {"a": {}}, True),
    ("exists false on array of objects", {"a": [{"exists": False}]}, {"a": [{"b": 1}]}, True),
    ("exists true on array of objects", {"a": [{"exists": True}]}, {"a": [{"b": 1}]}, False),
    ("exists false below a leaf", {"a": {"b": [{"exists": False}]}}, {"a": "x"}, True),
    (
        "exists false or numeric, missing",
        {"a": [{"numeric": [">", 0]}, {"exists": False}]},
        {},
        True,
    ),
    (
        "exists false or numeric, too small",
        {"a": [{"numeric": [">", 0]}, {"exists": False}]},
        {"a": 0},
        False,
    ),
    # --- null and arrays (README "Simple matching": non-empty intersection) ---
    ("null in array", {"a": [None]}, {"a": [None, "x"]}, True),
    ("null pattern vs empty array", {"a": [None]}, {"a": []}, False),
    ("string vs array of numbers", {"a": ["1"]}, {"a": [1, 2]}, False),
    ("number vs array of strings", {"a": [1]}, {"a": ["1", "2"]}, False),
    # --- CIDR.java cidr / computeTopBytes ---
    ("cidr /31 top", {"a": [{"cidr": "10.0.0.0/31"}]}, {"a": "10.0.0.1"}, True),
    ("cidr /31 above", {"a": [{"cidr": "10.0.0.0/31"}]}, {"a": "10.0.0.2"}, False),
    ("cidr keeps host bits", {"a": [{"cidr": "10.0.0.1/31"}]}, {"a": "10.0.0.0"}, False),
    ("cidr v6 /127 top", {"a": [{"cidr": "2001:db8::/127"}]}, {"a": "2001:db8::1"}, True),
    ("cidr v6 /127 above", {"a": [{"cidr": "2001:db8::/127"}]}, {"a": "2001:db8::2"}, False),
    ("cidr v6 /0 any v6", {"a": [{"cidr": "::/0"}]}, {"a": "ffff::1"}, True),
    ("cidr v6 /0 not v4", {"a": [{"cidr": "::/0"}]}, {"a": "10.0.0.1"}, False),
    ("cidr v4 /0 not v6", {"a": [{"cidr": "0.0.0.0/0"}]}, {"a": "::1"}, False),
    (
        "cidr v6 compressed",
        {"a": [{"cidr": "2001:db8::/64"}]},
        {"a": "2001:0db8:0000:0000:ffff::"},
        True,
    ),
    ("cidr on a list", {"a": [{"cidr": "10.0.0.0/8"}]}, {"a": ["192.0.2.1", "10.9.9.9"]}, True),
    # --- JsonRuleCompiler.writeRules: a bare IP string is an address (ipToRangeIfPossible) ---
    ("ip v6 expanded", {"a": ["2001:db8::1"]}, {"a": "2001:0db8:0:0:0:0:0:1"}, True),
    ("ip mapped v6 is not v4", {"a": ["::ffff:10.0.0.1"]}, {"a": "10.0.0.1"}, False),
    ("ip anything-but is text", {"a": [{"anything-but": "10.0.0.1"}]}, {"a": "10.0.0.1"}, False),
    # --- $or (JsonRuleCompiler parseIntoOrRelationship) ---
    (
        "or branch with exists false",
        {"$or": [{"a": [{"exists": False}]}, {"b": ["x"]}]},
        {"b": "y"},
        True,
    ),
    (
        "or nested three deep",
        {"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"$or": [{"c": ["3"]}, {"d": ["4"]}]}]}]},
        {"d": "4"},
        True,
    ),
    (
        "or nested three deep, none",
        {"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"$or": [{"c": ["3"]}, {"d": ["4"]}]}]}]},
        {"d": "5"},
        False,
    ),
    (
        "or across an array keeps consistency",
        {"items": {"sku": ["A"], "$or": [{"qty": [1]}, {"gift": [True]}]}},
        {"items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1, "gift": True}]},
        False,
    ),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [pytest.param(p, e, x, id=name) for name, p, e, x in TEXT_CASES],
)
def test_ruler_audit_text(pattern: str, event: str, expected: bool) -> None:
    # Given a pattern and an event as JSON text (number literals as written)
    # When matched / Then the result is Ruler's
    assert matches(pattern, event) is expected


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [pytest.param(p, e, x, id=name) for name, p, e, x in CASES],
)
def test_ruler_audit(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    # Given a pattern and an event from Event Ruler's tests or source
    # When matched as dicts and as JSON text / Then the result is Ruler's
    assert matches(pattern, event) is expected
    assert matches(json.dumps(pattern), json.dumps(event)) is expected


INVALID: list[tuple[str, Any]] = [
    # ComparableNumber.generate throws for a number no double holds; the compiler barfs.
    ("range bound no double holds", '{"a": [{"numeric": [">", 12345678901234567890]}]}'),
    ("range bound long decimal", '{"a": [{"numeric": ["<", 0.30000000000000001]}]}'),
    ("numeric = long decimal", '{"a": [{"numeric": ["=", 0.30000000000000001]}]}'),
    ("anything-but number no double holds", '{"a": [{"anything-but": 12345678901234567890}]}'),
    ("anything-but list long decimal", '{"a": [{"anything-but": [1, 0.30000000000000001]}]}'),
    ("numeric bound underflows", '{"a": [{"numeric": [">", 1e-400]}]}'),
    # JsonRuleCompiler.processNumericMatchExpression / completeNumericRange
    ("numeric = then more", {"a": [{"numeric": ["=", 1, "<", 2]}]}),
    ("numeric <= then more", {"a": [{"numeric": ["<=", 1, ">", 0]}]}),
    ("numeric two lower bounds", {"a": [{"numeric": [">=", 1, ">=", 0]}]}),
    ("numeric operator is a number", {"a": [{"numeric": [1, ">"]}]}),
    ("numeric with another key", {"a": [{"numeric": [">", 1], "x": 1}]}),
    ("numeric empty range", {"a": [{"numeric": [">=", 1, "<=", 1]}]}),
    ("numeric bound null", {"a": [{"numeric": [">", None]}]}),
    # CIDR.cidr
    ("cidr two slashes", {"a": [{"cidr": "10.0.0.0/24/1"}]}),
    ("cidr space in mask", {"a": [{"cidr": "10.0.0.0/ 8"}]}),
    ("cidr three octets", {"a": [{"cidr": "1.2.3/8"}]}),
    ("cidr mapped v6 is v4 with mask 104", {"a": [{"cidr": "::ffff:10.0.0.0/104"}]}),
    ("cidr v6 mask 129", {"a": [{"cidr": "::/129"}]}),
    ("cidr no address", {"a": [{"cidr": "/8"}]}),
    # processMatchExpression / parseObject
    ("exists null", {"a": [{"exists": None}]}),
    ("exists with two keys", {"a": [{"exists": False, "prefix": "x"}]}),
    ("prefix null", {"a": [{"prefix": None}]}),
    ("anything-but empty object", {"a": [{"anything-but": {}}]}),
    ("anything-but ignore case number", {"a": [{"anything-but": {"equals-ignore-case": 5}}]}),
    ("anything-but bool list", {"a": [{"anything-but": [True]}]}),
    ("wildcard escaped letter", {"a": [{"wildcard": "a\\x"}]}),
    ("wildcard triple star", {"a": [{"wildcard": "a***"}]}),
    ("or holding a number", {"$or": [{"a": ["x"]}, 5]}),
    ("or branch reserved prefix", {"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}),
    ("field holding true", {"a": True}),
    ("array holding an array", {"a": [1, [2]]}),
]


@pytest.mark.parametrize("pattern", [pytest.param(p, id=name) for name, p in INVALID])
def test_ruler_audit_invalid(pattern: Any) -> None:
    # Given a pattern Ruler's JsonRuleCompiler rejects / When validated / Then refused
    with pytest.raises(InvalidPatternError):
        validate(pattern)


VALID: list[tuple[str, Any]] = [
    # JsonRuleCompiler.writeRules: an exact number that cannot be compared stays valid
    # ("make that condition survivable"): only its text is matched.
    ("exact number no double holds", '{"a": [12345678901234567890]}'),
    ("exact long decimal", '{"a": [0.30000000000000001]}'),
    # JsonRuleCompilerTest testNumericExpressions goods: subnormal bounds are fine
    ("subnormal bound", '{"a": [{"numeric": [">=", 1E-320]}]}'),
    ("wildcard escaped star and backslash", {"a": [{"wildcard": "a\\*b\\\\c*"}]}),
    ("cidr /0", {"a": [{"cidr": "0.0.0.0/0"}]}),
    ("cidr v6 /127", {"a": [{"cidr": "2001:db8::/127"}]}),
    (
        "anything-but ignore case list with empty",
        {"a": [{"anything-but": {"equals-ignore-case": ["a", ""]}}]},
    ),
    ("anything-but wildcard list with empty", {"a": [{"anything-but": {"wildcard": ["a*", ""]}}]}),
]


@pytest.mark.parametrize("pattern", [pytest.param(p, id=name) for name, p in VALID])
def test_ruler_audit_valid(pattern: Any) -> None:
    # Given a pattern Ruler's JsonRuleCompiler accepts / When validated / Then no error
    validate(pattern)


def test_same_double_different_literals_are_cached_apart() -> None:
    # Given two pattern texts whose numbers read as the same double, one not exactly
    # When both are compiled / Then each keeps its own meaning (ComparableNumber.generate)
    assert matches('{"a": [0.3]}', '{"a": 0.3}') is True
    assert matches('{"a": [0.30000000000000001]}', '{"a": 0.3}') is False
    assert matches('{"a": [{"numeric": [">", 0.3]}]}', '{"a": 1}') is True
    with pytest.raises(InvalidPatternError, match="cannot be compared"):
        validate('{"a": [{"numeric": [">", 0.30000000000000001]}]}')

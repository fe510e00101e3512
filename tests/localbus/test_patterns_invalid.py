"""localbus.patterns rejects what EventBridge rejects, saying what is wrong and where.

The rules mirror AWS Event Ruler's JsonRuleCompiler (the error cases of its
JsonRuleCompilerTest, CIDRTest and wrongOrRelationshipRules data) and the EventBridge user guide.
"""

from __future__ import annotations

from typing import Any

import pytest

from localbus.patterns import InvalidPatternError, matches, validate

CASES: list[tuple[Any, str, str]] = [
    # (pattern, path, text the reason contains)
    ([1, 2, 3], "", "a pattern must be a JSON object, got [1, 2, 3]"),
    ("[1, 2]", "", "a pattern must be a JSON object"),
    ({}, "", "empty objects are not allowed"),
    ({"detail": {}}, "detail", "empty objects are not allowed"),
    ({"source": "com.example.orders"}, "source", "must hold an object or an array of values"),
    ({"detail": {"total": 5}}, "detail.total", "got 5"),
    ({"detail": {"total": None}}, "detail.total", "got null"),
    ({"detail-type": []}, "detail-type", "empty arrays are not allowed"),
    ({"a": [["x"]]}, "a", 'got ["x"]'),
    ({"a": [{}]}, "a", "an operator object must name one operator"),
    ({"a": [{"prefix": "x", "suffix": "y"}]}, "a", 'exactly one key, got "prefix", "suffix"'),
    ({"a": [{"contains": "x"}]}, "a", 'unknown operator "contains"'),
    ({"a": [{"prefix": 3}]}, "a", '"prefix" expects a string'),
    ({"a": [{"prefix": ["x"]}]}, "a", '"prefix" expects a string'),
    ({"a": [{"prefix": {"ignore-case": "x"}}]}, "a", '{"equals-ignore-case": "<string>"}'),
    ({"a": [{"suffix": {"equals-ignore-case": 5}}]}, "a", "expects a string, got 5"),
    ({"a": [{"equals-ignore-case": ["x"]}]}, "a", '"equals-ignore-case" expects a string'),
    ({"a": [{"exactly": 33}]}, "a", '"exactly" expects a string, got 33'),
    ({"a": [{"wildcard": "a**b"}]}, "a", "consecutive wildcard characters at position 1"),
    ({"a": [{"wildcard": "a\\b"}]}, "a", "invalid escape character at position 1"),
    ({"a": [{"wildcard": "ends\\"}]}, "a", "invalid escape character at position 4"),
    ({"a": [{"wildcard": 5}]}, "a", '"wildcard" expects a string'),
    ({"a": [{"exists": "true"}]}, "a", '"exists" expects true or false, got "true"'),
    ({"a": [{"exists": 1}]}, "a", '"exists" expects true or false, got 1'),
    ({"a": [{"cidr": "10.0.0.0"}]}, "a", "exactly one '/' is required"),
    ({"a": [{"cidr": "10.0.0.0/x"}]}, "a", "mask bits must be an integer"),
    ({"a": [{"cidr": "10.0.0.0/-1"}]}, "a", "mask bits must not be negative"),
    ({"a": [{"cidr": "10.0.0.0/32"}]}, "a", "IPv4 mask bits must be < 32"),
    ({"a": [{"cidr": "2001:db8::/128"}]}, "a", "IPv6 mask bits must be < 128"),
    ({"a": [{"cidr": "700.1.1.1/8"}]}, "a", "'700.1.1.1' is not an IP address"),
    ({"a": [{"cidr": 10}]}, "a", '"cidr" expects a string'),
    ({"a": [{"anything-but": []}]}, "a", "only strings or only numbers"),
    ({"a": [{"anything-but": ["x", 1]}]}, "a", "cannot mix strings and numbers"),
    ({"a": [{"anything-but": [None]}]}, "a", "only strings or only numbers"),
    ({"a": [{"anything-but": True}]}, "a", '"anything-but" expects a string, a number'),
    ({"a": [{"anything-but": None}]}, "a", '"anything-but" expects a string, a number'),
    (
        {"a": [{"anything-but": {"anything-but": "x"}}]},
        "a",
        'can only wrap one of "prefix", "suffix", "equals-ignore-case" or "wildcard", '
        'got "anything-but"',
    ),
    ({"a": [{"anything-but": {"numeric": [">", 1]}}]}, "a", 'got "numeric"'),
    ({"a": [{"anything-but": {"exists": True}}]}, "a", 'got "exists"'),
    (
        {"a": [{"anything-but": {"prefix": ""}}]},
        "a",
        '"anything-but.prefix" cannot be an empty string',
    ),
    ({"a": [{"anything-but": {"suffix": ["x", ""]}}]}, "a", "cannot be an empty string"),
    ({"a": [{"anything-but": {"prefix": 1}}]}, "a", "expects a string or an array of strings"),
    ({"a": [{"anything-but": {"wildcard": "a**"}}]}, "a", "consecutive wildcard characters"),
    ({"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}, "a", '"prefix", "suffix"'),
    (
        {"detail": {"total": [{"numeric": [">"]}]}},
        "detail.total",
        '"numeric" expects pairs of operator and number, got [">"]',
    ),
    ({"v": [{"numeric": []}]}, "v", '"numeric" expects pairs of operator and number, got []'),
    ({"v": [{"numeric": ">"}]}, "v", '"numeric" expects an array of operator/number pairs'),
    ({"v": [{"numeric": ["!=", 1]}]}, "v", 'unknown operator "!="'),
    ({"v": [{"numeric": [">", "1"]}]}, "v", '">" must be followed by a number, got "1"'),
    ({"v": [{"numeric": [">", True]}]}, "v", '">" must be followed by a number, got true'),
    ({"v": [{"numeric": ["=", 1, "<", 2]}]}, "v", '"=" takes exactly one number'),
    ({"v": [{"numeric": ["<", 1, ">", 0]}]}, "v", "a lower bound"),
    ({"v": [{"numeric": [">", 0, ">", 1]}]}, "v", "a lower bound"),
    ({"v": [{"numeric": [">", 0, "<", 1, "<", 2]}]}, "v", "at most two operator/number pairs"),
    ({"v": [{"numeric": [">", 5, "<=", 5]}]}, "v", "lower bound 5 must be less than"),
    ({"v": [{"numeric": [">", float("inf")]}]}, "v", "out of the range of a double"),
    ({"v": [float("nan")]}, "v", "is not a JSON number"),
    ({"$or": {"a": 1}}, "$or", 'must be an array of at least 2 objects, got {"a": 1}'),
    ({"$or": [{"a": ["x"]}]}, "$or", '"$or" needs at least 2 objects, got 1'),
    ({"$or": []}, "$or", "needs at least 2 objects, got 0"),
    ({"$or": [{"a": ["x"]}, "b"]}, "$or[1]", '"$or" may only hold objects, got "b"'),
    ({"$or": [{"a": ["x"]}, {}]}, "$or[1]", "empty objects are not allowed"),
    (
        {"$or": [{"numeric": [">", 1]}, {"b": ["y"]}]},
        "$or[0].numeric",
        '"numeric" is a reserved keyword',
    ),
    (
        {"detail": {"$or": [{"a": [">"]}, {"b": {"c": "x"}}]}},
        "detail.$or[1].b.c",
        "must hold an object or an array of values",
    ),
]


@pytest.mark.parametrize(
    ("pattern", "path", "reason"),
    [pytest.param(p, w, r, id=f"{i}-{w or 'root'}") for i, (p, w, r) in enumerate(CASES)],
)
def test_invalid_pattern_names_what_and_where(pattern: Any, path: str, reason: str) -> None:
    # Given a pattern EventBridge rejects
    # When it is validated, or used to match
    # Then InvalidPatternError says where and what
    with pytest.raises(InvalidPatternError) as caught:
        validate(pattern)
    error = caught.value
    assert error.path == path
    assert reason in error.reason
    assert str(error) == (f"invalid pattern at {path}: " if path else "invalid pattern: ") + (
        error.reason
    )
    with pytest.raises(InvalidPatternError):
        matches(pattern, {"a": "x"})


def test_the_message_format_of_the_brief() -> None:
    # Given a numeric operator missing its number / When validated / Then the full message reads
    with pytest.raises(InvalidPatternError) as caught:
        validate({"detail": {"total": [{"numeric": [">"]}]}})
    assert str(caught.value) == (
        'invalid pattern at detail.total: "numeric" expects pairs of operator and number, got [">"]'
    )


def test_invalid_pattern_error_is_a_value_error() -> None:
    # Given a bad pattern / When validated / Then callers catching ValueError see it
    with pytest.raises(ValueError, match="empty arrays are not allowed"):
        validate({"a": []})


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2 3]}',
        '{"a": [ { "anything-but": { "prefix": ["1", "2" } } ] }',
        '{"a": [NaN]}',
        '{"a": [Infinity]}',
        "",
    ],
)
def test_malformed_json_text_is_rejected(text: str) -> None:
    # Given pattern text that is not JSON (cases from Ruler's JsonRuleCompilerTest)
    # When validated / Then InvalidPatternError
    with pytest.raises(InvalidPatternError, match="not valid JSON"):
        validate(text)


def test_a_pattern_that_is_not_json_serialisable_is_rejected() -> None:
    # Given a dict holding a Python set / When validated / Then it is refused as non-JSON
    with pytest.raises(InvalidPatternError, match="not JSON"):
        validate({"a": [{1, 2}]})


@pytest.mark.parametrize(
    "pattern",
    [
        # Ruler's normalRulesWithOrWording: "$or" that is not an array of >= 2 objects is an
        # ordinary field name for Ruler's legacy compiler, so these are valid.
        {"$or": [{"cidr": "10.0.0.0/24"}]},
        {"source": ["aws.cloudwatch"], "$or": {"metricType": ["MetricType"]}},
        {"detail": {"$or": [{"numeric": [">", 0, "<", 10]}, {"cidr": "10.0.0.0/8"}]}},
    ],
)
def test_legacy_or_field_names_stay_valid(pattern: dict[str, Any]) -> None:
    # Given a pattern using "$or" as a plain field name / When validated / Then it is accepted
    validate(pattern)


def test_legacy_or_field_is_matched_as_a_field() -> None:
    # Given "$or" used as a field holding a cidr / When matched / Then the event's "$or" is read
    pattern = {"detail": {"$or": [{"numeric": [">", 0, "<", 10]}, {"cidr": "10.0.0.0/8"}]}}
    assert matches(pattern, {"detail": {"$or": "10.1.2.3"}}) is True
    assert matches(pattern, {"detail": {"$or": 5}}) is True
    assert matches(pattern, {"detail": {"$or": 50}}) is False

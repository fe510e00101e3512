"""A table of (pattern, event, expected) cases adapted from AWS Event Ruler's README and tests.

Each group names the Ruler file (github.com/aws/event-ruler) and test it comes from. Ruler is the
matcher behind EventBridge, so its expectations are EventBridge's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from localbus._patterns_compile import compile_subrules
from localbus.patterns import InvalidPatternError, matches, validate

# README.md "Ruler by Example": the sample EC2 event.
README_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
    },
}

# RulerTest.java: JSON_FROM_RFC and JSON_WITH_COMPLEX_ARRAYS.
RFC_EVENT: dict[str, Any] = {
    "Image": {
        "Width": 800,
        "Height": 600,
        "Title": "View from 15th Floor",
        "Thumbnail": {"Url": "http://www.example.com/image/481989943", "Height": 125, "Width": 100},
        "Animated": False,
        "IDs": [116, 943, 234, 38793],
    }
}
COMPLEX_ARRAYS_EVENT: dict[str, Any] = {
    "employees": [
        [
            {"firstName": "John", "lastName": "Doe", "ids": [1234, 1000, 9999]},
            {"firstName": "Anna", "lastName": "Smith"},
        ],
        [{"firstName": "Peter", "lastName": "Jones", "ids": []}],
    ]
}

# ACMachineTest.java songsACTest.
SONGS_EVENT: dict[str, Any] = {
    "Year": 1966,
    "Genres": [{"Pop": True}, {"Classical": False}],
    "Songs": [
        {
            "Name": "Paperback Writer",
            "Writers": [
                {"First": "John", "Last": "Lennon"},
                {"First": "Paul", "Last": "McCartney"},
            ],
        },
        {
            "Name": "Paint It Black",
            "Writers": [
                {"First": "Mick", "Last": "Jagger"},
                {"First": "Keith", "Last": "Richards"},
            ],
        },
    ],
}

# JsonRuleCompilerTest.java testBasicFunctionOfOrRelationshipRules.
OR_EVENT: dict[str, Any] = {
    "detail": {
        "detail-type": "EC2 Instance State-change Notification",
        "resources": "arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000",
        "info": {"state-status": "running", "state-count": {"count": 100}},
        "c-count": 1,
        "d-count": 8,
    },
    "news": {"newsProviders": "p1", "newCondition1": "news111", "newCondition2": "news222"},
}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # --- README.md "Ruler by Example" (each rule shown there matches the sample event) ---
    (
        "readme simple matching",
        {
            "detail-type": ["EC2 Instance State-change Notification"],
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
            "detail": {"state": ["initializing", "running"]},
        },
        README_EVENT,
        True,
    ),
    ("readme prefix", {"time": [{"prefix": "2017-10-02"}]}, README_EVENT, True),
    ("readme suffix", {"source": [{"suffix": "ec2"}]}, README_EVENT, True),
    ("readme equals-ignore-case", {"source": [{"equals-ignore-case": "EC2"}]}, README_EVENT, False),
    (
        "readme equals-ignore-case whole value",
        {"source": [{"equals-ignore-case": "AWS.EC2"}]},
        README_EVENT,
        True,
    ),
    ("readme wildcard", {"source": [{"wildcard": "aws.*"}]}, README_EVENT, True),
    (
        "readme anything-but string",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        README_EVENT,
        True,
    ),
    (
        "readme anything-but number",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        README_EVENT,
        True,
    ),
    (
        "readme anything-but string list",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        README_EVENT,
        True,
    ),
    (
        "readme anything-but number list",
        {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
        README_EVENT,
        True,
    ),
    (
        "readme anything-but prefix",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        README_EVENT,
        True,
    ),
    (
        "readme numeric",
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        README_EVENT,
        True,
    ),
    ("readme cidr", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, README_EVENT, True),
    ("readme exists true", {"detail": {"c-count": [{"exists": True}]}}, README_EVENT, True),
    ("readme exists false", {"detail": {"c-count": [{"exists": False}]}}, README_EVENT, False),
    (
        "readme exists false on a non-leaf",
        {"detail": {"c-count": [{"exists": False}]}},
        {"detail": {"state": "running", "c-count": {"c1": 100}}},
        True,
    ),
    (
        "readme complex example",
        {
            "time": [{"prefix": "2017-10-02"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
                "source-ip": [{"cidr": "10.0.0.0/8"}],
            },
        },
        README_EVENT,
        True,
    ),
    # README.md "JSON Array Matching".
    (
        "readme arrays crushed out",
        {"employees": {"firstName": ["Anna"]}},
        {
            "employees": [
                {"firstName": "John", "lastName": "Doe"},
                {"firstName": "Anna", "lastName": "Smith"},
                {"firstName": "Peter", "lastName": "Jones"},
            ]
        },
        True,
    ),
    (
        "readme array consistency",
        {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
        {
            "employees": [
                {"firstName": "John", "lastName": "Doe"},
                {"firstName": "Anna", "lastName": "Smith"},
                {"firstName": "Peter", "lastName": "Jones"},
            ]
        },
        False,
    ),
    # README.md "Caveat: Compiled rules and JSON keys with dots".
    (
        "readme dotted rule key, nested event",
        {"detail": {"state.status": ["running"]}},
        {"detail": {"state": {"status": "running"}}},
        True,
    ),
    (
        "readme nested rule, dotted event key",
        {"detail": {"state": {"status": ["running"]}}},
        {"detail": {"state.status": "running"}},
        True,
    ),
    # README.md "The $or Primitive".
    (
        "readme normal or",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {"namespace": ["AWS/EC2", "AWS/ES"]},
            ],
        },
        {"source": "aws.cloudwatch", "namespace": "AWS/ES"},
        True,
    ),
    (
        "readme normal or, no branch",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {"namespace": ["AWS/EC2", "AWS/ES"]},
            ],
        },
        {"source": "aws.cloudwatch", "namespace": "AWS/S3"},
        False,
    ),
    (
        "readme nested or and and",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {
                    "metricType": ["MetricType"],
                    "namespace": ["AWS/EC2", "AWS/ES"],
                    "$or": [{"metricId": [1234]}, {"spaceId": [1000]}],
                },
                {"scope": ["Service"]},
            ],
        },
        {
            "source": "aws.cloudwatch",
            "metricType": "MetricType",
            "namespace": "AWS/EC2",
            "spaceId": 1000,
        },
        True,
    ),
    (
        "readme nested or and and, inner or fails",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {
                    "metricType": ["MetricType"],
                    "namespace": ["AWS/EC2", "AWS/ES"],
                    "$or": [{"metricId": [1234]}, {"spaceId": [1000]}],
                },
                {"scope": ["Service"]},
            ],
        },
        {"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2"},
        False,
    ),
    (
        "readme legacy $or object is a plain field",
        {"source": ["aws.cloudwatch"], "$or": {"metricType": ["MetricType"]}},
        {"source": "aws.cloudwatch", "$or": {"metricType": "MetricType"}},
        True,
    ),
    # --- RulerTest.java WHEN_WeWriteRulesToMatchVariousFieldCombos_THEN_TheyWork ---
    (
        "rfc width and thumbnail height",
        {"Image": {"Width": [800], "Thumbnail": {"Height": [125, 300]}}},
        RFC_EVENT,
        True,
    ),
    ("rfc url prefix", {"Image": {"Thumbnail": {"Url": [{"prefix": "http"}]}}}, RFC_EVENT, True),
    (
        "rfc mixed operators",
        {
            "Image": {
                "Width": [{"numeric": ["<", 1000]}],
                "Height": [{"numeric": ["<=", 600]}],
                "Title": [{"anything-but": "View from 15th Flood"}],
                "Thumbnail": {
                    "Url": [{"prefix": "http"}],
                    "Height": [{"numeric": [">", 124, "<", 126]}],
                    "Width": [{"numeric": [">=", 99.999, "<=", 100]}],
                },
                "Animated": [False],
            }
        },
        RFC_EVENT,
        True,
    ),
    ("rfc width < 800", {"Image": {"Width": [{"numeric": ["<", 800]}]}}, RFC_EVENT, False),
    ("rfc height < 599", {"Image": {"Height": [{"numeric": ["<", 599]}]}}, RFC_EVENT, False),
    (
        "rfc anything-but the title",
        {"Image": {"Title": [{"anything-but": "View from 15th Floor"}]}},
        RFC_EVENT,
        False,
    ),
    (
        "rfc https prefix",
        {"Image": {"Thumbnail": {"Url": [{"prefix": "https"}]}}},
        RFC_EVENT,
        False,
    ),
    (
        "rfc open range excludes its top",
        {"Image": {"Thumbnail": {"Height": [{"numeric": [">", 124, "<", 125]}]}}},
        RFC_EVENT,
        False,
    ),
    (
        "rfc range above the value",
        {"Image": {"Thumbnail": {"Width": [{"numeric": [">=", 100.00001, "<=", 1001]}]}}},
        RFC_EVENT,
        False,
    ),
    ("rfc animated true", {"Image": {"Animated": [True]}}, RFC_EVENT, False),
    ("rfc number in array", {"Image": {"IDs": [943]}}, RFC_EVENT, True),
    # --- RulerTest.java WHEN_JSONContainsArrays_THEN_RulerNoCompileMatchesWork ---
    ("arrays anna", {"employees": {"firstName": ["Anna"]}}, COMPLEX_ARRAYS_EVENT, True),
    (
        "arrays john with id 1000",
        {"employees": {"firstName": ["John"], "ids": [1000]}},
        COMPLEX_ARRAYS_EVENT,
        True,
    ),
    (
        "arrays anna without ids",
        {"employees": {"firstName": ["Anna"], "ids": [{"exists": False}]}},
        COMPLEX_ARRAYS_EVENT,
        True,
    ),
    ("arrays alice", {"employees": {"firstName": ["Alice"]}}, COMPLEX_ARRAYS_EVENT, False),
    (
        "arrays anna jones are different elements",
        {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
        COMPLEX_ARRAYS_EVENT,
        False,
    ),
    ("arrays unknown field", {"a": ["b"]}, COMPLEX_ARRAYS_EVENT, False),
    ("arrays object is not a leaf", {"employees": ["b"]}, COMPLEX_ARRAYS_EVENT, False),
    (
        "arrays anna has no id 1000",
        {"employees": {"firstName": ["Anna"], "ids": [1000]}},
        COMPLEX_ARRAYS_EVENT,
        False,
    ),
    (
        "arrays anna has no ids",
        {"employees": {"firstName": ["Anna"], "ids": [{"exists": True}]}},
        COMPLEX_ARRAYS_EVENT,
        False,
    ),
    (
        "arrays peter's empty ids do not exist",
        {"employees": {"firstName": ["Peter"], "ids": [{"exists": True}]}},
        COMPLEX_ARRAYS_EVENT,
        False,
    ),
    # --- RulerTest.java WHEN_WeTryExistsRules_THEN_TheyWork ---
    ("exists a in {a:1}", {"a": [{"exists": True}]}, {"a": 1}, True),
    ("absent b in {a:1}", {"b": [{"exists": False}]}, {"a": 1}, True),
    ("exists x in {a:1}", {"x": [{"exists": True}]}, {"a": 1}, False),
    ("absent x in {a:1}", {"x": [{"exists": False}]}, {"a": 1}, True),
    ("absent b in {b:2}", {"b": [{"exists": False}]}, {"b": 2}, False),
    ("exists x in {x:X}", {"x": [{"exists": True}]}, {"x": "X"}, True),
    ("absent x in {x:X}", {"x": [{"exists": False}]}, {"x": "X"}, False),
    # --- RulerTest.java WHEN_WeTryReallySimpleRules_THEN_TheyWork ---
    ("simple 1", {"a": [1]}, {"a": 1}, True),
    ("simple X", {"x": ["X"]}, {"x": "X"}, True),
    ("simple 1 is not true", {"a": [1]}, {"x": True}, False),
    ("simple X is not true", {"x": ["X"]}, {"x": True}, False),
    # --- MachineTest.java testSuffixMatching / testEqualsIgnoreCaseMatching / testWildcardMatching
    ("suffix er", {"a": [{"suffix": "er"}]}, {"a": "zookeeper"}, True),
    ("suffix is the value", {"a": [{"suffix": "er"}]}, {"a": "er"}, True),
    ("suffix txt", {"b": [{"suffix": "txt"}]}, {"b": "Texttxt"}, True),
    ("ignore case abc", {"a": [{"equals-ignore-case": "aBc"}]}, {"a": "AbC"}, True),
    ("ignore case longer", {"b": [{"equals-ignore-case": "XyZ"}]}, {"b": "xyzz"}, False),
    ("ignore case prefix extra", {"a": [{"equals-ignore-case": "aBc"}]}, {"a": "aabc"}, False),
    ("wildcard leading", {"a": [{"wildcard": "*bc"}]}, {"a": "bc"}, True),
    ("wildcard middle", {"b": [{"wildcard": "d*f"}]}, {"b": "dexef"}, True),
    ("wildcard trailing empty", {"c": [{"wildcard": "xy*"}]}, {"c": "xy"}, True),
    ("wildcard two stars", {"d": [{"wildcard": "12*4*"}]}, {"d": "12345"}, True),
    ("wildcard no match", {"d": [{"wildcard": "12*4*"}]}, {"d": "1235"}, False),
    ("wildcard start anchored", {"c": [{"wildcard": "xy*"}]}, {"c": "abcxyz"}, False),
    ("wildcard end anchored", {"b": [{"wildcard": "d*f"}]}, {"b": "de"}, False),
    # --- MachineTest.java testSuffixChineseMatch ---
    (
        "suffix multi-byte",
        {"status": {"weatherText": [{"suffix": "统治者"}]}},
        {"status": {"weatherText": "事件统治者", "pm25": 23}},
        True,
    ),
    # --- MachineTest.java testNumericMatch ---
    (
        "numeric operators",
        {
            "a": [{"numeric": ["=", 0]}],
            "b": [{"numeric": ["<", 0]}],
            "c": [{"numeric": ["<=", 0]}],
            "x": [{"numeric": [">", 0]}],
            "y": [{"numeric": [">=", 0]}],
            "z": [{"numeric": [">", 0, "<", 1]}],
        },
        {"a": [0], "b": [-0.1], "c": [0], "x": [1], "y": [0], "z": [0.1]},
        True,
    ),
    # --- MachineTest.java testRangeDeletion ---
    (
        "range includes many decimals",
        {"x": [{"numeric": [">=", 0, "<", 1000000000]}]},
        {"x": 111111111.111111111},
        True,
    ),
    (
        "range excludes its open top",
        {"x": [{"numeric": [">=", 0, "<", 1000000000]}]},
        {"x": 1000000000},
        False,
    ),
    (
        "two ranges or'd",
        {
            "m": ["abc"],
            "x": [{"numeric": [">", 0, "<", 30]}, {"numeric": [">", 100, "<", 120]}],
            "n": ["efg"],
        },
        {"m": "abc", "n": "efg", "x": 110},
        True,
    ),
    # --- MachineTest.java testAnythingButDeletion / RulerTest.java anything-but rules ---
    (
        "anything-but skips other types",
        {
            "a": [{"anything-but": ["dad0", "dad1", "dad2"]}],
            "b": [{"anything-but": [111, 222, 333]}],
            "c": [{"anything-but": "dad0"}],
            "d": [{"anything-but": 111}],
            "z": [{"numeric": [">", 0, "<", 1]}],
        },
        {"a": "child1", "b": "444", "c": "child1", "d": "444", "z": 0.001},
        True,
    ),
    (
        "anything-but number listed",
        {"b": [{"anything-but": [111, 222, 333]}]},
        {"b": 111},
        False,
    ),
    ("anything-but string listed", {"c": [{"anything-but": "zdd"}]}, {"c": "zdd"}, False),
    (
        "anything-but prefix excluded",
        {"w": [{"anything-but": {"prefix": "zax"}}]},
        {"w": "zaxonie"},
        False,
    ),
    (
        "anything-but ignore case list",
        {"a": [{"anything-but": {"equals-ignore-case": ["dad0", "dad1", "dad2"]}}]},
        {"a": "DAD1"},
        False,
    ),
    (
        "anything-but ignore case passes others",
        {"a": [{"anything-but": {"equals-ignore-case": ["dad0", "dad1", "dad2"]}}]},
        {"a": "dAd4"},
        True,
    ),
    # --- RulerTest.java WHEN_WeTryEqualsIgnoreCaseRules / WHEN_WeTryWildcardRules ---
    (
        "ignore case all fields",
        {
            "a": [{"equals-ignore-case": "aBc"}],
            "b": [{"equals-ignore-case": "Def"}],
            "c": [{"equals-ignore-case": "xyZ"}],
        },
        {"a": "ABC", "b": "def", "c": "xYz", "d": "rst"},
        True,
    ),
    (
        "ignore case missing field",
        {
            "a": [{"equals-ignore-case": "aBc"}],
            "b": [{"equals-ignore-case": "Def"}],
            "c": [{"equals-ignore-case": "xyZ"}],
        },
        {"a": "ABC", "c": "xYz", "d": "rst"},
        False,
    ),
    (
        "wildcard all fields",
        {
            "a": [{"wildcard": "*bc"}],
            "b": [{"wildcard": "d*f"}],
            "c": [{"wildcard": "xy*"}],
            "d": [{"wildcard": "xy*"}],
        },
        {"a": "abcbc", "b": "deeeef", "c": "xy", "d": "xyzzz"},
        True,
    ),
    (
        "wildcard one field off",
        {"b": [{"wildcard": "d*f"}]},
        {"b": "deeeefx"},
        False,
    ),
    # --- MachineTest.java testIpExactMatch: IP values compare by address ---
    ("ip exact v6 zeros", {"ip": ["::0"]}, {"ip": "0:0:0:0:0:0:0:0"}, True),
    ("ip exact v6 neighbour", {"ip": ["::3"]}, {"ip": "::4"}, False),
    (
        "ip exact v6 case",
        {"ip": ["2400:6500:FF00::36FB:1F8F"]},
        {"ip": "2400:6500:ff00::36fb:1f8f"},
        True,
    ),
    ("ip exact v4", {"ip": ["255.255.255.27"]}, {"ip": "255.255.255.27"}, True),
    ("ip exact v4 neighbour", {"ip": ["255.255.255.27"]}, {"ip": "255.255.255.28"}, False),
    # --- ACMachineTest.java CIDRTest / CIDRTest.java TestCorrectRanges ---
    ("cidr /24 inside", {"a": [{"cidr": "10.0.0.0/24"}]}, {"a": "10.0.0.255"}, True),
    ("cidr /24 just outside", {"a": [{"cidr": "10.0.0.0/24"}]}, {"a": "10.0.1.0"}, False),
    ("cidr /24 below", {"a": [{"cidr": "10.0.0.0/24"}]}, {"a": "9.255.255.255"}, False),
    ("cidr v6", {"a": [{"cidr": "2600:1F14::/35"}]}, {"a": "2600:1f14:1fff::1"}, True),
    ("cidr v6 outside", {"a": [{"cidr": "2600:1F14::/35"}]}, {"a": "2600:1f14:2000::"}, False),
    (
        "cidr keeps the address as written",
        {"a": [{"cidr": "54.240.196.171/24"}]},
        {"a": "54.240.196.170"},
        False,
    ),
    ("cidr not an ip", {"a": [{"cidr": "10.0.0.0/8"}]}, {"a": "ten"}, False),
    ("cidr number", {"a": [{"cidr": "10.0.0.0/8"}]}, {"a": 10}, False),
    # --- ACMachineTest.java songsACTest ---
    (
        "songs paul mccartney wrote paperback writer",
        {
            "Year": [1966],
            "Songs": {
                "Name": ["Paperback Writer"],
                "Writers": {"First": ["Paul"], "Last": ["McCartney"]},
            },
        },
        SONGS_EVENT,
        True,
    ),
    (
        "songs different arrays do not constrain each other",
        {"Genres": {"Pop": [True]}, "Songs": {"Name": ["Paint It Black"]}},
        SONGS_EVENT,
        True,
    ),
    (
        "songs mick did not write paperback writer",
        {
            "Year": [1966],
            "Songs": {"Name": ["Paperback Writer"], "Writers": {"First": ["Mick"]}},
        },
        SONGS_EVENT,
        False,
    ),
    (
        "songs mick mccartney is two writers",
        {"Songs": {"Writers": {"First": ["Mick"], "Last": ["McCartney"]}}},
        SONGS_EVENT,
        False,
    ),
    # --- ACMachineTest.java intensitiesACTest: nested arrays, leaves and objects together ---
    (
        "nested arrays leaf and object in one element",
        {"lines": {"points": [287.48116291799363]}},
        {
            "lines": [
                {
                    "intensities": [[0.5]],
                    "points": [
                        [[{"pp": "index0"}, 483.3474497412421, 287.48116291799363]],
                        [[{"pp": "index1"}, 489.9999497412421, 299.99996291799363]],
                    ],
                }
            ]
        },
        True,
    ),
    # --- test/resources/correctness-cases.json (array consistency corpus) ---
    (
        "objarray same element",
        {"d": {"a": [{"exists": True}], "b": [{"exists": True}]}},
        {"d": [{"a": 1, "b": 2}]},
        True,
    ),
    (
        "objarray split",
        {"d": {"a": [{"exists": True}], "b": [{"exists": True}]}},
        {"d": [{"a": 1}, {"b": 2}]},
        False,
    ),
    (
        "objarray last element valid",
        {"d": {"a": [{"exists": True}], "b": [{"exists": True}]}},
        {"d": [{"a": 1}, {"b": 2}, {"a": 3, "b": 4}]},
        True,
    ),
    (
        "nested inner split",
        {"u": {"t": {"k": ["color"], "v": ["blue"]}}},
        {"u": [{"t": [{"k": "color"}, {"v": "blue"}]}]},
        False,
    ),
    (
        "nested inner same",
        {"u": {"t": {"k": ["color"], "v": ["blue"]}}},
        {"u": [{"t": [{"k": "color", "v": "blue"}]}]},
        True,
    ),
    (
        "nested outer split",
        {"d": {"name": [{"exists": True}], "info": {"x": ["1"]}}},
        {"d": [{"name": "alice"}, {"info": {"x": "1"}}]},
        False,
    ),
    (
        "exists-false absent in the element",
        {"d": {"a": [{"exists": True}], "b": [{"exists": False}]}},
        {"d": [{"a": 1}]},
        True,
    ),
    (
        "exists-false present in the element",
        {"d": {"a": [{"exists": True}], "b": [{"exists": False}]}},
        {"d": [{"a": 1, "b": 2}]},
        False,
    ),
    ("empty object", {"d": {"a": [{"exists": True}]}}, {}, False),
    ("empty array", {"d": {"a": [{"exists": True}]}}, {"d": []}, False),
    (
        "many elements one valid",
        {"d": {"a": ["target"], "b": ["found"]}},
        {"d": [{"a": "x"}, {"a": "y"}, {"a": "target", "b": "found"}, {"a": "z"}]},
        True,
    ),
    (
        "numeric and exists in one element",
        {"i": {"p": [{"numeric": [">", 0, "<", 100]}], "n": [{"exists": True}]}},
        {"i": [{"n": "w", "p": 50}, {"n": "g", "p": 200}]},
        True,
    ),
    (
        "anything-but in an array of objects",
        {"u": {"s": [{"anything-but": "banned"}], "n": [{"exists": True}]}},
        {"u": [{"n": "alice", "s": "banned"}, {"n": "bob", "s": "active"}]},
        True,
    ),
    (
        "anything-but in an array of strings",
        {"d": {"tags": [{"anything-but": "banned"}], "type": [{"exists": True}]}},
        {"d": {"tags": ["banned", "ok"], "type": "x"}},
        True,
    ),
    (
        "empty array of strings does not exist",
        {"d": {"name": [{"exists": True}], "type": [{"exists": True}]}},
        {"d": {"name": [], "type": "x"}},
        False,
    ),
    (
        "numeric in an array of numbers",
        {"d": {"vals": [{"numeric": [">", 0, "<", 10]}], "type": [{"exists": True}]}},
        {"d": {"vals": [100, 5, 200], "type": "ok"}},
        True,
    ),
    # --- JsonRuleCompilerTest.java testBigNumbers / testVariantForms ---
    ("big account number", {"account": [123456789012]}, {"account": 123456789012}, True),
    ("variant exact number", {"a": [133.3]}, {"a": 133.3, "b": "192.0.2.0"}, True),
    ("variant range", {"a": [{"numeric": [">", 120, "<=", 140]}]}, {"a": 133.3}, True),
    ("variant exact ip", {"b": ["192.0.2.0"]}, {"b": "192.0.2.0"}, True),
    ("variant cidr", {"b": [{"cidr": "192.0.2.0/24"}]}, {"b": "192.0.2.0"}, True),
    # --- JsonRuleCompilerTest.java testBasicFunctionOfOrRelationshipRules ---
    (
        "or inside detail",
        {
            "detail": {
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ]
            }
        },
        OR_EVENT,
        True,
    ),
    (
        "parallel ors",
        {
            "detail": {
                "detail-type": ["EC2 Instance State-change Notification"],
                "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
                "info": {
                    "state-status": ["initializing", "running"],
                    "state-count": {"count": [100]},
                },
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ],
            },
            "news": {
                "newsProviders": ["p1", "p2"],
                "$or": [{"newCondition1": ["news111"]}, {"newCondition2": ["news222"]}],
            },
        },
        OR_EVENT,
        True,
    ),
    # --- JsonRuleCompilerTest.java testWithRuleOverride: a field named again overrides ---
    (
        "or branch overrides an earlier field",
        {
            "name": ["a", "b"],
            "$or": [{"name": [{"anything-but": "a"}]}, {"condition1": ["x"]}],
        },
        {"name": "c"},
        True,
    ),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [pytest.param(p, e, x, id=name) for name, p, e, x in CASES],
)
def test_ruler_corpus(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    # Given a pattern and an event from Event Ruler's README or tests
    # When the event is matched, as a dict and as JSON text
    # Then the result is Ruler's
    assert matches(pattern, event) is expected
    assert matches(json.dumps(pattern), json.dumps(event)) is expected


# JsonRuleCompilerTest.java testNumericExpressions (values of "numeric").
GOOD_NUMERIC = [
    '["=", 3.8]',
    '["=", 0.000033]',
    '["=", -4e-6]',
    '["=", 55555]',
    '["<", 3.8]',
    '[">", -4e-6]',
    '["<=", 55555]',
    '[">=", 0.000033]',
    '[">", 0, "<", 1]',
    '[">=", 0, "<", 1]',
    '[">", 0, "<=", 1]',
    '[">=", 0, "<=", 1]',
]
BAD_NUMERIC = [
    '["=", true]',
    '["=", 2.0e422]',
    '["=", "-4e-6"]',
    '["="]',
    '["=", 1E309]',
    '["=", 1E-325]',
    '["<", true]',
    '["<"]',
    '[">=", "-4e-6"]',
    '["<>", 1, ">", 0]',
    '["==", 1, ">", 0]',
    '["<", 1, ">", 0]',
    '[">", 1, "<", 1]',
    '[">", 30, "<", 1]',
    '[">", 1, "<", 30, false]',
]


@pytest.mark.parametrize("numeric", GOOD_NUMERIC)
def test_ruler_good_numeric_expressions(numeric: str) -> None:
    # Given a numeric expression Ruler accepts / When validated / Then no error
    validate('{"x": [{"numeric": ' + numeric + "}]}")


@pytest.mark.parametrize("numeric", BAD_NUMERIC)
def test_ruler_bad_numeric_expressions(numeric: str) -> None:
    # Given a numeric expression Ruler rejects / When validated / Then it is refused at "x"
    with pytest.raises(InvalidPatternError) as caught:
        validate('{"x": [{"numeric": ' + numeric + "}]}")
    assert caught.value.path == "x"


# JsonRuleCompilerTest.java testCompile: the well-formed ones among its good/bad pattern lists
# (its malformed-JSON entries are covered by the invalid-JSON test in test_patterns_invalid.py).
GOOD_PATTERNS = [
    {"a": [1]},
    {"a": [{"prefix": "child"}]},
    {"a": [{"suffix": "child"}]},
    {"a": [{"prefix": {"equals-ignore-case": "child"}}]},
    {"a": [{"suffix": {"equals-ignore-case": "child"}}]},
    {"a": [{"anything-but": "child"}]},
    {"a": [{"anything-but": ["child0", "child1", "child2"]}]},
    {"a": [{"anything-but": [111, 222, 333]}]},
    {"a": [{"anything-but": 111}]},
    {"a": [{"anything-but": {"prefix": "foo"}}]},
    {"a": [{"anything-but": {"prefix": ["abc", "123"]}}]},
    {"a": [{"anything-but": {"suffix": "foo"}}]},
    {"a": [{"anything-but": {"suffix": ["abc", "123"]}}]},
    {"a": [{"anything-but": {"equals-ignore-case": "rule"}}]},
    {"a": [{"anything-but": {"equals-ignore-case": ""}}]},
    {"a": [{"anything-but": {"equals-ignore-case": ["abc", "123"]}}]},
    {"a": [{"anything-but": {"wildcard": "foo*bar"}}]},
    {"a": [{"anything-but": {"wildcard": ""}}]},
    {"a": [{"anything-but": {"wildcard": ["foo*bar", "*foobar*"]}}]},
    {"a": [{"exactly": "child"}]},
    {"a": [{"exists": True}]},
    {"a": [{"exists": False}]},
    {"a": [{"cidr": "10.0.0.0/8"}]},
    {"a": [{"equals-ignore-case": "abc"}]},
    {"a": [{"wildcard": "a*b*c"}]},
]
BAD_PATTERNS = [
    [1, 2, 3],
    {"a": 1},
    {"a": [{"x": 2}]},
    {"foo": {}},
    {"foo": []},
    {"a": [{"exactly": 33}]},
    {"a": [{"prefix": "child", "foo": []}]},
    {"a": [{"prefix": 3}]},
    {"a": [{"suffix": 3}]},
    {"a": [{"foo": "child"}]},
    {"a": [{"cidr": "foo"}]},
    {"a": [{"anything-but": "child", "foo": []}]},
    {"a": [{"anything-but": ["child0", 111, "child2"]}]},
    {"a": [{"anything-but": {"foo": 3}}]},
    {"a": [{"anything-but": {"prefix": 27}}]},
    {"a": [{"anything-but": {"prefix": ""}}]},
    {"a": [{"anything-but": {"prefix": "foo", "a": 1}}]},
    {"a": [{"anything-but": {"prefix": "foo"}, "x": 1}]},
    {"a": [{"anything-but": {"prefix": ["1", ""]}}]},
    {"a": [{"anything-but": {"prefix": [1, 2, 3]}}]},
    {"a": [{"anything-but": {"suffix": 27}}]},
    {"a": [{"anything-but": {"suffix": ""}}]},
    {"a": [{"anything-but": {"suffix": ["1", ""]}}]},
    {"a": [{"anything-but": {"equals-ignore-case": [1, 2, 3]}}]},
    {"a": [{"anything-but": {"wildcard": 27}}]},
    {"a": [{"anything-but": {"wildcard": "foo**bar"}}]},
    {"a": [{"anything-but": {"wildcard": "foo*bar\\"}}]},
    {"a": [{"anything-but": {"wildcard": ["1", "foo**bar"]}}]},
    {"a": [{"anything-but": {"wildcard": [1, 2, 3]}}]},
    {"a": [{"equals-ignore-case": 5}]},
    {"a": [{"equals-ignore-case": ["abc"]}]},
    {"a": [{"prefix": {"invalid-expression": ["abc"]}}]},
    {"a": [{"prefix": {"equals-ignore-case": 5}}]},
    {"a": [{"prefix": {"equals-ignore-case": ["abc"]}}]},
    {"a": [{"prefix": {"equals-ignore-case": "abc", "test": "def"}}]},
    {"a": [{"prefix": {"equals-ignore-case": "abc"}, "test": "def"}]},
    {"a": [{"suffix": {"invalid-expression": ["abc"]}}]},
    {"a": [{"suffix": {"equals-ignore-case": 5}}]},
    {"a": [{"wildcard": 5}]},
    {"a": [{"wildcard": ["abc"]}]},
    {"key": [{"wildcard": "abc**def"}]},
    {"key": [{"wildcard": "a*c\\def"}]},
    {"x": [{"exists": "badString"}]},
    {"x": [{"exists": True, "extraKey": "extraValue"}]},
]


@pytest.mark.parametrize("pattern", GOOD_PATTERNS, ids=json.dumps)
def test_ruler_good_patterns(pattern: dict[str, Any]) -> None:
    # Given a pattern Ruler's compiler accepts / When validated / Then no error
    validate(pattern)


@pytest.mark.parametrize("pattern", BAD_PATTERNS, ids=json.dumps)
def test_ruler_bad_patterns(pattern: Any) -> None:
    # Given a pattern Ruler's compiler rejects / When validated / Then InvalidPatternError
    with pytest.raises(InvalidPatternError):
        validate(pattern)


def test_ruler_duplicate_keys_in_pattern_text_are_all_kept() -> None:
    # Given ACMachineTest.intensitiesACTest's rule, which names "points" twice in one object
    rule = '{"lines": {"points": [287.48116291799363], "points": {"pp": ["index0"]}}}'
    event = {
        "lines": [
            {
                "points": [
                    [[{"pp": "index0"}, 483.3474497412421, 287.48116291799363]],
                    [[{"pp": "index1"}, 489.9999497412421, 299.99996291799363]],
                ]
            }
        ]
    }
    # When it is matched / Then both occurrences apply, from the same array element
    assert matches(rule, event) is True
    other_element = json.loads(json.dumps(event).replace('"index0"', '"indexX"'))
    assert matches(rule, other_element) is False


# JsonRuleCompilerTest.java testMoreCaseOfOrRelationshipRules over data/orRelationshipRules.json:
# the field names of each sub-rule Ruler compiles the "$or" rules into.
OR_RULES: list[tuple[dict[str, Any], list[list[str]]]] = [
    (
        {"$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}]},
        [["metricName"], ["namespace"]],
    ),
    (
        {
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
            "detail": {
                "$or": [
                    {"source": ["aws.cloudwatch"]},
                    {"detail-type": ["CloudWatch Alarm State Change"]},
                ]
            },
        },
        [
            ["detail.source", "metricName"],
            ["detail.source", "namespace"],
            ["detail.detail-type", "metricName"],
            ["detail.detail-type", "namespace"],
        ],
    ),
    (
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization"]},
                {
                    "metricType": ["MetricType"],
                    "namespace": ["AWS/EC2"],
                    "$or": [{"metricId": [1234]}, {"spaceId": [1000]}],
                },
                {"scope": ["Service"]},
            ],
        },
        [
            ["metricName", "source"],
            ["metricId", "metricType", "namespace", "source"],
            ["metricType", "namespace", "source", "spaceId"],
            ["scope", "source"],
        ],
    ),
    (
        {
            "source": ["aws.cloudwatch"],
            "detail": {"state": {"value": ["ALARM"]}},
            "$or": [
                {
                    "withConfiguration": {
                        "metrics": {"metricStat": {"metric": {"namespace": ["x"]}}}
                    }
                },
                {"withoutConfiguration": {"metric": {"name": ["AWS/Default"]}}},
            ],
        },
        [
            [
                "detail.state.value",
                "source",
                "withConfiguration.metrics.metricStat.metric.namespace",
            ],
            ["detail.state.value", "source", "withoutConfiguration.metric.name"],
        ],
    ),
]


@pytest.mark.parametrize(("pattern", "expected"), OR_RULES)
def test_ruler_or_expansion(pattern: dict[str, Any], expected: list[list[str]]) -> None:
    # Given a pattern with "$or" / When compiled / Then it has Ruler's sub-rules, field for field
    assert [sorted(subrule) for subrule in compile_subrules(pattern)] == expected

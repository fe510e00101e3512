"""The template's patterns applied to events, with localbus's EventBridge pattern engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ordersctl.routes import Rule


def matches(pattern: Any, event: dict[str, Any]) -> bool:
    from localbus.patterns import matches as pattern_matches

    return bool(pattern_matches(pattern, event))


def rule_matches(rule: Rule, event: dict[str, Any]) -> bool:
    """Whether an enabled rule with a pattern selects the event."""
    return rule.state == "ENABLED" and bool(rule.pattern) and matches(rule.pattern, event)


def filters_pass(filters: Sequence[Any], event: dict[str, Any]) -> bool:
    """A pipe filter sees the SQS record, the event JSON parsed under `body`."""
    return not filters or any(matches(pattern, {"body": event}) for pattern in filters)

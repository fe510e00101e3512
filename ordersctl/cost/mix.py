"""The order mix: which sample orders stand for which share of the orders, and the assumed shares.

Every OrderCreated of the sample file stands for a share of the orders. An order is *high-value*
when a rule sends it to a pipe's source queue, and *new-account* when that pipe's filter lets its
SQS record ``{"body": event}`` through; the shares of both come from the file, or from ``--mix``.
The file's other events (OrderCancelled) count per order as often as they appear in it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ordersctl.cost.events import ORDER_CANCELLED, ORDER_CREATED
from ordersctl.cost.matching import filters_pass, rule_matches
from ordersctl.errors import InputError
from ordersctl.routes import RouteModel

MIX_KEYS = (
    "high-value",
    "new-account",
    "cancelled",
    "shortage",
    "high-risk",
    "high-risk-established",
)

Sample = tuple[dict[str, Any], str | None]  # (event, bus it is put on)
Weighted = tuple[dict[str, Any], float, str | None]  # (event, weight, bus)


@dataclass
class Mix:
    """The orders one order stands for, with weights that sum to 1, and the assumed shares."""

    source: str
    orders: list[Weighted]
    extras: list[Weighted]  # other producer events, per order
    high_value: float | None
    new_account: float | None
    cancelled: float
    shortage: float
    high_risk: float
    high_risk_established: float
    new_account_filters: list[Any] = field(default_factory=list)

    def is_new_account(self, event: dict[str, Any]) -> bool:
        """Whether the designed pipe filter lets this event's SQS record through."""
        return filters_pass(self.new_account_filters, event)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "high_value_share": self.high_value,
            "new_account_share_of_high_value": self.new_account,
            "cancellations_per_order": self.cancelled,
            "shortage_share": self.shortage,
            "high_risk_share_new_accounts": self.high_risk,
            "high_risk_share_established_accounts": self.high_risk_established,
        }

    def text(self) -> str:
        """The mix in one sentence, as the reports state it."""
        parts = []
        if self.high_value is not None:
            parts.append(f"{self.high_value:.1%} of orders high-value")
            parts.append(f"{self.new_account:.1%} of those from new accounts")
        parts += [
            f"{self.cancelled:.2f} cancellations per order",
            f"{self.shortage:.1%} short of stock",
            f"{self.high_risk:.0%} of scored new-account orders rated high risk "
            f"({self.high_risk_established:.0%} of established ones, naive flow only)",
        ]
        return ", ".join(parts) + "."


def parse_mix_options(options: Iterable[str]) -> dict[str, float]:
    """`--mix high-value=0.05` options as a dict; shares in [0, 1], cancelled >= 0."""
    parsed: dict[str, float] = {}
    for option in options:
        key, sep, value = option.partition("=")
        key = key.strip()
        if not sep or key not in MIX_KEYS:
            raise InputError(f"--mix {option!r}: expected KEY=VALUE with KEY one of {MIX_KEYS}")
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"--mix {option!r}: {value!r} is not a number") from None
        upper = math.inf if key == "cancelled" else 1.0
        if not 0.0 <= number <= upper or math.isnan(number):
            raise InputError(f"--mix {option!r}: {key} must be between 0 and {upper:g}")
        parsed[key] = number
    return parsed


# What each class of order is called when the sample file has none to stand for its share.
_WORDING = {
    "low": "order below the high-value rule",
    "new": "high-value order from a new account",
    "established": "high-value order from an established account",
}


def build_mix(
    samples: Sequence[Sample],
    model: RouteModel,
    overrides: dict[str, float],
    defaults: dict[str, Any],
    source: str,
) -> Mix:
    """Weights for the sample orders so the shares are the file's, or the overrides."""
    created = [(event, bus) for event, bus in samples if event.get("detail-type") == ORDER_CREATED]
    if not created:
        raise InputError(f"{source} has no OrderCreated event to stand for an order")
    gate = _gate_pipe(model)
    if gate is None:
        if {"high-value", "new-account"} & set(overrides):
            raise InputError("--mix high-value/new-account: the template has no pipe to gate on")
        orders = [(event, 1 / len(created), bus) for event, bus in created]
        high_value = new_account = None
        filters: list[Any] = []
    else:
        queue, filters = gate
        classes: dict[str, list[Sample]] = {"low": [], "new": [], "established": []}
        for event, bus in created:
            if not _reaches_queue(model, event, queue):
                classes["low"].append((event, bus))
            elif filters_pass(filters, event):
                classes["new"].append((event, bus))
            else:
                classes["established"].append((event, bus))
        high = len(classes["new"]) + len(classes["established"])
        high_value = overrides.get("high-value", high / len(created))
        new_account = overrides.get("new-account", len(classes["new"]) / high if high else 0.0)
        shares = {
            "low": 1 - high_value,
            "new": high_value * new_account,
            "established": high_value * (1 - new_account),
        }
        orders = []
        for name, members in classes.items():
            if shares[name] > 0 and not members:
                raise InputError(
                    f"{source} has no {_WORDING[name]} to stand for a share of {shares[name]:.3g}:"
                    " add one, or change --mix"
                )
            orders += [(event, shares[name] / len(members), bus) for event, bus in members]
    others: dict[str, list[Sample]] = defaultdict(list)
    for event, bus in samples:
        if event.get("detail-type") != ORDER_CREATED:
            others[str(event.get("detail-type"))].append((event, bus))
    cancelled = overrides.get("cancelled", len(others.get(ORDER_CANCELLED, [])) / len(created))
    if cancelled > 0 and not others.get(ORDER_CANCELLED):
        raise InputError(f"--mix cancelled={cancelled:g}: {source} has no OrderCancelled event")
    extras = []
    for detail_type, members in others.items():
        per_order = cancelled if detail_type == ORDER_CANCELLED else len(members) / len(created)
        extras += [(event, per_order / len(members), bus) for event, bus in members]
    return Mix(
        source=source,
        orders=orders,
        extras=extras,
        high_value=high_value,
        new_account=new_account,
        cancelled=cancelled,
        shortage=overrides.get("shortage", float(defaults["shortage"])),
        high_risk=overrides.get("high-risk", float(defaults["high-risk"])),
        high_risk_established=overrides.get(
            "high-risk-established", float(defaults["high-risk-established"])
        ),
        new_account_filters=filters,
    )


def _gate_pipe(model: RouteModel) -> tuple[str, list[Any]] | None:
    """(source queue, filters) of the first pipe fed by a rule: the high-value gate."""
    targeted = {t.resource.logical_id for rule in model.rules for t in rule.targets if t.resource}
    for pipe in model.pipes:
        if pipe.source and pipe.source.logical_id in targeted:
            return pipe.source.logical_id, list(pipe.filters)
    return None


def _reaches_queue(model: RouteModel, event: dict[str, Any], queue: str) -> bool:
    return any(
        rule_matches(rule, event)
        for rule in model.rules
        if any(t.resource and t.resource.logical_id == queue for t in rule.targets)
    )

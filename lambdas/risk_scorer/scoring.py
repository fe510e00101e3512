"""Deterministic fraud-risk rules for an OrderCreated detail.

Each rule that matches adds its points; the score is the sum, capped at 100. Where two rules
measure the same signal, only the stronger one counts (VERY_HIGH_VALUE replaces HIGH_VALUE,
BRAND_NEW_ACCOUNT replaces NEW_ACCOUNT, DISPOSABLE_EMAIL replaces FREE_MAIL_EMAIL).

============================  ===========================================================  ======
code                          matches when                                                 points
============================  ===========================================================  ======
VERY_HIGH_VALUE               total >= 5 x HIGH_VALUE_THRESHOLD                                40
HIGH_VALUE                    total >= HIGH_VALUE_THRESHOLD                                    25
BRAND_NEW_ACCOUNT             accountAgeDays == 0 (account opened today)                       30
NEW_ACCOUNT                   accountAgeDays < NEW_ACCOUNT_MAX_AGE_DAYS                        20
COUNTRY_MISMATCH              billingAddress.country != shippingAddress.country                25
DISPOSABLE_EMAIL              e-mail domain is a known disposable-mail service                 30
FREE_MAIL_EMAIL               e-mail domain is a free webmail provider                          5
MANY_SKUS                     >= 10 distinct SKUs in the order                                 10
BULK_QUANTITY                 >= 10 units of one SKU (summed over the order's lines)           10
============================  ===========================================================  ======

Risk level: ``low`` below 40, ``medium`` below 70, ``high`` from 70 (the fraud-alert rule
fires on ``high``). Totals are compared in the order's own currency, as the risk-review rule
compares them. HIGH_VALUE_THRESHOLD and NEW_ACCOUNT_MAX_AGE_DAYS come from the environment
(stage config); the other thresholds are the constants below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VERY_HIGH_VALUE_MULTIPLIER = 5
MANY_SKUS_MIN = 10
BULK_QUANTITY_MIN = 10
MAX_SCORE = 100
MEDIUM_FROM = 40
HIGH_FROM = 70
# Not a score: the record could not be read or scored (risk_scorer.enrichment).
UNSCORABLE = "unscorable"

FREE_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "gmail.com",
        "gmx.com",
        "gmx.net",
        "googlemail.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mail.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "yahoo.com",
        "yandex.com",
    }
)
DISPOSABLE_MAIL_DOMAINS = frozenset(
    {
        "10minutemail.com",
        "dispostable.com",
        "getnada.com",
        "guerrillamail.com",
        "mailinator.com",
        "sharklasers.com",
        "temp-mail.org",
        "trashmail.com",
        "yopmail.com",
    }
)


@dataclass(frozen=True)
class RiskRules:
    high_value_threshold: float
    new_account_max_age_days: int


@dataclass(frozen=True)
class Reason:
    code: str
    description: str
    points: int


@dataclass(frozen=True)
class RiskAssessment:
    score: int
    level: str
    reasons: tuple[Reason, ...]


def risk_level(score: int) -> str:
    if score < MEDIUM_FROM:
        return "low"
    if score < HIGH_FROM:
        return "medium"
    return "high"


def assess(order: Mapping[str, Any], rules: RiskRules) -> RiskAssessment:
    """Score a schema-valid OrderCreated detail."""
    reasons = [
        reason
        for reason in (
            _order_value(order, rules),
            _account_age(order, rules),
            _country_mismatch(order),
            _email_domain(order),
            _many_skus(order),
            _bulk_quantity(order),
        )
        if reason is not None
    ]
    score = min(MAX_SCORE, sum(reason.points for reason in reasons))
    return RiskAssessment(score, risk_level(score), tuple(reasons))


def _order_value(order: Mapping[str, Any], rules: RiskRules) -> Reason | None:
    total, currency = order["total"], order["currency"]
    very_high = rules.high_value_threshold * VERY_HIGH_VALUE_MULTIPLIER
    if total >= very_high:
        return Reason(
            "VERY_HIGH_VALUE", f"Order total {total:g} {currency} is at least {very_high:g}", 40
        )
    if total >= rules.high_value_threshold:
        return Reason(
            "HIGH_VALUE",
            f"Order total {total:g} {currency} is at least {rules.high_value_threshold:g}",
            25,
        )
    return None


def _account_age(order: Mapping[str, Any], rules: RiskRules) -> Reason | None:
    age = order["customer"]["accountAgeDays"]
    if age == 0:
        return Reason("BRAND_NEW_ACCOUNT", "Customer account was opened today", 30)
    if age < rules.new_account_max_age_days:
        return Reason(
            "NEW_ACCOUNT",
            f"Customer account is {age} days old (new below {rules.new_account_max_age_days})",
            20,
        )
    return None


def _country_mismatch(order: Mapping[str, Any]) -> Reason | None:
    billing = order["billingAddress"]["country"]
    shipping = order["shippingAddress"]["country"]
    if billing == shipping:
        return None
    return Reason(
        "COUNTRY_MISMATCH",
        f"Billing country {billing} differs from shipping country {shipping}",
        25,
    )


def _email_domain(order: Mapping[str, Any]) -> Reason | None:
    domain = order["customer"]["email"].rsplit("@", 1)[-1].lower()
    if domain in DISPOSABLE_MAIL_DOMAINS:
        return Reason(
            "DISPOSABLE_EMAIL", f"E-mail domain {domain} is a disposable-mail service", 30
        )
    if domain in FREE_MAIL_DOMAINS:
        return Reason("FREE_MAIL_EMAIL", f"E-mail domain {domain} is a free webmail provider", 5)
    return None


def _many_skus(order: Mapping[str, Any]) -> Reason | None:
    distinct = len({line["sku"] for line in order["items"]})
    if distinct < MANY_SKUS_MIN:
        return None
    return Reason("MANY_SKUS", f"Order has {distinct} distinct SKUs", 10)


def _bulk_quantity(order: Mapping[str, Any]) -> Reason | None:
    per_sku: dict[str, int] = {}
    for line in order["items"]:
        per_sku[line["sku"]] = per_sku.get(line["sku"], 0) + line["quantity"]
    sku, quantity = max(per_sku.items(), key=lambda pair: pair[1])
    if quantity < BULK_QUANTITY_MIN:
        return None
    return Reason("BULK_QUANTITY", f"Order asks for {quantity} units of {sku}", 10)

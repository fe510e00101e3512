"""risk_scorer.scoring: the documented rules, their points, caps and boundaries (pure)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from risk_scorer.scoring import RiskRules, assess, risk_level

ROOT = Path(__file__).resolve().parents[2]
RULES = RiskRules(high_value_threshold=1000, new_account_max_age_days=30)


def sample_order(name: str) -> dict[str, Any]:
    [entry] = json.loads((ROOT / "events" / name).read_text())
    return json.loads(entry["Detail"])


@pytest.fixture
def ordinary() -> dict[str, Any]:
    return sample_order("order-created.json")


def codes(order: dict[str, Any]) -> list[str]:
    return [reason.code for reason in assess(order, RULES).reasons]


def test_ordinary_order_from_an_established_customer_is_low_risk(ordinary: dict) -> None:
    # Given the ordinary sample (842-day account, 92.30 EUR, same country, business domain)
    # When it is scored
    assessment = assess(ordinary, RULES)

    # Then no rule matches
    assert (assessment.score, assessment.level, assessment.reasons) == (0, "low", ())


def test_high_risk_sample_scores_high_with_every_reason_listed() -> None:
    # Given the high-risk sample: 2394.80 USD, 3-day account, US billing / NL shipping,
    # 12 distinct SKUs, a gmail.com address
    order = sample_order("order-created-high-risk.json")

    # When it is scored
    assessment = assess(order, RULES)

    # Then the reasons add up: 25 + 20 + 25 + 5 + 10 = 85, high
    assert [(r.code, r.points) for r in assessment.reasons] == [
        ("HIGH_VALUE", 25),
        ("NEW_ACCOUNT", 20),
        ("COUNTRY_MISMATCH", 25),
        ("FREE_MAIL_EMAIL", 5),
        ("MANY_SKUS", 10),
    ]
    assert (assessment.score, assessment.level) == (85, "high")
    assert (
        assessment.reasons[2].description == "Billing country US differs from shipping country NL"
    )


@pytest.mark.parametrize(
    ("total", "expected"),
    [(999.99, []), (1000, ["HIGH_VALUE"]), (4999.99, ["HIGH_VALUE"]), (5000, ["VERY_HIGH_VALUE"])],
)
def test_order_value_rules_start_at_the_threshold(
    ordinary: dict, total: float, expected: list
) -> None:
    # Given the ordinary order with another total
    ordinary["total"] = total
    # When scored, Then the value rule matches from the threshold (inclusive), 5x for very high
    assert codes(ordinary) == expected


@pytest.mark.parametrize(
    ("age", "expected", "points"),
    [
        (0, ["BRAND_NEW_ACCOUNT"], 30),
        (1, ["NEW_ACCOUNT"], 20),
        (29, ["NEW_ACCOUNT"], 20),
        (30, [], 0),
    ],
)
def test_account_age_rules(ordinary: dict, age: int, expected: list, points: int) -> None:
    # Given the ordinary order from an account of the given age
    ordinary["customer"]["accountAgeDays"] = age
    # When scored, Then new means younger than NEW_ACCOUNT_MAX_AGE_DAYS, 0 days scores more
    assert codes(ordinary) == expected
    assert assess(ordinary, RULES).score == points


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("someone@mailinator.com", ["DISPOSABLE_EMAIL"]),
        ("someone@GMAIL.com", ["FREE_MAIL_EMAIL"]),
        ("someone@example.com", []),
    ],
)
def test_email_domain_rules(ordinary: dict, email: str, expected: list) -> None:
    ordinary["customer"]["email"] = email
    assert codes(ordinary) == expected


def test_many_skus_counts_distinct_skus_from_ten(ordinary: dict) -> None:
    # Given nine distinct SKUs, then ten
    ordinary["items"] = [{"sku": f"SKU-{n:03d}", "quantity": 1, "unitPrice": 1.0} for n in range(9)]
    nine = codes(ordinary)
    ordinary["items"].append({"sku": "SKU-009", "quantity": 1, "unitPrice": 1.0})
    # Then only ten or more matches
    assert (nine, codes(ordinary)) == ([], ["MANY_SKUS"])


def test_bulk_quantity_sums_lines_of_the_same_sku(ordinary: dict) -> None:
    # Given 9 units of one SKU split over two lines, then 10
    ordinary["items"] = [
        {"sku": "CABLE-USBC-2M", "quantity": 5, "unitPrice": 14.9},
        {"sku": "CABLE-USBC-2M", "quantity": 4, "unitPrice": 14.9},
    ]
    nine = codes(ordinary)
    ordinary["items"][1]["quantity"] = 5
    # Then 10 units of one SKU matches and the description names it
    assert (nine, codes(ordinary)) == ([], ["BULK_QUANTITY"])
    assert (
        assess(ordinary, RULES).reasons[0].description == "Order asks for 10 units of CABLE-USBC-2M"
    )


def test_score_is_capped_at_100(ordinary: dict) -> None:
    # Given every rule matching: 40 + 30 + 25 + 30 + 10 + 10 = 145 points
    order = copy.deepcopy(ordinary)
    order["total"] = 9000
    order["customer"].update(accountAgeDays=0, email="x@yopmail.com")
    order["shippingAddress"]["country"] = "NL"
    order["items"] = [{"sku": f"SKU-{n:03d}", "quantity": 10, "unitPrice": 90.0} for n in range(10)]
    # When scored, Then the score stops at 100 and every reason is still listed
    assessment = assess(order, RULES)
    assert sum(r.points for r in assessment.reasons) == 145
    assert (assessment.score, assessment.level) == (100, "high")


@pytest.mark.parametrize(
    ("score", "level"), [(0, "low"), (39, "low"), (40, "medium"), (69, "medium"), (70, "high")]
)
def test_risk_level_boundaries(score: int, level: str) -> None:
    assert risk_level(score) == level


def test_thresholds_come_from_the_rules_not_constants(ordinary: dict) -> None:
    # Given a stage with a lower value threshold and a longer "new account" window
    ordinary["total"] = 300
    ordinary["customer"]["accountAgeDays"] = 60
    strict = RiskRules(high_value_threshold=250, new_account_max_age_days=90)
    # When scored with those rules, Then both rules match
    assert [r.code for r in assess(ordinary, strict).reasons] == ["HIGH_VALUE", "NEW_ACCOUNT"]

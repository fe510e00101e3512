"""risk_scorer.handler (the pipe enrichment) under schema-generated OrderCreated batches.

Valid batches come back as one schema-valid OrderRiskAssessed per record, in order, with a
score in 0..100 and the level the schema's description gives that score. A batch with one
unreadable record fails whole with InvalidEventError naming the record and the broken path.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import (
    Function,
    eventbridge_event,
    fuzz_settings,
    schema_errors,
    sqs_record,
)
from tests.fuzz.strategies import invalid_detail, load_schema, valid_detail

VALID_ORDERS = valid_detail("OrderCreated")
INVALID_ORDERS = invalid_detail("OrderCreated")


def level_bounds() -> tuple[list[tuple[str, int]], str]:
    """The levels and their upper bounds as OrderRiskAssessed's schema states them
    ("low: score < 40, medium: score < 70, high: otherwise")."""
    text = load_schema("OrderRiskAssessed")["properties"]["riskLevel"]["description"]
    bounded = [(level, int(bound)) for level, bound in re.findall(r"(\w+): score < (\d+)", text)]
    [otherwise] = re.findall(r"(\w+): otherwise", text)
    return bounded, otherwise


def expected_level(score: int) -> str:
    bounded, otherwise = level_bounds()
    return next((level for level, bound in bounded if score < bound), otherwise)


def record_of(index: int, detail_type: str, detail: Any) -> dict[str, Any]:
    event = eventbridge_event(detail_type, detail, event_id=f"evt-{index}")
    return sqs_record(json.dumps(event), f"m-{index}")


@st.composite
def batch_with_one_bad_record(draw: st.DrawFn) -> tuple[list[dict[str, Any]], int, str]:
    """Valid records around one that cannot be scored; returns (batch, its index, the path
    its error must name)."""
    orders = draw(st.lists(VALID_ORDERS, min_size=1, max_size=4))
    batch = [record_of(i, "OrderCreated", order) for i, order in enumerate(orders)]
    bad = draw(st.integers(0, len(batch)))
    kind = draw(st.sampled_from(["bad-detail", "other-type", "not-json", "no-body"]))
    if kind == "bad-detail":
        sample = draw(INVALID_ORDERS)
        record, path = record_of(bad, "OrderCreated", sample.instance), sample.defect.dotted()
    elif kind == "other-type":
        cancelled = draw(valid_detail("OrderCancelled"))
        record, path = record_of(bad, "OrderCancelled", cancelled), "event.detail-type"
    elif kind == "not-json":
        record, path = (
            sqs_record(draw(st.sampled_from(["", "{", "ORD-1", "[1,"])), f"m-{bad}"),
            "body",
        )
    else:
        record = record_of(bad, "OrderCreated", orders[0])
        del record["body"]
        path = "record.body"
    batch.insert(bad, record)
    for index, item in enumerate(batch):  # message ids follow positions after the insert
        item["messageId"] = f"m-{index}"
    return batch, bad, path


@fuzz_settings(max_examples=30)
@given(orders=st.lists(VALID_ORDERS, min_size=1, max_size=5))
def test_every_valid_order_gets_one_consistent_assessment(
    risk_scorer: Function, orders: list[dict[str, Any]]
) -> None:
    # Given a pipe batch of schema-valid orders
    batch = [record_of(i, "OrderCreated", order) for i, order in enumerate(orders)]

    # When the enrichment scores it
    assessed = risk_scorer(batch)

    # Then there is one schema-valid assessment per record, in order, whose score is the sum of
    # its reasons' points capped at 100 and whose level is the one the schema gives the score
    assert [a["orderId"] for a in assessed] == [order["orderId"] for order in orders]
    for order, assessment in zip(orders, assessed, strict=True):
        assert schema_errors("OrderRiskAssessed", assessment) == []
        assert 0 <= assessment["riskScore"] <= 100
        assert assessment["riskScore"] == min(100, sum(r["points"] for r in assessment["reasons"]))
        assert assessment["riskLevel"] == expected_level(assessment["riskScore"])
        assert (assessment["total"], assessment["currency"]) == (order["total"], order["currency"])
        assert assessment["customerId"] == order["customer"]["customerId"]


@fuzz_settings(max_examples=40)
@given(case=batch_with_one_bad_record())
def test_a_record_that_cannot_be_scored_is_unscorable_naming_record_and_path(
    risk_scorer: Function, case: tuple[list[dict[str, Any]], int, str]
) -> None:
    batch, bad, path = case

    # Given a pipe batch with one record that is not a schema-valid OrderCreated
    # When the enrichment reads it
    assessed = risk_scorer(batch)

    # Then every record gets a schema-valid assessment, in order; the bad one is unscorable,
    # its reason naming the record and the broken path (a detail without a usable orderId is
    # refused by the envelope check, under event.detail); the others are scored
    assert len(assessed) == len(batch)
    for index, assessment in enumerate(assessed):
        assert schema_errors("OrderRiskAssessed", assessment) == []
        assert (assessment["riskLevel"] == "unscorable") == (index == bad)
    reason = assessed[bad]["unscorable"]["reason"]
    assert assessed[bad]["unscorable"]["messageId"] == f"m-{bad}"
    assert reason.startswith(f"record {bad} (messageId m-{bad}): "), reason
    assert re.search(rf" is invalid at (event\.)?{re.escape(path)}: ", reason), (path, reason)


# (refused before any metric is added: Powertools warns that there are none to publish)
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize("batch", [{}, "[]", None, 7])
def test_input_that_is_not_an_array_is_named(risk_scorer: Function, batch: Any) -> None:
    # Given pipe input that is not a JSON array, When the enrichment reads it
    with pytest.raises(risk_scorer.invalid_event_error, match="is invalid at input: "):
        risk_scorer(batch)

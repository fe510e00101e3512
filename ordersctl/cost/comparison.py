"""This design beside the same flow built naively, and what undoing each design choice costs.

The naive flow is the same template with x86 functions, no pipe filter, batches of one and
every function's tracing Active.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ordersctl.cost.bill import CodeFolders, Estimate, estimate
from ordersctl.cost.events import Schemas
from ordersctl.cost.mix import Mix, Sample, build_mix
from ordersctl.cost.prices import PriceList
from ordersctl.paths import find_project_dir
from ordersctl.routes import ESM, FUNCTION, PIPE, RouteModel, build_model

CHOICES = ("arm64", "pipe filter", "batching", "pass-through tracing")
SERVICE_ORDER = (
    "EventBridge",
    "EventBridge Pipes",
    "Lambda",
    "SQS",
    "SNS",
    "DynamoDB",
    "CloudWatch Logs",
    "CloudWatch metrics",
    "X-Ray",
    "KMS",
)


def naive_template(template: dict[str, Any], undo: Iterable[str] = CHOICES) -> dict[str, Any]:
    """The same flow built naively: x86 functions, no pipe filter, one record per invocation,
    every traced function sampling for itself (Active) instead of passing producers' traces on.

    `undo` picks which of the design choices (CHOICES) to take back; all of them by default.
    """
    undo = set(undo)
    naive = copy.deepcopy(template)
    for resource in (naive.get("Resources") or {}).values():
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        kind = resource.get("Type")
        if kind == FUNCTION and "arm64" in undo:
            props["Architectures"] = ["x86_64"]
        if kind == FUNCTION and "pass-through tracing" in undo and "TracingConfig" in props:
            props["TracingConfig"] = {"Mode": "Active"}
        elif kind == ESM and "batching" in undo:
            _one_record_per_batch(props)
        elif kind == PIPE:
            source = props.setdefault("SourceParameters", {})
            if "pipe filter" in undo:
                source.pop("FilterCriteria", None)
            sqs = source.get("SqsQueueParameters")
            if isinstance(sqs, dict) and "batching" in undo:
                _one_record_per_batch(sqs)
    return naive


def _one_record_per_batch(parameters: dict[str, Any]) -> None:
    parameters["BatchSize"] = 1
    parameters.pop("MaximumBatchingWindowInSeconds", None)


@dataclass
class Report:
    """The design's and the naive flow's estimates for the same orders and mix."""

    orders: float
    prices: PriceList
    mix: Mix
    design: Estimate
    naive: Estimate
    model: RouteModel
    choice_costs: dict[str, float] = field(default_factory=dict)  # monthly cost of undoing one
    # Monthly change if the functions traced Active here passed producers' traces on instead
    # (None: nothing is traced Active). What the prod stage's tracing choice is worth.
    pass_through_change: float | None = None

    @property
    def service_names(self) -> list[str]:
        names = set(self.design.services) | set(self.naive.services)
        return sorted(names, key=lambda n: (*SERVICE_ORDER, n).index(n))

    def consumer_label(self, key: str) -> str:
        """`pipe <name>`, or `<function> (SQS <queue>)` for an event source mapping."""
        consumer = self.design.flow.consumers.get(key) or self.naive.flow.consumers[key]
        if consumer.kind == "pipe":
            return f"pipe {self.model.resource(key).name}"
        function = self.model.resource(consumer.function).label if consumer.function else key
        return f"{function} (SQS {self.model.resource(consumer.queue).label})"

    def notes(self) -> list[str]:
        return list(dict.fromkeys([*self.design.flow.notes, *self.naive.flow.notes]))


def compare(
    template: dict[str, Any],
    stack_name: str,
    *,
    orders: float,
    prices: PriceList,
    samples: Sequence[Sample],
    samples_source: str,
    overrides: dict[str, float],
    schemas: Schemas,
    code: CodeFolders | None = None,
) -> Report:
    """The design and its naive twin for `orders` orders a month. `code`: where the functions'
    code is (their custom metrics are read from it); by default the project's lambdas/."""
    code = code or CodeFolders(project=find_project_dir("lambdas"))
    model = build_model(template, stack_name)
    mix = build_mix(samples, model, overrides, prices.assumptions["mix"], samples_source)

    def estimate_of(variant: dict[str, Any], variant_model: RouteModel | None = None) -> Estimate:
        variant_model = variant_model or build_model(variant, stack_name)
        return estimate(variant, variant_model, mix, prices, schemas, orders, code)

    design = estimate_of(template, model)
    naive = estimate_of(naive_template(template))
    choice_costs = {
        choice: estimate_of(naive_template(template, undo=[choice])).total - design.total
        for choice in CHOICES
    }
    pass_through = None
    if any(use.tracing == "Active" for use in design.functions.values()):
        pass_through = estimate_of(pass_through_template(template)).total - design.total
    return Report(orders, prices, mix, design, naive, model, choice_costs, pass_through)


def pass_through_template(template: dict[str, Any]) -> dict[str, Any]:
    """The same flow with every Active-traced function in PassThrough (the prod stage's mode)."""
    variant = copy.deepcopy(template)
    for resource in (variant.get("Resources") or {}).values():
        props = resource.get("Properties")
        if (
            resource.get("Type") == FUNCTION
            and isinstance(props, dict)
            and (props.get("TracingConfig") or {}).get("Mode") == "Active"
        ):
            props["TracingConfig"] = {"Mode": "PassThrough"}
    return variant

"""The report as JSON (`ordersctl cost --json`): every line, ratio, function and assumption."""

from __future__ import annotations

from typing import Any

from ordersctl.cost.bill import Estimate, FunctionUse
from ordersctl.cost.comparison import Report
from ordersctl.cost.report import assumptions


def report_json(report: Report) -> dict[str, Any]:
    design, naive = report.design, report.naive
    return {
        "orders_per_month": report.orders,
        "region": report.prices.region,
        "currency": "USD",
        "pricing": {"file": str(report.prices.path), "retrieved": report.prices.retrieved},
        "services": _services(design),
        "total": round(design.total, 6),
        "per_million_orders": round(design.per_million(design.total), 6),
        "fixed_monthly": round(design.fixed, 6),
        "naive": {
            "description": "x86 functions, no pipe filter, one record per invocation",
            "services": _services(naive),
            "total": round(naive.total, 6),
            "per_million_orders": round(naive.per_million(naive.total), 6),
            "fixed_monthly": round(naive.fixed, 6),
        },
        "ratios": _ratios(report),
        "pass_through_tracing_change": (
            None if report.pass_through_change is None else round(report.pass_through_change, 6)
        ),
        "cost_of_undoing_one_choice": {
            choice: {
                "monthly": round(extra, 6),
                "share_of_design": round(extra / design.total, 6) if design.total else None,
            }
            for choice, extra in report.choice_costs.items()
        },
        "functions": {
            use.label: {
                "design": _function(use),
                "naive": _function(naive.functions[lid]),
            }
            for lid, use in design.functions.items()
        },
        "flow": {
            "events_per_order": _rounded(design.flow.events),
            "rule_matches_per_order": _rounded(design.flow.rules),
            "consumers": _consumers(report),
            "naive_events_per_order": _rounded(naive.flow.events),
        },
        "mix": report.mix.describe(),
        "assumptions": assumptions(report),
        "notes": report.notes(),
    }


def _ratios(report: Report) -> dict[str, float | None]:
    design, naive = report.design, report.naive
    arm, x86 = report.prices["lambda.duration_arm64"], report.prices["lambda.duration_x86_64"]

    def ratio(naive_value: float, design_value: float) -> float | None:
        return round(naive_value / design_value, 4) if design_value else None

    ratios: dict[str, float | None] = {
        "total_naive_to_design": ratio(naive.total, design.total),
        "lambda_duration_price_x86_to_arm64": round(x86.usd / arm.usd, 4),
    }
    for name in ("Lambda", "SQS", "EventBridge Pipes", "EventBridge", "X-Ray"):
        key = name.lower().replace(" ", "_") + "_naive_to_design"
        ratios[key] = ratio(naive.monthly(name), design.monthly(name))
    for key, consumer in design.consumers.items():
        label = report.consumer_label(key)
        naive_consumer = naive.consumers.get(key, {})
        if design.flow.consumers[key].kind == "pipe":
            ratios[f"{label}: share passing the filter"] = round(consumer["passing_share"], 4)
        ratios[f"{label}: invocations naive to design"] = ratio(
            naive_consumer.get("invocations", 0.0), consumer["invocations"]
        )
        ratios[f"{label}: records per batch"] = round(consumer["records_per_batch"], 3)
    return ratios


def _consumers(report: Report) -> dict[str, dict[str, Any]]:
    found = {}
    for key in report.design.consumers.keys() | report.naive.consumers.keys():
        found[report.consumer_label(key)] = {
            "design": _rounded(report.design.consumers.get(key, {})),
            "naive": _rounded(report.naive.consumers.get(key, {})),
        }
    return dict(sorted(found.items()))


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 6) for key, value in sorted(values.items())}


def _services(estimate: Estimate) -> dict[str, Any]:
    return {
        name: {
            "monthly": round(service.monthly, 6),
            "per_million_orders": round(estimate.per_million(service.monthly), 6),
            "lines": [
                {
                    "item": line.item,
                    "quantity": round(line.quantity, 6),
                    "unit": line.unit,
                    "price": line.price,
                    "cost": round(line.cost, 6),
                    "fixed": line.fixed,
                }
                for line in service.lines
            ],
        }
        for name, service in estimate.services.items()
    }


def _function(use: FunctionUse) -> dict[str, Any]:
    return {
        "architecture": use.architecture,
        "memory_mb": use.memory_mb,
        "timeout_s": use.timeout_s,
        "tracing": use.tracing,
        "invocations": round(use.invocations, 3),
        "records_per_invocation": round(use.records_per_invocation, 3),
        "assumed_ms_per_invocation": round(use.ms_per_invocation, 3),
        "gb_seconds": round(use.gb_seconds, 3),
    }

"""What every output of the report says (terminal, markdown, JSON): the rows, the highlights,
the assumptions, and how amounts are written."""

from __future__ import annotations

from ordersctl.cost.bill import Estimate
from ordersctl.cost.comparison import Report
from ordersctl.cost.events import json_bytes

SERVICE_HEADERS = [
    "Service",
    "Design $/month",
    "Design $/1M orders",
    "Naive $/month",
    "Naive $/1M orders",
    "Naive ÷ design",
]
FUNCTION_HEADERS = [
    "Function",
    "Arch",
    "MB",
    "Timeout",
    "Invocations",
    "Records/inv.",
    "ms/inv.",
    "Lambda $",
    "Naive inv.",
    "Naive Lambda $",
]


def usd(amount: float) -> str:
    if 0 < abs(amount) < 0.01:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def short_count(value: float) -> str:
    """1234567 -> 1.23M: three significant digits and a k / M / B suffix."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.3g}{suffix}"
    return f"{value:,.3g}"


def times(naive: float, design: float) -> str:
    """naive ÷ design as `1.25x`; `-` when there is nothing to divide by."""
    return f"{naive / design:.2f}x" if design else "-"


def events_text(report: Report) -> str:
    """The design's events per order: `OrderCreated 1, ...`."""
    return ", ".join(f"{k} {v:.3g}" for k, v in sorted(report.design.flow.events.items()))


def service_rows(report: Report) -> list[list[str]]:
    """Service, design $/month, per 1M orders, naive $/month, per 1M orders, naive/design."""
    design, naive = report.design, report.naive
    rows = []
    for name, ours, theirs in [
        *[(name, design.monthly(name), naive.monthly(name)) for name in report.service_names],
        ("Total", design.total, naive.total),
    ]:
        rows.append(
            [
                name,
                usd(ours),
                usd(design.per_million(ours)),
                usd(theirs),
                usd(naive.per_million(theirs)),
                times(theirs, ours),
            ]
        )
    return rows


def function_rows(report: Report) -> list[list[str]]:
    rows = []
    for lid, use in report.design.functions.items():
        naive = report.naive.functions[lid]
        rows.append(
            [
                use.label,
                use.architecture,
                str(use.memory_mb),
                f"{use.timeout_s} s",
                short_count(use.invocations),
                f"{use.records_per_invocation:.2f}",
                f"{use.ms_per_invocation:.0f}",
                usd(_lambda_cost(report.design, use.label)),
                short_count(naive.invocations),
                usd(_lambda_cost(report.naive, use.label)),
            ]
        )
    return rows


def _lambda_cost(estimate: Estimate, label: str) -> float:
    service = estimate.services.get("Lambda")
    if service is None:
        return 0.0
    return sum(line.cost for line in service.lines if line.item.split(" ", 1)[0] == label)


def highlights(report: Report) -> list[str]:
    """What dominates, and what each design choice is worth, in one line each."""
    design, naive = report.design, report.naive
    ranked = sorted(design.services.values(), key=lambda s: s.monthly, reverse=True)
    lines = []
    if ranked and design.total:
        top = ", then ".join(
            f"{s.name} {usd(s.monthly)} ({s.monthly / design.total:.0%})" for s in ranked[:3]
        )
        lines.append(
            f"Largest: {top} of {usd(design.total)}; fixed costs {usd(design.fixed)} a month."
        )
    arm, x86 = report.prices["lambda.duration_arm64"], report.prices["lambda.duration_x86_64"]
    lines.append(
        f"arm64: a GB-second costs {arm.usd / x86.usd:.0%} of x86's ({x86.usd / arm.usd:.2f}x "
        "cheaper) at the same duration."
    )
    for key, consumer in design.consumers.items():
        label = report.consumer_label(key)
        ours, theirs = consumer["invocations"], naive.consumers.get(key, {}).get("invocations", 0)
        if design.flow.consumers[key].kind == "pipe":
            enriched = consumer["records_passing"]
            naive_enriched = naive.consumers.get(key, {}).get("records_passing", 0.0)
            lines.append(
                f"{label}: the filter passes {consumer['passing_share']:.0%} of what its queue "
                f"receives, so {short_count(enriched)} records a month are enriched (naive "
                f"{short_count(naive_enriched)}, {times(naive_enriched, enriched)}); received "
                f"{consumer['records_per_batch']:.2f} at a time, that is {short_count(ours)} "
                "enrichment invocations of "
                f"{enriched / ours if ours else 0:.2f} records (naive {short_count(theirs)}, "
                f"{times(theirs, ours)})."
            )
        else:
            lines.append(
                f"{label}: {consumer['records_per_batch']:.2f} records per invocation; "
                f"{short_count(ours)} invocations a month, naive {short_count(theirs)} "
                f"({times(theirs, ours)})."
            )
    if report.choice_costs and design.total:
        undone = "; ".join(
            f"{choice} +{usd(extra)} ({extra / design.total:+.0%})"
            for choice, extra in report.choice_costs.items()
        )
        lines.append(f"Undoing one choice at a time, per month: {undone}.")
    if report.pass_through_change is not None and design.total:
        change = report.pass_through_change
        sign = "-" if change < 0 else "+"
        lines.append(
            "Tracing: these functions trace Active; PassThrough (the prod stage's choice: only "
            f"what producers sampled is traced) would change the month by {sign}"
            f"{usd(abs(change))} ({change / design.total:+.0%})."
        )
    lines.append(
        f"Naive flow (every choice undone): {usd(naive.total)} a month, "
        f"{times(naive.total, design.total)} this design."
        if design.total
        else "Naive flow: nothing to compare."
    )
    return lines


def assumptions(report: Report) -> list[str]:
    """Every price source and assumption behind the figures, one sentence each."""
    prices, mix = report.prices, report.mix
    a = prices.assumptions
    largest = max((json_bytes(event) for event, _, _ in [*mix.orders, *mix.extras]), default=0)
    lines = [
        f"Prices: {prices.region} on-demand list prices retrieved {prices.retrieved}"
        f" ({prices.path.name}); no free tier, volume tier or discount applied.",
        f"A month is {a['month_hours']} hours; GB means 2^30 bytes.",
        f"Every event is under 64 KB (the largest sample is {largest} bytes), so each is one "
        "billed event, request or publish.",
        f"Order mix from {mix.source}: " + mix.text(),
    ]
    for label, guess in a["functions"].items():
        emf = guess.get("emf_log_bytes_per_invocation", a["emf_log_bytes_per_invocation"])
        lines.append(
            f"Function {label}: {guess['ms_per_invocation']} ms per invocation + "
            f"{guess['ms_per_record']} ms per record, {guess['app_log_bytes_per_record']} B "
            f"of application log per record, {emf} B of EMF metrics per invocation. "
            f"{guess['note']}"
        )
    lines += [
        f"Cold starts: {a['cold_start_share']:.0%} of invocations, {a['init_ms']} ms each. "
        + a["cold_start_note"],
        a["log_note"],
        a["batch_note"],
        a["sqs_poll_note"],
        a["xray_note"],
        a["xray_upstream_note"],
        a["kms_note"],
        custom_metrics(report.design),
        a["custom_metrics_note"],
        a["dynamodb"]["note"],
        a["note"],
        "No failures: no retries, redeliveries or dead-letter traffic.",
    ]
    return lines


def custom_metrics(design: Estimate) -> str:
    """The custom metrics counted, per service, as read from the functions' code."""
    by_service: dict[str, list[str]] = {}
    for service, name in sorted(design.metrics):
        by_service.setdefault(service, []).append(name)
    if not by_service:
        return "Custom metrics: none read from the functions' code."
    listed = "; ".join(f"{service}: {', '.join(names)}" for service, names in by_service.items())
    return f"Custom metrics read from the functions' code ({len(design.metrics)}): {listed}."

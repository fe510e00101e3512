"""ordersctl cost: the bill model follows the synthesized template and prices every line."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ordersctl.cost import (
    PRICING_FILE,
    PriceList,
    Report,
    Schemas,
    compare,
    embedded_block,
    load_samples,
    markdown,
    naive_template,
    register,
)

ROOT = Path(__file__).resolve().parents[2]
STACK = "OrderEvents-dev"
BATCH = ROOT / "events" / "orders-batch.json"
DOCS = ROOT / "docs" / "cost.md"
DEV = json.loads((ROOT / "cdk.json").read_text())["context"]["stages"]["dev"]


@pytest.fixture(scope="module")
def prices() -> PriceList:
    return PriceList.load()


@pytest.fixture(scope="module")
def samples() -> list[tuple[dict[str, Any], str | None]]:
    return load_samples(BATCH)


@pytest.fixture
def cost_app() -> typer.Typer:
    """A local app with only `cost`, wired the way ordersctl/cli.py wires it."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register(app)
    return app


def report_for(
    template: dict[str, Any],
    prices: PriceList,
    samples: list[tuple[dict[str, Any], str | None]],
    orders: float = 1_000_000,
    **overrides: float,
) -> Report:
    return compare(
        template,
        STACK,
        orders=orders,
        prices=prices,
        samples=samples,
        samples_source=str(BATCH),
        overrides={key.replace("_", "-"): value for key, value in overrides.items()},
        schemas=Schemas(ROOT / "schemas"),
    )


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def function_id(template: dict[str, Any], service: str) -> str:
    for lid, resource in resources_of(template, "AWS::Lambda::Function").items():
        variables = resource["Properties"]["Environment"]["Variables"]
        if variables["POWERTOOLS_SERVICE_NAME"] == service:
            return lid
    raise AssertionError(f"no function {service}")


def batch_orders() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(OrderCreated details, OrderCancelled details) of events/orders-batch.json."""
    entries = json.loads(BATCH.read_text())
    created = [json.loads(e["Detail"]) for e in entries if e["DetailType"] == "OrderCreated"]
    cancelled = [json.loads(e["Detail"]) for e in entries if e["DetailType"] == "OrderCancelled"]
    return created, cancelled


def with_batches_of_one(template: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    for pipe in resources_of(changed, "AWS::Pipes::Pipe").values():
        pipe["Properties"]["SourceParameters"]["SqsQueueParameters"]["BatchSize"] = 1
    return changed


# -- the flow read from the template -----------------------------------------------------------


def test_events_per_order_follow_the_rules_and_the_mix(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given the dev template and the sample batch (orders, cancellations, high-value new accounts)
    created, cancelled = batch_orders()
    threshold, max_age = DEV["highValueThreshold"], DEV["newAccountMaxAgeDays"]
    high_value = [order for order in created if order["total"] >= threshold]
    new_accounts = [o for o in high_value if o["customer"]["accountAgeDays"] < max_age]
    shortage = prices.assumptions["mix"]["shortage"]
    high_risk = prices.assumptions["mix"]["high-risk"]

    # When the flow of one order is derived
    report = report_for(template, prices, samples)
    events = report.design.flow.events
    rules = report.design.flow.rules

    # Then each order puts one OrderCreated, the batch's share of cancellations, what the
    # inventory emits, and an OrderRiskAssessed for each high-value new-account order
    assert events["OrderCreated"] == pytest.approx(1)
    assert events["OrderCancelled"] == pytest.approx(len(cancelled) / len(created))
    assert events["InventoryReserved"] == pytest.approx(1 - shortage)
    assert events["InventoryShortage"] == pytest.approx(shortage)
    assert events["OrderRiskAssessed"] == pytest.approx(len(new_accounts) / len(created))
    # And the rules see exactly what their patterns select
    assert rules["risk-review"] == pytest.approx(len(high_value) / len(created))
    assert rules["inventory"] == pytest.approx(1 + len(cancelled) / len(created))
    assert rules["audit-all"] == pytest.approx(sum(events.values()))
    assert rules["fraud-alert"] == pytest.approx(events["OrderRiskAssessed"] * high_risk)
    assert rules["notify-customer"] == pytest.approx(
        1 + events["OrderCancelled"] + events["InventoryShortage"]
    )


def test_pipe_filter_reduces_enrichment_invocations_to_the_passing_fraction(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given the template with pipe batches of one, with and without the pipe's filter
    created, _ = batch_orders()
    high_value = [o for o in created if o["total"] >= DEV["highValueThreshold"]]
    passing = [
        o for o in high_value if o["customer"]["accountAgeDays"] < DEV["newAccountMaxAgeDays"]
    ]
    filtered = with_batches_of_one(template)
    unfiltered = copy.deepcopy(filtered)
    for pipe in resources_of(unfiltered, "AWS::Pipes::Pipe").values():
        del pipe["Properties"]["SourceParameters"]["FilterCriteria"]
    risk_scorer = function_id(template, "risk-scorer")

    # When both are estimated for the same orders
    with_filter = report_for(filtered, prices, samples).design.functions[risk_scorer]
    without = report_for(unfiltered, prices, samples).design.functions[risk_scorer]

    # Then the enrichment runs for the passing fraction of the high-value orders only
    assert with_filter.invocations / without.invocations == pytest.approx(
        len(passing) / len(high_value)
    )
    assert with_filter.invocations == pytest.approx(1_000_000 * len(passing) / len(created))


def test_mix_option_sets_the_share_the_filter_passes(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given a mix of 5% high-value orders, 10% of them from new accounts
    report = report_for(template, prices, samples, high_value=0.05, new_account=0.1)

    # When the pipe's consumer is read
    (pipe,) = [c for k, c in report.design.consumers.items() if k.startswith("RiskReviewPipe")]

    # Then 5% of orders reach the queue and 10% of those pass the filter
    assert pipe["records_received"] == pytest.approx(0.05 * 1_000_000)
    assert pipe["passing_share"] == pytest.approx(0.1)
    assert report.design.flow.events["OrderRiskAssessed"] == pytest.approx(0.005)


def test_batch_size_is_read_from_the_event_source_mapping(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given a copy of the template whose audit mapping takes batches of 5 instead of 10
    smaller = copy.deepcopy(template)
    (mapping,) = resources_of(smaller, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["BatchSize"] == 10
    mapping["Properties"]["BatchSize"] = 5
    audit = function_id(template, "audit")

    # When both are estimated at a volume that fills batches (100M orders a month)
    full = report_for(template, prices, samples, orders=100_000_000).design.functions[audit]
    half = report_for(smaller, prices, samples, orders=100_000_000).design.functions[audit]

    # Then audit handles 10, then 5 records per invocation: twice the invocations
    assert full.records_per_invocation == pytest.approx(10)
    assert half.records_per_invocation == pytest.approx(5)
    assert half.invocations == pytest.approx(2 * full.invocations)


def test_a_mapping_window_is_shared_by_the_pollers_batches(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given the audit mapping with a 20 s window, at a volume where its queue gets about one
    # record a second (1M orders: 2.5 events each)
    windowed = copy.deepcopy(template)
    (mapping,) = resources_of(windowed, "AWS::Lambda::EventSourceMapping").values()
    mapping["Properties"]["MaximumBatchingWindowInSeconds"] = 20
    audit = function_id(template, "audit")
    report = report_for(windowed, prices, samples, orders=1_000_000)
    use = report.design.functions[audit]

    # Then each of Lambda's concurrent batches (5, pricing.json) gathers a fifth of the
    # arrivals over the window: about 3.8 records, not a full batch of 10
    pollers = prices.assumptions["sqs_pollers"]
    rate = use.records / prices.month_seconds
    assert use.records_per_invocation == pytest.approx(rate * 20 / pollers)
    assert 3 < use.records_per_invocation < 4
    # and one ReceiveMessage and one DeleteMessageBatch per batch
    (mapping_id,) = resources_of(windowed, "AWS::Lambda::EventSourceMapping")
    assert report.design.consumers[mapping_id]["batches"] == pytest.approx(use.invocations)


# -- prices follow the template ----------------------------------------------------------------


def test_lambda_duration_cost_is_proportional_to_memory(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given a copy of the template where inventory has twice the memory
    inventory = function_id(template, "inventory")
    bigger = copy.deepcopy(template)
    memory = bigger["Resources"][inventory]["Properties"]["MemorySize"]
    bigger["Resources"][inventory]["Properties"]["MemorySize"] = memory * 2

    # When both are estimated
    before = report_for(template, prices, samples).design
    after = report_for(bigger, prices, samples).design

    # Then inventory's duration cost doubles; its requests and the other functions do not change
    item = "inventory duration (arm64)"
    assert after.line("Lambda", item).cost == pytest.approx(2 * before.line("Lambda", item).cost)
    assert after.line("Lambda", "inventory requests").cost == pytest.approx(
        before.line("Lambda", "inventory requests").cost
    )
    for other in ("audit duration (arm64)", "risk-scorer duration (arm64)"):
        assert after.line("Lambda", other).cost == pytest.approx(before.line("Lambda", other).cost)


def test_arm64_is_cheaper_than_x86_by_the_price_ratio(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given the template (arm64 functions) and a copy with every function on x86_64
    x86 = copy.deepcopy(template)
    for function in resources_of(x86, "AWS::Lambda::Function").values():
        assert function["Properties"]["Architectures"] == ["arm64"]
        function["Properties"]["Architectures"] = ["x86_64"]
    ratio = prices["lambda.duration_x86_64"].usd / prices["lambda.duration_arm64"].usd

    # When both are estimated
    arm = report_for(template, prices, samples).design
    intel = report_for(x86, prices, samples).design

    # Then each function's duration costs the price ratio more on x86; requests cost the same
    for name in ("inventory", "audit", "risk-scorer"):
        arm_line = arm.line("Lambda", f"{name} duration (arm64)")
        x86_line = intel.line("Lambda", f"{name} duration (x86_64)")
        assert x86_line.quantity == pytest.approx(arm_line.quantity)
        assert x86_line.cost / arm_line.cost == pytest.approx(ratio)
    assert ratio == pytest.approx(1.25, rel=1e-4)


def test_naive_flow_is_x86_unfiltered_and_unbatched(template: dict[str, Any]) -> None:
    # Given the template
    # When its naive twin is built
    naive = naive_template(template)

    # Then functions are x86, the pipe has no filter, and every poller takes one record
    for function in resources_of(naive, "AWS::Lambda::Function").values():
        assert function["Properties"]["Architectures"] == ["x86_64"]
    for pipe in resources_of(naive, "AWS::Pipes::Pipe").values():
        source = pipe["Properties"]["SourceParameters"]
        assert "FilterCriteria" not in source
        assert source["SqsQueueParameters"]["BatchSize"] == 1
    for mapping in resources_of(naive, "AWS::Lambda::EventSourceMapping").values():
        assert mapping["Properties"]["BatchSize"] == 1
        assert "MaximumBatchingWindowInSeconds" not in mapping["Properties"]
    # And the template itself is untouched
    assert (
        "FilterCriteria"
        in next(iter(resources_of(template, "AWS::Pipes::Pipe").values()))["Properties"][
            "SourceParameters"
        ]
    )


def _with_tracing(template: dict[str, Any], mode: str) -> dict[str, Any]:
    variant = copy.deepcopy(template)
    for function in resources_of(variant, "AWS::Lambda::Function").values():
        function["Properties"]["TracingConfig"] = {"Mode": mode}
    return variant


def test_pass_through_tracing_records_only_what_producers_sampled(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given the same flow with every function's tracing Active, then PassThrough
    active = report_for(_with_tracing(template, "Active"), prices, samples)
    passing = report_for(_with_tracing(template, "PassThrough"), prices, samples)
    share = prices.assumptions["xray_upstream_sampled_share"]

    # Then at 1M orders (under one invocation a second) Active records every invocation ...
    invocations = sum(use.invocations for use in active.design.functions.values())
    assert active.design.services["X-Ray"].monthly == pytest.approx(
        invocations * prices["xray.traces_recorded"].usd / prices["xray.traces_recorded"].per
    )
    # ... PassThrough only the producers' sampled share, and nothing else on the bill moves
    assert passing.design.services["X-Ray"].monthly == pytest.approx(
        share * active.design.services["X-Ray"].monthly
    )
    others = {name for name in active.design.services if name != "X-Ray"}
    for name in others:
        assert passing.design.services[name].monthly == pytest.approx(
            active.design.services[name].monthly
        ), name
    # And the report prices the choice: undoing it costs exactly the X-Ray difference
    assert passing.choice_costs["pass-through tracing"] == pytest.approx(
        active.design.total - passing.design.total
    )
    assert active.choice_costs["pass-through tracing"] == pytest.approx(0)


def test_usage_costs_scale_linearly_with_orders(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given the naive template (batches of one) with tracing off, X-Ray's sampling being
    # deliberately not proportional
    linear = naive_template(template)
    for function in resources_of(linear, "AWS::Lambda::Function").values():
        function["Properties"].pop("TracingConfig", None)

    # When it is estimated for 10M and 20M orders
    small = report_for(linear, prices, samples, orders=10_000_000).design
    large = report_for(linear, prices, samples, orders=20_000_000).design

    # Then every usage line doubles and the fixed lines (keys, alarms, metrics) do not move
    assert "X-Ray" not in small.services
    for name, service in small.services.items():
        for line in service.lines:
            twin = large.line(name, line.item)
            expected = line.cost if line.fixed else 2 * line.cost
            assert twin.cost == pytest.approx(expected, abs=1e-9), (name, line.item)
    assert large.total - large.fixed == pytest.approx(2 * (small.total - small.fixed))


def test_batching_makes_each_order_cheaper_as_volume_grows(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given the designed flow (batching windows) and its naive twin
    # When both are estimated at 1M and 100M orders a month
    low = report_for(template, prices, samples, orders=1_000_000)
    high = report_for(template, prices, samples, orders=100_000_000)

    # Then the design's cost per million orders falls (batches fill), and the naive flow's
    # Lambda and SQS usage cost per order stays put: nothing in it batches
    def usage(estimate: Any, name: str) -> float:
        lines = estimate.services[name].lines
        return estimate.per_million(sum(line.cost for line in lines if not line.fixed))

    assert high.design.per_million(high.design.total) < low.design.per_million(low.design.total)
    for name in ("Lambda", "SQS"):
        assert usage(high.design, name) < usage(low.design, name)
        assert usage(high.naive, name) == pytest.approx(usage(low.naive, name), rel=0.01)
    assert high.naive.total > high.design.total


# -- the price list ----------------------------------------------------------------------------


def test_every_price_has_a_unit_a_source_and_a_date() -> None:
    # Given the price list
    data = json.loads(PRICING_FILE.read_text())

    # When every figure is read
    # Then each has its unit, the AWS pricing page it comes from, and the date it was read
    assert data["regions"], "no region priced"
    for region, entries in data["regions"].items():
        for key, entry in entries.items():
            where = f"{region} {key}"
            assert entry["usd"] >= 0, where
            assert entry["per"] > 0 and entry["unit"], where
            assert entry["source"].startswith("https://aws.amazon.com/"), where
            assert date.fromisoformat(entry["retrieved"]) <= date.today(), where


def test_every_line_of_the_bill_uses_a_sourced_price(
    template: dict[str, Any], prices: PriceList, samples: list[Any]
) -> None:
    # Given the estimate of the design and of the naive flow
    report = report_for(template, prices, samples)

    # When every line is read
    lines = [
        line
        for estimate in (report.design, report.naive)
        for service in estimate.services.values()
        for line in service.lines
    ]

    # Then each names a price of pricing.json and costs quantity times that price
    assert lines
    for line in lines:
        price = prices[line.price]
        assert price.source and price.retrieved
        assert line.cost == pytest.approx(line.quantity / price.per * price.usd)


def test_dynamodb_prices_are_the_late_2024_on_demand_rates(prices: PriceList) -> None:
    # Given us-east-1 prices
    # When the on-demand request prices are read
    # Then they are the rates after the 2024-11-01 cut ($0.625 / $0.125 per million)
    assert prices["dynamodb.write_request_units"].usd == 0.625
    assert prices["dynamodb.read_request_units"].usd == 0.125


# -- the command -------------------------------------------------------------------------------


def test_json_output_has_services_totals_and_the_naive_flow(
    runner: CliRunner, cost_app: typer.Typer, cloud_assembly_dir: Path
) -> None:
    # Given the synthesized dev stack
    args = ["cost", "--orders-per-month", "1000000", "--cdk-out", str(cloud_assembly_dir)]

    # When the estimate is asked for as JSON
    result = runner.invoke(cost_app, [*args, "--json"])

    # Then it is the documented shape, and the totals add up
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"orders_per_month", "services", "total", "per_million_orders", "naive"} <= set(data)
    assert data["orders_per_month"] == 1_000_000
    assert data["total"] == pytest.approx(sum(s["monthly"] for s in data["services"].values()))
    assert data["per_million_orders"] == pytest.approx(data["total"])
    assert data["naive"]["total"] == pytest.approx(
        sum(s["monthly"] for s in data["naive"]["services"].values())
    )
    assert {"Lambda", "EventBridge", "SQS", "DynamoDB"} <= set(data["services"])
    assert data["ratios"]["lambda_duration_price_x86_to_arm64"] == pytest.approx(1.25, rel=1e-4)
    assert data["assumptions"] and data["pricing"]["retrieved"] == "2026-11-27"


def test_table_output_states_prices_and_assumptions(
    runner: CliRunner, cost_app: typer.Typer, cloud_assembly_dir: Path
) -> None:
    # Given the synthesized dev stack
    # When the estimate is printed for people
    result = runner.invoke(
        cost_app,
        ["cost", "--orders-per-month", "100000000", "--cdk-out", str(cloud_assembly_dir)],
    )

    # Then the per-service table, the functions and the assumptions are there
    assert result.exit_code == 0, result.output
    for text in ("Per service", "Design $/month", "Naive $/month", "Total", "inventory"):
        assert text in result.stdout
    assert "prices retrieved 2026-11-27" in result.stdout
    assert "Assumptions" in result.stdout and "ms per invocation" in result.stdout


def test_template_file_is_read_directly(
    runner: CliRunner, cost_app: typer.Typer, cloud_assembly_dir: Path
) -> None:
    # Given the template JSON file rather than the assembly folder
    template_file = cloud_assembly_dir / f"{STACK}.template.json"

    # When the estimate reads it
    result = runner.invoke(
        cost_app, ["cost", "--orders-per-month", "5", "--cdk-out", str(template_file), "--json"]
    )

    # Then it prices the same flow
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] > 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--region", "eu-west-1"], "no prices for region eu-west-1"),
        (["--mix", "high-value=2"], "high-value must be between 0 and 1"),
        (["--mix", "colour=1"], "expected KEY=VALUE"),
        (
            ["--mix-file", str(ROOT / "events" / "order-created.json"), "--mix", "high-value=0.5"],
            "has no high-value order from an established account",
        ),
    ],
)
def test_bad_input_exits_2_with_the_reason(
    runner: CliRunner,
    cost_app: typer.Typer,
    cloud_assembly_dir: Path,
    extra: list[str],
    message: str,
) -> None:
    # Given an option the model cannot honour
    args = ["cost", "--orders-per-month", "1000", "--cdk-out", str(cloud_assembly_dir), *extra]

    # When the command runs
    result = runner.invoke(cost_app, args)

    # Then it exits 2 and says why
    assert result.exit_code == 2
    assert message in result.output


def test_missing_assembly_exits_2(runner: CliRunner, cost_app: typer.Typer, tmp_path: Path) -> None:
    # Given a folder with no cloud assembly
    # When the command runs on it
    result = runner.invoke(
        cost_app, ["cost", "--orders-per-month", "1", "--cdk-out", str(tmp_path / "nothing")]
    )

    # Then it exits 2 and points at make synth
    assert result.exit_code == 2
    assert "cannot read the cloud assembly" in result.output


@pytest.mark.parametrize("orders", [1_000_000, 100_000_000])
def test_docs_embed_the_current_output(
    template: dict[str, Any], prices: PriceList, samples: list[Any], orders: int
) -> None:
    # Given the synthesized stack and today's price list
    command = f"ordersctl cost --orders-per-month {orders} --markdown"

    # When the markdown report is generated
    expected = markdown(report_for(template, prices, samples, orders=orders), command)

    # Then docs/cost.md embeds exactly it (refresh: `<command> --write-docs docs/cost.md`)
    assert embedded_block(DOCS.read_text(), orders) == expected


def test_write_docs_replaces_only_its_block(
    runner: CliRunner, cost_app: typer.Typer, cloud_assembly_dir: Path, tmp_path: Path
) -> None:
    # Given a document with a stale block for 1M orders and other text around it
    document = tmp_path / "cost.md"
    document.write_text(
        "# Cost\n\n<!-- ordersctl cost --orders-per-month 1000000: start -->\nstale\n"
        "<!-- ordersctl cost --orders-per-month 1000000: end -->\n\nTail.\n"
    )
    args = ["cost", "--orders-per-month", "1000000", "--cdk-out", str(cloud_assembly_dir)]

    # When --write-docs runs twice
    first = runner.invoke(cost_app, [*args, "--markdown", "--write-docs", str(document)])
    second = runner.invoke(cost_app, [*args, "--markdown", "--write-docs", str(document)])

    # Then the block is current, the rest untouched, and the second run changes nothing
    assert first.exit_code == 0 and "updated" in first.output
    assert second.exit_code == 0 and "already up to date" in second.output
    text = document.read_text()
    assert text.startswith("# Cost\n\n") and text.endswith("\n\nTail.\n")
    assert "stale" not in text and "| **Total** |" in text

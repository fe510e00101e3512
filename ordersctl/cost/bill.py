"""The month's bill of a flow: per-order quantities times the volume, priced line by line.

Batch sizes and windows, functions' memory, architecture, timeout, tracing and log retention
come from the template; durations, log sizes and the shares nobody can read from a template come
from the "assumptions" of pricing.json; prices from its price list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordersctl.cost.events import Schemas
from ordersctl.cost.flow import Flow, FlowBuilder, archive_patterns
from ordersctl.cost.metrics import CodeMetrics, emitted_metrics
from ordersctl.cost.mix import Mix
from ordersctl.cost.prices import PriceList
from ordersctl.routes import FUNCTION, RouteModel

ALARM = "AWS::CloudWatch::Alarm"
# The events a Kafka ingest pipe carries (what its adapter accepts): the orders' own.
KAFKA_ORDER_EVENTS = ("OrderCreated", "OrderCancelled")
KMS_KEY = "AWS::KMS::Key"
GB = 1024**3
MILLION = 1_000_000


@dataclass
class Line:
    item: str
    quantity: float
    unit: str
    price: str  # key in pricing.json
    cost: float
    fixed: bool = False  # paid whatever the volume (keys, alarms, idle polls)


@dataclass
class ServiceCost:
    name: str
    lines: list[Line] = field(default_factory=list)

    @property
    def monthly(self) -> float:
        return sum(line.cost for line in self.lines)


@dataclass
class FunctionUse:
    """A function's month: from the template (memory, architecture, timeout) and the flow."""

    label: str
    architecture: str
    memory_mb: int
    timeout_s: int
    tracing: str | None  # TracingConfig.Mode: "Active", "PassThrough", or None when not set
    log_retention_days: int | None
    logical_id: str = ""
    handler: str = ""
    service: str = ""  # POWERTOOLS_SERVICE_NAME: the `service` dimension of its metrics
    invocations: float = 0.0
    records: float = 0.0
    ms_per_invocation: float = 0.0

    @property
    def records_per_invocation(self) -> float:
        return self.records / self.invocations if self.invocations else 0.0

    @property
    def gb_seconds(self) -> float:
        return self.invocations * self.ms_per_invocation / 1000 * self.memory_mb / 1024


@dataclass(frozen=True)
class CodeFolders:
    """Where the functions' code is: each function's asset folder in the cloud assembly, by
    logical id (what is deployed), else the project's lambdas/ folder."""

    assets: Mapping[str, Path] = field(default_factory=dict)
    project: Path | None = None


@dataclass
class Estimate:
    orders: float
    services: dict[str, ServiceCost]
    functions: dict[str, FunctionUse]
    flow: Flow
    consumers: dict[str, dict[str, float]]
    # (service, metric name) of every custom metric the running functions' code emits.
    metrics: frozenset[tuple[str, str]] = frozenset()

    @property
    def total(self) -> float:
        return sum(service.monthly for service in self.services.values())

    @property
    def fixed(self) -> float:
        return sum(line.cost for s in self.services.values() for line in s.lines if line.fixed)

    def monthly(self, service: str) -> float:
        """A service's monthly cost; 0 for a service this flow does not use."""
        return self.services[service].monthly if service in self.services else 0.0

    def per_million(self, amount: float) -> float:
        return amount / self.orders * MILLION

    def line(self, service: str, item: str) -> Line:
        for line in self.services[service].lines:
            if line.item == item:
                return line
        raise KeyError(f"{service}: no line {item!r}")


def batch_fill(rate_per_s: float, batch_size: int, window_s: float) -> float:
    """Average records per batch: those arriving during the window, between 1 and BatchSize."""
    if batch_size <= 1 or window_s <= 0:
        return 1.0
    return min(float(batch_size), max(1.0, rate_per_s * window_s))


def xray_traces(invocations: float, month_seconds: float, reservoir: float, rate: float) -> float:
    """Traces Lambda's fixed sampling records: 1 a second, then 5% of the rest."""
    reserved = month_seconds * reservoir
    if invocations <= reserved:
        return invocations
    return reserved + rate * (invocations - reserved)


def estimate(
    template: dict[str, Any],
    model: RouteModel,
    mix: Mix,
    prices: PriceList,
    schemas: Schemas,
    orders: float,
    code: CodeFolders | None = None,
) -> Estimate:
    """The month of `orders` orders through `template`, priced; the functions' custom metrics
    are read from their code in `code`."""
    flow = FlowBuilder(model, mix, prices, schemas, archive_patterns(template, model)).build()
    return _Bill(template, model, flow, prices, orders, code or CodeFolders()).build()


class _Bill:
    def __init__(
        self,
        template: dict[str, Any],
        model: RouteModel,
        flow: Flow,
        prices: PriceList,
        orders: float,
        code: CodeFolders,
    ) -> None:
        self.code = code
        self.metrics: frozenset[tuple[str, str]] = frozenset()
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.model = model
        self.flow = flow
        self.prices = prices
        self.orders = orders
        self.month_s = prices.month_seconds
        self.month_days = self.month_s / 86400
        self.services: dict[str, ServiceCost] = {}
        self.consumers: dict[str, dict[str, float]] = {}
        self.functions = self._functions()

    def add(
        self, service: str, item: str, quantity: float, price_key: str, *, fixed: bool = False
    ) -> None:
        price = self.prices[price_key]
        line = Line(item, quantity, price.unit, price_key, price.cost(quantity), fixed)
        self.services.setdefault(service, ServiceCost(service)).lines.append(line)

    def build(self) -> Estimate:
        self._eventbridge()
        self._queues_and_pollers()
        self._kafka_pipes()
        self._lambda()
        self._sns_and_kms()
        self._dynamodb()
        self._logs()
        self._cloudwatch()
        self._xray()
        return Estimate(
            self.orders, self.services, self.functions, self.flow, self.consumers, self.metrics
        )

    # -- template facts ------------------------------------------------------------------------

    def _of_type(self, kind: str) -> list[str]:
        return [lid for lid, r in self.resources.items() if r.get("Type") == kind]

    def _props(self, logical_id: str) -> dict[str, Any]:
        return self.resources.get(logical_id, {}).get("Properties") or {}

    def _functions(self) -> dict[str, FunctionUse]:
        functions = {}
        for lid in self._of_type(FUNCTION):
            props = self._props(lid)
            log_group = (props.get("LoggingConfig") or {}).get("LogGroup")
            retention = None
            if isinstance(log_group, dict) and "Ref" in log_group:
                retention = self._props(log_group["Ref"]).get("RetentionInDays")
            functions[lid] = FunctionUse(
                label=self.model.resource(lid).label
                if lid in self.model.resources
                else _function_label(lid, props),
                architecture=(props.get("Architectures") or ["x86_64"])[0],
                memory_mb=int(props.get("MemorySize") or 128),
                timeout_s=int(props.get("Timeout") or 3),
                tracing=(props.get("TracingConfig") or {}).get("Mode"),
                log_retention_days=int(retention) if retention is not None else None,
                logical_id=lid,
                handler=str(props.get("Handler") or ""),
                service=_function_label(lid, props),
            )
        return functions

    # -- services ------------------------------------------------------------------------------

    def _eventbridge(self) -> None:
        n = self.orders
        self.add(
            "EventBridge", "custom events", self.flow.bus_chunks * n, "eventbridge.custom_events"
        )
        archived_gb = self.flow.archive_bytes * n / GB
        if archived_gb:
            days = max((days for _, days, _ in self.model.archives), default=0) or 30
            self.add(
                "EventBridge", "archive processing", archived_gb, "eventbridge.archive_processed"
            )
            stored = archived_gb * min(days, self.month_days) / self.month_days
            self.add("EventBridge", "archive storage", stored, "eventbridge.archive_storage")
        pipes = [c for c in self.flow.consumers.values() if c.kind == "pipe"]
        if pipes:
            passing = sum(c.passing_chunks for c in pipes)
            self.add("EventBridge Pipes", "requests after filtering", passing * n, "pipes.requests")

    def _queues_and_pollers(self) -> None:
        n = self.orders
        sends = sum(self.flow.queue_sends.values()) * n
        self.add("SQS", "SendMessage (rule targets)", sends, "sqs.standard_requests")
        assumptions = self.prices.assumptions
        idle_floor = (
            float(assumptions["sqs_pollers"])
            * self.month_s
            / float(assumptions["sqs_long_poll_seconds"])
        )
        receives = deletes = idle = 0.0
        for consumer in self.flow.consumers.values():
            received = consumer.received * n
            # Lambda reads an SQS queue with several batches at a time (5, down to 2 when
            # traffic is low): each gathers its share of the arrivals during the window.
            pollers = float(assumptions["sqs_pollers"]) if consumer.kind == "esm" else 1.0
            rate = received / self.month_s / pollers
            fill = batch_fill(rate, consumer.batch_size, consumer.window_s)
            batches = received / fill
            receives += batches
            deletes += batches
            idle += max(0.0, idle_floor - batches)
            share = consumer.passing / consumer.received if consumer.received else 0.0
            invocations = batches * (1 - (1 - share) ** fill) if consumer.function else 0.0
            self.consumers[consumer.key] = {
                "records_received": received,
                "records_passing": consumer.passing * n,
                "passing_share": share,
                "records_per_batch": fill,
                "batches": batches,
                "invocations": invocations,
            }
            if consumer.function:
                use = self.functions[consumer.function]
                use.invocations += invocations
                use.records += consumer.passing * n
        self.add("SQS", "ReceiveMessage (batches)", receives, "sqs.standard_requests")
        self.add("SQS", "DeleteMessageBatch", deletes, "sqs.standard_requests")
        if self.flow.consumers:
            self.add("SQS", "idle long polls", idle, "sqs.standard_requests", fixed=True)
        for function, per_order in self.flow.async_invocations.items():
            self.functions[function].invocations += per_order * n
            self.functions[function].records += per_order * n

    def _kafka_pipes(self) -> None:
        """With a Kafka ingest pipe the orders' own events (OrderCreated, OrderCancelled) arrive
        on its topic: the pipe reads them in batches (billed per record, as the SQS pipe's
        records are) and the adapter enrichment runs once a batch. Its PutEvents onto the bus
        are the custom events already counted, so nothing is counted twice."""
        pipes = [pipe for pipe in self.model.pipes if pipe.kafka is not None]
        if not pipes:
            return
        n = self.orders
        assumptions = self.prices.assumptions
        per_order = sum(self.flow.events.get(kind, 0.0) for kind in KAFKA_ORDER_EVENTS)
        for pipe in pipes:
            records = per_order * n
            window = (
                pipe.window_s
                if pipe.window_s is not None
                else float(assumptions["kafka_batching_window_seconds"])
            )
            fill = batch_fill(records / self.month_s, pipe.batch_size or 100, window)
            batches = records / fill if fill else 0.0
            self.add("EventBridge Pipes", f"{pipe.name} Kafka records", records, "pipes.requests")
            if pipe.enrichment is not None and pipe.enrichment.logical_id in self.functions:
                use = self.functions[pipe.enrichment.logical_id]
                use.invocations += batches
                use.records += records

    def _lambda(self) -> None:
        assumptions = self.prices.assumptions
        cold = float(assumptions["cold_start_share"]) * float(assumptions["init_ms"])
        for use in self.functions.values():
            if not use.invocations:
                continue
            guess = self.prices.function_assumption(use.label)
            use.ms_per_invocation = (
                float(guess["ms_per_invocation"])
                + float(guess["ms_per_record"]) * use.records_per_invocation
                + cold
            )
            if use.ms_per_invocation > use.timeout_s * 1000:
                self.flow.notes.append(
                    f"function {use.label}: the assumed {use.ms_per_invocation:.0f} ms exceeds its "
                    f"{use.timeout_s} s timeout"
                )
            self.add("Lambda", f"{use.label} requests", use.invocations, "lambda.requests")
            price = f"lambda.duration_{use.architecture}"
            self.add("Lambda", f"{use.label} duration ({use.architecture})", use.gb_seconds, price)

    def _sns_and_kms(self) -> None:
        n = self.orders
        reuse = float(self.prices.assumptions["sns_data_key_reuse_seconds"])
        kms_requests = 0.0
        per_reuse_period = True  # every topic asks once per reuse period, whatever the volume
        for topic, per_order in self.flow.publishes.items():
            publishes = per_order * n
            label = self.model.resource(topic).label
            self.add("SNS", f"{label} publishes", publishes, "sns.publishes")
            subscriptions = self.model.subscriptions.get(topic, [])
            for protocol, count in _protocols(subscriptions).items():
                key = f"sns.delivery_{protocol}"
                if key not in self.prices.prices:
                    self.flow.notes.append(f"topic {label}: {protocol} deliveries are not priced")
                    continue
                self.add("SNS", f"{label} {protocol} deliveries", publishes * count, key)
            if self._props(topic).get("KmsMasterKeyId") and publishes:
                periods = self.month_s / reuse
                per_reuse_period = per_reuse_period and publishes >= periods
                # One GenerateDataKey per reuse period, one Decrypt per subscription and period.
                kms_requests += min(publishes, periods) * (1 + len(subscriptions))
        keys = len(self._of_type(KMS_KEY))
        if keys:
            self.add("KMS", "customer managed keys", keys, "kms.key_months", fixed=True)
        if kms_requests:
            self.add(
                "KMS", "SNS data-key requests", kms_requests, "kms.requests", fixed=per_reuse_period
            )

    def _dynamodb(self) -> None:
        n = self.orders
        for label, units in sorted(self.flow.wru.items()):
            if units:
                self.add("DynamoDB", f"{label} writes", units * n, "dynamodb.write_request_units")
        for label, units in sorted(self.flow.rru.items()):
            if units:
                self.add("DynamoDB", f"{label} reads", units * n, "dynamodb.read_request_units")

    def _logs(self) -> None:
        assumptions = self.prices.assumptions
        platform = float(assumptions["platform_log_bytes_per_invocation"])
        for use in self.functions.values():
            if not use.invocations:
                continue
            guess = self.prices.function_assumption(use.label)
            app = float(guess["app_log_bytes_per_record"])
            emf = float(
                guess.get(
                    "emf_log_bytes_per_invocation", assumptions["emf_log_bytes_per_invocation"]
                )
            )
            per_invocation = platform + emf
            ingested = (use.invocations * per_invocation + use.records * app) / GB
            self.add("CloudWatch Logs", f"{use.label} ingestion", ingested, "logs.ingestion")
            days = use.log_retention_days
            if days is None:
                self.flow.notes.append(f"function {use.label}: logs never expire; storage grows")
            kept = min(days or self.month_days, self.month_days) / self.month_days
            self.add("CloudWatch Logs", f"{use.label} storage", ingested * kept, "logs.storage")

    def _cloudwatch(self) -> None:
        alarms = len(self._of_type(ALARM))
        if alarms:
            self.add("CloudWatch metrics", "alarms", alarms, "cloudwatch.alarms", fixed=True)
        metrics = self._custom_metrics()
        if metrics:
            self.add(
                "CloudWatch metrics",
                "custom metrics (EMF)",
                metrics,
                "cloudwatch.custom_metrics",
                fixed=True,
            )

    def _custom_metrics(self) -> float:
        """One metric per name and dimension set each function's code emits (metrics.py): the
        `service` dimension makes a name emitted by two functions two metrics. Only functions
        that run publish; one whose code is not found counts the assumed number."""
        unread = float(self.prices.assumptions["custom_metrics_per_unread_function"])
        found: set[tuple[str, str]] = set()
        guessed = 0.0
        for use in self.functions.values():
            if not use.invocations:
                continue
            code = self._code_metrics(use)
            if code is None:
                guessed += unread
                self.flow.notes.append(
                    f"function {use.label}: its code ({use.handler}) was not found; "
                    f"{unread:g} custom metrics assumed"
                )
                continue
            if code.variable_dimensions:
                computed = ", ".join(sorted(code.variable_dimensions))
                self.flow.notes.append(
                    f"function {use.label}: add_dimension({computed}) makes one metric per "
                    "value; only one is counted"
                )
            found.update((use.service, name) for name in code.names)
        self.metrics = frozenset(found)
        return len(found) + guessed

    def _code_metrics(self, use: FunctionUse) -> CodeMetrics | None:
        folders = [self.code.assets.get(use.logical_id), self.code.project]
        for folder in folders:
            if folder is not None and folder.is_dir():
                found = emitted_metrics(folder, use.handler)
                if found is not None:
                    return found
        return None

    def _xray(self) -> None:
        assumptions = self.prices.assumptions
        for use in self.functions.values():
            if not use.invocations:
                continue
            if use.tracing == "Active":
                traces = xray_traces(
                    use.invocations,
                    self.month_s,
                    float(assumptions["xray_reservoir_per_second"]),
                    float(assumptions["xray_fixed_rate"]),
                )
            elif use.tracing == "PassThrough":
                # Only invocations whose caller's trace header says Sampled=1: the producers'
                # sampling rule decides, EventBridge, SQS and Pipes pass the decision on.
                traces = use.invocations * float(assumptions["xray_upstream_sampled_share"])
            else:
                continue
            self.add("X-Ray", f"{use.label} traces", traces, "xray.traces_recorded")


def _function_label(logical_id: str, props: dict[str, Any]) -> str:
    """A function no route reaches: the routes' label rule, without a resolver."""
    variables = (props.get("Environment") or {}).get("Variables") or {}
    return str(variables.get("POWERTOOLS_SERVICE_NAME") or logical_id)


def _protocols(subscriptions: Sequence[str]) -> dict[str, int]:
    """Subscriptions per billed delivery protocol (email-json is email, https is http)."""
    counts: dict[str, int] = defaultdict(int)
    for subscription in subscriptions:
        protocol = subscription.split(":", 1)[0].strip().lower()
        counts["email" if protocol == "email-json" else protocol.replace("https", "http")] += 1
    return dict(counts)

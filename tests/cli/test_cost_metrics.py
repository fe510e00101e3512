"""ordersctl cost: the custom metrics billed are the ones the handlers' code emits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordersctl.cost import PriceList, Schemas, compare, load_samples
from ordersctl.cost.bill import CodeFolders
from ordersctl.cost.command import asset_folders
from ordersctl.cost.metrics import emitted_metrics

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS = ROOT / "lambdas"
BATCH = ROOT / "events" / "orders-batch.json"

# What lambdas/ emits today (Powertools add_metric calls, each function's own service).
EMITTED = {
    "inventory": {
        "EventsReceived",
        "OrdersReserved",
        "InventoryShortages",
        "CreatesAfterCancel",
        "DuplicateOrders",
        "DuplicateDeliveries",
        "ReservationsReleased",
    },
    "audit": {"RecordsReceived", "HistoryRecordsWritten", "DuplicateDeliveries"},
    "risk-scorer": {"RecordsReceived", "OrdersAssessed", "HighRiskOrders", "UnscorableRecords"},
}


def design_of(template: dict[str, Any], code: CodeFolders | None = None) -> Any:
    return compare(
        template,
        "OrderEvents-dev",
        orders=1_000_000,
        prices=PriceList.load(),
        samples=load_samples(BATCH),
        samples_source=str(BATCH),
        overrides={},
        schemas=Schemas(ROOT / "schemas"),
        code=code,
    ).design


def test_the_model_counts_each_name_each_function_emits_and_no_cold_start(
    template: dict[str, Any], cloud_assembly_dir: Path
) -> None:
    # Given the dev template, its code read from the cloud assembly's asset folder
    folders = asset_folders(cloud_assembly_dir)
    assert len(folders) == 3
    design = design_of(template, CodeFolders(assets=folders))

    # Then the metrics are the handlers' add_metric names, one per name and service; no
    # ColdStart, since no log_metrics decorator sets capture_cold_start_metric
    expected = {(service, name) for service, names in EMITTED.items() for name in names}
    assert design.metrics == expected
    assert not any(name == "ColdStart" for _, name in design.metrics)
    line = design.line("CloudWatch metrics", "custom metrics (EMF)")
    assert line.quantity == len(expected) == 14


def test_every_handler_carries_the_service_and_stage_dimensions_only() -> None:
    for handler in ("inventory", "audit", "risk_scorer", "kafka_adapter"):
        code = emitted_metrics(LAMBDAS, f"{handler}.handler.handler")
        assert code is not None
        assert code.dimensions == {"service", "stage"}, handler
        assert code.variable_dimensions == set(), handler


def test_cold_start_metric_is_counted_only_when_the_decorator_asks_for_it(tmp_path: Path) -> None:
    # Given two handlers: one captures the cold start metric, one uses the bare decorator
    for name, decorator in (
        ("cold", "log_metrics(capture_cold_start_metric=True)"),
        ("warm", "log_metrics"),
    ):
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "handler.py").write_text(
            f"from {name} import work\n"
            f"@metrics.{decorator}\n"
            "def handler(event, context):\n"
            "    return work.run()\n"
        )
        (package / "work.py").write_text(
            "def run():\n    metrics.add_metric(name='Done', unit='Count', value=1)\n"
        )
        (package / "unused.py").write_text(
            "def never():\n    metrics.add_metric(name='NeverImported', unit='Count', value=1)\n"
        )

    # Then ColdStart is counted for the first only; names are followed through imports, and
    # a module the handler never imports adds nothing
    cold = emitted_metrics(tmp_path, "cold.handler.handler")
    warm = emitted_metrics(tmp_path, "warm.handler.handler")
    assert cold is not None and cold.names == {"ColdStart", "Done"}
    assert warm is not None and warm.names == {"Done"}


def test_a_computed_dimension_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "def handler(event, context):\n"
        "    metrics.add_dimension(name='sku', value=event['sku'])\n"
        "    metrics.add_metric(name='Sold', unit='Count', value=1)\n"
    )
    code = emitted_metrics(tmp_path, "app.handler")
    assert code is not None
    assert code.variable_dimensions == {"sku"}
    assert code.dimensions == {"service", "sku"}


def test_a_function_whose_code_is_not_found_counts_the_assumed_number(
    template: dict[str, Any], tmp_path: Path
) -> None:
    # Given no folder holding the functions' code
    design = design_of(template, CodeFolders(project=tmp_path))

    # Then each running function counts the assumption, and the report says so
    unread = PriceList.load().assumptions["custom_metrics_per_unread_function"]
    line = design.line("CloudWatch metrics", "custom metrics (EMF)")
    assert line.quantity == 3 * unread
    assert sum("was not found" in note for note in design.flow.notes) == 3

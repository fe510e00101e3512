"""Write the sample put-events entry files in events/ (deterministic: same bytes every run).

    python events/generate_samples.py            # rewrite events/*.json and events/invalid/*.json

Each file is a JSON array of PutEvents entries (Source, DetailType, Detail as a JSON string,
EventBusName) usable as ``aws events put-events --entries file://events/<name>.json``.
The files are committed; tests/contract checks they match this script and the schemas.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent
BUS = "orders-dev"
ORDERS = "com.example.orders"

# sku -> (name, unit price). Stock for every SKU is in inventory-seed.json.
CATALOG: dict[str, tuple[str, float]] = {
    "BOOK-DDIA-2E": ("Designing Data-Intensive Applications, 2nd ed.", 39.90),
    "MUG-CERAMIC-BLK": ("Ceramic mug, black", 12.50),
    "KB-MECH-TKL": ("Mechanical keyboard, tenkeyless", 129.00),
    "MOUSE-ERGO-M": ("Ergonomic mouse, medium", 79.90),
    "MON-27-4K": ("27-inch 4K monitor", 449.00),
    "LAPTOP-PRO-14": ("14-inch laptop", 1899.00),
    "PHONE-X15-256": ("Smartphone X15, 256 GB", 1199.00),
    "TAB-11-128": ("11-inch tablet, 128 GB", 549.00),
    "HDPH-ANC-300": ("Noise-cancelling headphones", 329.00),
    "CAM-MIRRORLESS-A7": ("Mirrorless camera body", 2199.00),
    "LENS-50MM-F18": ("50 mm f/1.8 lens", 249.00),
    "SSD-NVME-2TB": ("NVMe SSD, 2 TB", 159.00),
    "CABLE-USBC-2M": ("USB-C cable, 2 m", 14.90),
    "CHARGER-65W": ("65 W USB-C charger", 39.00),
    "WATCH-SMART-45": ("Smartwatch, 45 mm", 399.00),
    "SPEAKER-BT-MINI": ("Bluetooth speaker, mini", 59.00),
    "DOCK-USBC-12IN1": ("USB-C dock, 12-in-1", 189.00),
    "ROUTER-WIFI7": ("Wi-Fi 7 router", 299.00),
    "DRONE-4K-MINI": ("4K mini drone", 899.00),
    "GPU-RTX-5090": ("Graphics card, flagship", 2399.00),
}
STOCK_DEFAULT = 100
# Short on purpose so the demo and the tests show the InventoryShortage path.
STOCK_SHORT = {"GPU-RTX-5090": 1, "DRONE-4K-MINI": 3}


def _address(line1: str, city: str, postal_code: str, country: str) -> dict[str, str]:
    return {"line1": line1, "city": city, "postalCode": postal_code, "country": country}


ADDRESSES: dict[str, dict[str, str]] = {
    "PT": _address("Rua Augusta 120", "Lisboa", "1100-053", "PT"),
    "ES": _address("Calle de Alcala 45", "Madrid", "28014", "ES"),
    "SE": _address("Drottninggatan 71", "Stockholm", "11136", "SE"),
    "FR": _address("12 rue de Rivoli", "Paris", "75004", "FR"),
    "IE": _address("3 Grafton Street", "Dublin", "D02 X285", "IE"),
    "IT": _address("Via Nazionale 18", "Roma", "00184", "IT"),
    "DE": _address("Torstrasse 140", "Berlin", "10119", "DE"),
    "JP": _address("1-2-3 Jingumae", "Tokyo", "150-0001", "JP"),
    "GB": _address("221 Baker Street", "London", "NW1 6XE", "GB"),
    "US": _address("500 Market Street", "San Francisco", "94105", "US"),
    "PL": _address("ul. Marszalkowska 84", "Warszawa", "00-514", "PL"),
    "NL": _address("Damrak 70", "Amsterdam", "1012 LM", "NL"),
}

# customerId -> (email, accountAgeDays, home country)
CUSTOMERS: dict[str, tuple[str, int, str]] = {
    "CUST-K7Q2M9": ("ana.silva@example.pt", 842, "PT"),
    "CUST-A7K2M9": ("maria.garcia@example.es", 1240, "ES"),
    "CUST-B3X8Q1": ("jonas.berg@example.se", 530, "SE"),
    "CUST-C9P4L2": ("amelie.durand@example.fr", 2210, "FR"),
    "CUST-D1R7T5": ("tom.oconnor@example.ie", 95, "IE"),
    "CUST-E6N3V8": ("sofia.rossi@example.it", 12, "IT"),
    "CUST-F2H9W4": ("first.order.2026@yahoo.com", 0, "DE"),
    "CUST-G5J1Y7": ("k.tanaka@example.jp", 4, "JP"),
    "CUST-H8M6Z3": ("priya.nair@example.co.uk", 780, "GB"),
    "CUST-NW82QX": ("quickdeals.buyer@gmail.com", 3, "US"),
}


def entry(detail_type: str, detail: dict[str, Any], source: str = ORDERS) -> dict[str, str]:
    return {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps(detail, separators=(",", ":")),
        "EventBusName": BUS,
    }


def order(
    order_id: str,
    created_at: str,
    customer_id: str,
    lines: list[tuple[str, int]],
    currency: str = "EUR",
    ship_to: str | None = None,
) -> dict[str, Any]:
    """An OrderCreated detail; total = lines + 4.90 shipping under 50."""
    email, age, home = CUSTOMERS[customer_id]
    items = [
        {"sku": sku, "name": CATALOG[sku][0], "quantity": qty, "unitPrice": CATALOG[sku][1]}
        for sku, qty in lines
    ]
    subtotal = sum(item["quantity"] * item["unitPrice"] for item in items)
    shipping = 4.90 if subtotal < 50 else 0.0
    return {
        "orderId": order_id,
        "createdAt": created_at,
        "customer": {"customerId": customer_id, "email": email, "accountAgeDays": age},
        "items": items,
        "total": round(subtotal + shipping, 2),
        "currency": currency,
        "billingAddress": dict(ADDRESSES[home]),
        "shippingAddress": dict(ADDRESSES[ship_to or home]),
    }


def cancellation(order_detail: dict[str, Any], cancelled_at: str, reason: str) -> dict[str, Any]:
    customer = order_detail["customer"]
    return {
        "orderId": order_detail["orderId"],
        "cancelledAt": cancelled_at,
        "reason": reason,
        "customer": {"customerId": customer["customerId"], "email": customer["email"]},
    }


ORDINARY = order(
    "ORD-20261127-A1B2C3",
    "2026-11-27T09:15:00Z",
    "CUST-K7Q2M9",
    [("BOOK-DDIA-2E", 2), ("MUG-CERAMIC-BLK", 1)],
)
HIGH_RISK = order(
    "ORD-20261127-HR7X2Q",
    "2026-11-27T09:20:00Z",
    "CUST-NW82QX",
    [
        ("KB-MECH-TKL", 1),
        ("MOUSE-ERGO-M", 1),
        ("MON-27-4K", 1),
        ("HDPH-ANC-300", 1),
        ("LENS-50MM-F18", 1),
        ("SSD-NVME-2TB", 1),
        ("CABLE-USBC-2M", 1),
        ("CHARGER-65W", 1),
        ("WATCH-SMART-45", 1),
        ("SPEAKER-BT-MINI", 1),
        ("DOCK-USBC-12IN1", 1),
        ("ROUTER-WIFI7", 1),
    ],
    currency="USD",
    ship_to="NL",
)
OUT_OF_STOCK = order(
    "ORD-20261127-OOS1",
    "2026-11-27T09:25:00Z",
    "CUST-C9P4L2",
    [("GPU-RTX-5090", 3), ("CABLE-USBC-2M", 1)],
)
CANCELLED = cancellation(ORDINARY, "2026-11-27T10:02:00Z", "Customer ordered the wrong edition")

# Batch: (customerId, lines, ship_to) per order; entry i is created at 08:00 + 3 min * i.
BATCH_ORDERS: list[tuple[str, list[tuple[str, int]], str | None]] = [
    ("CUST-A7K2M9", [("BOOK-DDIA-2E", 1)], None),
    ("CUST-B3X8Q1", [("KB-MECH-TKL", 1), ("MOUSE-ERGO-M", 1)], None),
    ("CUST-C9P4L2", [("LAPTOP-PRO-14", 1), ("DOCK-USBC-12IN1", 1)], None),  # high value
    ("CUST-E6N3V8", [("PHONE-X15-256", 1), ("CHARGER-65W", 1)], None),  # high value, new
    ("CUST-D1R7T5", [("MUG-CERAMIC-BLK", 4)], None),
    ("CUST-F2H9W4", [("CAM-MIRRORLESS-A7", 1), ("LENS-50MM-F18", 2)], "PL"),  # brand new
    ("CUST-H8M6Z3", [("SSD-NVME-2TB", 2), ("CABLE-USBC-2M", 3)], None),
    ("CUST-G5J1Y7", [("DRONE-4K-MINI", 5)], None),  # high value, new, short of stock
    ("CUST-A7K2M9", [("TAB-11-128", 1), ("HDPH-ANC-300", 1)], None),
    ("CUST-B3X8Q1", [("GPU-RTX-5090", 2)], None),  # high value, short of stock
    ("CUST-K7Q2M9", [("SPEAKER-BT-MINI", 1), ("CABLE-USBC-2M", 1)], None),
    ("CUST-C9P4L2", [("WATCH-SMART-45", 1)], None),
    ("CUST-E6N3V8", [("ROUTER-WIFI7", 1), ("SSD-NVME-2TB", 1)], None),
    ("CUST-NW82QX", [("LAPTOP-PRO-14", 2), ("MON-27-4K", 2)], "NL"),  # high value, new
    ("CUST-D1R7T5", [("BOOK-DDIA-2E", 1), ("MUG-CERAMIC-BLK", 2)], None),
    ("CUST-H8M6Z3", [("MON-27-4K", 1), ("KB-MECH-TKL", 1), ("MOUSE-ERGO-M", 1)], None),
    ("CUST-G5J1Y7", [("CABLE-USBC-2M", 12)], None),
    ("CUST-A7K2M9", [("CHARGER-65W", 1)], None),
    ("CUST-F2H9W4", [("PHONE-X15-256", 1)], None),  # high value, brand new
    ("CUST-K7Q2M9", [("HDPH-ANC-300", 1)], None),
]
# (index of the batch order cancelled, reason), placed after all creations.
BATCH_CANCELLATIONS: list[tuple[int, str]] = [
    (1, "Customer found the same keyboard cheaper elsewhere"),
    (4, "Duplicate order placed by mistake"),
    (8, "Delivery date too late for the customer"),
    (13, "Payment could not be authorised"),
    (16, "Customer asked to cancel by phone"),
]


def orders_batch() -> list[dict[str, str]]:
    created = [
        order(
            f"ORD-20261127-BATCH{i:02d}",
            f"2026-11-27T{8 + (3 * i) // 60:02d}:{(3 * i) % 60:02d}:00Z",
            customer_id,
            lines,
            ship_to=ship_to,
        )
        for i, (customer_id, lines, ship_to) in enumerate(BATCH_ORDERS)
    ]
    cancelled = [
        cancellation(created[i], f"2026-11-27T10:{10 + 5 * n:02d}:00Z", reason)
        for n, (i, reason) in enumerate(BATCH_CANCELLATIONS)
    ]
    return [entry("OrderCreated", d) for d in created] + [
        entry("OrderCancelled", d) for d in cancelled
    ]


Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[str | int], value: Any) -> Mutation:
    def mutate(detail: dict[str, Any]) -> None:
        target: Any = detail
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(key: str) -> Mutation:
    return lambda detail: detail.pop(key)


def _too_many_items(detail: dict[str, Any]) -> None:
    detail["items"] = [
        {"sku": f"PART-{n:04d}", "quantity": 1, "unitPrice": 1.0} for n in range(101)
    ]
    detail["total"] = 101.0


# file name (says what is wrong) -> (detail-type, mutation of a valid detail)
ORDER_CREATED, ORDER_CANCELLED = "OrderCreated", "OrderCancelled"
INVALID: dict[str, tuple[str, Mutation]] = {
    "order-created-missing-order-id": (ORDER_CREATED, _delete("orderId")),
    "order-created-bad-order-id": (ORDER_CREATED, _set(["orderId"], "12345")),
    "order-created-bad-created-at": (ORDER_CREATED, _set(["createdAt"], "27/11/2026 09:15")),
    "order-created-bad-customer-id": (ORDER_CREATED, _set(["customer", "customerId"], "ana")),
    "order-created-bad-email": (ORDER_CREATED, _set(["customer", "email"], "ana.silva.example.pt")),
    "order-created-negative-account-age": (ORDER_CREATED, _set(["customer", "accountAgeDays"], -1)),
    "order-created-no-items": (ORDER_CREATED, _set(["items"], [])),
    "order-created-too-many-items": (ORDER_CREATED, _too_many_items),
    "order-created-bad-sku": (ORDER_CREATED, _set(["items", 0, "sku"], "book ddia")),
    "order-created-negative-quantity": (ORDER_CREATED, _set(["items", 0, "quantity"], -2)),
    "order-created-fractional-quantity": (ORDER_CREATED, _set(["items", 0, "quantity"], 1.5)),
    "order-created-zero-unit-price": (ORDER_CREATED, _set(["items", 1, "unitPrice"], 0)),
    "order-created-negative-total": (ORDER_CREATED, _set(["total"], -92.3)),
    "order-created-bad-currency": (ORDER_CREATED, _set(["currency"], "EURO")),
    "order-created-bad-country": (ORDER_CREATED, _set(["shippingAddress", "country"], "UK")),
    "order-created-missing-shipping-address": (ORDER_CREATED, _delete("shippingAddress")),
    "order-created-unknown-field": (ORDER_CREATED, _set(["couponCode"], "BLACKFRIDAY")),
    # Control characters in free text (header, log and CSV injection; a NUL ends C strings).
    "order-created-control-character-in-email": (
        ORDER_CREATED,
        _set(["customer", "email"], "ana\u0000silva@example.pt"),
    ),
    "order-created-control-character-in-city": (
        ORDER_CREATED,
        _set(["shippingAddress", "city"], "Lisboa\r\nX-Injected: 1"),
    ),
    "order-cancelled-missing-reason": (ORDER_CANCELLED, _delete("reason")),
    "order-cancelled-control-character-in-reason": (
        ORDER_CANCELLED,
        _set(["reason"], "Changed my mind\u0007"),
    ),
    "order-cancelled-bad-order-id": (ORDER_CANCELLED, _set(["orderId"], "ORD-2026-1")),
}

VALID_BY_TYPE = {ORDER_CREATED: ORDINARY, ORDER_CANCELLED: CANCELLED}


def event(detail_type: str, detail: dict[str, Any], source: str = ORDERS) -> dict[str, Any]:
    """The EventBridge event a bus builds from an entry: what test-event-pattern takes."""
    return {
        "version": "0",
        "id": "6f2c1f5e-7a9b-4a53-9c1e-0a8d2b4c5e61",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": detail.get("createdAt", "2026-11-27T09:15:00Z"),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


# The risk-review rule's pattern (stacks/constructs/routing.py), to try with test-event-pattern.
HIGH_VALUE_PATTERN = {
    "source": [ORDERS],
    "detail-type": ["OrderCreated"],
    "detail": {"total": [{"numeric": [">=", 1000]}]},
}


def sample_files() -> dict[str, Any]:
    """Relative path -> JSON content of every sample file."""
    files: dict[str, Any] = {
        "order-created.json": [entry("OrderCreated", ORDINARY)],
        "order-created-high-risk.json": [entry("OrderCreated", HIGH_RISK)],
        "order-created-out-of-stock.json": [entry("OrderCreated", OUT_OF_STOCK)],
        "order-cancelled.json": [entry("OrderCancelled", CANCELLED)],
        "orders-batch.json": orders_batch(),
        "inventory-seed.json": [
            {"sku": sku, "available": STOCK_SHORT.get(sku, STOCK_DEFAULT)} for sku in CATALOG
        ],
    }
    files["test-event-pattern/order-created-event.json"] = event("OrderCreated", ORDINARY)
    files["test-event-pattern/high-risk-order-event.json"] = event("OrderCreated", HIGH_RISK)
    files["test-event-pattern/high-value-pattern.json"] = HIGH_VALUE_PATTERN
    for name, (detail_type, mutate) in INVALID.items():
        detail = copy.deepcopy(VALID_BY_TYPE[detail_type])
        mutate(detail)
        files[f"invalid/{name}.json"] = [entry(detail_type, detail)]
    return files


def render(content: Any) -> str:
    return json.dumps(content, indent=2) + "\n"


def write_samples(out_dir: Path = EVENTS_DIR) -> list[Path]:
    written = []
    for relative, content in sample_files().items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(content), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_samples(Path(sys.argv[1]) if len(sys.argv) > 1 else EVENTS_DIR):
        print(path)

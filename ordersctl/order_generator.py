"""Synthetic order traffic for `ordersctl simulate`: valid orders, cancellations and poison.

Deterministic for a seed. What it draws from:
- customers: a pool of about one customer per three orders; account ages are a mix of new
  accounts (12%, under 30 days, some opened today), accounts under a year (18%) and older
  ones (log-normal around 2.5 years); home countries weighted towards the EU, each with its
  currency (totals are in that currency); e-mail at a company domain, a free webmail or,
  rarely, a disposable-mail service;
- items: the SKUs of the inventory seed file, priced from the sample catalog
  (events/generate_samples.py); cheaper items are picked more often, 1 to 6 lines an order,
  mostly one unit each;
- cancellations: about 5% of the orders are cancelled by a later event;
- poison: OrderCreated entries whose Detail breaks the schema in one of POISON_KINDS. The bus
  accepts them (PutEvents does not validate against schemas); every consumer that validates
  rejects them, on every attempt.
Stock: every SKU is stocked at 110% of what the orders ask for, plus 2, except the SKUs the
seed file marks as scarce (stocked under a tenth of the largest stock there), stocked at 85%
of the demand: a few orders for those come up short, the others never do.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SOURCE = "com.example.orders"
ORDER_CREATED = "OrderCreated"
ORDER_CANCELLED = "OrderCancelled"
SAMPLES_SCRIPT = "generate_samples.py"
START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)

NEW_ACCOUNT_SHARE = 0.12
YOUNG_ACCOUNT_SHARE = 0.18
CANCEL_SHARE = 0.05
GENEROUS_STOCK = 1.10
SCARCE_STOCK = 0.85
SCARCE_BELOW = 0.1  # of the seed file's largest stock

# country -> (weight, currency, price factor from EUR)
COUNTRIES: dict[str, tuple[float, str, float]] = {
    "DE": (18, "EUR", 1.0),
    "FR": (14, "EUR", 1.0),
    "ES": (10, "EUR", 1.0),
    "IT": (10, "EUR", 1.0),
    "NL": (8, "EUR", 1.0),
    "PT": (6, "EUR", 1.0),
    "IE": (4, "EUR", 1.0),
    "GB": (12, "GBP", 0.85),
    "SE": (5, "SEK", 11.5),
    "PL": (6, "PLN", 4.3),
    "US": (5, "USD", 1.08),
    "JP": (2, "JPY", 160.0),
}
FIRST_NAMES = (
    "ana",
    "maria",
    "jonas",
    "amelie",
    "tom",
    "sofia",
    "priya",
    "kenji",
    "liam",
    "emma",
    "noah",
    "olga",
    "lucas",
    "marta",
    "pierre",
    "chloe",
    "david",
    "sara",
    "mateo",
    "ines",
)
LAST_NAMES = (
    "silva",
    "garcia",
    "berg",
    "durand",
    "oconnor",
    "rossi",
    "nair",
    "tanaka",
    "smith",
    "muller",
    "novak",
    "dubois",
    "kowalski",
    "jansen",
    "moreau",
    "costa",
    "fischer",
    "lopez",
    "bianchi",
    "murphy",
)
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me")
DISPOSABLE_MAIL = ("mailinator.com", "yopmail.com")
CANCEL_REASONS = (
    "Customer found a better price elsewhere",
    "Duplicate order placed by mistake",
    "Delivery date too late for the customer",
    "Payment could not be authorised",
    "Customer asked to cancel by phone",
)
FALLBACK_ADDRESS = {"line1": "1 Main Street", "city": "Springfield", "postalCode": "10001"}


@dataclass(frozen=True)
class Product:
    sku: str
    name: str | None
    price_eur: float


@dataclass(frozen=True)
class Catalog:
    """What can be ordered: products, their seed stock, and where customers live."""

    products: tuple[Product, ...]
    seed_stock: dict[str, int]
    addresses: dict[str, dict[str, str]]

    @property
    def scarce(self) -> frozenset[str]:
        largest = max(self.seed_stock.values(), default=0)
        return frozenset(
            sku for sku, stock in self.seed_stock.items() if stock < largest * SCARCE_BELOW
        )

    @classmethod
    def load(cls, seed_file: Path) -> Catalog:
        """SKUs and stock from the inventory seed file; names, prices and addresses from the
        sample catalog beside it (events/generate_samples.py) when it is there."""
        from ordersctl.inventory_seed import read_inventory_seed

        rows = read_inventory_seed(Path(seed_file))
        samples = _load_samples(Path(seed_file).parent / SAMPLES_SCRIPT)
        priced: dict[str, tuple[str, float]] = getattr(samples, "CATALOG", {})
        addresses: dict[str, dict[str, str]] = getattr(samples, "ADDRESSES", {})
        products = tuple(
            Product(row["sku"], *priced.get(row["sku"], (None, _fallback_price(row["sku"]))))
            for row in rows
        )
        stock = {row["sku"]: int(row["available"]) for row in rows}
        return cls(products, stock, {c: dict(a) for c, a in addresses.items()})


@dataclass(frozen=True)
class Customer:
    customer_id: str
    email: str
    account_age_days: int
    country: str


@dataclass(frozen=True)
class Poison:
    kind: str
    detail: dict[str, Any]


@dataclass
class Traffic:
    """The generated entries (in put order) and what they are."""

    entries: list[dict[str, str]] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # per entry: order | cancellation | poison
    orders: list[dict[str, Any]] = field(default_factory=list)  # valid OrderCreated details
    cancellations: list[dict[str, Any]] = field(default_factory=list)
    poison: list[Poison] = field(default_factory=list)
    stock: dict[str, int] = field(default_factory=dict)  # what to seed the inventory with

    def demand(self) -> dict[str, int]:
        """Units per SKU the valid orders ask for."""
        totals: dict[str, int] = {}
        for order in self.orders:
            for line in order["items"]:
                totals[line["sku"]] = totals.get(line["sku"], 0) + line["quantity"]
        return totals


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(detail: dict[str, Any]) -> None:
        target: Any = detail
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda detail: detail.pop(key)


# What is wrong with a poison order -> how to make a valid order so. Each breaks the
# OrderCreated schema; none stops the bus from accepting the entry or the rules from matching.
POISON_KINDS: dict[str, Callable[[dict[str, Any]], None]] = {
    "negative quantity": _set(("items", 0, "quantity"), -1),
    "fractional quantity": _set(("items", 0, "quantity"), 1.5),
    "zero unit price": _set(("items", 0, "unitPrice"), 0),
    "unknown currency": _set(("currency",), "EURO"),
    "bad e-mail": _set(("customer", "email"), "not-an-email"),
    "bad customer id": _set(("customer", "customerId"), "customer-42"),
    "negative account age": _set(("customer", "accountAgeDays"), -3),
    "missing shipping address": _drop("shippingAddress"),
    "unknown field": _set(("couponCode",), "BLACKFRIDAY"),
    "bad order id": _set(("orderId",), "12345"),
}


def generate(
    catalog: Catalog,
    *,
    orders: int,
    poison_rate: float,
    seed: int,
    bus_name: str,
) -> Traffic:
    """`orders` valid orders, about CANCEL_SHARE of them cancelled later, and
    round(orders * poison_rate) poison entries spread among them."""
    rng = random.Random(seed)
    customers = _customers(rng, max(10, orders // 3), catalog)
    weights = [1 / math.sqrt(product.price_eur) for product in catalog.products]
    traffic = Traffic()
    used_ids: set[str] = set()
    # (time, tiebreak, detail-type, detail, kind of entry)
    timeline: list[tuple[float, int, str, dict[str, Any], str]] = []
    clock = 0.0
    for _ in range(orders):
        clock += rng.expovariate(1 / 20)  # an order every 20 s on average
        detail = _order(rng, catalog, weights, customers, clock, used_ids)
        traffic.orders.append(detail)
        timeline.append((clock, len(timeline), ORDER_CREATED, detail, "order"))
        if rng.random() < CANCEL_SHARE:
            later = clock + rng.uniform(60, 3600)
            cancelled = _cancellation(rng, detail, later)
            traffic.cancellations.append(cancelled)
            timeline.append((later, len(timeline), ORDER_CANCELLED, cancelled, "cancellation"))
    kinds = list(POISON_KINDS)
    for number in range(round(orders * poison_rate)):
        at = rng.uniform(0, max(clock, 1.0))
        detail = _order(rng, catalog, weights, customers, at, used_ids)
        kind = kinds[number % len(kinds)]
        POISON_KINDS[kind](detail)
        traffic.poison.append(Poison(kind, detail))
        timeline.append((at, len(timeline), ORDER_CREATED, detail, "poison"))
    timeline.sort(key=lambda item: (item[0], item[1]))
    traffic.entries = [
        {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":")),
            "EventBusName": bus_name,
        }
        for _, _, detail_type, detail, _ in timeline
    ]
    traffic.kinds = [kind for *_, kind in timeline]
    traffic.stock = _stock(catalog, traffic.demand())
    return traffic


def _stock(catalog: Catalog, demand: dict[str, int]) -> dict[str, int]:
    scarce = catalog.scarce
    return {
        product.sku: (
            math.floor(demand.get(product.sku, 0) * SCARCE_STOCK)
            if product.sku in scarce
            else math.ceil(demand.get(product.sku, 0) * GENEROUS_STOCK) + 2
        )
        for product in catalog.products
    }


def _customers(rng: random.Random, count: int, catalog: Catalog) -> list[Customer]:
    countries = list(COUNTRIES)
    country_weights = [COUNTRIES[c][0] for c in countries]
    customers = []
    ids: set[str] = set()
    for number in range(count):
        customer_id = _unique(rng, ids, lambda: "CUST-" + _code(rng, 8))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country = rng.choices(countries, country_weights)[0]
        roll = rng.random()
        if roll < NEW_ACCOUNT_SHARE:
            age = 0 if rng.random() < 0.25 else rng.randint(1, 29)
        elif roll < NEW_ACCOUNT_SHARE + YOUNG_ACCOUNT_SHARE:
            age = rng.randint(30, 364)
        else:
            age = min(36_500, max(365, int(rng.lognormvariate(math.log(900), 0.6))))
        mail = rng.random()
        if mail < 0.01:
            domain = rng.choice(DISPOSABLE_MAIL)
        elif mail < 0.35:
            domain = rng.choice(FREE_MAIL)
        else:
            domain = f"example.{country.lower()}"
        email = f"{first}.{last}{number}@{domain}"
        customers.append(Customer(customer_id, email, age, country))
    return customers


def _order(
    rng: random.Random,
    catalog: Catalog,
    weights: list[float],
    customers: list[Customer],
    at: float,
    used_ids: set[str],
) -> dict[str, Any]:
    customer = rng.choice(customers)
    created = START + timedelta(seconds=at)
    order_id = _unique(
        rng, used_ids, lambda: f"ORD-{created:%Y%m%d}-{_code(rng, rng.randint(6, 10))}"
    )
    _, currency, factor = COUNTRIES[customer.country]
    lines = rng.choices((1, 2, 3, 4, 5, 6), (50, 25, 12, 6, 4, 3))[0]
    chosen: dict[str, Product] = {}
    while len(chosen) < min(lines, len(catalog.products)):
        product = rng.choices(catalog.products, weights)[0]
        chosen[product.sku] = product
    items = []
    for product in chosen.values():
        quantity = rng.choices((1, 2, 3, 4, 5), (75, 15, 5, 3, 2))[0]
        if product.price_eur < 20 and rng.random() < 0.2:
            quantity = rng.randint(3, 12)  # cables and mugs go by the handful
        line: dict[str, Any] = {"sku": product.sku}
        if product.name:
            line["name"] = product.name
        line["quantity"] = quantity
        line["unitPrice"] = round(product.price_eur * factor, 2)
        items.append(line)
    subtotal = sum(line["quantity"] * line["unitPrice"] for line in items)
    shipping = round(4.90 * factor, 2) if subtotal < 50 * factor else 0.0
    home = _address(catalog, customer.country)
    ship_to = home
    if rng.random() < 0.04:  # a gift sent abroad
        ship_to = _address(catalog, rng.choice([c for c in COUNTRIES if c != customer.country]))
    return {
        "orderId": order_id,
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "customer": {
            "customerId": customer.customer_id,
            "email": customer.email,
            "accountAgeDays": customer.account_age_days,
        },
        "items": items,
        "total": round(subtotal + shipping, 2),
        "currency": currency,
        "billingAddress": home,
        "shippingAddress": copy.deepcopy(ship_to),
    }


def _cancellation(rng: random.Random, order: dict[str, Any], at: float) -> dict[str, Any]:
    customer = order["customer"]
    return {
        "orderId": order["orderId"],
        "cancelledAt": (START + timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": rng.choice(CANCEL_REASONS),
        "customer": {"customerId": customer["customerId"], "email": customer["email"]},
    }


def _address(catalog: Catalog, country: str) -> dict[str, str]:
    return dict(catalog.addresses.get(country) or {**FALLBACK_ADDRESS, "country": country})


def _code(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_uppercase + string.digits, k=length))


def _unique(rng: random.Random, used: set[str], make: Callable[[], str]) -> str:
    while True:
        value = make()
        if value not in used:
            used.add(value)
            return value


def _fallback_price(sku: str) -> float:
    """A stable price for a SKU the sample catalog does not list: 10 to 500."""
    spread = random.Random(sku).random()
    return round(10 * 50**spread, 2)


def _load_samples(path: Path) -> Any:
    """The sample script as a module (its CATALOG and ADDRESSES), or None if it is absent."""
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("_order_samples", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

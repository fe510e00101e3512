"""The price list and the assumptions behind the estimate: ordersctl/pricing.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordersctl.errors import InputError

# Beside the package (not in it): docs and --help point readers at ordersctl/pricing.json.
PRICING_FILE = Path(__file__).parent.parent / "pricing.json"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    """One public list price: `usd` for every `per` `unit`s."""

    key: str
    usd: float
    per: float
    unit: str
    source: str
    retrieved: str
    note: str = ""

    def cost(self, quantity: float) -> float:
        return quantity / self.per * self.usd


@dataclass
class PriceList:
    region: str
    retrieved: str
    prices: dict[str, Price]
    assumptions: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, path: Path = PRICING_FILE, region: str = DEFAULT_REGION) -> PriceList:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"cannot read the price list {path}: {error}") from error
        regions = data.get("regions") or {}
        if region not in regions:
            known = ", ".join(sorted(regions)) or "none"
            raise InputError(f"no prices for region {region} in {path} (priced: {known})")
        prices = {
            key: Price(
                key=key,
                usd=float(entry["usd"]),
                per=float(entry["per"]),
                unit=str(entry["unit"]),
                source=str(entry["source"]),
                retrieved=str(entry["retrieved"]),
                note=str(entry.get("note", "")),
            )
            for key, entry in regions[region].items()
        }
        return cls(region, str(data.get("retrieved", "")), prices, data["assumptions"], Path(path))

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]

    @property
    def month_seconds(self) -> float:
        return float(self.assumptions["month_hours"]) * 3600

    def function_assumption(self, label: str) -> dict[str, Any]:
        table = self.assumptions["functions"]
        return table.get(label) or table["default"]

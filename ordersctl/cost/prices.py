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


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(value), "null")


def _differences(reference: Any, given: Any, path: str) -> str | None:
    """The first place `given` lacks a key of `reference` or holds another kind of value."""
    if _kind(reference) != _kind(given):
        return f"{path or 'the file'} must be {_kind(reference)}, not {_kind(given)}"
    if isinstance(reference, dict):
        for key, value in reference.items():
            if key not in given:
                return f"{path + '.' if path else ''}{key} is missing"
            found = _differences(value, given[key], f"{path + '.' if path else ''}{key}")
            if found:
                return found
    return None


def shape_problem(data: Any, region: str) -> str | None:
    """How a price list differs in shape from the shipped ordersctl/pricing.json (the reference:
    every key it has, with the same kind of value; a region's prices like its us-east-1)."""
    reference = json.loads(PRICING_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        return f"the file must be an object, not {_kind(data)}"
    if not isinstance(data.get("regions"), dict):
        return "regions must be an object of regions, each an object of prices"
    if region in data["regions"]:
        prices = data["regions"][region]
        found = _differences(reference["regions"][DEFAULT_REGION], prices, f"regions.{region}")
        if found:
            return found
    rest = {key: value for key, value in reference.items() if key != "regions"}
    return _differences(rest, {k: v for k, v in data.items() if k != "regions"}, "")


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
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
            raise InputError(f"cannot read the price list {path}: {error}") from error
        problem = shape_problem(data, region)
        if problem:
            raise InputError(f"{path}: not a price list like {PRICING_FILE.name}: {problem}")
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

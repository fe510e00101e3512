"""Event names every function agrees on (the stack and the schemas use the same strings)."""

from __future__ import annotations

from typing import Final

SOURCE_ORDERS: Final = "com.example.orders"
SOURCE_INVENTORY: Final = "com.example.inventory"
SOURCE_RISK: Final = "com.example.risk"

ORDER_CREATED: Final = "OrderCreated"
ORDER_CANCELLED: Final = "OrderCancelled"
INVENTORY_RESERVED: Final = "InventoryReserved"
INVENTORY_SHORTAGE: Final = "InventoryShortage"
ORDER_RISK_ASSESSED: Final = "OrderRiskAssessed"

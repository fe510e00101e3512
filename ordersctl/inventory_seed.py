"""Reading an inventory seed file (events/inventory-seed.json): [{"sku": ..., "available": N}].

One reader for every command that seeds stock (put-events/tail/replay/demo --local, simulate), so
a wrong-shaped file is refused the same way everywhere: naming the file, the row and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordersctl.errors import InputError


def read_inventory_seed(path: Path) -> list[dict[str, Any]]:
    """The rows of a seed file, each {"sku": non-empty string, "available": whole number >= 0}.

    Raises InputError naming the file (and row and field) when it is unreadable or misshaped."""
    from ordersctl.entries import loads

    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: cannot read the inventory seed: not UTF-8 text") from error
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise InputError(f"{path}: cannot read the inventory seed: {reason}") from error
    try:
        rows = loads(text)
    except ValueError as error:
        raise InputError(f"{path}: the inventory seed is not valid JSON: {error}") from error
    example = '[{"sku": "BOOK-DDIA", "available": 5}, ...]'
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path}: an inventory seed is a non-empty JSON array like {example}")
    for index, row in enumerate(rows):
        where = f"{path}: row {index}"
        if not isinstance(row, dict):
            raise InputError(f"{where}: must be an object like {example[1:-6]}")
        unknown = sorted(set(row) - {"sku", "available"})
        if unknown:
            raise InputError(
                f"{where}: unknown field(s) {', '.join(unknown)}; allowed: sku, available"
            )
        sku, available = row.get("sku"), row.get("available")
        if not isinstance(sku, str) or not sku.strip():
            raise InputError(f"{where}: sku: must be a non-empty string, got {sku!r}")
        if isinstance(available, bool) or not isinstance(available, int) or available < 0:
            raise InputError(f"{where}: available: must be a whole number >= 0, got {available!r}")
    return rows

"""`ordersctl cost` per million orders for the prod stage's template, as deployed.

The prod stage is synthesized here (`npx cdk synth -q -c stage=prod` into a temporary folder,
with placeholder recipients because prod requires them) since its choices (customer managed
key, e-mail subscriptions, PassThrough tracing) are what the bill is about; `make synth` builds
dev. Then the same estimate `ordersctl cost --orders-per-month 1000000` prints, with the same
price list and sample mix, is read: the design's total per million orders, its X-Ray line, and
what undoing each design choice would add (tracing among them). Not a time: a model's output,
so it is exact and the same on every machine.

Not a test: `python -m bench.bench_cost`; `run()` returns a dict for `make bench`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_synth import synth_into

ORDERS = 1_000_000
TARGET_USD_PER_MILLION = 30.0  # issue 15: <= $30 per million orders at the same guarantees
PROD_CONTEXT = [
    "-c",
    "stage=prod",
    "-c",
    "opsEmail=ops@example.com",
    "-c",
    "fraudAlertEmails=fraud@example.com",
]


def run() -> dict[str, Any]:
    """The prod template's estimate for one million orders."""
    from ordersctl.cost.command import build_report

    with tempfile.TemporaryDirectory(prefix="bench-cost-") as outdir:
        synth_into(Path(outdir), PROD_CONTEXT)
        report = build_report(orders=ORDERS, cdk_out=Path(outdir))
    design = report.design
    per_million = design.per_million(design.total)
    xray = design.services.get("X-Ray")
    return {
        "stage": "prod",
        "orders_per_month": ORDERS,
        "usd_per_million_orders": round(per_million, 2),
        "xray_usd_per_million_orders": round(design.per_million(xray.monthly), 2) if xray else 0.0,
        "tracing": sorted({use.tracing or "unset" for use in design.functions.values()}),
        "services": {
            name: round(design.per_million(service.monthly), 2)
            for name, service in design.services.items()
        },
        "cost_of_undoing_one_choice": {
            choice: round(extra, 2) for choice, extra in report.choice_costs.items()
        },
        "target_usd_per_million": TARGET_USD_PER_MILLION,
        "meets_target": per_million <= TARGET_USD_PER_MILLION,
    }


def main() -> None:
    result = run()
    print(
        f"cost per million orders, prod template: ${result['usd_per_million_orders']:.2f} "
        f"(X-Ray ${result['xray_usd_per_million_orders']:.2f}, tracing "
        f"{', '.join(result['tracing'])}); target <= ${result['target_usd_per_million']:.0f}"
    )
    for choice, extra in result["cost_of_undoing_one_choice"].items():
        print(f"  undoing {choice:<22}: +${extra:.2f} a month")


if __name__ == "__main__":
    sys.exit(main())

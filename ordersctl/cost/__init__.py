"""`ordersctl cost`: what the order flow costs a month, read from the synthesized template.

How the estimate is built (per order first, then times --orders-per-month):

1. The order mix (mix.py). Every OrderCreated of a sample file (default
   events/orders-batch.json) stands for a share of the orders: high-value when a rule queues it
   for the pipe, new-account when the pipe's filter passes it (matching.py); shares from the
   file, or from ``--mix``.
2. The routes (flow.py). Each event is matched against every rule of the template and each
   target followed; the events the handlers put back on the bus (handlers.py) are built from the
   order, projected onto their schemas (events.py), and followed too.
3. The bill (bill.py). Batching, memory, architecture, timeout, tracing and log retention from
   the template; durations, log sizes and unreadable shares from the "assumptions" of
   pricing.json; prices from its price list (prices.py).
4. The comparison (comparison.py): the same template naively built (x86 functions, no pipe
   filter, batches of one) and with each design choice undone alone; rendered by terminal.py,
   markdown.py (and docs/cost.md's blocks) and json_report.py from report.py's wording.

The command itself is command.py.
"""

from __future__ import annotations

from ordersctl.cost.command import load_samples, register
from ordersctl.cost.comparison import Report, compare, naive_template
from ordersctl.cost.events import Schemas
from ordersctl.cost.markdown import embedded_block, markdown
from ordersctl.cost.prices import PRICING_FILE, PriceList

__all__ = [
    "PRICING_FILE",
    "PriceList",
    "Report",
    "Schemas",
    "compare",
    "embedded_block",
    "load_samples",
    "markdown",
    "naive_template",
    "register",
]

"""ordersctl: the order-events command line.

Commands: put-events, test-event-pattern, routes, replay, tail, demo.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"

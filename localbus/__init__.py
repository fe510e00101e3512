"""localbus: run a CDK app's deployed event flow locally, from its synthesized template.

Import-light on purpose: `import localbus.patterns` must not import moto or boto3, so LocalBus
(and everything behind it) is only imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localbus.bus import LocalBus

__all__ = ["LocalBus"]


def __getattr__(name: str) -> Any:
    if name == "LocalBus":
        from localbus.bus import LocalBus

        return LocalBus
    raise AttributeError(f"module 'localbus' has no attribute {name!r}")

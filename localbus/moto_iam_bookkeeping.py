"""moto's per-request IAM bookkeeping, without importing moto's IAM until something uses IAM.

Every request moto serves ends its setup with `mark_account_as_visited`, imported from
`moto.iam.models`: it records the last use of the caller's access key if IAM knows that key.
Importing `moto.iam.models` (with `cryptography.x509` and the AWS managed policies) costs about
30 ms, paid on the first request of any service. While that module has never been imported, no
IAM backend exists, so no access key is known and the call records nothing (it would only
create the account's IAM backend, which IAM's first real call creates the same way). So, while
it is not imported, the request's setup finds a stand-in whose `mark_account_as_visited` does
nothing; any other name taken from it imports the real module. From the first import of
`moto.iam.models` on (an IAM call, a handler's own import), moto's own function runs again.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any

IAM_MODELS = "moto.iam.models"


class _IamNotImported(types.ModuleType):
    """Stands in for moto.iam.models during a request's setup while it was never imported."""

    @staticmethod
    def mark_account_as_visited(
        account_id: str, access_key: str, service: str, region: str
    ) -> None:
        return None  # no IAM backend, so no access key whose last use could be recorded

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's questions (is it a package?)
            raise AttributeError(name)
        return getattr(_real_iam_models(), name)


_STAND_IN = _IamNotImported(IAM_MODELS)


def _real_iam_models() -> types.ModuleType:
    if sys.modules.get(IAM_MODELS) is _STAND_IN:
        del sys.modules[IAM_MODELS]
    return importlib.import_module(IAM_MODELS)


def defer_iam_until_used() -> Callable[[], None]:
    """Let moto's request setup skip importing moto.iam.models while nothing uses IAM; undo."""
    from moto.core.responses import BaseResponse

    setup_class = BaseResponse.setup_class

    def setup_class_without_unused_iam(self: Any, *args: Any, **kwargs: Any) -> Any:
        if IAM_MODELS in sys.modules:
            return setup_class(self, *args, **kwargs)
        sys.modules[IAM_MODELS] = _STAND_IN
        try:
            return setup_class(self, *args, **kwargs)
        finally:
            if sys.modules.get(IAM_MODELS) is _STAND_IN:
                del sys.modules[IAM_MODELS]

    BaseResponse.setup_class = setup_class_without_unused_iam  # type: ignore[method-assign]

    def undo() -> None:
        BaseResponse.setup_class = setup_class  # type: ignore[method-assign]

    return undo

"""Replacing a few methods of the boto3 clients the CLI creates, the rest answered by moto."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

import ordersctl.targets.aws as aws_target


class ClientProxy:
    """Answers like the real client, except for the methods given: each of those is called with
    the real client as its first argument, then the call's own arguments."""

    def __init__(self, client: Any, methods: dict[str, Callable[..., Any]]) -> None:
        self._client = client
        for name, method in methods.items():
            setattr(self, name, functools.partial(method, client))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def replace_client_methods(
    monkeypatch: pytest.MonkeyPatch, service: str, **methods: Callable[..., Any]
) -> None:
    """Every `service` client the CLI creates from now on is a ClientProxy with `methods`."""
    real_create = aws_target.create_client

    def create(session: Any, name: str, endpoint_url: str | None) -> Any:
        client = real_create(session, name, endpoint_url)
        return ClientProxy(client, methods) if name == service else client

    monkeypatch.setattr(aws_target, "create_client", create)

"""Helpers shared by the provider tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, Inexact, localcontext
from typing import Any

import httpx
import respx

from usagekit import UsageRecord


def make(mode: str, sync_cls: type[Any], async_cls: type[Any], *args: Any, **kwargs: Any) -> Any:
    """Build the sync or the async twin of a client with the same arguments."""
    return (sync_cls if mode == "sync" else async_cls)(*args, **kwargs)


async def close(client: Any) -> None:
    """Close a client of either kind."""
    if hasattr(client, "aclose"):
        await client.aclose()
    else:
        client.close()


@contextmanager
def no_requests() -> Iterator[respx.MockRouter]:
    """A router that fails the test if any request is sent at all."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router
    assert router.calls.call_count == 0, "a request was sent"


def json_response(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    """A JSON response whose Decimals are written as exact JSON numbers (no float rounding)."""
    return httpx.Response(
        status,
        content=dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
    )


_MARK = re.compile(r'"\\u0000dec:([^"]*)"')


def dumps(body: Any) -> str:
    """``json.dumps`` with Decimals written exactly."""

    def number(value: Any) -> str:
        if isinstance(value, Decimal):
            return f"\x00dec:{value}"
        raise TypeError(f"not JSON serializable: {type(value).__name__}")

    return _MARK.sub(lambda m: m.group(1), json.dumps(body, default=number))


def total(records: list[UsageRecord], metric: str) -> Decimal:
    """Sum the quantities of one metric, exactly (the default context rounds at 28 digits)."""
    with localcontext(prec=10_000) as context:
        context.traps[Inexact] = True
        return sum((r.quantity for r in records if r.metric == metric), Decimal(0))

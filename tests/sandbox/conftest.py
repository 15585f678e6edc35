"""Fixtures for the sandbox tests: one fixed-clock sandbox per module, reset before each test."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from usagekit.sandbox import Sandbox, serve

NOW = datetime(2026, 4, 15, 17, 30, tzinfo=timezone.utc)
"""The sandbox clock in these tests: a Wednesday, mid-hour."""
TODAY = int(datetime(2026, 4, 15, tzinfo=timezone.utc).timestamp())
YESTERDAY = TODAY - 86400
"""A complete day (a Tuesday)."""


_TLS = ssl.create_default_context()


def new_client(**kwargs: Any) -> httpx.Client:
    """An httpx client (sharing one TLS context: building one per client costs ~50 ms)."""
    kwargs.setdefault("timeout", 10)
    return httpx.Client(verify=_TLS, **kwargs)


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[Sandbox]:
    """A sandbox shared by the tests of one module (seed 1, clock frozen at ``NOW``)."""
    started = time.perf_counter()
    with serve(seed=1, now=NOW) as sandbox:
        print(f"sandbox started in {(time.perf_counter() - started) * 1000:.1f} ms")
        yield sandbox


@pytest.fixture
def sb(module_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The module's sandbox with default behaviour and zeroed counters; fails on sandbox bugs."""
    module_sandbox.reset()
    yield module_sandbox
    assert module_sandbox.stats.internal_errors == []


@pytest.fixture(scope="module")
def http(module_sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A plain httpx client for the module's sandbox."""
    with new_client(base_url=module_sandbox.url) as client:
        yield client


@pytest.fixture(scope="module")
def openai(module_sandbox: Sandbox) -> Iterator[httpx.Client]:
    """An httpx client for the OpenAI endpoints, with the admin key."""
    headers = {"Authorization": f"Bearer {module_sandbox.keys.openai_admin_key}"}
    base_url = module_sandbox.base_urls["openai"]
    with new_client(base_url=base_url, headers=headers) as client:
        yield client


@pytest.fixture(scope="module")
def daramex(module_sandbox: Sandbox) -> Iterator[httpx.Client]:
    """An httpx client for the Daramex endpoints, with the token and org id."""
    headers = {
        "Authorization": f"Bearer {module_sandbox.keys.daramex_token}",
        "x-org-id": module_sandbox.keys.daramex_org_id,
    }
    base_url = module_sandbox.base_urls["daramex"]
    with new_client(base_url=base_url, headers=headers) as client:
        yield client

"""Shared test helpers: one scenario body, run for the sync and the async client."""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

import usagekit

SWEEP_ENV = "USAGEKIT_TEST_CLOCK"
"""Set by ``scripts/clock_sweep.py``: every test then starts with the clock at this instant."""
SWEEP_AT = os.environ.get(SWEEP_ENV, "").strip()

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
"""Set by ``.ci/run`` (and by CI services): properties then draw the same examples every run."""

if IN_CI or SWEEP_AT:
    from hypothesis import settings

    if IN_CI:
        # The same examples on every CI run (seeded from each test), so that a red build is
        # the change's doing, never a new draw's; a local ``make test`` keeps drawing anew.
        settings.register_profile("ci", derandomize=True, database=None)
        settings.load_profile("ci")
    if SWEEP_AT:
        # The sweep is about the calendar, not about inputs: the full suite runs every
        # property at its usual strength; each pinned instant runs a few examples of each.
        parent = settings.get_profile("ci") if IN_CI else None
        settings.register_profile("clock-sweep", parent, max_examples=5, deadline=None)
        settings.load_profile("clock-sweep")


def pytest_configure(config: pytest.Config) -> None:
    """Under the date sweep, the whole session starts at ``SWEEP_AT`` too, so that session and
    module fixtures (shared sandboxes, with their history before "now") are made there."""
    if SWEEP_AT:
        import time_machine

        config._usagekit_travel = time_machine.travel(SWEEP_AT, tick=True)  # type: ignore[attr-defined]
        config._usagekit_travel.start()  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the session's time travel."""
    travel = getattr(config, "_usagekit_travel", None)
    if travel is not None:
        travel.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say at which instant the clock is pinned, when it is."""
    return f"clock pinned at {SWEEP_AT} (each test starts there)" if SWEEP_AT else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Name the pinned instant in every failure report."""
    outcome = yield
    report = outcome.get_result()
    if SWEEP_AT and report.failed:
        report.sections.append(("pinned clock", f"this test ran with the clock at {SWEEP_AT}"))


READERS_ENV = "USAGEKIT_TEST_CLOCK_READERS"
"""When set (by the sweep's first pass), the ids of tests that read the clock are appended to
this file: a test that never asks the time cannot depend on the date."""


@pytest.fixture(autouse=True)
def _pinned_clock(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Under the date sweep, start every test at ``SWEEP_AT`` (the clock then runs on).

    time-machine moves this process's wall clock (so tests' own ``datetime.now`` agrees), usagekit's
    clock is pinned to it (so a leftover ``USAGEKIT_NOW`` cannot disagree), and child processes
    (examples, the command) get ``USAGEKIT_NOW``, which starts their usagekit clock there.
    """
    if not SWEEP_AT:
        yield
        return
    import time_machine

    read = False

    def clock() -> datetime:
        nonlocal read
        read = True
        return datetime.now(timezone.utc)

    with time_machine.travel(SWEEP_AT, tick=True):
        monkeypatch.setenv(usagekit.CLOCK_ENV, SWEEP_AT)
        with usagekit.pin_clock(clock):
            yield
    readers = os.environ.get(READERS_ENV)
    if read and readers:
        with open(readers, "a", encoding="utf-8") as handle:
            handle.write(request.node.nodeid + "\n")


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Parametrize a test over the sync and async clients."""
    return str(request.param)


async def resolve(value: Any) -> Any:
    """Await ``value`` if it is awaitable; drain it into a list if it is an (async) iterator.

    Lets one scenario body call ``await resolve(client.method(...))`` whatever the client kind.
    """
    if inspect.isawaitable(value):
        value = await value
    if isinstance(value, AsyncIterable):
        return [item async for item in value]
    lazy = hasattr(value, "__next__") or hasattr(value, "iter_pages")
    if isinstance(value, Iterable) and lazy:
        return list(value)
    return value


class SleepRecorder:
    """Stands in for the transport's sleep: records each wait, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def install_sleep(client: Any, recorder: SleepRecorder) -> None:
    """Replace a client's transport sleep with ``recorder`` (sync or async as fits)."""
    transport = client._transport
    is_async = inspect.iscoroutinefunction(transport.sleep)
    transport.sleep = recorder.async_sleep if is_async else recorder


@pytest.fixture
def sleeps() -> SleepRecorder:
    """A fresh sleep recorder; install it with ``install_sleep(client, sleeps)``."""
    return SleepRecorder()

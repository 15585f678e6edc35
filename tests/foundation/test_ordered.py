"""The ordered fetch both day walks share (``_core._async_ordered`` and its generated twin):
answers in the items' order whatever order the fetches end in, the bound, the first error in
order, early close, the context of the caller, and a limit of 1 being the sequential walk."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from usagekit._core._async_ordered import async_in_order
from usagekit._core._ordered import in_order
from usagekit._core.coverage import capture, declare

UTC = timezone.utc
WAIT = 10.0
"""Seconds a test waits for an event before it fails instead of hanging."""


def walk_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("usagekit-walk")]


def other_tasks() -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


class Gate:
    """Counts fetches under way (thread-safe) and holds each until the test releases it."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.inflight = self.peak = 0
        self.started: list[int] = []
        self.ended: list[int] = []
        self.released: set[int] = set()

    def enter(self, item: int) -> None:
        with self.lock:
            self.started.append(item)
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
            self.lock.notify_all()

    def leave(self, item: int) -> None:
        with self.lock:
            self.inflight -= 1
            self.ended.append(item)
            self.lock.notify_all()

    def release(self, *items: int) -> None:
        with self.lock:
            self.released.update(items)
            self.lock.notify_all()

    def wait_started(self, count: int) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.started) >= count, WAIT)

    def wait_ended(self, item: int) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: item in self.ended, WAIT)

    def fetch(self, item: int) -> str:
        """A fetch that ends only once the test has released its item."""
        self.enter(item)
        try:
            with self.lock:
                assert self.lock.wait_for(lambda: item in self.released, WAIT)
            return f"answer {item}"
        finally:
            self.leave(item)


# -- sync ----------------------------------------------------------------------------------


def test_answers_come_in_item_order_whatever_order_the_fetches_end_in() -> None:
    gate = Gate()

    def backwards() -> None:
        gate.wait_started(3)
        for item in (2, 1, 0):
            gate.release(item)
            gate.wait_ended(item)

    answers = in_order(gate.fetch, range(6), limit=3)
    with contextlib.closing(answers):
        releaser = threading.Thread(target=backwards)
        releaser.start()
        first = next(answers)
        releaser.join(WAIT)
        gate.release(5, 4, 3)
        rest = list(answers)
    assert gate.ended[:3] == [2, 1, 0]
    assert [first, *rest] == [f"answer {n}" for n in range(6)]
    assert gate.peak == 3
    assert sorted(gate.started) == list(range(6))
    assert walk_threads() == []


def test_at_most_limit_under_way_and_items_read_lazily() -> None:
    gate = Gate()
    taken: list[int] = []

    def items() -> Iterator[int]:
        for number in range(10):
            taken.append(number)
            yield number

    def fetch(item: int) -> int:
        gate.enter(item)
        gate.leave(item)
        return item * 10

    answers = in_order(fetch, items(), limit=4)
    assert next(answers) == 0
    assert taken == [0, 1, 2, 3]  # no further ahead than the bound
    assert next(answers) == 10
    assert taken == [0, 1, 2, 3, 4]  # one more when the consumer came back
    assert list(answers) == [n * 10 for n in range(2, 10)]
    assert gate.peak <= 4
    assert walk_threads() == []


def test_a_limit_of_one_is_the_sequential_walk_on_the_callers_thread() -> None:
    events: list[str] = []
    threads: set[int] = set()

    def fetch(item: int) -> int:
        threads.add(threading.get_ident())
        events.append(f"fetch {item}")
        return item

    for answer in in_order(fetch, range(3), limit=1):
        events.append(f"use {answer}")
    assert events == ["fetch 0", "use 0", "fetch 1", "use 1", "fetch 2", "use 2"]
    assert threads == {threading.get_ident()}


def test_the_first_error_in_order_is_raised_after_the_answers_before_it() -> None:
    later_failed = threading.Event()

    def fetch(item: int) -> int:
        if item == 3:  # fails first in time
            later_failed.set()
            raise LookupError("item 3")
        if item == 2:
            assert later_failed.wait(WAIT)
            raise KeyError("item 2")
        return item

    got: list[int] = []

    def drain() -> None:
        for answer in in_order(fetch, range(8), limit=4):
            got.append(answer)

    with pytest.raises(KeyError, match="item 2"):
        drain()
    assert got == [0, 1]
    assert walk_threads() == []


def test_closing_early_drops_what_is_not_started_and_leaves_no_thread() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def fetch(item: int) -> int:
        with lock:
            started.append(item)
        return item

    answers = in_order(fetch, range(100), limit=3)
    assert next(answers) == 0
    answers.close()
    assert len(started) <= 3  # the first three, none started after the close
    assert walk_threads() == []


def test_worker_fetches_run_in_the_callers_context() -> None:
    names: set[str] = set()

    def fetch(item: int) -> int:
        names.add(threading.current_thread().name)
        moment = datetime(2026, 9, 1 + item, tzinfo=UTC)
        declare(moment, moment, f"item {item}")
        return item

    with capture() as declared:
        assert list(in_order(fetch, range(5), limit=3)) == list(range(5))
    assert sorted(d.note for d in declared) == [f"item {n}" for n in range(5)]
    assert all(name.startswith("usagekit-walk") for name in names)


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        list(in_order(lambda item: item, [1], limit=0))


# -- async ---------------------------------------------------------------------------------


async def test_async_answers_come_in_item_order_and_the_bound_holds() -> None:
    inflight = peak = 0
    ended: list[int] = []

    async def fetch(item: int) -> str:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        await asyncio.sleep(0.001 * (5 - item % 5))  # later items end first
        inflight -= 1
        ended.append(item)
        return f"answer {item}"

    got = [answer async for answer in async_in_order(fetch, range(10), limit=4)]
    assert got == [f"answer {n}" for n in range(10)]
    assert ended != sorted(ended)  # they did end out of order
    assert peak == 4


async def test_async_limit_of_one_is_the_sequential_walk() -> None:
    events: list[str] = []

    async def fetch(item: int) -> int:
        events.append(f"fetch {item}")
        await asyncio.sleep(0)
        return item

    async for answer in async_in_order(fetch, range(3), limit=1):
        events.append(f"use {answer}")
    assert events == ["fetch 0", "use 0", "fetch 1", "use 1", "fetch 2", "use 2"]


async def test_async_error_cancels_the_fetches_under_way() -> None:
    cancelled: list[int] = []

    async def fetch(item: int) -> int:
        if item == 1:
            raise KeyError("item 1")
        try:
            await asyncio.sleep(WAIT)
        except asyncio.CancelledError:
            cancelled.append(item)
            raise
        return item

    async def first(item: int) -> int:
        return item if item == 0 else await fetch(item)

    got: list[int] = []

    async def drain() -> None:
        async for answer in async_in_order(first, range(10), limit=4):
            got.append(answer)

    with pytest.raises(KeyError, match="item 1"):
        await drain()
    assert got == [0]
    assert sorted(cancelled) == [2, 3, 4]  # item 4 started when the consumer took item 0
    assert other_tasks() == set()


async def test_async_early_close_cancels_and_reports_nothing() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    cancelled: list[int] = []

    async def fetch(item: int) -> int:
        if item == 0:
            return 0
        if item == 2:
            raise RuntimeError("never retrieved by the consumer")
        try:
            await asyncio.sleep(WAIT)
        except asyncio.CancelledError:
            cancelled.append(item)
            raise
        return item

    try:
        answers = async_in_order(fetch, range(10), limit=3)
        assert await anext(answers) == 0
        await answers.aclose()  # at the yield: item 3 is never started
        assert cancelled == [1]
        assert other_tasks() == set()
        gc.collect()
        await asyncio.sleep(0)
        assert reported == []
    finally:
        loop.set_exception_handler(None)


async def test_async_fetches_run_in_the_callers_context() -> None:
    async def fetch(item: int) -> int:
        moment = datetime(2026, 9, 1 + item, tzinfo=UTC)
        declare(moment, moment, f"item {item}")
        return item

    with capture() as declared:
        got = [answer async for answer in async_in_order(fetch, range(4), limit=2)]
    assert got == list(range(4))
    assert sorted(d.note for d in declared) == [f"item {n}" for n in range(4)]

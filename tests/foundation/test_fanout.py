"""The two hand-written concurrency primitives under the walks (OpenAI's endpoints, the days of
OpenRouter and Anthropic): where calls run, what leaving the block does to calls under way, and
their bound."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
from typing import Any

import pytest

from usagekit._core._fanout import AsyncFanout, Fanout

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("mark", default="unset")


@pytest.mark.parametrize("limit", [0, -1])
def test_a_fanout_needs_a_slot(limit: int) -> None:
    with pytest.raises(ValueError, match="at least one"):
        Fanout(limit)
    with pytest.raises(ValueError, match="at least one"):
        AsyncFanout(limit)


def test_a_limit_of_one_runs_calls_on_the_callers_thread_when_asked() -> None:
    ran: list[int] = []
    with Fanout(1) as fanout:
        handle = fanout.start(lambda: ran.append(threading.get_ident()) or len(ran))
        assert ran == []  # deferred until its result is asked for
        with pytest.raises(RuntimeError, match="no free slot"):
            fanout.start(lambda: None)
        assert fanout.result(handle) == 1
        assert ran == [threading.get_ident()]
        dropped = fanout.start(lambda: ran.append(0))
    assert ran == [threading.get_ident()]  # the call left pending never ran
    assert not dropped.done() or dropped.cancelled()


def test_workers_run_in_a_copy_of_the_callers_context() -> None:
    MARK.set("caller")
    seen: list[tuple[str, str]] = []

    def call() -> str:
        seen.append((MARK.get(), threading.current_thread().name))
        MARK.set("worker")  # stays in the worker's copy
        return MARK.get()

    with Fanout(2) as fanout:
        first, second = fanout.start(call), fanout.start(call)
        assert (fanout.result(first), fanout.result(second)) == ("worker", "worker")
    assert [mark for mark, _ in seen] == ["caller", "caller"]
    assert all(name.startswith("usagekit-walk") for _, name in seen)
    assert MARK.get() == "caller"


def test_leaving_waits_for_running_calls_and_the_bound_holds() -> None:
    release = threading.Event()
    started = threading.Barrier(3, timeout=10)
    finished: list[int] = []

    def call(number: int) -> None:
        started.wait()
        release.wait(10)
        finished.append(number)

    with Fanout(2) as fanout:
        fanout.start(call, 1)
        fanout.start(call, 2)
        with pytest.raises(RuntimeError, match="no free slot"):
            fanout.start(call, 3)
        started.wait()  # both calls are running
        release.set()
    assert sorted(finished) == [1, 2]  # the block ended after them
    assert not [t for t in threading.enumerate() if t.name.startswith("usagekit-walk")]


def test_an_interrupt_does_not_wait_for_running_calls() -> None:
    release = threading.Event()
    running = threading.Event()

    def call() -> None:
        running.set()
        release.wait(10)

    handles: list[Any] = []

    def interrupted() -> None:
        with Fanout(2) as fanout:
            handles.append(fanout.start(call))
            running.wait(10)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    (handle,) = handles
    assert not handle.done()  # control came back while the call was still running
    release.set()
    handle.result(timeout=10)


async def test_leaving_cancels_tasks_and_retrieves_every_outcome() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    cancelled: list[str] = []

    async def hang(name: str) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def fail() -> None:
        raise RuntimeError("boom")

    try:
        async with AsyncFanout(3) as fanout:
            await fanout.start(hang, "a")
            failing = await fanout.start(fail)
            await fanout.start(hang, "b")
            with pytest.raises(RuntimeError, match="no free slot"):
                await fanout.start(hang, "c")
            await asyncio.sleep(0)
            assert failing.done()  # failed, never awaited by the caller
            del failing
        assert sorted(cancelled) == ["a", "b"]
        gc.collect()
        await asyncio.sleep(0)
        assert reported == []  # no "exception never retrieved", no "task destroyed"
    finally:
        loop.set_exception_handler(None)


async def test_a_result_frees_its_slot() -> None:
    async def value(number: int) -> int:
        return number

    async with AsyncFanout(1) as fanout:
        for number in range(3):
            assert await fanout.result(await fanout.start(value, number)) == number


def test_done_tells_an_ended_call_and_never_a_deferred_one() -> None:
    release = threading.Event()
    with Fanout(2) as fanout:
        waiting = fanout.start(release.wait, 30)
        quick = fanout.start(lambda: 7)
        quick.result(timeout=30)  # ended: done() must say so without taking the result
        assert fanout.done(quick) and not fanout.done(waiting)
        release.set()
        assert fanout.result(waiting) is True and fanout.result(quick) == 7
    with Fanout(1) as fanout:
        deferred = fanout.start(lambda: 1)
        assert not fanout.done(deferred)  # runs only when its result is asked for
        assert fanout.result(deferred) == 1


async def test_done_tells_an_ended_task() -> None:
    release = asyncio.Event()

    async def value(number: int) -> int:
        if number == 0:
            await release.wait()
        return number

    async with AsyncFanout(2) as fanout:
        waiting, quick = await fanout.start(value, 0), await fanout.start(value, 1)
        await asyncio.wait_for(asyncio.shield(quick), 30)
        assert fanout.done(quick) and not fanout.done(waiting)
        release.set()
        assert (await fanout.result(waiting), await fanout.result(quick)) == (0, 1)

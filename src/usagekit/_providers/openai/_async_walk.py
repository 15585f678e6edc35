"""The page walk of ``records()``: every endpoint's pages, several endpoints at once, in order.

:func:`walk_pages` reads the endpoints of a ``records()`` plan concurrently and yields their
pages in an order that depends only on the data, never on timing:

* up to ``concurrency`` endpoints are read at once (the *rotation*), taken in table order;
* the rotation is served round-robin, one page per endpoint per turn: endpoint 1 page 1,
  endpoint 2 page 1, ..., endpoint 4 page 1, endpoint 1 page 2, ...;
* when an endpoint's last page is handed over, the next endpoint of the table takes its place
  in the rotation (its first page comes at that place's next turn);
* each endpoint in the rotation has at most one request under way and one page answered and
  waiting: its next page is requested as soon as the walk sees its previous one answered,
  whether or not that page's turn has come (the walk looks each time it hands a page over), and
  its successor's first as its last page is handed over (so that which endpoint takes which
  place never depends on timing); requests overlap the consumer's work on earlier pages
  (except in a sync walk with one request at a time, whose request runs on the caller's thread
  when asked for); at most ``concurrency`` requests are in flight and at most
  ``2 * concurrency`` pages wait besides the one being consumed (memory is bounded by pages,
  never by endpoints).

With ``concurrency=1`` this is the sequential walk: every page of endpoint 1, then endpoint 2...

Errors come in stream order: the walk raises a failed request's error at that endpoint's turn
(after the pages yielded before it), a cursor error right after the page that carried it, and
on any exit (an error, ``break``, ``aclose``) the requests still under way are cancelled and
waited for (:mod:`usagekit._core._fanout`). Pages are validated: a plainly valid page (usage
or costs) read without wire models (:func:`~usagekit._providers.openai._plain.plain_page`), else the
endpoint's page model; turning them into records is the consumer's business (``records()`` uses
:func:`~usagekit._providers.openai.page_records`), so another consumer (a columnar one) can
share this walk. The requests share the client's transport: its connection pool, rate limiter
and retry policy.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..._core._async_transport import AsyncTransport
from ..._core._cursor import DEFAULT_PAGING, CursorWalk
from ..._core._fanout import AsyncFanout, AsyncHandle
from ..._core.errors import PaginationError
from ..._core.transport import Answer, RequestSpec
from ._plain import AnyPage, plain_page
from ._requests import Endpoint

__all__ = ["AsyncPages", "Plan", "walk_pages"]

Plan = Sequence[tuple[Endpoint[Any], RequestSpec]]
"""A ``records()`` plan: ``(endpoint, first request)`` pairs, in table order."""

# unasync: sync Pages = Generator[tuple[Endpoint[Any], AnyPage], None, None]
AsyncPages = AsyncGenerator[tuple[Endpoint[Any], AnyPage], None]  # unasync: remove
"""The page walk: each endpoint with each of its pages (closable, to cancel it early)."""


@dataclass
class _Reading:
    """An endpoint in the rotation: its cursor walk, its request under way and what came of
    the one before, taken from the fanout as soon as it was seen answered."""

    endpoint: Endpoint[Any]
    walk: CursorWalk
    pending: AsyncHandle[Answer] | None
    spec: RequestSpec  # the request under way (or the last one)
    answered: AnyPage | None = None
    failure: Exception | None = None  # the answered request's error, raised at its turn
    cursor_error: PaginationError | None = None  # raised right after the page that carried it
    last: bool = False  # the answered page is the endpoint's last

    def ready(self) -> bool:
        """Whether the page of this endpoint's turn (or its error) is taken already."""
        return self.answered is not None or self.failure is not None


async def walk_pages(transport: AsyncTransport, plan: Plan, *, concurrency: int) -> AsyncPages:
    """Yield ``(endpoint, page)`` for every page of every endpoint of ``plan``, in the order above.

    Args:
        transport: The client's transport (shared by every request).
        plan: ``(endpoint, first request)`` pairs, in table order.
        concurrency: The most endpoints read at once (at least 1).

    Yields:
        Each endpoint with each of its validated pages.

    Raises:
        PaginationError: An endpoint's cursors do not terminate.
        APIError: A page failed after its retries (and the transport's other errors).
    """
    if not plan:
        return
    config = transport.config
    waiting: Iterator[tuple[Endpoint[Any], RequestSpec]] = iter(plan)

    async def fetch(spec: RequestSpec) -> Answer:
        # Only the request runs beside the walk; its body is validated by the walk itself when
        # it takes the answer (one thread for the CPU work, instead of every worker contending
        # for the GIL with the consumer).
        return await transport.send(spec)

    async with AsyncFanout(min(concurrency, len(plan))) as fanout:

        async def enter() -> _Reading | None:
            """The next endpoint of the table, its first page requested; None when none is left."""
            following = next(waiting, None)
            if following is None:
                return None
            endpoint, spec = following
            walk = CursorWalk(
                spec, DEFAULT_PAGING, provider=config.provider, max_pages=config.max_pages
            )
            return _Reading(endpoint, walk, await fanout.start(fetch, spec), spec)

        async def take(reading: _Reading) -> None:
            """Take the answer of ``reading``'s request (waiting for it) and request the
            endpoint's next page, if there is one."""
            handle = reading.pending
            assert handle is not None  # a reading not ready has its request under way
            reading.pending = None
            try:
                answer = await fanout.result(handle)
                page: AnyPage | None = plain_page(reading.endpoint, answer.content)
                if page is None:  # not plainly valid: the exact way decides (and explains)
                    page = transport.decode(reading.spec, answer, reading.endpoint.page_type)
            except Exception as exc:  # raised at the endpoint's turn, in stream order
                reading.failure = exc
                return
            reading.answered = page
            try:
                spec = reading.walk.advance(page)
            except PaginationError as exc:
                reading.cursor_error = exc
                return
            if spec is not None:
                reading.pending, reading.spec = await fanout.start(fetch, spec), spec
            else:  # its successor enters as this page is handed over: the order stays the data's
                reading.last = True

        async def look() -> None:
            """Take every answer already there, so that the requests after them go out now."""
            for reading in rotation:
                pending = reading.pending
                if pending is not None and not reading.ready() and fanout.done(pending):
                    await take(reading)

        rotation: list[_Reading] = []
        while len(rotation) < fanout.limit and (entered := await enter()) is not None:
            rotation.append(entered)
        turn = 0
        while rotation:
            reading = rotation[turn]
            if not reading.ready():
                await take(reading)
            if reading.failure is not None:
                raise reading.failure
            endpoint, page = reading.endpoint, reading.answered
            assert page is not None  # ready without a failure: a page
            reading.answered = None
            if reading.cursor_error is not None:  # a cursor error comes right after its page
                yield endpoint, page
                raise reading.cursor_error
            if not reading.last:
                turn += 1
            elif (successor := await enter()) is not None:
                rotation[turn] = successor
                turn += 1
            else:
                del rotation[turn]
            if turn >= len(rotation):
                turn = 0
            await look()
            yield endpoint, page

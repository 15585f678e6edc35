"""The concurrent page walk of ``records()``: its documented order, its bound, its errors and
its early end, each scenario for the sync and the async client (synthetic pages in memory)."""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from typing import Any

import pytest

from tests.conftest import resolve
from tests.openai._support import ALL_NAMES, make_client
from usagekit import (
    ConfigError,
    PaginationError,
    PermissionDeniedError,
    ResponseValidationError,
    ServerError,
)
from usagekit._core.coverage import capture, declare

from .._gated import close_iterator, drain_until_error, other_tasks, take, walk_threads
from ._walk_support import DAY, T0, Page, PagesTransport, at, close_http, http_client_for, page_of

# Five endpoints of 3, 1, 2, 1 and 2 pages: A = completions, B = embeddings, C = moderations,
# D = images, E = audio_speeches, in table order.
PAGES = {"completions": 3, "embeddings": 1, "moderations": 2, "images": 1, "audio_speeches": 2}
A, B, C, D, E = PAGES
END = at(4)


def pages(*names: str) -> list[Page]:
    """``pages("A1", "B1")`` -> ``[("completions", 1), ("embeddings", 1)]``."""
    letters = dict(zip("ABCDE", PAGES, strict=True))
    return [(letters[text[0]], int(text[1:])) for text in names]


# The order the docstring of records() states, worked out by hand for PAGES: the endpoints
# being read take turns, one page each, in table order; one that has given its last page makes
# room for the next endpoint of the table, in its place.
DOCUMENTED_ORDER: dict[int, list[Page]] = {
    1: pages("A1", "A2", "A3", "B1", "C1", "C2", "D1", "E1", "E2"),
    2: pages("A1", "B1", "A2", "C1", "A3", "C2", "D1", "E1", "E2"),
    4: pages("A1", "B1", "C1", "D1", "A2", "E1", "C2", "A3", "E2"),
    5: pages("A1", "B1", "C1", "D1", "E1", "A2", "C2", "E2", "A3"),
    11: pages("A1", "B1", "C1", "D1", "E1", "A2", "C2", "E2", "A3"),
}


def page_order(records: list[Any]) -> list[Page]:
    """The pages the records came from, in the order they came (a page's records are
    consecutive: a page seen twice apart fails the test)."""
    order = [page for page, _ in itertools.groupby(page_of(r) for r in records)]
    assert len(order) == len(set(order)), f"a page's records are not consecutive: {order}"
    return order


async def read(mode: str, transport: PagesTransport, **kwargs: Any) -> list[Any]:
    """Every record of ``records()`` over ``transport``'s pages."""
    http = http_client_for(mode, transport)
    client = make_client(mode, http_client=http)
    try:
        kwargs.setdefault("sources", list(transport.pages))
        records: list[Any] = await resolve(client.records(T0, END, **kwargs))
        return records
    finally:
        await close_http(http)


def assert_nothing_left(transport: PagesTransport) -> None:
    """No request in flight, no worker thread, no task of the walk left behind."""
    assert transport.inflight == 0
    assert walk_threads() == []
    assert other_tasks() == set()


@pytest.mark.parametrize("concurrency", sorted(DOCUMENTED_ORDER))
async def test_records_come_in_the_documented_order(mode: str, concurrency: int) -> None:
    records = await read(mode, PagesTransport(PAGES), concurrency=concurrency)
    assert page_order(records) == DOCUMENTED_ORDER[concurrency]
    again = await read(mode, PagesTransport(PAGES), concurrency=concurrency)
    assert [(r.id, r.quantity) for r in again] == [(r.id, r.quantity) for r in records]
    assert_nothing_left(PagesTransport({}))


async def test_every_concurrency_gives_the_same_records(mode: str) -> None:
    sequential = await read(mode, PagesTransport(PAGES), concurrency=1)
    assert len(sequential) > len(DOCUMENTED_ORDER[1])  # several records a page
    assert len({r.id for r in sequential}) == len(sequential)
    for concurrency in (2, 4, 11):
        concurrent = await read(mode, PagesTransport(PAGES), concurrency=concurrency)
        assert Counter(concurrent) == Counter(sequential)
        # within each endpoint, the records keep the sequential walk's order
        for name in PAGES:
            mine = [r for r in concurrent if r.source == name]
            assert mine == [r for r in sequential if r.source == name]


async def test_the_default_concurrency_reads_every_endpoint_at_once(mode: str) -> None:
    transport = PagesTransport(PAGES, gate=len(PAGES))
    records = await read(mode, transport)
    assert page_order(records) == DOCUMENTED_ORDER[11]
    assert transport.peak == len(PAGES)


@pytest.mark.parametrize("concurrency", [1, 2, 4, 11])
async def test_no_more_requests_at_once_than_the_concurrency(mode: str, concurrency: int) -> None:
    # Every endpoint has 3 pages; the first requests wait for each other, so the walk reaches
    # its bound; had it started more, the peak would show them.
    transport = PagesTransport(dict.fromkeys(ALL_NAMES, 3), gate=concurrency)
    records = await read(mode, transport, concurrency=concurrency)
    assert transport.peak == concurrency
    assert len(transport.sent) == 3 * len(ALL_NAMES)
    assert len(page_order(records)) == 3 * len(ALL_NAMES)
    assert_nothing_left(transport)


@pytest.mark.parametrize(
    ("concurrency", "before", "error"),
    [
        # C2 fails with a 500 and E1 with a 403: the error raised is the first in stream order,
        # after exactly the pages the documented order puts before it.
        (1, pages("A1", "A2", "A3", "B1", "C1"), ServerError),
        (2, pages("A1", "B1", "A2", "C1", "A3"), ServerError),
        (4, pages("A1", "B1", "C1", "D1", "A2"), PermissionDeniedError),
        (11, pages("A1", "B1", "C1", "D1"), PermissionDeniedError),
    ],
)
async def test_the_first_error_in_stream_order_is_raised(
    mode: str, concurrency: int, before: list[Page], error: type[Exception]
) -> None:
    transport = PagesTransport(PAGES, fail={(C, 2): 500, (E, 1): 403})
    http = http_client_for(mode, transport)
    client = make_client(mode, http_client=http)
    try:
        records, raised = await drain_until_error(
            client.records(T0, END, sources=list(PAGES), concurrency=concurrency)
        )
    finally:
        await close_http(http)
    assert type(raised) is error
    assert page_order(records) == before
    assert_nothing_left(transport)


def _cursor_again(page: Page, body: dict[str, Any]) -> None:
    """C2 names its own cursor as the next one: C's cursors do not terminate."""
    if page == (C, 2):
        body["has_more"], body["next_page"] = True, "moderations-2"


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_cursor_error_comes_right_after_its_page(mode: str, concurrency: int) -> None:
    # C2 may be taken ahead of its turn (it answers at once): its cursor error is still raised
    # right after C2 is handed over, never sooner.
    transport = PagesTransport(PAGES, edit=_cursor_again)
    http = http_client_for(mode, transport)
    client = make_client(mode, http_client=http)
    try:
        records, raised = await drain_until_error(
            client.records(T0, END, sources=list(PAGES), concurrency=concurrency)
        )
    finally:
        await close_http(http)
    assert isinstance(raised, PaginationError)
    order = DOCUMENTED_ORDER[concurrency]
    assert page_order(records) == order[: order.index((C, 2)) + 1]
    assert_nothing_left(transport)


async def test_an_error_stops_the_requests_under_way() -> None:
    # A1 fails while B1 never answers: the error is raised at once and B1 is cancelled.
    transport = PagesTransport(PAGES, fail={(A, 1): 500}, hang={(B, 1)})
    http = http_client_for("async", transport)
    client = make_client("async", http_client=http)
    try:
        records, raised = await drain_until_error(
            client.records(T0, END, sources=list(PAGES), concurrency=4)
        )
    finally:
        await close_http(http)
    assert isinstance(raised, ServerError) and records == []
    assert transport.cancelled == [(B, 1)]
    assert_nothing_left(transport)


def _conflicting_bucket(page: Page, body: dict[str, Any]) -> None:
    """A1 repeats its bucket with another figure: the normalizer refuses the page."""
    if page == (A, 1):
        twin = copy.deepcopy(body["data"][0])
        twin["results"][0]["input_tokens"] += 1
        body["data"].append(twin)


async def test_a_refused_page_stops_the_requests_under_way(mode: str) -> None:
    # The consumer's error ends the walk: the requests under way are cancelled (async: B1,
    # which never answers, sees it) or waited for (sync); none is left.
    hang = {(B, 1)} if mode == "async" else set()
    transport = PagesTransport(PAGES, hang=hang, edit=_conflicting_bucket)
    http = http_client_for(mode, transport)
    client = make_client(mode, http_client=http)
    try:
        records, raised = await drain_until_error(
            client.records(T0, END, sources=list(PAGES), concurrency=4)
        )
    finally:
        await close_http(http)
    assert isinstance(raised, ResponseValidationError) and records == []
    if mode == "async":
        assert transport.cancelled == [(B, 1)]
    assert_nothing_left(transport)


async def test_closing_early_ends_the_walk(mode: str) -> None:
    # After the first record, the walk is closed: the requests under way are cancelled (async:
    # the one that never answers sees its cancellation) or waited for (sync); none is left.
    hang = {(D, 1)} if mode == "async" else set()
    transport = PagesTransport(PAGES, hang=hang)
    http = http_client_for(mode, transport)
    client = make_client(mode, http_client=http)
    try:
        iterator = client.records(T0, END, sources=list(PAGES), concurrency=4)
        first = await take(iterator, 1)
        await close_iterator(iterator)
    finally:
        await close_http(http)
    assert [page_of(r) for r in first] == [(A, 1)]
    # A1 handed over: no endpoint is read further than one page answered and waiting and one
    # under way (sync: a request not yet picked up by a worker is dropped)
    assert (A, 1) in transport.sent
    assert len(transport.sent) == len(set(transport.sent))
    handed = Counter({A: 1})
    for name, count in Counter(name for name, _ in transport.sent).items():
        assert count <= handed[name] + 2, transport.sent
    if mode == "async":
        assert transport.cancelled == [(D, 1)]
    assert_nothing_left(transport)


async def test_a_page_is_requested_as_soon_as_the_one_before_is_answered() -> None:
    # In-memory answers come at once: by the time A1 is handed over, B1, C1 and D1 are answered
    # too, so C's second page is under way before C1's turn (E, B's successor, waits for B1 to
    # be handed over: which endpoint takes which place never depends on timing); the pages come
    # in the documented order all the same.
    transport = PagesTransport(PAGES)
    http = http_client_for("async", transport)
    client = make_client("async", http_client=http)
    try:
        iterator = client.records(T0, END, sources=list(PAGES), concurrency=4)
        seen = [page_of(await anext(iterator))]
        sent = set(transport.sent)
        seen += [page_of(record) async for record in iterator]
    finally:
        await close_http(http)
    assert seen[0] == (A, 1)
    assert (C, 2) in sent and (E, 1) not in sent
    assert sent <= set(pages("A1", "B1", "C1", "D1", "A2", "A3", "C2"))
    assert [page for page, _ in itertools.groupby(seen)] == DOCUMENTED_ORDER[4]
    assert_nothing_left(transport)


async def test_breaking_out_of_a_sync_walk_ends_it() -> None:
    transport = PagesTransport(PAGES)
    http = http_client_for("sync", transport)
    client = make_client("sync", http_client=http)
    try:
        for record in client.records(T0, END, sources=list(PAGES), concurrency=4):
            assert page_of(record) == (A, 1)
            break
        assert walk_threads() == []  # the generator was dropped, hence closed, on the spot
    finally:
        await close_http(http)
    assert_nothing_left(transport)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "4", None])
async def test_a_bad_concurrency_is_refused_before_any_request(mode: str, bad: Any) -> None:
    transport = PagesTransport(PAGES)
    http = http_client_for(mode, transport)
    client = make_client(mode, http_client=http)
    try:
        with pytest.raises(ConfigError, match="concurrency"):
            client.records(T0, END, concurrency=bad)
    finally:
        await close_http(http)
    assert transport.sent == []


async def test_declarations_made_while_fetching_reach_capture(mode: str) -> None:
    # Coverage declarations live in a context variable: a request on a worker thread or in a
    # task must still reach the caller's capture().
    transport = PagesTransport(PAGES)
    http = http_client_for(mode, transport)
    client = make_client(mode, http_client=http)
    inner = client._transport.send
    if mode == "sync":

        def send(spec: Any) -> Any:
            declare(T0, T0 + DAY, spec.endpoint)
            return inner(spec)

    else:

        async def send(spec: Any) -> Any:  # type: ignore[misc]
            declare(T0, T0 + DAY, spec.endpoint)
            return await inner(spec)

    client._transport.send = send  # type: ignore[method-assign]
    try:
        with capture() as declared:
            await resolve(client.records(T0, END, sources=list(PAGES), concurrency=4))
    finally:
        await close_http(http)
    assert Counter(c.note for c in declared) == {f"usage.{name}": n for name, n in PAGES.items()}

"""The lazy pager: every item across pages, filters kept, cursors that never end are caught."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

import usagekit
from tests.conftest import SleepRecorder, install_sleep, resolve

from ._fake import BASE_URL, AsyncFakeClient, FakeClient, make_client, page


def _pages(*bodies: dict[str, Any]) -> list[httpx.Response]:
    return [httpx.Response(200, json=body) for body in bodies]


async def test_walks_every_page_keeping_every_filter(mode: str) -> None:
    client = make_client(mode)
    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/things").mock(
            side_effect=_pages(page([1, 2], "c1"), page([3], "c2"), page([4, 5], None))
        )
        items = await resolve(client.list(models=["a", "b"], project_ids=["p"], batch=True))
    assert [i.id for i in items] == [1, 2, 3, 4, 5]
    sent = [call.request.url.params for call in route.calls]
    assert [p.get("page") for p in sent] == [None, "c1", "c2"]
    for params in sent:
        assert params.get_list("models") == ["a", "b"]
        assert params.get_list("project_ids") == ["p"]
        assert params["batch"] == "true"


def test_fetches_the_next_page_only_when_the_consumer_reaches_it() -> None:
    client = FakeClient()
    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/things").mock(side_effect=_pages(page([1], "c1"), page([2], None)))
        pager = client.list()
        assert route.call_count == 0  # building the pager sends nothing
        items = iter(pager)
        assert next(items).id == 1 and route.call_count == 1
        assert next(items).id == 2 and route.call_count == 2


async def test_async_pager_is_lazy_too() -> None:
    client = AsyncFakeClient()
    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/things").mock(side_effect=_pages(page([1], "c1"), page([2], None)))
        items = client.list().__aiter__()
        assert (await items.__anext__()).id == 1 and route.call_count == 1
        assert (await items.__anext__()).id == 2 and route.call_count == 2


async def test_iter_pages_yields_whole_pages(mode: str) -> None:
    client = make_client(mode)
    with respx.mock(base_url=BASE_URL) as router:
        router.get("/things").mock(side_effect=_pages(page([1, 2], "c1"), page([], None)))
        pages = await resolve(client.list().iter_pages())
    assert [[i.id for i in p.data] for p in pages] == [[1, 2], []]


@pytest.mark.parametrize(
    ("bodies", "calls", "message"),
    [
        ([page([1], "c1"), page([2], "c1")], 2, "returned before"),
        ([page([1], "c1"), page([2], "c2"), page([3], "c1")], 3, "returned before"),
        ([page([1], None, has_more=True)], 1, "no cursor"),
        ([page([1], "", has_more=True)], 1, "no cursor"),
    ],
)
async def test_broken_cursors_raise_pagination_error(
    mode: str, bodies: list[dict[str, Any]], calls: int, message: str
) -> None:
    client = make_client(mode)
    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/things").mock(side_effect=_pages(*bodies))
        with pytest.raises(usagekit.PaginationError, match=message) as caught:
            await resolve(client.list())
    assert route.call_count == calls
    assert caught.value.pages == calls and caught.value.endpoint == "things"


async def test_a_cursor_that_never_ends_stops_at_the_page_cap(mode: str) -> None:
    client = make_client(mode, max_pages=5)
    counter = iter(range(1000))

    def endless(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        return httpx.Response(200, json=page([n], f"cursor-{n}"))

    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/things").mock(side_effect=endless)
        with pytest.raises(usagekit.PaginationError, match="max_pages=5"):
            await resolve(client.list())
    assert route.call_count == 5


async def test_empty_pages_are_fine(mode: str) -> None:
    client = make_client(mode)
    with respx.mock(base_url=BASE_URL) as router:
        router.get("/things").mock(side_effect=_pages(page([], "c1"), page([], None)))
        assert await resolve(client.list()) == []


async def test_a_failed_page_is_retried_alone(mode: str, sleeps: SleepRecorder) -> None:
    client = make_client(mode, max_retries=2)
    install_sleep(client, sleeps)
    responses = [
        httpx.Response(200, json=page([1], "c1")),
        httpx.Response(503, headers={"retry-after": "0"}),
        httpx.Response(200, json=page([2], None)),
    ]
    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/things").mock(side_effect=responses)
        items = await resolve(client.list())
    assert [i.id for i in items] == [1, 2]
    assert [c.request.url.params.get("page") for c in route.calls] == [None, "c1", "c1"]
    assert sleeps.calls == [0.0]

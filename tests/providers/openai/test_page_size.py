"""How many buckets a ``records()`` page asks for: chosen from the grouping and the width, so
that a page stays a few MB; the typed methods' ``limit`` is unchanged. The smaller pages give
exactly the records the largest pages gave (over real HTTP, against the sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import respx

from tests.conftest import resolve
from tests.openai._support import ALL_NAMES, BASE_URL, make_client, params_of, path_of, single
from usagekit._providers.openai import _plan
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

sandbox_module = pytest.importorskip("usagekit.sandbox")

UTC = timezone.utc
START = datetime(2024, 11, 1, tzinfo=UTC)
END = datetime(2024, 11, 3, tzinfo=UTC)
CAPS = {"1d": "31", "1h": "168", "1m": "1440"}
WITH_MODEL = {
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "web_search_calls",
}
"""The endpoints that can group by model."""


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as mock:
        yield mock


def _expected(name: str, width: str, group_by: list[str] | None) -> str:
    """The limit the docs state: 31 buckets when the endpoint is grouped, else the cap."""
    grouped = group_by is None or ("model" in group_by and name in WITH_MODEL)
    if grouped:
        return "31"
    return "180" if name == "costs" else CAPS[width]


@pytest.mark.parametrize("width", ["1d", "1h", "1m"])
@pytest.mark.parametrize("group_by", [None, [], ["model"]])
async def test_records_pages_depend_on_grouping_and_width(
    mode: str, router: respx.MockRouter, width: str, group_by: list[str] | None
) -> None:
    routes = {name: router.get(path_of(name)).respond(json=single(name)) for name in ALL_NAMES}
    client = make_client(mode)
    try:
        await resolve(client.records(START, END, bucket_width=width, group_by=group_by))
    finally:
        await _close(client)
    for name, route in routes.items():
        params = dict(params_of(route.calls.last.request))
        assert params["limit"] == _expected(name, width, group_by), name


def test_the_rule_is_the_documented_formula() -> None:
    assert _plan.RECORDS_PAGE_RESULTS // _plan.GROUPED_RESULTS_PER_BUCKET == 31
    for endpoint in ENDPOINTS_BY_NAME.values():
        for width, cap in endpoint.limits.items():
            assert _plan.records_page_size(endpoint, width, ()) == cap
            assert _plan.records_page_size(endpoint, width, ("project_id",)) == min(cap, 31)


@pytest.mark.parametrize("width", ["1d", "1h", "1m"])
async def test_typed_methods_keep_their_limit(
    mode: str, router: respx.MockRouter, width: str
) -> None:
    route = router.get(path_of("completions")).respond(json=single("completions"))
    client = make_client(mode)
    try:
        await resolve(client.usage.completions(START, bucket_width=width, group_by=["model"]))
        assert dict(params_of(route.calls.last.request))["limit"] == CAPS[width]
        await resolve(client.usage.completions(START, bucket_width=width, limit=7))
        assert dict(params_of(route.calls.last.request))["limit"] == "7"
    finally:
        await _close(client)


async def _close(client: Any) -> None:
    if hasattr(client, "aclose"):
        await client.aclose()
    else:
        client.close()


# -- against the sandbox, over loopback --------------------------------------------------------

NOW = datetime(2026, 11, 15, 12, 34, 56, tzinfo=UTC)
DAYS_START = datetime(2026, 11, 13, tzinfo=UTC)
DAYS_END = datetime(2026, 11, 15, tzinfo=UTC)
SOURCES = ["completions", "costs"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with sandbox_module.serve(seed=5, now=NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Any) -> Any:
    sandbox.reset()
    return sandbox


def _requests(sb: Any, endpoint: str) -> int:
    return sum(n for (p, e, s), n in sb.stats.requests.items() if e == endpoint and s == 200)


async def _sandbox_records(sb: Any, mode: str, **kwargs: Any) -> list[Any]:
    client = sb.openai_client() if mode == "sync" else sb.async_openai_client()
    try:
        records: list[Any] = await resolve(
            client.records(DAYS_START, DAYS_END, sources=SOURCES, bucket_width="1m", **kwargs)
        )
        return records
    finally:
        await _close(client)


async def test_a_minute_walk_over_days_gives_the_records_of_the_largest_pages(
    sb: Any, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = await _sandbox_records(sb, mode, concurrency=1)
    minutes = (DAYS_END - DAYS_START) // timedelta(minutes=1)
    assert _requests(sb, "usage/completions") == -(-minutes // 31)  # 93 pages of 31 buckets
    assert _requests(sb, "costs") == 1

    sb.reset()
    largest_page = lambda endpoint, width, _: endpoint.limits[width]  # noqa: E731 - the old rule
    monkeypatch.setattr(_plan, "records_page_size", largest_page)
    largest = await _sandbox_records(sb, mode, concurrency=1)
    assert _requests(sb, "usage/completions") == minutes // 1440  # one page a day
    concurrent = await _sandbox_records(sb, mode)

    assert len(small) > 1000
    assert [(r.id, r.quantity, r.attributes) for r in small] == [
        (r.id, r.quantity, r.attributes) for r in largest
    ]
    assert sorted(r.id for r in concurrent) == sorted(r.id for r in small)
    assert {r.source for r in small} == set(SOURCES)

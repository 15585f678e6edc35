"""A minimal provider built on the foundation, so its machinery can be tested on its own."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from usagekit._core.client import AsyncClientBase, SyncClientBase, build_config
from usagekit._core.pagination import AsyncPager, Pager
from usagekit._core.transport import RequestSpec, params_from
from usagekit._core.wire import WireModel
from usagekit._providers.basedash._info import retry_after_from_body

BASE_URL = "https://api.example.test/v1"
CANARY = "sk-canary-7f3a9c1e5d2b4a6f8e0c"


class Item(WireModel):
    id: int


class Page(WireModel):
    object: str = "page"
    data: list[Item]
    has_more: bool
    next_page: str | None = None


def _config(api_key: str, base_url: str, **options: Any) -> Any:
    return build_config(
        provider="fake",
        base_url=base_url,
        credentials={
            "Authorization": SecretStr(f"Bearer {api_key}"),
            "api-key": SecretStr(api_key),
            "x-org-id": SecretStr("org_canary_1234"),
        },
        error_hints={403: "These endpoints need an admin key"},
        body_retry_hint=retry_after_from_body,  # the fake server sends Basedash's body hint
        **options,
    )


class FakeClient(SyncClientBase):
    provider = "fake"

    def __init__(
        self,
        api_key: str = CANARY,
        *,
        base_url: str = BASE_URL,
        http_client: httpx.Client | None = None,
        **options: Any,
    ) -> None:
        super().__init__(_config(api_key, base_url, **options), http_client=http_client)

    def get(self) -> Item:
        return self._transport.request(RequestSpec("/thing", "thing"), Item)

    def list(self, **filters: Any) -> Pager[Page, Item]:
        spec = RequestSpec("/things", "things", params_from(**filters))
        return Pager(self._transport, spec, Page)


class AsyncFakeClient(AsyncClientBase):
    provider = "fake"

    def __init__(
        self,
        api_key: str = CANARY,
        *,
        base_url: str = BASE_URL,
        http_client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> None:
        super().__init__(_config(api_key, base_url, **options), http_client=http_client)

    async def get(self) -> Item:
        return await self._transport.request(RequestSpec("/thing", "thing"), Item)

    def list(self, **filters: Any) -> AsyncPager[Page, Item]:
        spec = RequestSpec("/things", "things", params_from(**filters))
        return AsyncPager(self._transport, spec, Page)


def make_client(mode: str, **options: Any) -> FakeClient | AsyncFakeClient:
    return FakeClient(**options) if mode == "sync" else AsyncFakeClient(**options)


def page(ids: list[int], cursor: str | None, has_more: bool | None = None) -> dict[str, Any]:
    more = cursor is not None if has_more is None else has_more
    return {
        "object": "page",
        "data": [{"id": i} for i in ids],
        "has_more": more,
        "next_page": cursor,
    }

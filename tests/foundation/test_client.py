"""Client configuration and lifecycle shared by every provider."""

from __future__ import annotations

import httpx
import pytest
import respx

import usagekit
from usagekit._core.client import resolve_secret, resolve_setting

from ._fake import BASE_URL, AsyncFakeClient, FakeClient


def test_missing_credential_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXAMPLE_KEY", raising=False)
    with pytest.raises(usagekit.ConfigError, match="EXAMPLE_KEY"):
        resolve_secret(None, "EXAMPLE_KEY", provider="fake")
    monkeypatch.setenv("EXAMPLE_KEY", "  ")
    with pytest.raises(usagekit.ConfigError, match="EXAMPLE_KEY"):
        resolve_secret(None, "EXAMPLE_KEY", provider="fake")
    monkeypatch.setenv("EXAMPLE_KEY", " from-env ")
    assert resolve_secret(None, "EXAMPLE_KEY", provider="fake").get_secret_value() == "from-env"
    assert resolve_secret("given", "EXAMPLE_KEY", provider="fake").get_secret_value() == "given"
    with pytest.raises(usagekit.ConfigError, match="EXAMPLE_ORG"):
        resolve_setting(None, "EXAMPLE_ORG", provider="fake", argument="org_id")


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://api.example.test",
        "api.example.test/v1",
        "http://",
        "https://h/v1?x=1",
        "https://h/#f",
    ],
)
def test_bad_base_urls_are_config_errors(base_url: str) -> None:
    with pytest.raises(usagekit.ConfigError, match="base_url"):
        FakeClient(base_url=base_url)


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": -1},
        {"timeout": "soon"},
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"max_pages": 0},
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object]) -> None:
    with pytest.raises(usagekit.ConfigError):
        FakeClient(**options)  # type: ignore[arg-type]


def test_trailing_slash_and_path_prefix() -> None:
    with respx.mock() as router:
        route = router.get("https://api.example.test/v1/thing").mock(
            return_value=httpx.Response(200, json={"id": 1})
        )
        FakeClient(base_url="https://api.example.test/v1/").get()
    assert route.called


def test_with_options_shares_the_pool_and_only_the_owner_closes_it() -> None:
    client = FakeClient(max_retries=0)
    clone = client.with_options(max_retries=5, timeout=3.0)
    assert clone._transport.http_client is client._transport.http_client
    assert clone.config.retry.max_retries == 5 and client.config.retry.max_retries == 0
    assert clone.config.timeout == httpx.Timeout(3.0)
    clone.close()
    assert not client._transport.http_client.is_closed
    with client:
        pass
    assert client._transport.http_client.is_closed


def test_an_injected_http_client_is_left_open() -> None:
    http_client = httpx.Client()
    with FakeClient(http_client=http_client) as client:
        assert client._transport.http_client is http_client
    assert not http_client.is_closed
    http_client.close()


async def test_async_client_lifecycle() -> None:
    async with AsyncFakeClient() as client:
        clone = client.with_options(max_retries=1)
        with respx.mock(base_url=BASE_URL) as router:
            router.get("/thing").mock(return_value=httpx.Response(200, json={"id": 2}))
            assert (await clone.get()).id == 2
    assert client._transport.http_client.is_closed


@pytest.mark.parametrize(
    "options",
    [
        {"max_retries": "3"},
        {"max_retries": 1.5},
        {"max_retries": True},
        {"jitter": "x"},
        {"jitter": 2},
        {"initial_backoff": "abc"},
        {"max_total": float("inf")},
    ],
)
def test_bad_retry_policies_are_config_errors(options: dict[str, object]) -> None:
    with pytest.raises(usagekit.ConfigError):
        usagekit.RetryPolicy(**options)  # type: ignore[arg-type]


def test_bad_page_caps_are_config_errors() -> None:
    with pytest.raises(usagekit.ConfigError):
        FakeClient().with_options(max_pages="5")  # type: ignore[arg-type]

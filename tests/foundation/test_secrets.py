"""Secrets never appear in reprs, exception text or log records, and never leave their origin."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

import usagekit
from tests.conftest import SleepRecorder, install_sleep, resolve
from usagekit._core.logs import redact

from ._fake import BASE_URL, CANARY, make_client


async def test_secret_canary(
    mode: str, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: httpx and httpcore included
    client = make_client(mode, max_retries=2)
    install_sleep(client, sleeps)
    failures = [
        httpx.ConnectError(f"connection to host failed with key {CANARY}"),
        httpx.Response(503, headers={"retry-after": "0"}),
        httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {CANARY}"}}),
    ]
    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/thing").mock(side_effect=failures)
        with pytest.raises(usagekit.AuthenticationError) as caught:
            await resolve(client.get())
    assert route.call_count == 3
    assert route.calls[0].request.headers["authorization"] == f"Bearer {CANARY}"  # it was sent
    seen = [
        caplog.text,
        *(str(r.args) for r in caplog.records),
        repr(client),
        str(client),
        repr(client.config),
        repr(client._transport),
        str(caught.value),
        repr(caught.value),
        str(caught.value.message),
    ]
    assert caplog.records, "the retry should have been logged"
    for text in seen:
        assert CANARY not in text
        assert "org_canary_1234" not in text


def test_the_filter_redacts_credential_headers_in_any_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="usagekit")
    logging.getLogger("usagekit").debug(
        "headers %s",
        {"Authorization": "Bearer abc.def", "api-key": "unsiloed_xyz", "x-other": "ok"},
    )
    assert "abc.def" not in caplog.text and "unsiloed_xyz" not in caplog.text
    assert "x-other" in caplog.text and "[redacted]" in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer eyJhbGciOi.payload.sig",
        "authorization=Basic dXNlcjpwYXNz",
        "{'api-key': 'unsiloed_abcdef'}",
        'x-api-key="k-123456789"',
        "Cookie: session=abcdef123",
    ],
)
def test_redact_table(text: str) -> None:
    cleaned = redact(text)
    assert "[redacted]" in cleaned
    for secret in ("eyJhbGciOi", "dXNlcjpwYXNz", "unsiloed_abcdef", "k-123456789", "session=abc"):
        assert secret not in cleaned


async def test_redirects_to_another_origin_drop_every_credential_header(mode: str) -> None:
    client = make_client(mode)
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE_URL}/thing").mock(
            return_value=httpx.Response(302, headers={"location": "https://evil.example/steal"})
        )
        foreign = router.get("https://evil.example/steal").mock(
            return_value=httpx.Response(200, json={"id": 7})
        )
        assert (await resolve(client.get())).id == 7
    headers = foreign.calls[0].request.headers
    for name in ("authorization", "api-key", "x-org-id"):
        assert name not in headers


async def test_same_origin_redirects_keep_credentials(mode: str) -> None:
    client = make_client(mode)
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE_URL}/thing").mock(
            return_value=httpx.Response(307, headers={"location": "/v2/thing"})
        )
        moved = router.get("https://api.example.test/v2/thing").mock(
            return_value=httpx.Response(200, json={"id": 8})
        )
        assert (await resolve(client.get())).id == 8
    assert moved.calls[0].request.headers["api-key"] == CANARY


async def test_the_bare_key_is_redacted_when_a_server_echoes_it(mode: str) -> None:
    client = make_client(mode, max_retries=0)
    echo = {"error": {"message": f"Incorrect API key provided: {CANARY}", "key": [CANARY]}}
    with respx.mock(base_url=BASE_URL) as router:
        router.get("/thing").mock(return_value=httpx.Response(401, json=echo))
        with pytest.raises(usagekit.AuthenticationError) as caught:
            await resolve(client.get())
    assert CANARY not in str(caught.value)
    assert CANARY not in repr(caught.value.body) and "[redacted]" in str(caught.value.body)


@pytest.mark.parametrize("bad", [f"{CANARY}\nX-Evil: 1", f"{CANARY}é", f"{CANARY}\x00"])
def test_a_key_that_cannot_be_a_header_is_a_config_error_that_never_shows_it(bad: str) -> None:
    with pytest.raises(usagekit.ConfigError) as caught:
        make_client("sync", api_key=bad)
    assert CANARY not in str(caught.value)

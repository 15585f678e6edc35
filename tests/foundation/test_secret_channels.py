"""Secrets never leak, in any channel (issue 14, section 2).

A hostile server on 127.0.0.1 echoes the credential it received, whole and in part, in the
request id, the reason phrase and the body; none of it may reach exception text, log records
(usagekit's, httpx's or httpcore's) or the store. Userinfo in a base URL is refused without
being repeated, cookies are never carried, and the secret registry forgets dropped clients.
"""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

import usagekit
from tests.conftest import resolve
from usagekit._core.logs import PARTIAL_MATCH_LENGTH, _registry, redact

from ._fake import CANARY, AsyncFakeClient, FakeClient, make_client
from ._hostile import Conn, HostileServer, response


def _runs(secret: str) -> list[str]:
    """Every run of PARTIAL_MATCH_LENGTH characters of ``secret``."""
    size = PARTIAL_MATCH_LENGTH
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def assert_no_part_of(secret: str, *texts: str) -> None:
    for text in texts:
        low = text.lower()
        for run in _runs(secret):
            assert run.lower() not in low, f"{run!r} leaked in {text[:200]!r}"


def _echoed_key(conn: Conn) -> str:
    auth = conn.header("authorization") or ""
    return auth.removeprefix("Bearer ") or conn.header("api-key") or conn.header("x-api-key") or ""


def echo(status: str = "401 Unauthorized") -> Any:
    """A scenario echoing the key it was sent: whole, cut, upper-cased, in every field."""

    def handler(conn: Conn) -> None:
        key = _echoed_key(conn)
        body = {
            "error": {"message": f"Incorrect API key provided: {key[:-4]}", "key": key.upper()},
            key: "as a JSON key",
        }
        headers = {"x-request-id": f"req_{key[:-3]}", "x-should-retry": "false"}
        code, _, _ = status.partition(" ")
        conn.send(response(f"{code} {key[2:]}", headers, json.dumps(body).encode()))

    return handler


async def test_an_echoed_key_reaches_no_channel(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: httpx and httpcore log response headers
    with HostileServer(echo()) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        with pytest.raises(usagekit.AuthenticationError) as caught:
            await resolve(client.get())
    assert CANARY in server.heads[0].decode()  # it was sent, and the server had it to echo
    error = caught.value
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert "[redacted]" in error.request_id
    assert any("httpcore" in r.name for r in caplog.records)  # the debug records were there
    assert_no_part_of(
        CANARY,
        str(error),
        repr(error),
        error.message,
        error.request_id,
        repr(error.body),
        caplog.text,
        *(r.getMessage() for r in caplog.records),
    )


async def test_an_echo_in_a_success_response_reaches_no_log(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(conn: Conn) -> None:
        key = _echoed_key(conn)
        conn.send(response(f"200 {key}", {"x-request-id": key[1:]}, b'{"id": 3}'))

    with HostileServer(handler) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        assert (await resolve(client.get())).id == 3
    assert_no_part_of(CANARY, caplog.text)


async def test_an_echo_in_a_validation_error_is_redacted(mode: str) -> None:
    def handler(conn: Conn) -> None:
        conn.send(response(headers={"x-request-id": _echoed_key(conn)}, body=b'{"id": "x"}'))

    with HostileServer(handler) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            await resolve(client.get())
    assert_no_part_of(CANARY, str(caught.value), str(caught.value.request_id))


def test_an_echoed_key_never_reaches_the_store(tmp_path: Path) -> None:
    key = "unsiloed_live_9c2f7a1b5e3d8c6a4f0b"
    with HostileServer(echo("500 Internal Server Error")) as server:
        client = usagekit.UnsiloedClient(api_key=key, base_url=server.url, max_retries=0)
        store = usagekit.Store(tmp_path / "usage.db")
        try:
            result = usagekit.sync(store, [client])
        finally:
            store.close()
    assert not result.ok
    assert "500" in str(result)
    files = list(tmp_path.iterdir())
    assert files
    for path in files:
        assert_no_part_of(key, path.read_bytes().decode("latin-1"))
    assert_no_part_of(key, str(result))


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"echo {CANARY}", "echo "),
        (f"echo {CANARY[:-4]}!", "echo "),  # missing its last characters
        (f"echo {CANARY[5:]}", "echo "),  # missing its first characters
        (f"echo {CANARY.upper()}", "echo "),
        (f"id=req_{CANARY[3:20]}_tail", "id=req_"),
        (f"two: {CANARY[:14]} and {CANARY[-13:]}", "two: "),
    ],
)
def test_runs_of_a_registered_secret_are_redacted(text: str, kept: str) -> None:
    client = FakeClient()  # registers CANARY while it lives
    cleaned = redact(text)
    assert cleaned.startswith(kept + "[redacted]")
    assert_no_part_of(CANARY, cleaned)
    client.close()


def test_ordinary_text_is_left_alone() -> None:
    client = FakeClient()
    text = "organization usage for sk-canary endpoints: 7f3a9c1e5 tokens (request req_42)"
    assert redact(text) == text  # no run of 12 characters of the key in it
    client.close()


def test_a_short_secret_is_redacted_whole_only() -> None:
    client = FakeClient(api_key="k-short-99")  # 10 characters: below PARTIAL_MATCH_LENGTH
    assert redact("key k-short-99 here") == "key [redacted] here"
    assert redact("key k-short-9 here") == "key k-short-9 here"
    client.close()


def test_extra_secrets_are_redacted_by_runs_too() -> None:
    extra = "zz-extra-4b1e8c0d2a6f9e7b"
    assert_no_part_of(extra, redact(f"echo {extra[:-2]}", [extra]))


def test_the_registry_forgets_clients_that_are_gone() -> None:
    gc.collect()
    before = len(_registry)
    with httpx.Client() as shared:
        clients = [
            FakeClient(api_key=f"sk-drop-{i:06d}-c0ffee5eed", http_client=shared)
            for i in range(5000)
        ]
        assert len(_registry) >= before + 5000
        kept = clients[1234]
        del clients
        gc.collect()
        assert len(_registry) <= before + 3  # only the kept client's forms remain
        cleaned = redact("echo sk-drop-001234-c0ffee5eed and sk-drop-000001-c0ffee5eed")
        assert "sk-drop-001234" not in cleaned  # the live one is still redacted
        assert "sk-drop-000001-c0ffee5eed" in cleaned  # a dropped one is forgotten
        assert kept.config.provider == "fake"


def test_with_options_copies_share_the_secret_until_all_are_gone() -> None:
    gc.collect()
    before = len(_registry)
    client = FakeClient(api_key="sk-shared-aa11bb22cc33dd44")
    clone = client.with_options(max_retries=5)
    del client
    gc.collect()
    assert "[redacted]" in redact("sk-shared-aa11bb22cc33dd44")
    del clone
    gc.collect()
    assert len(_registry) == before


PROVIDERS = ["openai", "basedash", "unsiloed", "daramex"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", ["", "async_"])
@pytest.mark.parametrize(
    "userinfo", ["alice:hunter2-pass-word@", "hunter2-pass-word@", ":hunter2-pass-word@"]
)
def test_userinfo_in_base_url_is_refused_without_echo(
    provider: str, kind: str, userinfo: str
) -> None:
    with usagekit.sandbox.serve() as sandbox:
        host = sandbox.url.removeprefix("http://")
        factory = getattr(sandbox, f"{kind}{provider}_client")
        with pytest.raises(usagekit.ConfigError) as caught:
            factory(base_url=f"http://{userinfo}{host}/v1")
    text = str(caught.value)
    assert "user name or password" in text
    assert "hunter2" not in text and "alice" not in text


def test_userinfo_from_the_environment_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://bob:s3cret-proxy-pw@proxy.example.test/v1")
    with pytest.raises(usagekit.ConfigError) as caught:
        usagekit.OpenAIClient(api_key="sk-admin-test-key-1234567890")
    assert "s3cret" not in str(caught.value) and "bob" not in str(caught.value)


@pytest.mark.parametrize("supplied", [False, True])
async def test_cookies_are_never_carried(mode: str, supplied: bool) -> None:
    def other(conn: Conn) -> None:
        conn.send(response(headers={"Set-Cookie": "b_sid=bbbb; Path=/"}, body=b'{"id": 2}'))

    with HostileServer(other) as elsewhere:

        def origin(conn: Conn) -> None:
            if conn.path.startswith("/v1/thing"):
                headers = {
                    "Location": f"{elsewhere.url}/landing",
                    "Set-Cookie": "sid=session-secret-1; Path=/",
                }
                conn.send(response("302 Found", headers))
            else:
                conn.send(response(body=b'{"id": 1}'))

        with HostileServer(origin) as server:
            base_url = f"{server.url}/v1"
            http: Any = None
            if supplied:
                http = httpx.Client() if mode == "sync" else httpx.AsyncClient()
            options: dict[str, Any] = {"base_url": base_url, "max_retries": 0}
            if http is not None:
                options["http_client"] = http
            client = FakeClient(**options) if mode == "sync" else AsyncFakeClient(**options)
            for _ in range(2):
                assert (await resolve(client.get())).id == 2
            if http is not None:
                await resolve(http.aclose() if mode == "async" else http.close())
    heads = [h.decode("latin-1").lower() for h in (*server.heads, *elsewhere.heads)]
    assert len(heads) == 4
    for head in heads:
        assert "\r\ncookie:" not in head
    for head in (h.decode("latin-1").lower() for h in elsewhere.heads):
        assert "authorization" not in head and "api-key" not in head  # not its origin
    if not supplied:
        assert len(client._transport.http_client.cookies.jar) == 0  # nothing even kept

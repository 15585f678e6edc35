"""An attempt ends within its timeout whatever the server does (issue 14, section 1).

Every server here is real, on 127.0.0.1, and hostile in time: it trickles its headers or its
body a byte at a time (each read returns well within the per-read timeout), or streams an
endless body. The bounds are loose on purpose (timeout + 3 s): they catch "minutes", not
milliseconds.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore
import httpx
import pytest

import usagekit
from tests.conftest import SleepRecorder, install_sleep, resolve
from usagekit._core.bounded import DeadlineBackend, install_deadline_hook

from ._fake import AsyncFakeClient, FakeClient, make_client
from ._hostile import Conn, HostileServer, response

TIMEOUT = 1.0
SLACK = 3.0


def trickle_headers(conn: Conn) -> None:
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: ")
    conn.forever(b"a", 0.1)


def trickle_status_line(conn: Conn) -> None:
    conn.trickle(b"HTTP/1.1 200 OK\r\n" * 1000, 0.1)


def trickle_body(conn: Conn) -> None:
    conn.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    conn.forever(b" ", 0.1)


def endless_chunked(conn: Conn) -> None:
    conn.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    conn.send(b"1\r\n[\r\n")
    conn.forever(b"800\r\n" + b"1," * 1024 + b"\r\n", 0.1)  # 2 KiB every 0.1 s: 20 KB/s


def slow_error_body(conn: Conn) -> None:
    conn.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\n")
    conn.forever(b"x", 0.1)


SCENARIOS = [trickle_headers, trickle_status_line, trickle_body, endless_chunked, slow_error_body]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
async def test_an_attempt_ends_within_its_timeout(mode: str, scenario: Any) -> None:
    with HostileServer(scenario) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", timeout=TIMEOUT, max_retries=0)
        started = time.monotonic()
        with pytest.raises(usagekit.APITimeoutError) as caught:
            await resolve(client.get())
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + SLACK
    assert "did not complete within its timeout of 1 s" in str(caught.value)
    assert "fake GET /v1/thing" in str(caught.value)


async def test_a_timed_out_attempt_is_retried_then_raised(mode: str, sleeps: SleepRecorder) -> None:
    with HostileServer(trickle_headers) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", timeout=TIMEOUT, max_retries=2)
        install_sleep(client, sleeps)
        started = time.monotonic()
        with pytest.raises(usagekit.APITimeoutError):
            await resolve(client.get())
        elapsed = time.monotonic() - started
    assert server.connections == 3
    assert len(sleeps.calls) == 2
    assert elapsed < 3 * TIMEOUT + SLACK


async def test_the_next_attempt_succeeds_after_a_timed_out_one(mode: str) -> None:
    calls: list[int] = []

    def flaky(conn: Conn) -> None:
        calls.append(1)
        if len(calls) == 1:
            trickle_body(conn)
        else:
            conn.send(response(body=b'{"id": 5}'))

    with HostileServer(flaky) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", timeout=TIMEOUT, max_retries=1)
        install_sleep(client, SleepRecorder())
        item = await resolve(client.get())
    assert item.id == 5 and len(calls) == 2


@pytest.mark.parametrize("scenario", [trickle_headers, endless_chunked], ids=lambda f: f.__name__)
async def test_a_caller_supplied_http_client_is_bounded_too(mode: str, scenario: Any) -> None:
    with HostileServer(scenario) as server:
        base_url = f"{server.url}/v1"
        started = time.monotonic()
        if mode == "sync":
            with httpx.Client() as http_client:
                client = FakeClient(base_url=base_url, http_client=http_client, timeout=TIMEOUT)
                with pytest.raises(usagekit.APITimeoutError):
                    client.with_options(max_retries=0).get()
        else:
            async with httpx.AsyncClient() as async_client:
                aclient = AsyncFakeClient(
                    base_url=base_url, http_client=async_client, timeout=TIMEOUT
                )
                with pytest.raises(usagekit.APITimeoutError):
                    await aclient.with_options(max_retries=0).get()
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + SLACK


def test_a_custom_transport_is_still_bounded_between_body_chunks() -> None:
    class Wrapped(httpx.BaseTransport):
        """A transport usagekit cannot hook into: only the between-chunk check applies."""

        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return self.inner.handle_request(request)

        def close(self) -> None:
            self.inner.close()

    with HostileServer(endless_chunked) as server, httpx.Client(transport=Wrapped()) as http:
        assert install_deadline_hook(http) is False
        client = FakeClient(base_url=f"{server.url}/v1", http_client=http, timeout=TIMEOUT)
        started = time.monotonic()
        with pytest.raises(usagekit.APITimeoutError):
            client.with_options(max_retries=0).get()
        elapsed = time.monotonic() - started
    assert elapsed < 2 * TIMEOUT + SLACK  # at most one more read past the deadline


def test_usagekit_clients_carry_the_deadline_hook() -> None:
    """Fails loudly if an httpx upgrade moves the pool's backend out of reach."""
    client = FakeClient()
    pool = client._transport.http_client._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool._network_backend, DeadlineBackend)
    assert install_deadline_hook(client._transport.http_client) is True
    assert not isinstance(pool._network_backend.backend, DeadlineBackend)  # installed once
    client.close()


def test_the_hook_is_inert_outside_an_attempt() -> None:
    ok = response(body=b'{"id": 1}')
    with HostileServer(lambda conn: conn.send(ok)) as server, httpx.Client() as http:
        install_deadline_hook(http)
        assert http.get(f"{server.url}/plain", timeout=5).json() == {"id": 1}


def test_an_expired_deadline_fails_every_socket_operation() -> None:
    from usagekit._core.bounded import reset_deadline, set_deadline

    backend = DeadlineBackend(httpcore.SyncBackend())
    token = set_deadline(time.monotonic() - 1)
    try:
        with pytest.raises(httpcore.ConnectTimeout):
            backend.connect_tcp("127.0.0.1", 9, timeout=5)
    finally:
        reset_deadline(token)


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [
        (2, 2.0),
        (httpx.Timeout(60.0, connect=10.0), 60.0),
        (httpx.Timeout(5.0, read=30.0), 30.0),
        (httpx.Timeout(None), None),
    ],
)
def test_the_attempt_limit_is_the_largest_timeout_value(timeout: Any, seconds: Any) -> None:
    client = FakeClient(timeout=timeout)
    assert client._transport.start_clock().seconds == seconds

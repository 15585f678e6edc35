"""Every response is bounded in memory, and no input escapes as a bare Python error (issue 14,
section 1): a size cap counted after decompression, gzip bombs, deep JSON, huge cursors and
parameters, and 409 retried like 408 and 5xx."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from typing import Any

import httpx
import pytest
import respx

import usagekit
from tests.conftest import SleepRecorder, install_sleep, resolve
from usagekit._core.bounded import (
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_JSON_DEPTH,
    BodyReader,
    BodyTooLarge,
    UndecodableBody,
    parse_json,
)
from usagekit._core.pagination import MAX_CURSOR_LENGTH
from usagekit._core.retry import RETRYABLE_STATUSES

from ._fake import BASE_URL, FakeClient, make_client, page
from ._hostile import Conn, HostileServer, response

MiB = 1024 * 1024


def _bomb(decoded_mib: int) -> bytes:
    """gzip of ``decoded_mib`` MiB of zeros (about 1/1000 of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(MiB)
    parts = [packer.compress(block) for _ in range(decoded_mib)]
    return b"".join([*parts, packer.flush()])


def test_the_default_cap_is_64_mib_and_the_option_is_plumbed_like_the_others() -> None:
    client = FakeClient()
    assert client.config.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES == 64 * MiB
    clone = client.with_options(max_response_bytes=1000)
    assert clone.config.max_response_bytes == 1000
    assert client.config.max_response_bytes == 64 * MiB
    assert FakeClient(max_response_bytes=5 * MiB).config.max_response_bytes == 5 * MiB


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True])
def test_a_bad_cap_is_a_config_error(bad: Any) -> None:
    with pytest.raises(usagekit.ConfigError, match="max_response_bytes"):
        FakeClient().with_options(max_response_bytes=bad)


async def test_an_endless_fast_body_stops_at_the_cap(mode: str) -> None:
    def endless(conn: Conn) -> None:
        conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.forever(b"10000\r\n" + b"7" * 0x10000 + b"\r\n", 0)

    with HostileServer(endless) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", timeout=30, max_retries=3)
        client = client.with_options(max_response_bytes=2 * MiB)
        with pytest.raises(usagekit.ResponseTooLargeError) as caught:
            await resolve(client.get())
    assert server.connections == 1  # not retried
    error = caught.value
    assert isinstance(error, usagekit.ResponseValidationError)
    assert error.limit == 2 * MiB
    assert "larger than max_response_bytes=2,097,152 bytes" in str(error)


async def test_a_declared_length_above_the_cap_is_refused_before_reading(mode: str) -> None:
    def huge(conn: Conn) -> None:
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2000000000\r\n\r\n")
        conn.forever(b"0" * 65536, 0.01)

    with HostileServer(huge) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        with pytest.raises(usagekit.ResponseTooLargeError):
            await resolve(client.with_options(max_response_bytes=MiB).get())


def test_a_gzip_bomb_stops_at_the_cap_without_the_memory() -> None:
    bomb = _bomb(256)  # 256 MiB of zeros in about 250 KB
    assert len(bomb) < MiB
    reply = response(headers={"Content-Encoding": "gzip"}, body=bomb)
    with HostileServer(lambda conn: conn.send(reply)) as server:
        client = FakeClient(base_url=f"{server.url}/v1", max_retries=0)
        client = client.with_options(max_response_bytes=4 * MiB)
        tracemalloc.start()
        try:
            with pytest.raises(usagekit.ResponseTooLargeError):
                client.get()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # httpx's own decoder inflates each 64 KiB read at once (64 MiB of zeros here)
    assert peak < 4 * MiB + 12 * MiB


async def test_a_gzip_bomb_stops_at_the_default_cap(mode: str) -> None:
    reply = response(headers={"Content-Encoding": "gzip"}, body=_bomb(100))
    with HostileServer(lambda conn: conn.send(reply)) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        with pytest.raises(usagekit.ResponseTooLargeError) as caught:
            await resolve(client.get())
    assert caught.value.limit == 64 * MiB


@pytest.mark.parametrize("encoding", ["gzip", "deflate-zlib", "deflate-raw", "gzip, gzip"])
async def test_compressed_bodies_below_the_cap_decode(mode: str, encoding: str) -> None:
    body = json.dumps({"id": 9, "pad": "x" * 300_000}).encode()
    if encoding == "gzip":
        wire, header = gzip.compress(body), "gzip"
    elif encoding == "gzip, gzip":
        wire, header = gzip.compress(gzip.compress(body)), "gzip, gzip"
    elif encoding == "deflate-zlib":
        wire, header = zlib.compress(body), "deflate"
    else:
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        wire, header = packer.compress(body) + packer.flush(), "deflate"
    reply = response(headers={"Content-Encoding": header}, body=wire)
    with HostileServer(lambda conn: conn.send(reply)) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        item = await resolve(client.get())
    assert item.id == 9
    assert "gzip, deflate" in server.heads[0].decode().lower()  # what usagekit asked for


@pytest.mark.parametrize(
    ("encoding", "text"),
    [("br", "content-encoding 'br'"), ("gzip", "corrupt compressed data")],
)
async def test_undecodable_bodies_are_response_validation_errors(
    mode: str, encoding: str, text: str
) -> None:
    reply = response(headers={"Content-Encoding": encoding}, body=b"\x1f\x8bnot really gzip")
    with HostileServer(lambda conn: conn.send(reply)) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        with pytest.raises(usagekit.ResponseValidationError, match=text):
            await resolve(client.get())


async def test_a_huge_error_body_is_cut_and_the_status_still_raised(mode: str) -> None:
    def huge_error(conn: Conn) -> None:
        conn.send(b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.forever(b"10000\r\n" + b"e" * 0x10000 + b"\r\n", 0)

    with HostileServer(huge_error) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", timeout=30, max_retries=0)
        with pytest.raises(usagekit.BadRequestError) as caught:
            await resolve(client.get())
    assert isinstance(caught.value.body, str) and len(caught.value.body) <= 2000


def test_the_body_reader_counts_decoded_bytes() -> None:
    reader = BodyReader("gzip", limit=1000)
    with pytest.raises(BodyTooLarge):
        reader.feed(gzip.compress(bytes(1001)))
    exact = BodyReader("gzip", limit=1000)
    exact.feed(gzip.compress(bytes(1000)))
    assert exact.finish() == bytes(1000)
    cut = BodyReader("", limit=10, truncate=True)
    assert cut.feed(b"0123456789abc") is False
    assert cut.finish() == b"0123456789"
    with pytest.raises(UndecodableBody):
        BodyReader("gzip, " * 10, limit=10)


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 5000, 100_000])
async def test_deep_json_in_a_success_body_is_a_response_validation_error(
    mode: str, depth: int
) -> None:
    reply = response(body=_nested(depth))
    with HostileServer(lambda conn: conn.send(reply)) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        with pytest.raises(usagekit.ResponseValidationError, match="nested deeper than 64"):
            await resolve(client.get())


@pytest.mark.parametrize("depth", [500, 5000, 100_000])
async def test_deep_json_in_an_error_body_is_the_api_error(mode: str, depth: int) -> None:
    body = b'{"error": {"message": "deep", "x": ' + _nested(depth) + b"}}"
    reply = response("500 Internal Server Error", body=body)
    with HostileServer(lambda conn: conn.send(reply)) as server:
        client = make_client(mode, base_url=f"{server.url}/v1", max_retries=0)
        with pytest.raises(usagekit.ServerError) as caught:
            await resolve(client.get())
    error = caught.value
    assert isinstance(error.body, str)  # kept as (cut) text, never as a structure that deep
    assert "-> 500" in str(error) and repr(error) and repr(error.body)  # nothing recurses


def test_json_at_the_depth_limit_is_accepted() -> None:
    assert parse_json(_nested(MAX_JSON_DEPTH - 1)) is not None
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None


async def test_a_megabyte_cursor_is_a_pagination_error(mode: str) -> None:
    client = make_client(mode, max_retries=0)
    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/things").mock(
            return_value=httpx.Response(200, json=page([1], "c" * 1_000_000))
        )
        with pytest.raises(usagekit.PaginationError, match="1,000,000 characters"):
            await resolve(client.list())
    assert route.call_count == 1


async def test_a_cursor_at_the_limit_is_followed(mode: str) -> None:
    client = make_client(mode, max_retries=0)
    cursor = "c" * MAX_CURSOR_LENGTH
    with respx.mock(base_url=BASE_URL) as router:
        router.get("/things").mock(
            side_effect=[
                httpx.Response(200, json=page([1], cursor)),
                httpx.Response(200, json=page([2], None)),
            ]
        )
        items = await resolve(client.list())
    assert [item.id for item in items] == [1, 2]


async def test_a_parameter_too_long_for_a_url_is_a_config_error(mode: str) -> None:
    client = make_client(mode, max_retries=0)
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        route = router.get("/things").mock(return_value=httpx.Response(200, json=page([], None)))
        with pytest.raises(usagekit.ConfigError, match="request URL cannot be built"):
            await resolve(client.list(user_ids=["u" * 100_000]))
    assert not route.called


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("ftp://elsewhere/x", usagekit.APIError),  # a URL, not http(s): not followed
        ("http://[::1", usagekit.APIConnectionError),  # not a URL: a protocol error
        ("javascript:alert(1)", usagekit.APIConnectionError),
        ("http://" + "a" * 70000, usagekit.APIConnectionError),
    ],
)
async def test_a_redirect_that_cannot_be_followed_is_a_usagekit_error(
    mode: str, location: str, error: type[usagekit.UsagekitError]
) -> None:
    client = make_client(mode, max_retries=0)
    with respx.mock(base_url=BASE_URL) as router:
        router.get("/thing").mock(return_value=httpx.Response(302, headers={"location": location}))
        with pytest.raises(error) as caught:
            await resolve(client.get())
    if isinstance(caught.value, usagekit.APIError):
        assert caught.value.status_code == 302
    assert len(str(caught.value)) < 1000


async def test_409_is_retried_like_408_and_5xx(mode: str, sleeps: SleepRecorder) -> None:
    client = make_client(mode, max_retries=2)
    install_sleep(client, sleeps)
    conflict = httpx.Response(409, json={"error": {"message": "lock timeout"}})
    with respx.mock(base_url=BASE_URL) as router:
        route = router.get("/thing").mock(
            side_effect=[conflict, conflict, httpx.Response(200, json={"id": 4})]
        )
        assert (await resolve(client.get())).id == 4
    assert route.call_count == 3 and len(sleeps.calls) == 2
    assert 409 in RETRYABLE_STATUSES

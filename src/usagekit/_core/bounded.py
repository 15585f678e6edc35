"""Bounds on one attempt, in time and in memory (no provider knowledge here).

- :class:`AttemptClock` is an attempt's deadline. The sync transport publishes it in a context
  variable that :class:`DeadlineBackend` (installed in httpx's connection pools by
  :func:`install_deadline_hook`) reads on every socket operation: each connect, write and read
  waits at most until the deadline, so a server that trickles bytes cannot stretch an attempt.
  The async transport runs the attempt in a cancel scope instead.
- :class:`BodyReader` decodes a body as it streams in (gzip and deflate, with bounded output
  per step) and stops at a byte limit, so neither a huge body nor a compression bomb is ever
  held in memory.
- :func:`parse_json` parses JSON and refuses nesting deeper than :data:`MAX_JSON_DEPTH`.
- :func:`no_cookies` is a cookie jar that never stores nor returns a cookie; :func:`cookieless`
  makes a client usagekit created skip offering responses to it.
"""

from __future__ import annotations

import contextvars
import http.cookiejar
import json
import re
import time
import urllib.request
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import httpcore
import httpx

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "ERROR_BODY_LIMIT",
    "MAX_JSON_DEPTH",
    "AttemptClock",
    "BodyReader",
    "BodyTooLarge",
    "DeadlineBackend",
    "JSONRejected",
    "UndecodableBody",
    "attempt_seconds",
    "cookieless",
    "install_deadline_hook",
    "no_cookies",
    "parse_json",
]

_ClientT = TypeVar("_ClientT", httpx.Client, httpx.AsyncClient)

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""64 MiB of decoded body per response: far above any real usage page (a full OpenAI page of
1-minute buckets is well under 1 MiB), far below what hurts a process."""

ERROR_BODY_LIMIT = 1024 * 1024
"""At most 1 MiB of an error response's body is read (the rest is dropped): enough for any
error message, and the status is what matters."""

MAX_JSON_DEPTH = 64
"""JSON nested deeper than this is refused. Real bodies nest fewer than ten levels; hundreds
of levels would break recursive code downstream (``repr``, ``json.dumps``, redaction)."""

_PIECE = 64 * 1024
"""The most a decompressor emits at once: memory stays bounded whatever the ratio."""

_MAX_ENCODINGS = 4
"""More content-encodings than this on one body is refused (nobody stacks them)."""


# -- time -------------------------------------------------------------------------------------


def attempt_seconds(timeout: httpx.Timeout) -> float | None:
    """The time one attempt may take: the largest of an ``httpx.Timeout``'s values.

    Args:
        timeout: The configured timeout (``httpx.Timeout(2.0)`` for ``timeout=2``).

    Returns:
        Seconds, or None when every value is None (no limit at all, as the caller asked).
    """
    values = [
        v for v in (timeout.connect, timeout.read, timeout.write, timeout.pool) if v is not None
    ]
    return max(values) if values else None


@dataclass(frozen=True)
class AttemptClock:
    """The deadline of one attempt (connect, send, redirects, headers and body).

    Attributes:
        seconds: The attempt's time limit, or None for none.
        deadline: The ``time.monotonic()`` instant the attempt must end by, or None.
    """

    seconds: float | None
    deadline: float | None

    @classmethod
    def start(cls, timeout: httpx.Timeout) -> AttemptClock:
        """Start the clock of an attempt now.

        Args:
            timeout: The configured timeout.

        Returns:
            The clock.
        """
        seconds = attempt_seconds(timeout)
        return cls(seconds, None if seconds is None else time.monotonic() + seconds)

    def expired(self, slack: float = 0.0) -> bool:
        """Whether the deadline has passed.

        Args:
            slack: Seconds before the deadline that already count as past (a socket timeout
                set to the time left may fire a hair early).

        Returns:
            True when the attempt is out of time.
        """
        return self.deadline is not None and time.monotonic() >= self.deadline - slack

    def clamp(self, timeout: httpx.Timeout) -> httpx.Timeout:
        """Return ``timeout`` with no phase allowed past the deadline.

        Args:
            timeout: The configured per-phase timeout.

        Returns:
            A timeout whose every phase is at most the time left.
        """
        if self.deadline is None:
            return timeout
        left = max(self.deadline - time.monotonic(), 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(timeout.connect),
            read=cap(timeout.read),
            write=cap(timeout.write),
            pool=cap(timeout.pool),
        )


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "usagekit_attempt_deadline", default=None
)


def set_deadline(deadline: float | None) -> contextvars.Token[float | None]:
    """Publish the running attempt's deadline to :class:`DeadlineBackend` (this context only).

    Args:
        deadline: A ``time.monotonic()`` instant, or None.

    Returns:
        The token to pass to :func:`reset_deadline`.
    """
    return _DEADLINE.set(deadline)


def reset_deadline(token: contextvars.Token[float | None]) -> None:
    """Withdraw a deadline published by :func:`set_deadline`."""
    _DEADLINE.reset(token)


def _clamp(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the attempt's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the running attempt's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(stream)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """An httpcore network backend bounding every socket operation by the attempt's deadline.

    Outside a usagekit attempt (no deadline published in the current context) it behaves
    exactly as the backend it wraps.

    Args:
        backend: The backend to wrap (httpcore's ``SyncBackend`` by default).
    """

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self.backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self.backend.connect_tcp(
            host,
            port,
            timeout=_clamp(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self.backend.connect_unix_socket(
            path, timeout=_clamp(timeout, httpcore.ConnectTimeout), socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


def install_deadline_hook(client: httpx.Client) -> bool:
    """Wrap the network backend of each connection pool of ``client`` in a DeadlineBackend.

    Idempotent; a pool that already has one is left alone. Connections opened before the hook
    was installed keep their plain streams until they close.

    Args:
        client: The sync client (one usagekit created, or one passed as ``http_client``).

    Returns:
        True when every pool could be hooked; False when the client uses a transport of
        another kind (a custom or mock transport), whose reads are then bounded only between
        body chunks.
    """
    mounts: dict[Any, Any] = getattr(client, "_mounts", {}) or {}
    transports = [getattr(client, "_transport", None), *mounts.values()]
    hooked = True
    for transport in transports:
        if transport is None:
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if not isinstance(backend, httpcore.NetworkBackend):
            hooked = False
            continue
        if not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return hooked


# -- memory -----------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    """Internal: a body passed its byte limit (the transport raises the public error)."""


class UndecodableBody(Exception):
    """Internal: a body's content-encoding is unknown or its compressed data is corrupt."""


def _is_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


class _Inflater:
    """One gzip or deflate layer, emitting at most ``_PIECE`` bytes per step."""

    def __init__(self, gzip: bool) -> None:
        self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16) if gzip else None
        self._head = b""

    def decompress(self, data: bytes) -> Iterator[bytes]:
        if self._obj is None:  # deflate: zlib-wrapped or raw, told by the first two bytes
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            wbits = zlib.MAX_WBITS if _is_zlib_header(data) else -zlib.MAX_WBITS
            self._obj = zlib.decompressobj(wbits)
        obj = self._obj
        while not obj.eof:  # data after the end of the stream is ignored, as httpx does
            out = obj.decompress(data, _PIECE)
            if out:
                yield out
            data = obj.unconsumed_tail
            if not data and len(out) < _PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        if self._obj is None and self._head:
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            data, self._head = self._head, b""
            yield from self.decompress(data)
        yield from self.decompress(b"")


class BodyReader:
    """Decode a body as its raw chunks arrive, counting bytes against a limit.

    Args:
        content_encoding: The response's ``Content-Encoding`` header ("" for none).
        limit: The most bytes kept, counted after decoding (and before, for compressed data).
        truncate: At the limit, stop and keep what was read (for error bodies) instead of
            raising; unknown encodings and corrupt data then end the body quietly too.

    Raises:
        UndecodableBody: An encoding other than gzip, deflate or identity (when not
            ``truncate``).
    """

    def __init__(self, content_encoding: str, *, limit: int, truncate: bool = False) -> None:
        self.limit = limit
        self.truncate = truncate
        self.raw = 0
        self.size = 0
        self.full = False
        self._parts: list[bytes] = []
        self._layers: list[_Inflater] = []
        names = [name.strip().lower() for name in content_encoding.split(",") if name.strip()]
        if len(names) > _MAX_ENCODINGS:
            if not truncate:
                raise UndecodableBody(f"{len(names)} stacked content-encodings")
            names = ["unknown"]
        for name in reversed(names):  # the last encoding applied is the first undone
            if name in ("gzip", "x-gzip", "deflate"):
                self._layers.append(_Inflater(gzip=name != "deflate"))
            elif name != "identity":
                if not truncate:
                    raise UndecodableBody(f"content-encoding {name[:40]!r}")
                self._layers = []  # keep the bytes as they are
                break

    def feed(self, data: bytes) -> bool:
        """Take one raw chunk.

        Args:
            data: The chunk, as received.

        Returns:
            True to go on reading; False when the body is complete enough (truncated).

        Raises:
            BodyTooLarge: The limit was passed (when not ``truncate``).
            UndecodableBody: The compressed data is corrupt (when not ``truncate``).
        """
        self.raw += len(data)
        if self.raw > self.limit and not self.truncate:
            raise BodyTooLarge(self.limit)
        self._guarded(self._push, data, 0)
        if self.raw > self.limit:
            self.full = True
        return not self.full

    def finish(self) -> bytes:
        """Flush the decoders and return the body.

        Raises:
            BodyTooLarge: Flushing passed the limit (when not ``truncate``).
            UndecodableBody: The compressed data is corrupt (when not ``truncate``).
        """
        for level, layer in enumerate(self._layers):
            if self.full:
                break
            self._guarded(self._drain, layer.flush(), level + 1)
        return b"".join(self._parts)

    def _guarded(self, step: Any, data: Any, level: int) -> None:
        try:
            step(data, level)
        except zlib.error:
            if not self.truncate:
                raise UndecodableBody("corrupt compressed data") from None
            self.full = True

    def _drain(self, pieces: Iterator[bytes], level: int) -> None:
        for piece in pieces:
            self._push(piece, level)
            if self.full:
                return

    def _push(self, data: bytes, level: int) -> None:
        if level == len(self._layers):
            self._keep(data)
            return
        self._drain(self._layers[level].decompress(data), level + 1)

    def _keep(self, data: bytes) -> None:
        room = self.limit - self.size
        if len(data) > room:
            self._overflow()
            data = data[:room]
        self.size += len(data)
        if data:
            self._parts.append(data)

    def _overflow(self) -> None:
        if not self.truncate:
            raise BodyTooLarge(self.limit)
        self.full = True


class JSONRejected(ValueError):
    """A body that is not JSON usagekit accepts: empty, malformed or nested too deep."""


def _too_deep(value: Any, limit: int) -> bool:
    """Whether a parsed value nests deeper than ``limit`` levels (a text that is not UTF-8)."""
    if not isinstance(value, (dict, list)):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:  # iterative: a recursive walk is what deep nesting breaks
        item, depth = stack.pop()
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


_DECODER = json.JSONDecoder(parse_float=Decimal)
"""What ``json.loads(text, parse_float=Decimal)`` builds on every call, built once."""

_BRACES = bytes.maketrans(b"[]", b"{}")
_NOT_MARKS = bytes(sorted(set(range(256)) - set(b'[]{}"')))
_STRING = re.compile(rb'"[^"]*"')
"""A string literal of a text reduced to its quotes and braces."""


def _nests_deeper(content: bytes, limit: int) -> bool:
    """Whether valid UTF-8 JSON nests deeper than ``limit`` levels, read from its bytes.

    Outside its strings, a JSON text's brackets nest as its values do. With every bracket made
    a brace and everything else but quotes dropped, then the strings dropped, each removal of
    the empty pairs ``{}`` removes exactly the deepest level of every branch: the nesting is
    the number of removals that empty the text. Every step runs in C over the bytes (no walk
    of the parsed value, nothing allocated per value).
    """
    if content.count(b"[") + content.count(b"{") <= limit:
        return False  # not enough brackets to nest that deep (a small page)
    if b"\\" in content:  # escapes: drop escaped backslashes, then escaped quotes
        content = content.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = content.translate(_BRACES, _NOT_MARKS)
    braces = marks.replace(b'""', b"")  # each string is an empty pair, unless it holds a bracket
    if b'"' in braces:  # one does (its opening quote is left): drop the strings whole
        braces = _STRING.sub(b"", marks)
    for _ in range(limit):
        if not braces:
            return False
        braces = braces.replace(b"{}", b"")
    return bool(braces)


def _loads(content: bytes | str) -> tuple[Any, bool]:
    """``json.loads(content, parse_float=Decimal)``, and whether the text was UTF-8 bytes."""
    if not isinstance(content, (bytes, bytearray)):
        return json.loads(content, parse_float=Decimal), False
    encoding = json.detect_encoding(content)
    data = _DECODER.decode(content.decode(encoding, "surrogatepass"))
    return data, encoding in ("utf-8", "utf-8-sig")


def parse_json(content: bytes) -> Any:
    """Parse JSON with numbers with a fraction as exact ``Decimal``, refusing deep nesting.

    Parses as ``json.loads(content, parse_float=Decimal)`` does (the same text encodings, the
    same values), with the decoder built once.

    Args:
        content: The raw body.

    Returns:
        The parsed value.

    Raises:
        JSONRejected: The body is empty, not valid JSON, or nested deeper than
            :data:`MAX_JSON_DEPTH` levels; the message says which.
    """
    if not content.strip():
        raise JSONRejected("empty")
    try:
        data, utf8 = _loads(content)
    except RecursionError:
        raise JSONRejected(f"not valid JSON (nested deeper than {MAX_JSON_DEPTH} levels)") from None
    except ValueError as exc:
        raise JSONRejected(f"not valid JSON ({type(exc).__name__})") from None
    if _nests_deeper(bytes(content), MAX_JSON_DEPTH) if utf8 else _too_deep(data, MAX_JSON_DEPTH):
        raise JSONRejected(f"not valid JSON (nested deeper than {MAX_JSON_DEPTH} levels)")
    return data


# -- cookies ----------------------------------------------------------------------------------


class _RefuseAll(http.cookiejar.CookiePolicy):
    """A cookie policy that accepts and returns no cookie at all."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: urllib.request.Request) -> bool:
        return False

    def path_return_ok(self, path: str, request: urllib.request.Request) -> bool:
        return False


def no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that never keeps a ``Set-Cookie`` nor sends a cookie (none of the
    providers' APIs uses cookies; carrying them only risks sending one where it must not go).

    Returns:
        The jar, for ``httpx.Client(cookies=...)``.
    """
    return http.cookiejar.CookieJar(policy=_RefuseAll())


class _NoCookies(httpx.Cookies):
    """The cookies of a client usagekit created: the jar refuses every cookie, so reading a
    response's ``Set-Cookie`` headers (httpx builds urllib request and response views to hand
    them to the jar, for every response) and writing a request's ``Cookie`` are skipped."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


def cookieless(client: _ClientT) -> _ClientT:
    """Make a client usagekit created skip the cookie work its refusing jar makes pointless.

    The client keeps :func:`no_cookies` (nothing is ever stored or sent either way); only the
    per-response work of offering each response to the jar is skipped. A client whose httpx
    keeps its cookies elsewhere is returned as it is.

    Args:
        client: A sync or async client created with ``cookies=no_cookies()``.

    Returns:
        The same client.
    """
    cookies = getattr(client, "_cookies", None)
    if type(cookies) is httpx.Cookies:
        client._cookies = _NoCookies(cookies.jar)
    return client

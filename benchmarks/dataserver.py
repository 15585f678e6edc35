"""The benchmarks' data server: OpenAI's usage and costs endpoints over loopback, in a process
of its own.

``python -m benchmarks.dataserver --port 0 [--groups 50] [--active 1.0] [--latency-ms 50]``
serves, on 127.0.0.1 only, ``GET /v1/organization/usage/{completions, embeddings, moderations,
images, audio_speeches, audio_transcriptions, vector_stores, code_interpreter_sessions,
file_search_calls, web_search_calls}`` and ``GET /v1/organization/costs`` as the real API does
(see ``shared/openai-shapes.md``): ``start_time`` (required), ``end_time`` (default: the
server's ``--now``), ``bucket_width`` (``1m``/``1h``/``1d``; costs ``1d`` only), ``limit``
(buckets per page: default 60/24/7, at most what ``usagekit._providers.openai._requests
.USAGE_LIMITS`` says per width; costs default 7, at most 180), ``group_by`` and each endpoint's
filters (repeated keys), and ``page``: the ``next_page`` cursor of the previous page, which only
the same query accepts; ``has_more`` says whether there is one. Buckets are aligned to UTC
boundaries of their width, every bucket before ``end_time`` is sent (empty ones with
``results: []``), and none holds data at or after ``--now``. A bad parameter gets a 400 in
OpenAI's error shape; a missing or wrong ``Authorization: Bearer`` key a 401. The data are
synthetic and deterministic (:mod:`benchmarks._synth`): ``--groups`` groups, each active in a
bucket with probability ``--active``, every numeric field present.

``--latency-ms`` delays every answer (each connection has its own thread, so concurrent
requests wait side by side, as with a distant API). ``GET /_bench/stats`` returns the requests
served (``{"requests": n, "by_endpoint": {...}, "bytes": n}``) and ``POST /_bench/reset`` zeroes
them. Encoded buckets are kept (up to ``--cache-mb``) so that walking a span again costs the
server next to nothing.

The server prints ``listening on http://127.0.0.1:PORT`` once ready and stops when its standard
input closes (or on SIGTERM / Ctrl-C), so it never outlives the benchmark that started it;
:func:`serve_data` does all of that from Python.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from usagekit._providers.openai._requests import USAGE_LIMITS

from ._common import ROOT
from ._synth import KINDS, Grouping, Kind, bucket_json, grouping

__all__ = ["API_KEY", "DataServer", "Options", "main", "serve_data"]

API_KEY = "sk-admin-bench-0000000000000000"
"""The admin key the server accepts (``--key`` changes it)."""
DEFAULT_NOW = "2026-01-01T00:00:00Z"
_WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}
_DEFAULT_LIMITS = {"1m": 60, "1h": 24, "1d": 7}
_COSTS_LIMITS = (7, 180)
_COMMON = ("start_time", "end_time", "bucket_width", "group_by", "limit", "page")
_ENUMS = {
    "sources": ("image.generation", "image.edit", "image.variation"),
    "sizes": ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792"),
    "context_levels": ("low", "medium", "high"),
}


@dataclass(frozen=True)
class Options:
    """What the server serves.

    Attributes:
        groups: Groups in the organization (each a project/user/key/model/... combination).
        active: Chance (0..1] that a group is active in a bucket.
        seed: The data seed.
        now: Unix seconds of "now": the default ``end_time``; no data at or after it.
        latency: Seconds added to every answer.
        key: The admin key accepted.
        cache_bytes: The most bytes of encoded buckets kept.
    """

    groups: int = 50
    active: float = 1.0
    seed: int = 1
    now: int = 1_767_225_600
    latency: float = 0.0
    key: str = API_KEY
    cache_bytes: int = 512 * 1024 * 1024


class _BadRequest(Exception):
    def __init__(self, status: int, message: str, param: str | None, code: str | None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self) -> bytes:
        kind = "invalid_request_error"
        error = {"message": self.message, "type": kind, "param": self.param, "code": self.code}
        return json.dumps({"error": error}).encode()


def _invalid(message: str, param: str | None, code: str = "invalid_value") -> _BadRequest:
    return _BadRequest(400, message, param, code)


class _Query:
    def __init__(self, raw: str, allowed: Sequence[str]) -> None:
        self.values = parse_qs(raw, keep_blank_values=True)
        for name in self.values:
            if name not in allowed:
                raise _invalid(
                    f"Unrecognized request argument supplied: {name}", name, "unknown_parameter"
                )
        pairs = sorted((k, v) for k, vs in self.values.items() if k != "page" for v in vs)
        self.checksum = hashlib.sha256(repr(pairs).encode()).digest()[:8]

    def single(self, name: str) -> str | None:
        values = self.values.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise _invalid(f"'{name}' was given more than once.", name)
        return values[0]

    def integer(self, name: str) -> int | None:
        text = self.single(name)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise _invalid(f"Invalid '{name}': expected an integer, got '{text}'.", name) from None

    def array(self, name: str) -> list[str]:
        return list(dict.fromkeys(self.values.get(name, ())))


class DataApp:
    """Answers the API's requests (thread-safe): query checks, paging, the bucket cache."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._cached = 0
        self._groupings: dict[tuple[Any, ...], Grouping] = {}
        self.requests: dict[str, int] = {}
        self.bytes_sent = 0

    def count(self, endpoint: str, size: int) -> None:
        """Count one answered request."""
        with self._lock:
            self.requests[endpoint] = self.requests.get(endpoint, 0) + 1
            self.bytes_sent += size

    def stats(self) -> dict[str, Any]:
        """The counters, as JSON-ready data."""
        with self._lock:
            total = sum(self.requests.values())
            return {"requests": total, "by_endpoint": dict(self.requests), "bytes": self.bytes_sent}

    def reset(self) -> None:
        """Zero the counters."""
        with self._lock:
            self.requests.clear()
            self.bytes_sent = 0

    def kind_of(self, path: str) -> Kind | None:
        """The endpoint a path names, or None."""
        path = path.rstrip("/")
        if path == "/v1/organization/costs":
            return KINDS["costs"]
        head, _, name = path.rpartition("/")
        kind = KINDS.get(name) if head == "/v1/organization/usage" else None
        return None if kind is None or kind.name == "costs" else kind

    def page(self, kind: Kind, raw_query: str) -> bytes:
        """One page of ``kind`` for a query string.

        Raises:
            _BadRequest: A parameter the API would refuse.
        """
        costs = kind.name == "costs"
        query = _Query(raw_query, (*_COMMON, *kind.filters))
        width_name = query.single("bucket_width") or "1d"
        if width_name not in _WIDTHS or (costs and width_name != "1d"):
            allowed = "'1d'" if costs else "'1m', '1h', '1d'"
            raise _invalid(
                f"Invalid 'bucket_width': '{width_name}'. Supported values are: {allowed}.",
                "bucket_width",
            )
        width = _WIDTHS[width_name]
        group_by = query.array("group_by")
        for name in group_by:
            if name not in kind.dims:
                raise _invalid(
                    f"Invalid 'group_by' field '{name}' for {kind.name}. Supported fields: "
                    f"{', '.join(kind.dims)}.",
                    "group_by",
                )
        filters: dict[str, frozenset[str]] = {}
        for param in kind.filters:
            values = query.array(param)
            allowed_values = _ENUMS.get(param)
            for value in values:
                if allowed_values is not None and value not in allowed_values:
                    raise _invalid(f"Invalid value '{value}' for '{param}'.", param)
            if param == "batch" and values:
                values = [query.single("batch") or ""]
                if values[0].lower() not in ("true", "false"):
                    raise _invalid(
                        f"Invalid 'batch': expected a boolean, got '{values[0]}'.", param
                    )
                values = [values[0].lower()]
            if values:
                filters[param] = frozenset(values)
        default, cap = _COSTS_LIMITS if costs else (_DEFAULT_LIMITS[width_name], 0)
        if not costs:
            cap = USAGE_LIMITS[width_name]
        buckets, next_page = self._window(query, width, width_name, default, cap)
        plan = self._grouping(kind, tuple(sorted(group_by)), filters)
        key = (kind.name, width, tuple(sorted(group_by)), tuple(sorted(filters.items())))
        data = ",".join(self._bucket(kind, plan, start, width, key) for start in buckets)
        more = "true" if next_page is not None else "false"
        cursor = "null" if next_page is None else f'"{next_page}"'
        body = f'{{"object":"page","data":[{data}],"has_more":{more},"next_page":{cursor}}}'
        return body.encode()

    def _window(
        self, query: _Query, width: int, width_name: str, default: int, cap: int
    ) -> tuple[list[int], str | None]:
        start = query.integer("start_time")
        if start is None:
            raise _invalid(
                "Missing required parameter: 'start_time'.",
                "start_time",
                "missing_required_parameter",
            )
        if start < 0:
            raise _invalid("'start_time' must be a non-negative unix timestamp.", "start_time")
        end = query.integer("end_time")
        end = self.options.now if end is None else end
        if end <= start:
            raise _invalid("'end_time' must be after 'start_time'.", "end_time")
        limit = query.integer("limit")
        limit = default if limit is None else limit
        if not 1 <= limit <= cap:
            raise _invalid(
                f"Invalid 'limit': {limit}. For bucket_width={width_name} it must be between 1 "
                f"and {cap}.",
                "limit",
            )
        first = start - start % width
        page_start = first
        cursor = query.single("page")
        if cursor is not None:
            page_start = _decode(cursor, query.checksum)
            if page_start < first or (page_start - first) % width or page_start >= end:
                raise _invalid(
                    "The 'page' cursor is out of range for this query.", "page", "invalid_cursor"
                )
        following = page_start + limit * width
        buckets = list(range(page_start, min(following, end), width))
        next_page = _encode(following, query.checksum) if following < end else None
        return buckets, next_page

    def _grouping(
        self, kind: Kind, group_by: tuple[str, ...], filters: Mapping[str, frozenset[str]]
    ) -> Grouping:
        key = (kind.name, group_by, tuple(sorted(filters.items())))
        with self._lock:
            plan = self._groupings.get(key)
        if plan is None:
            plan = grouping(kind, self.options.groups, group_by, filters)
            with self._lock:
                self._groupings[key] = plan
        return plan

    def _bucket(
        self, kind: Kind, plan: Grouping, start: int, width: int, query_key: tuple[Any, ...]
    ) -> str:
        if start >= self.options.now:
            return (
                f'{{"object":"bucket","start_time":{start},"end_time":{start + width},'
                '"results":[]}'
            )
        key = (*query_key, start)
        with self._lock:
            text = self._cache.get(key)
            if text is not None:
                self._cache.move_to_end(key)
                return text
        options = self.options
        text = bucket_json(kind, plan, start, width, seed=options.seed, active=options.active)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = text
                self._cached += len(text)
                while self._cached > options.cache_bytes and self._cache:
                    _, dropped = self._cache.popitem(last=False)
                    self._cached -= len(dropped)
        return text


def _encode(start: int, checksum: bytes) -> str:
    return "page_" + base64.urlsafe_b64encode(struct.pack(">q", start) + checksum).decode()


def _decode(cursor: str, checksum: bytes) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.removeprefix("page_").encode("ascii"))
    except ValueError:
        raw = b""
    if not cursor.startswith("page_") or len(raw) != 16:
        raise _invalid("Invalid 'page' cursor.", "page", "invalid_cursor")
    if raw[8:] != checksum:
        raise _invalid("The 'page' cursor belongs to a different query.", "page", "invalid_cursor")
    start: int = struct.unpack(">q", raw[:8])[0]
    return start


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms stall between the headers and the body
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", f"req_{time.monotonic_ns():x}")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        app = self.server.app
        began = time.monotonic()
        parts = urlsplit(self.path)
        if parts.path == "/_bench/stats":
            self._send(200, json.dumps(app.stats()).encode())
            return
        kind = app.kind_of(parts.path)
        if kind is None:
            error = _BadRequest(404, "Invalid URL", None, None)
            self._send(404, error.body())
            return
        try:
            if self.headers.get("Authorization") != f"Bearer {app.options.key}":
                raise _BadRequest(401, "Incorrect API key provided.", None, "invalid_api_key")
            status, body = 200, app.page(kind, parts.query)
        except _BadRequest as error:
            status, body = error.status, error.body()
        wait = app.options.latency - (time.monotonic() - began)
        if wait > 0:
            time.sleep(wait)
        app.count(kind.name, len(body))
        self._send(status, body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if urlsplit(self.path).path == "/_bench/reset":
            self.server.app.reset()
            self._send(200, b"{}")
        else:
            self._send(404, _BadRequest(404, "Invalid URL", None, None).body())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, port: int, app: DataApp) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.app = app


def _unix(text: str) -> int:
    return int(
        datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dataserver",
        description="OpenAI usage and costs endpoints with synthetic data, on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--groups", type=int, default=50, help="groups in the organization")
    parser.add_argument("--active", type=float, default=1.0, help="chance a group is active")
    parser.add_argument("--seed", type=int, default=1, help="data seed")
    parser.add_argument("--now", default=DEFAULT_NOW, help="'now' (ISO-8601): data ends there")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="ms added to answers")
    parser.add_argument("--key", default=API_KEY, help="the admin key accepted")
    parser.add_argument("--cache-mb", type=int, default=512, help="encoded buckets kept (MB)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until standard input closes.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    args = _parser().parse_args(argv)
    if args.groups < 1 or not 0 < args.active <= 1:
        sys.stderr.write("--groups must be at least 1 and --active within (0, 1]\n")
        return 2
    options = Options(
        groups=args.groups,
        active=args.active,
        seed=args.seed,
        now=_unix(args.now),
        latency=args.latency_ms / 1000.0,
        key=args.key,
        cache_bytes=args.cache_mb * 1024 * 1024,
    )
    server = _Server(args.port, DataApp(options))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        while sys.stdin.read(65536):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


@dataclass(frozen=True)
class DataServer:
    """A running data server (see :func:`serve_data`).

    Attributes:
        url: ``http://127.0.0.1:PORT``.
        api_key: The admin key it accepts.
    """

    url: str
    api_key: str

    @property
    def base_url(self) -> str:
        """The OpenAI base URL: ``<url>/v1``."""
        return f"{self.url}/v1"

    def openai_client(self, **kw: Any) -> Any:
        """A real ``usagekit.OpenAIClient`` pointed at the server (``**kw`` passed on)."""
        import usagekit

        return usagekit.OpenAIClient(api_key=self.api_key, base_url=self.base_url, **kw)

    def stats(self) -> dict[str, Any]:
        """The server's counters (``GET /_bench/stats``)."""
        import httpx

        response = httpx.get(f"{self.url}/_bench/stats", timeout=30)
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def reset(self) -> None:
        """Zero the server's counters."""
        import httpx

        httpx.post(f"{self.url}/_bench/reset", timeout=30).raise_for_status()


@contextmanager
def serve_data(
    *,
    groups: int = 50,
    active: float = 1.0,
    seed: int = 1,
    now: str = DEFAULT_NOW,
    latency_ms: float = 0.0,
    cache_mb: int = 512,
) -> Iterator[DataServer]:
    """Run the data server in a subprocess for the duration of a ``with`` block.

    Args:
        groups: Groups in the organization.
        active: Chance that a group is active in a bucket.
        seed: The data seed.
        now: "Now" (ISO-8601): the default ``end_time``; no data at or after it.
        latency_ms: Milliseconds added to every answer.
        cache_mb: Encoded buckets kept, in MB.

    Yields:
        The running server.

    Raises:
        RuntimeError: It did not start.
    """
    command = [
        sys.executable,
        "-m",
        "benchmarks.dataserver",
        *("--port", "0", "--groups", str(groups), "--active", str(active)),
        *("--seed", str(seed), "--now", now, "--latency-ms", str(latency_ms)),
        *("--cache-mb", str(cache_mb)),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the data server did not start: {line!r}")
        yield DataServer(line.removeprefix("listening on "), API_KEY)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    sys.exit(main())

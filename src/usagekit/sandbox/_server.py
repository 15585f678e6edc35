"""The HTTP server: one port for all providers, keep-alive, faults applied per request."""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import unquote

from ._basedash import BasedashProvider
from ._daramex import DaramexProvider
from ._data import SandboxData
from ._faults import EarlyRetry, FaultController, RequestKey, SandboxStats
from ._http import HttpError, Provider, Request, Response, json_response, parse_query
from ._openai import OpenAIProvider, PagingMode
from ._openrouter import OpenRouterProvider
from ._unsiloed import UnsiloedProvider

__all__ = ["App", "SandboxHTTPServer"]

logger = logging.getLogger("usagekit.sandbox")


@dataclass
class Outcome:
    """What to do with a request: answer, answer with a truncated body, or hang up."""

    action: Literal["respond", "drop", "truncate"]
    response: Response | None = None
    hint: tuple[RequestKey, int] | None = None


class App:
    """Routes requests to providers and applies latency, faults and rate limits.

    Args:
        data: The sandbox data.
        faults: The fault controller.
        stats: Counters to update.
    """

    def __init__(self, data: SandboxData, faults: FaultController, stats: SandboxStats) -> None:
        self.data = data
        self.faults = faults
        self.stats = stats
        self.openai = OpenAIProvider(data)
        self.providers: tuple[Provider, ...] = (
            self.openai,
            BasedashProvider(data),
            UnsiloedProvider(data),
            DaramexProvider(data),
            OpenRouterProvider(data),
        )
        self.sync_settings()

    def sync_settings(self) -> None:
        """Apply the fault settings that providers read (OpenAI's paging mode)."""
        settings = self.faults.settings
        if settings.endless_cursor:
            self.openai.paging = PagingMode.ENDLESS
        elif settings.cursor_cycle:
            self.openai.paging = PagingMode.CYCLE
        else:
            self.openai.paging = PagingMode.NORMAL

    def process(
        self, method: str, target: str, headers: Message, client: str, arrived: float
    ) -> Outcome:
        """Decide the outcome of one request.

        Args:
            method: HTTP method.
            target: Request target (path and query).
            headers: Request headers.
            client: Peer address.
            arrived: ``time.monotonic()`` when the request arrived.

        Returns:
            The outcome (the response carries no ``x-request-id`` yet).
        """
        raw_path, _, raw_query = target.partition("?")
        path = unquote(raw_path)
        request = Request(method, path, raw_query, parse_query(raw_query), headers, client)
        provider = next((p for p in self.providers if p.owns(path)), None)
        endpoint = provider.endpoint(path) if provider else None
        settings = self.faults.settings
        if settings.latency:
            time.sleep(settings.latency)
        if provider is None:
            body = {"error": {"message": f"No sandbox route for {method} {path}"}}
            return self._count("unknown", path, Outcome("respond", json_response(404, body)))
        name = provider.name
        if endpoint is None:
            response = provider.not_found(method, path)
            return self._count(name, "(unknown)", Outcome("respond", response))
        if method != "GET":
            response = provider.method_not_allowed(method, path)
            return self._count(name, endpoint, Outcome("respond", response))

        credential = provider.credential(request) or f"anonymous:{client}"
        canonical = "&".join(
            f"{k}={v}" for k, v in sorted((k, v) for k, vs in request.query.items() for v in vs)
        )
        key: RequestKey = (credential, name, method, path, canonical)
        early = self.faults.check_retry(key, arrived)
        if early is not None:
            self.stats.record_early_retry(
                EarlyRetry(name, method, path, canonical, early[0], round(early[1], 3))
            )
        fault = self.faults.draw(name)
        if fault is not None:
            self.stats.record_fault(fault.kind)
            if fault.kind == "rate_limit":
                outcome = Outcome(
                    "respond", provider.rate_limited(fault.wait_ms), (key, fault.wait_ms)
                )
                return self._count(name, endpoint, outcome)
            if fault.kind == "server_error":
                return self._count(name, endpoint, Outcome("respond", provider.error(500)))
            if fault.kind == "bad_gateway":
                return self._count(name, endpoint, Outcome("respond", provider.bad_gateway()))
            if fault.kind == "unavailable":
                return self._count(name, endpoint, Outcome("respond", provider.error(503)))
            if fault.kind == "drop":
                return self._count(name, endpoint, Outcome("drop"))
            if fault.kind == "slow":
                time.sleep(settings.slow_seconds)
        wait_ms = self.faults.acquire(f"{name}:{credential}", time.monotonic())
        if wait_ms:
            outcome = Outcome("respond", provider.rate_limited(wait_ms), (key, wait_ms))
            return self._count(name, endpoint, outcome)
        response = self._answer(provider, endpoint, request)
        action: Literal["respond", "truncate"] = "respond"
        if fault is not None and fault.kind == "truncate":
            action = "truncate"
        return self._count(name, endpoint, Outcome(action, response))

    def _answer(self, provider: Provider, endpoint: str, request: Request) -> Response:
        try:
            return provider.handle(endpoint, request)
        except HttpError as error:
            return error.response
        except Exception:
            text = traceback.format_exc()
            logger.error("sandbox error answering %s %s\n%s", request.method, request.path, text)
            self.stats.record_internal_error(text)
            return provider.error(500)

    def _count(self, provider: str, endpoint: str, outcome: Outcome) -> Outcome:
        status = outcome.response.status if outcome.response is not None else 0
        self.stats.record_request(provider, endpoint, status)
        return outcome


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "usagekit-sandbox"
    sys_version = ""
    timeout = 120.0
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body back ~40 ms on every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            logger.info("%s - %s", self.address_string(), format % args)

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _serve(self) -> None:
        arrived = time.monotonic()
        length = self.headers.get("Content-Length")
        if length and length.isdigit():
            self.rfile.read(int(length))
        app = self.server.app
        outcome = app.process(
            self.command, self.path, self.headers, self.client_address[0], arrived
        )
        response = outcome.response
        if outcome.action == "drop" or response is None:
            self._hang_up()
            return
        body = response.body
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-request-id", "req_" + uuid.uuid4().hex)
            for name, value in response.headers:
                self.send_header(name, value)
            sent = time.monotonic()  # the hint leaves with the headers: a retry counts from here
            self.end_headers()
            if outcome.action == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self._hang_up()
                return
            self.wfile.write(body)
        except OSError:
            self.close_connection = True
            return
        if outcome.hint is not None:  # only once it was delivered; timed from its sending, not
            key, hint_ms = outcome.hint  # from now (this thread may have waited for the GIL)
            app.faults.remember_hint(key, hint_ms, sent)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_PATCH = _serve
    do_DELETE = _serve
    do_OPTIONS = _serve


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP/1.1 server that can close its idle keep-alive connections.

    Args:
        host: Address to bind (loopback).
        port: Port (0 picks a free one).
        app: The application.
        log_requests: Log each request at INFO level.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, app: App, *, log_requests: bool = False) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.log_requests = log_requests
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS look-up (slow on some machines)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket, *, add: bool) -> None:
        """Remember (or forget) an open connection."""
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down every open connection (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log, quietly, errors of a connection (a client hanging up mid-request)."""
        logger.debug("connection error from %s", client_address, exc_info=True)

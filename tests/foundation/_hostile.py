"""Hostile HTTP servers on 127.0.0.1: real sockets, each connection in its own thread.

A scenario is a function ``handler(conn)`` that writes whatever it likes (a trickle, an endless
body, a bomb) after the request head was read. Nothing here goes beyond the loopback interface.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

Handler = Callable[["Conn"], None]


class Conn:
    """One accepted connection, as a scenario sees it.

    Attributes:
        head: The request head (request line and headers) as received.
    """

    def __init__(self, sock: socket.socket, stop: threading.Event, head: bytes) -> None:
        self.sock = sock
        self.stop = stop
        self.head = head

    def header(self, name: str) -> str | None:
        """A request header's value (the first one), or None."""
        for line in self.head.decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def path(self) -> str:
        """The request target of the request line."""
        return self.head.split(b" ", 2)[1].decode("latin-1")

    def send(self, data: bytes) -> bool:
        """Send everything; False when the client went away."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def trickle(self, data: bytes, interval: float) -> bool:
        """Send one byte every ``interval`` seconds; False when stopped or the client left."""
        for i in range(len(data)):
            if self.stop.is_set() or not self.send(data[i : i + 1]):
                return False
            time.sleep(interval)
        return True

    def forever(self, chunk: bytes, interval: float) -> None:
        """Send ``chunk`` every ``interval`` seconds until stopped or the client leaves."""
        while not self.stop.is_set() and self.send(chunk):
            if interval:
                time.sleep(interval)


def response(
    status: str = "200 OK", headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """A complete HTTP/1.1 response (with ``Connection: close``)."""
    fields = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    fields.update(headers or {})
    fields["Connection"] = "close"
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HostileServer:
    """A loopback server running ``handler`` for every connection.

    Use as a context manager; leaving it stops every scenario and joins its threads.

    Attributes:
        connections: How many connections were accepted.
        heads: The request heads received, in order.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stop = threading.Event()
        self.connections = 0
        self.heads: list[bytes] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop.set()
        self._acceptor.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            with self._lock:
                self.connections += 1
                self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            sock.settimeout(5)
            head = b""
            try:
                while b"\r\n\r\n" not in head:
                    data = sock.recv(65536)
                    if not data:
                        return
                    head += data
            except OSError:
                return
            head = head.split(b"\r\n\r\n", 1)[0]
            with self._lock:
                self.heads.append(head)
            try:
                self.handler(Conn(sock, self.stop, head))
            except OSError:
                return

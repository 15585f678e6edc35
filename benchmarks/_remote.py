"""The sandbox in its own process, so that a benchmark's server never shares its GIL.

:class:`RemoteSandbox` starts ``usagekit.sandbox.Sandbox`` in a child process (multiprocessing's
``spawn``: a fresh interpreter, nothing inherited but the arguments), bound to 127.0.0.1, and
talks to it over a pipe for what a benchmark needs besides HTTP: its keys and base URLs,
``configure(...)``, ``reset_stats()`` and a copy of its counters (``stats``). Clients are built
in the measuring process, from the same registry the sandbox's own ``client()`` uses, so every
request crosses the loopback to the other process.

Example:
    >>> with RemoteSandbox(seed=1, now="2026-11-15T12:00:00Z") as sb:  # doctest: +SKIP
    ...     client = sb.openai_client()
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

__all__ = ["RemoteSandbox", "StatsSnapshot"]

_START_TIMEOUT = 120.0
_CALL_TIMEOUT = 60.0


@dataclass(frozen=True)
class StatsSnapshot:
    """A copy of the sandbox's counters (``SandboxStats``) taken at one moment.

    Attributes:
        requests: Requests served by (provider, endpoint, status).
        early_retries: Requests repeated before their 429's hint had passed.
        faults: Faults injected, by kind.
        internal_errors: Tracebacks of exceptions raised while answering.
    """

    requests: dict[tuple[str, str, int], int] = field(default_factory=dict)
    early_retries: list[Any] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    internal_errors: list[str] = field(default_factory=list)

    @property
    def total_requests(self) -> int:
        """All requests counted."""
        return sum(self.requests.values())

    def count(
        self, provider: str | None = None, endpoint: str | None = None, status: int | None = None
    ) -> int:
        """Requests matching every given criterion (as ``SandboxStats.count``).

        Args:
            provider: ``openai``, ``basedash``, ... (or ``unknown``).
            endpoint: For example ``usage/completions``.
            status: HTTP status (0: dropped connection).

        Returns:
            The number of requests.
        """
        return sum(
            n
            for (p, e, s), n in self.requests.items()
            if (provider is None or p == provider)
            and (endpoint is None or e == endpoint)
            and (status is None or s == status)
        )


def _serve(conn: Connection, options: dict[str, Any]) -> None:
    """The child: run the sandbox and answer the parent's calls until told to stop."""
    from usagekit.sandbox import Sandbox

    try:
        sandbox = Sandbox(**{**options, "host": "127.0.0.1"}).start()
    except Exception as error:
        conn.send(("error", f"{type(error).__name__}: {error}"))
        return
    try:
        conn.send(
            (
                "ok",
                {
                    "url": sandbox.url,
                    "base_urls": sandbox.base_urls,
                    "keys": dataclasses.asdict(sandbox.keys),
                },
            )
        )
        while True:
            try:
                method, kwargs = conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            if method == "stop":
                conn.send(("ok", None))
                return
            try:
                value: Any = None
                if method == "configure":
                    sandbox.configure(**kwargs)
                elif method == "reset_stats":
                    sandbox.reset_stats()
                elif method == "stats":
                    stats = sandbox.stats
                    value = StatsSnapshot(
                        stats.requests, stats.early_retries, stats.faults, stats.internal_errors
                    )
                else:
                    raise ValueError(f"unknown call {method!r}")
                conn.send(("ok", value))
            except Exception as error:
                conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        sandbox.stop()


class RemoteSandbox:
    """A ``usagekit.sandbox.Sandbox`` running in a child process (see the module docstring).

    Args:
        **options: ``Sandbox`` arguments (``seed``, ``now``, ``latency``, ``rate_limit``, ...);
            the host is always 127.0.0.1.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._process: Any = None
        self._conn: Connection | None = None
        self.url = ""
        self.base_urls: dict[str, str] = {}
        self.keys: Any = None

    def __enter__(self) -> RemoteSandbox:
        from usagekit.sandbox import SandboxKeys

        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, self._options), name="usagekit-bench-sandbox", daemon=True
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
        try:
            info = self._answer(_START_TIMEOUT)
        except BaseException:
            self.close()
            raise
        self.url = info["url"]
        self.base_urls = info["base_urls"]
        self.keys = SandboxKeys(**info["keys"])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the child (idempotent): ask it, then terminate it if it does not end."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            try:
                conn.send(("stop", {}))
                if conn.poll(5):
                    conn.recv()
            except (OSError, EOFError):
                pass
            conn.close()
        if process is not None:
            process.join(5)
            if process.is_alive():
                process.terminate()
                process.join(5)

    def _answer(self, timeout: float) -> Any:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the remote sandbox is not running")
        if not conn.poll(timeout):
            raise RuntimeError(f"the remote sandbox did not answer within {timeout:g} s")
        status, value = conn.recv()
        if status != "ok":
            raise RuntimeError(f"the remote sandbox failed: {value}")
        return value

    def _call(self, method: str, **kwargs: Any) -> Any:
        if self._conn is None:
            raise RuntimeError("the remote sandbox is not running")
        self._conn.send((method, kwargs))
        return self._answer(_CALL_TIMEOUT)

    def configure(self, **changes: Any) -> None:
        """Change the sandbox's misbehaviour (``Sandbox.configure``) in the child."""
        self._call("configure", **changes)

    def reset_stats(self) -> None:
        """Zero the child's counters (``Sandbox.reset_stats``)."""
        self._call("reset_stats")

    @property
    def stats(self) -> StatsSnapshot:
        """A copy of the child's counters now."""
        snapshot: StatsSnapshot = self._call("stats")
        return snapshot

    def client(self, name: str, *, asynchronous: bool = False, **kw: Any) -> Any:
        """A client of provider ``name`` pointed at the child (as ``Sandbox.client``).

        Args:
            name: The provider (``openai``, ``basedash``, ...).
            asynchronous: The async client instead of the sync one.
            **kw: Passed on to the client (overriding the sandbox's credentials or base URL).

        Returns:
            The client.
        """
        from usagekit._providers import PROVIDERS
        from usagekit.sandbox._sandbox import _CREDENTIALS

        own = {argument: getattr(self.keys, key) for argument, key in _CREDENTIALS[name].items()}
        info = PROVIDERS[name]
        options = dict(kw)
        values = {s.argument: options.pop(s.argument, own[s.argument]) for s in info.settings}
        credential = values.pop(info.credential.argument)
        options = {**values, **options}
        options.setdefault("base_url", self.base_urls[name])
        return info.client_class(asynchronous=asynchronous)(credential, **options)

    def openai_client(self, **kw: Any) -> Any:
        """An ``OpenAIClient`` with the admin key and the child's base URL."""
        return self.client("openai", **kw)

    def clients(self, **kw: Any) -> list[Any]:
        """One sync client per provider the sandbox emulates (as ``Sandbox.clients``)."""
        from usagekit.sandbox import SandboxClients

        return [self.client(name, **kw) for name in SandboxClients._fields]

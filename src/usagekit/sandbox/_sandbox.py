"""The public ``Sandbox``: a running server, its keys, its ground truth and client factories."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from ._data import SandboxData
from ._emulators.anthropic import admin_key, inference_key
from ._emulators.openrouter import openrouter_keys
from ._faults import FaultController, FaultSettings, SandboxStats
from ._server import App, SandboxHTTPServer
from ._util import Clock, TimeLike

if TYPE_CHECKING:
    from usagekit import (
        AnthropicClient,
        AsyncAnthropicClient,
        AsyncBasedashClient,
        AsyncDaramexClient,
        AsyncOpenAIClient,
        AsyncOpenRouterClient,
        AsyncUnsiloedClient,
        BasedashClient,
        DaramexClient,
        OpenAIClient,
        OpenRouterClient,
        UnsiloedClient,
    )

__all__ = ["AsyncSandboxClients", "Sandbox", "SandboxClients", "SandboxKeys", "serve"]


@dataclass(frozen=True)
class SandboxKeys:
    """Credentials the sandbox accepts (derived from the seed).

    Attributes:
        openai_admin_key: Admin key that reads OpenAI usage and costs.
        openai_project_key: A project key (``sk-proj-...``): answered with 403.
        basedash_api_key: Basedash API key.
        basedash_org_id: The Basedash organization the key administers.
        unsiloed_api_key: Unsiloed API key.
        unsiloed_orphan_api_key: A key whose organization is gone: answered with 404.
        daramex_token: Daramex session JWT.
        daramex_org_id: The Daramex organization of ``daramex_token``.
        daramex_other_token: A valid token of another organization (403 with
            ``daramex_org_id`` as ``x-org-id``).
        daramex_other_org_id: The other organization.
        anthropic_admin_key: Anthropic Admin API key (``sk-ant-admin01-...``).
        anthropic_api_key: A normal Anthropic API key (``sk-ant-api03-...``): answered with 403.
        openrouter_management_key: OpenRouter management key (reads activity and credits).
        openrouter_api_key: A normal OpenRouter key: answered with 403 there.
    """

    openai_admin_key: str
    openai_project_key: str
    basedash_api_key: str
    basedash_org_id: str
    unsiloed_api_key: str
    unsiloed_orphan_api_key: str
    daramex_token: str
    daramex_org_id: str
    daramex_other_token: str
    daramex_other_org_id: str
    anthropic_admin_key: str = ""
    anthropic_api_key: str = ""
    openrouter_management_key: str = ""
    openrouter_api_key: str = ""

    def env(self) -> dict[str, str]:
        """Environment variables a client reads its credentials from."""
        from .._providers import PROVIDERS

        return {
            setting.variable: getattr(self, _CREDENTIALS[name][setting.argument])
            for name, info in PROVIDERS.items()
            if name in _CREDENTIALS
            for setting in info.settings
        }


class SandboxClients(NamedTuple):
    """One client per provider, all pointed at the sandbox."""

    openai: OpenAIClient
    basedash: BasedashClient
    unsiloed: UnsiloedClient
    daramex: DaramexClient
    anthropic: AnthropicClient
    openrouter: OpenRouterClient


class AsyncSandboxClients(NamedTuple):
    """One async client per provider, all pointed at the sandbox."""

    openai: AsyncOpenAIClient
    basedash: AsyncBasedashClient
    unsiloed: AsyncUnsiloedClient
    daramex: AsyncDaramexClient
    anthropic: AsyncAnthropicClient
    openrouter: AsyncOpenRouterClient


_CREDENTIALS: dict[str, dict[str, str]] = {
    "openai": {"api_key": "openai_admin_key"},
    "basedash": {"api_key": "basedash_api_key", "org_id": "basedash_org_id"},
    "unsiloed": {"api_key": "unsiloed_api_key"},
    "daramex": {"token": "daramex_token", "org_id": "daramex_org_id"},
    "anthropic": {"api_key": "anthropic_admin_key"},
    "openrouter": {"api_key": "openrouter_management_key"},
}
"""The sandbox's own answer to each client argument: which of its ``SandboxKeys`` it passes
(the argument names are the registry's; a provider it does not emulate has no entry)."""


def _check_loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"host must be a loopback address, got {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"the sandbox only binds loopback addresses, got {host!r}")
    return host


class Sandbox:
    """A local server that emulates the usage APIs of every provider usagekit reads.

    Use ``serve()`` (or ``Sandbox(...).start()`` / ``stop()``, or ``with Sandbox(...)``).
    Nothing is generated at start-up: data is made per hour on first use.

    Args:
        seed: Data seed (same seed, same data, same keys).
        port: Port, 0 for a free one.
        host: Loopback address to bind.
        fault_rate: Chance (0..1) of a random fault per request.
        fault_seed: Seed of the fault random stream.
        latency: Seconds added to every response.
        rate_limit: Requests per second per credential (token bucket), or None.
        rate_limit_burst: Token bucket size.
        endless_cursor: OpenAI pages always say ``has_more`` with a fresh cursor.
        cursor_cycle: OpenAI's last page hands back a cursor seen before.
        fault_weights: Relative weights of the fault kinds (see ``FAULT_KINDS``).
        retry_after_ms: Range of injected 429 retry hints, in milliseconds.
        slow_seconds: Delay of a ``slow`` fault.
        now: A fixed "now" for reproducible data, or None for real time.
        history_days: Days of data before the day of ``now``.
        log_requests: Log every request (logger ``usagekit.sandbox``, INFO).
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        port: int = 0,
        host: str = "127.0.0.1",
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        latency: float = 0.0,
        rate_limit: float | None = None,
        rate_limit_burst: int = 2,
        endless_cursor: bool = False,
        cursor_cycle: bool = False,
        fault_weights: Mapping[str, float] | None = None,
        retry_after_ms: tuple[int, int] = (10, 100),
        slow_seconds: float = 0.2,
        now: TimeLike | None = None,
        history_days: int = 120,
        log_requests: bool = False,
    ) -> None:
        self.host = _check_loopback(host)
        self._requested_port = port
        self.seed = seed
        self.clock = Clock(now)
        self._initial_now = now
        self.data = SandboxData(seed, clock=self.clock, history_days=history_days)
        settings = FaultSettings(
            fault_rate=fault_rate,
            latency=latency,
            rate_limit=rate_limit,
            rate_limit_burst=rate_limit_burst,
            endless_cursor=endless_cursor,
            cursor_cycle=cursor_cycle,
            retry_after_ms=retry_after_ms,
            slow_seconds=slow_seconds,
            **({"fault_weights": dict(fault_weights)} if fault_weights is not None else {}),
        )
        self._faults = FaultController(settings, fault_seed)
        self.stats = SandboxStats()
        self._app = App(self.data, self._faults, self.stats)
        self._log_requests = log_requests
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        catalog = self.data.catalog
        main, other = catalog.daramex_orgs[0], catalog.daramex_orgs[1]
        self.keys = SandboxKeys(
            openai_admin_key=catalog.openai_admin_key,
            openai_project_key=catalog.openai_project_key,
            basedash_api_key=catalog.basedash_api_key,
            basedash_org_id=catalog.basedash_org_id,
            unsiloed_api_key=catalog.unsiloed_api_key,
            unsiloed_orphan_api_key=catalog.unsiloed_orphan_key,
            daramex_token=main.token,
            daramex_org_id=main.id,
            daramex_other_token=other.token,
            daramex_other_org_id=other.id,
            anthropic_admin_key=admin_key(seed),
            anthropic_api_key=inference_key(seed),
            openrouter_management_key=openrouter_keys(seed).management_key,
            openrouter_api_key=openrouter_keys(seed).api_key,
        )

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Sandbox:
        """Bind and serve in a background thread.

        Returns:
            This sandbox.

        Raises:
            RuntimeError: If it is already running.
            OSError: If the port cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        server = SandboxHTTPServer(
            self.host, self._requested_port, self._app, log_requests=self._log_requests
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"usagekit-sandbox:{server.server_port}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        """Whether the server is up."""
        return self._server is not None

    def __enter__(self) -> Sandbox:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"Sandbox(seed={self.seed}, {where})"

    # ---------------------------------------------------------------- addresses

    @property
    def port(self) -> int:
        """The bound port.

        Raises:
            RuntimeError: If the sandbox is not running.
        """
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use serve()")
        return self._server.server_port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_urls(self) -> dict[str, str]:
        """Base URL per provider (``openai``, ``basedash``, ..., ``openrouter``)."""
        return {
            "openai": f"{self.url}/v1",
            "basedash": self.url,
            "unsiloed": f"{self.url}/api/v1",
            "daramex": self.url,
            "anthropic": f"{self.url}/anthropic",
            "openrouter": f"{self.url}/openrouter/api/v1",
        }

    def env(self) -> dict[str, str]:
        """The environment variables that point every usagekit client at this sandbox.

        Credentials plus every provider's base URL variable (``OPENAI_BASE_URL``, ...,
        ``OPENROUTER_BASE_URL``): with these set, ``usagekit.OpenAIClient()`` (and the command)
        talk to the sandbox.
        """
        from .._providers import PROVIDERS

        urls = self.base_urls
        return {
            **self.keys.env(),
            **{PROVIDERS[provider].base_url_env: url for provider, url in urls.items()},
        }

    # ---------------------------------------------------------------- behaviour

    @property
    def settings(self) -> FaultSettings:
        """The misbehaviour settings in force."""
        return self._faults.settings

    def configure(self, *, fault_seed: int | None = None, **changes: Any) -> FaultSettings:
        """Change misbehaviour at run time.

        Args:
            fault_seed: Re-seed the fault random stream.
            **changes: Any ``FaultSettings`` field: ``fault_rate``, ``fault_weights``,
                ``retry_after_ms``, ``slow_seconds``, ``latency``, ``rate_limit``,
                ``rate_limit_burst``, ``endless_cursor``, ``cursor_cycle``.

        Returns:
            The new settings.

        Raises:
            ValueError: For unknown names or invalid values.
        """
        settings = self._faults.configure(fault_seed, **changes)
        self._app.sync_settings()
        return settings

    def inject_faults(self, kind: str, times: int = 1, *, provider: str | None = None) -> None:
        """Make the next ``times`` requests (to ``provider`` or any) fail with ``kind``.

        Args:
            kind: One of ``FAULT_KINDS``.
            times: How many requests.
            provider: A provider the sandbox emulates (``openai``, ``anthropic``, ...), or None
                for any.

        Raises:
            ValueError: For an unknown kind.
        """
        self._faults.inject(kind, times, provider)

    def reset(self) -> None:
        """Back to the start: no misbehaviour, nothing queued, counters at zero, first clock."""
        self.clock.set(self._initial_now)
        self._faults.configure(**{f: getattr(FaultSettings(), f) for f in _SETTING_FIELDS})
        self._faults.clear_injected()
        self._app.sync_settings()
        self.reset_stats()

    def reset_stats(self) -> None:
        """Zero the counters and forget retry hints and rate-limit buckets."""
        self.stats.reset()
        self._faults.reset()

    def set_now(self, now: TimeLike | None) -> None:
        """Freeze the clock at ``now`` (None: real time).

        The data does not change, only how much of it is visible.
        """
        self.clock.set(now)

    # ---------------------------------------------------------------- clients

    def _credentials(self, provider: str) -> dict[str, str]:
        """The sandbox's own value of each credential argument of ``provider``'s client."""
        try:
            fields = _CREDENTIALS[provider]
        except KeyError:
            known = ", ".join(_CREDENTIALS)
            raise ValueError(f"the sandbox emulates {known}, not {provider!r}") from None
        return {argument: getattr(self.keys, field) for argument, field in fields.items()}

    def client(self, name: str, *, asynchronous: bool = False, **kw: Any) -> Any:
        """A client of provider ``name`` with the sandbox's credentials and base URL.

        The client's constructor arguments come from the provider registry; their values are
        the sandbox's own (``keys``, ``base_urls``) and ``kw`` may override any of them
        (``api_key=``, ``token=``, ``org_id=``, ``base_url=``, ``timeout=``, ...).

        Args:
            name: The provider (``openai``, ``anthropic``, ``openrouter``, ``basedash``, ...).
            asynchronous: The async client instead of the sync one.
            **kw: Passed on to the client.

        Returns:
            The client.

        Raises:
            ValueError: The sandbox does not emulate that provider.
        """
        from .._providers import PROVIDERS

        own = self._credentials(name)
        info = PROVIDERS[name]
        options = dict(kw)
        values = {s.argument: options.pop(s.argument, own[s.argument]) for s in info.settings}
        credential = values.pop(info.credential.argument)
        options = {**values, **options}
        options.setdefault("base_url", self.base_urls[name])
        return info.client_class(asynchronous=asynchronous)(credential, **options)

    def openai_client(self, **kw: Any) -> OpenAIClient:
        """An ``OpenAIClient`` with the admin key and the sandbox base URL (``**kw`` passed on)."""
        return cast("OpenAIClient", self.client("openai", **kw))

    def basedash_client(self, **kw: Any) -> BasedashClient:
        """A ``BasedashClient`` with the key, org id and base URL (``**kw`` passed on)."""
        return cast("BasedashClient", self.client("basedash", **kw))

    def unsiloed_client(self, **kw: Any) -> UnsiloedClient:
        """An ``UnsiloedClient`` with the key and base URL (``**kw`` passed on)."""
        return cast("UnsiloedClient", self.client("unsiloed", **kw))

    def daramex_client(self, **kw: Any) -> DaramexClient:
        """A ``DaramexClient`` with the token, org id and base URL (``**kw`` passed on)."""
        return cast("DaramexClient", self.client("daramex", **kw))

    def anthropic_client(self, **kw: Any) -> AnthropicClient:
        """An ``AnthropicClient`` with the Admin key and base URL (``**kw`` passed on)."""
        return cast("AnthropicClient", self.client("anthropic", **kw))

    def openrouter_client(self, **kw: Any) -> OpenRouterClient:
        """An ``OpenRouterClient`` with the management key and base URL (``**kw`` passed on)."""
        return cast("OpenRouterClient", self.client("openrouter", **kw))

    def clients(self, **kw: Any) -> SandboxClients:
        """All six clients (``**kw``, e.g. ``timeout`` or ``max_retries``, goes to each)."""
        return SandboxClients(*(self.client(name, **kw) for name in SandboxClients._fields))

    def async_openai_client(self, **kw: Any) -> AsyncOpenAIClient:
        """An ``AsyncOpenAIClient`` (see ``openai_client``)."""
        return cast("AsyncOpenAIClient", self.client("openai", asynchronous=True, **kw))

    def async_basedash_client(self, **kw: Any) -> AsyncBasedashClient:
        """An ``AsyncBasedashClient`` (see ``basedash_client``)."""
        return cast("AsyncBasedashClient", self.client("basedash", asynchronous=True, **kw))

    def async_unsiloed_client(self, **kw: Any) -> AsyncUnsiloedClient:
        """An ``AsyncUnsiloedClient`` (see ``unsiloed_client``)."""
        return cast("AsyncUnsiloedClient", self.client("unsiloed", asynchronous=True, **kw))

    def async_daramex_client(self, **kw: Any) -> AsyncDaramexClient:
        """An ``AsyncDaramexClient`` (see ``daramex_client``)."""
        return cast("AsyncDaramexClient", self.client("daramex", asynchronous=True, **kw))

    def async_anthropic_client(self, **kw: Any) -> AsyncAnthropicClient:
        """An ``AsyncAnthropicClient`` (see ``anthropic_client``)."""
        return cast("AsyncAnthropicClient", self.client("anthropic", asynchronous=True, **kw))

    def async_openrouter_client(self, **kw: Any) -> AsyncOpenRouterClient:
        """An ``AsyncOpenRouterClient`` (see ``openrouter_client``)."""
        return cast("AsyncOpenRouterClient", self.client("openrouter", asynchronous=True, **kw))

    def async_clients(self, **kw: Any) -> AsyncSandboxClients:
        """All six async clients (``**kw`` goes to each)."""
        return AsyncSandboxClients(
            *(self.client(name, asynchronous=True, **kw) for name in AsyncSandboxClients._fields)
        )


_SETTING_FIELDS = tuple(FaultSettings.__dataclass_fields__)


@contextmanager
def serve(
    *,
    seed: int = 1,
    port: int = 0,
    host: str = "127.0.0.1",
    fault_rate: float = 0.0,
    fault_seed: int = 0,
    latency: float = 0.0,
    rate_limit: float | None = None,
    rate_limit_burst: int = 2,
    endless_cursor: bool = False,
    cursor_cycle: bool = False,
    fault_weights: Mapping[str, float] | None = None,
    retry_after_ms: tuple[int, int] = (10, 100),
    slow_seconds: float = 0.2,
    now: TimeLike | None = None,
    history_days: int = 120,
    log_requests: bool = False,
) -> Iterator[Sandbox]:
    """Run a sandbox for the duration of a ``with`` block.

    Args:
        seed: Data seed.
        port: Port, 0 for a free one.
        host: Loopback address to bind.
        fault_rate: Chance (0..1) of a random fault per request.
        fault_seed: Seed of the fault random stream.
        latency: Seconds added to every response.
        rate_limit: Requests per second per credential, or None.
        rate_limit_burst: Token bucket size.
        endless_cursor: OpenAI pages never end.
        cursor_cycle: OpenAI's last page hands back a cursor seen before.
        fault_weights: Relative weights of the fault kinds.
        retry_after_ms: Range of injected 429 hints (ms).
        slow_seconds: Delay of a ``slow`` fault.
        now: Fixed "now", or None for real time.
        history_days: Days of history before the day of ``now``.
        log_requests: Log every request.

    Yields:
        The running sandbox.

    Example:
        >>> with serve(seed=1) as sb:  # doctest: +SKIP
        ...     client = sb.openai_client()
    """
    sandbox = Sandbox(
        seed=seed,
        port=port,
        host=host,
        fault_rate=fault_rate,
        fault_seed=fault_seed,
        latency=latency,
        rate_limit=rate_limit,
        rate_limit_burst=rate_limit_burst,
        endless_cursor=endless_cursor,
        cursor_cycle=cursor_cycle,
        fault_weights=fault_weights,
        retry_after_ms=retry_after_ms,
        slow_seconds=slow_seconds,
        now=now,
        history_days=history_days,
        log_requests=log_requests,
    )
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()

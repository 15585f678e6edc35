"""What the examples share: the sandbox with ``--demo`` (or ``USAGEKIT_DEMO=1``), else real keys.

Every example builds its clients through :func:`clients` (or :func:`async_clients`): with
``demo`` they are the built-in sandbox's four clients, which need no key and no network beyond
127.0.0.1; without it, one client per provider whose environment variables are set.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager

import usagekit
from usagekit.sandbox import serve

Client = (
    usagekit.OpenAIClient
    | usagekit.BasedashClient
    | usagekit.UnsiloedClient
    | usagekit.DaramexClient
)
AsyncClient = (
    usagekit.AsyncOpenAIClient
    | usagekit.AsyncBasedashClient
    | usagekit.AsyncUnsiloedClient
    | usagekit.AsyncDaramexClient
)

# The environment variables each provider's client reads its credentials from.
KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_ADMIN_KEY",),
    "basedash": ("BASEDASH_API_KEY", "BASEDASH_ORG_ID"),
    "unsiloed": ("UNSILOED_API_KEY",),
    "daramex": ("DARAMEX_TOKEN", "DARAMEX_ORG_ID"),
}


def parser(description: str | None) -> argparse.ArgumentParser:
    """An argument parser with ``--demo`` (default on when ``USAGEKIT_DEMO=1``)."""
    result = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    result.add_argument(
        "--demo",
        action="store_true",
        default=os.environ.get("USAGEKIT_DEMO", "").lower() in {"1", "true", "yes"},
        help="use the built-in sandbox instead of real keys (also: USAGEKIT_DEMO=1)",
    )
    return result


def configured() -> list[str]:
    """The providers whose environment variables are all set."""
    found = [name for name, names in KEYS.items() if all(os.environ.get(v) for v in names)]
    if not found:
        variables = ", ".join(v for names in KEYS.values() for v in names)
        raise SystemExit(f"no provider is configured: set {variables}, or pass --demo")
    return found


@contextmanager
def clients(demo: bool) -> Iterator[list[Client]]:
    """The sync clients, closed (and the sandbox stopped) when the block ends."""
    with ExitStack() as stack:
        if demo:
            made: list[Client] = list(stack.enter_context(serve(seed=1)).clients())
        else:
            factories = {
                "openai": usagekit.OpenAIClient,
                "basedash": usagekit.BasedashClient,
                "unsiloed": usagekit.UnsiloedClient,
                "daramex": usagekit.DaramexClient,
            }
            made = [factories[name]() for name in configured()]
        for client in made:
            stack.callback(client.close)
        yield made


@asynccontextmanager
async def async_clients(demo: bool) -> AsyncIterator[list[AsyncClient]]:
    """The async clients, closed (and the sandbox stopped) when the block ends."""
    async with AsyncExitStack() as stack:
        if demo:
            made: list[AsyncClient] = list(stack.enter_context(serve(seed=1)).async_clients())
        else:
            factories = {
                "openai": usagekit.AsyncOpenAIClient,
                "basedash": usagekit.AsyncBasedashClient,
                "unsiloed": usagekit.AsyncUnsiloedClient,
                "daramex": usagekit.AsyncDaramexClient,
            }
            made = [factories[name]() for name in configured()]
        for client in made:
            stack.push_async_callback(client.aclose)
        yield made

"""Serve this month's AI usage as JSON from an asyncio service, refreshed in the background.

    python examples/web_service.py --demo --port 8000
    curl http://127.0.0.1:8000/usage

The pattern for any async web framework: the async clients live as long as the service; a
background task refreshes a cached report with ``await usagekit.acollect(...)`` on the service's
own event loop; request handlers only read the cache, so they answer at once and never wait for
the providers. The HTTP part here is the standard library's ``asyncio.start_server``, to stay
dependency-free; in a real service it would be your framework's route.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from _common import AsyncClient, async_clients, parser

import usagekit


@dataclass
class Cache:
    """The latest report and when it was made."""

    report: usagekit.UsageReport | None = None
    refreshed_at: datetime | None = None
    served: int = 0


async def refresh(cache: Cache, clients: Sequence[AsyncClient]) -> None:
    cache.report = await usagekit.acollect(clients)  # this month so far, every provider at once
    cache.refreshed_at = usagekit.utcnow()


async def refresh_forever(cache: Cache, clients: Sequence[AsyncClient], every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await refresh(cache, clients)


def usage_json(cache: Cache) -> dict[str, Any]:
    """The cached report as a JSON document; exact decimals are sent as strings."""
    report = cache.report
    assert report is not None and cache.refreshed_at is not None
    return {
        "refreshed_at": cache.refreshed_at.isoformat(),
        "start": report.start.isoformat() if report.start else None,
        "total_cost": {currency: str(v) for currency, v in report.total_cost().items()},
        "cost_by_provider": {
            provider: {currency: str(v) for currency, v in amounts.items()}
            for provider, amounts in report.cost_by("provider").items()
        },
        "tokens_by_model": {str(m): str(n) for m, n in list(report.tokens_by_model().items())[:10]},
        "failed": {f.provider: f.reason for f in report.failures},
    }


async def handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cache: Cache, done: asyncio.Event
) -> None:
    """Answer ``GET /usage`` from the cache; anything else is a 404."""
    request = (await reader.readline()).decode("latin-1").split()
    while (await reader.readline()).strip():  # skip the headers
        pass
    if len(request) >= 2 and request[0] == "GET" and request[1] == "/usage":
        status, document = "200 OK", usage_json(cache)
    else:
        status, document = "404 Not Found", {"error": "try GET /usage"}
    body = json.dumps(document, indent=2).encode()
    writer.write(
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    cache.served += 1
    done.set()


async def serve(demo: bool, host: str, port: int, every: float, requests: int | None) -> None:
    async with async_clients(demo) as clients:
        cache = Cache()
        await refresh(cache, clients)  # the first report before accepting requests
        refresher = asyncio.create_task(refresh_forever(cache, clients, every))
        done = asyncio.Event()
        server = await asyncio.start_server(
            lambda r, w: handle(r, w, cache, done), host=host, port=port
        )
        bound = server.sockets[0].getsockname()[1]
        print(f"serving http://{host}:{bound}/usage (refreshed every {every:g} s)", flush=True)
        async with server:
            while requests is None or cache.served < requests:
                await done.wait()
                done.clear()
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--host", default="127.0.0.1")
    cli.add_argument("--port", type=int, default=8000, help="0: any free port")
    cli.add_argument("--refresh", type=float, default=300.0, help="seconds between refreshes")
    cli.add_argument("--requests", type=int, help="stop after this many requests (for tests)")
    args = cli.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.demo, args.host, args.port, args.refresh, args.requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())

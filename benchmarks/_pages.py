"""Real OpenAI completions pages of every bucket width, fetched from the data server, and
usagekit's full path over one page, for the normalize and anchor benchmarks.

The pages are what ``records()`` receives: ``GET /v1/organization/usage/completions`` grouped by
every field it can group by (project, user, API key, model, batch, service tier), 50 groups
active in every bucket, every numeric field present (15 a result), at ``1m``, ``1h`` and ``1d``,
fetched over loopback from :mod:`benchmarks.dataserver` (a process of its own) by following
``next_page``, and kept as the bytes the server sent. The same number of buckets a page at every
width, so each width weighs the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from usagekit._core.transport import decode_body
from usagekit._providers.openai import _normalize, _plain
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

from .dataserver import serve_data

__all__ = ["GROUP_BY", "START", "WIDTHS", "full_path", "full_path_name", "real_pages"]

WIDTHS = ("1m", "1h", "1d")
GROUP_BY = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier")
START = 1_735_689_600
"""2025-01-01T00:00:00Z."""
_SECONDS = {"1m": 60, "1h": 3600, "1d": 86400}


def real_pages(*, pages: int, buckets: int, groups: int = 50) -> dict[str, list[bytes]]:
    """``pages`` consecutive completions pages of ``buckets`` buckets at each width.

    Args:
        pages: Pages per width.
        buckets: Buckets a page (the query's ``limit``).
        groups: Groups in the organization (all active in every bucket).

    Returns:
        The raw bodies, per width.

    Raises:
        RuntimeError: The server's pages ran out before ``pages``.
    """
    out: dict[str, list[bytes]] = {}
    with serve_data(groups=groups) as server, httpx.Client(timeout=120) as http:
        url = f"{server.base_url}/organization/usage/completions"
        headers = {"Authorization": f"Bearer {server.api_key}"}
        for width in WIDTHS:
            end = START + pages * buckets * _SECONDS[width]
            params: list[tuple[str, str]] = [
                ("start_time", str(START)),
                ("end_time", str(end)),
                ("bucket_width", width),
                *(("group_by", name) for name in GROUP_BY),
                ("limit", str(buckets)),
            ]
            bodies: list[bytes] = []
            query = params
            while True:
                response = http.get(url, params=tuple(query), headers=headers)
                response.raise_for_status()
                bodies.append(response.content)
                cursor = response.json()["next_page"]
                if cursor is None:
                    break
                query = [*params, ("page", cursor)]
            if len(bodies) != pages:
                raise RuntimeError(f"expected {pages} pages at {width}, got {len(bodies)}")
            out[width] = bodies
    return out


def full_path_name() -> str:
    """Which normalize function the full path uses (``page_table`` once it exists)."""
    return "page_table" if hasattr(_normalize, "page_table") else "page_records"


def full_path(endpoint_name: str = "completions") -> Callable[[bytes], int]:
    """usagekit's full path over one body: decode and validate, then the page's records.

    The body is read as ``records()``' walk reads it: plainly (``_plain.plain_page``, no wire
    models) when it can be, else ``decode_body`` into the page model.

    Uses ``_normalize.page_table(endpoint, page, seen=...)`` (the columnar form, ``len()`` =
    records) with the stream's repeat check, as ``records()`` runs it, where it exists, else
    ``page_records(endpoint, page, seen=...)``.

    Args:
        endpoint_name: The endpoint the bodies come from.

    Returns:
        A function from one body to its number of records.
    """
    endpoint = ENDPOINTS_BY_NAME[endpoint_name]
    page_type = endpoint.page_type
    qualified = endpoint.qualified_name
    normalize: Callable[..., Any] = getattr(_normalize, "page_table", _normalize.page_records)
    plain: Callable[..., Any] | None = getattr(_plain, "plain_page", None)

    def run(body: bytes) -> int:
        page = plain(endpoint, body) if plain is not None else None  # as the walk reads it
        if page is None:
            page = decode_body(body, page_type, provider="openai", endpoint=qualified)
        return len(normalize(endpoint, page, seen=_normalize.UniqueRecords("openai")))

    return run

"""Benchmark 2: walking 500 pages through usagekit's pager, against a plain httpx loop.

Both sides walk the same OpenAI query against the sandbox, served over loopback by a process of
its own (``benchmarks._remote.RemoteSandbox``: nothing it does shares the measuring process's
GIL): ``GET /v1/organization/usage/completions`` with ``bucket_width=1h``, ``limit=1`` and
``group_by=model,project_id`` over a 500-hour window, so 500 pages of one bucket each, every
bucket carrying its results (about 1.8 KB a page: the data a backfill actually moves, not empty
envelopes).

The baseline is the loop one would write by hand to get the same data: one ``httpx.Client``
(keep-alive), the same URL, the same query parameters in the same order, the same
``Authorization: Bearer`` and ``Accept`` headers, ``raise_for_status()``, then
``json.loads(response.content)``, the cheapest sensible way to usable data (dicts, lists, ints,
floats; it reads the bytes straight, without decoding them to text first), and the next request
carries ``page=<next_page>`` while ``has_more`` is true. That is parsed JSON, equivalent data.

usagekit walks ``client.usage.completions(...).iter_pages()``: the same requests, plus what the
SDK does for every one of them: the tenacity retry loop, the adaptive rate limiter (dormant: the
sandbox does not throttle here), error mapping, numbers with a fraction read as ``Decimal``,
validation into typed pages (aware UTC datetimes, typed results), cursor-cycle detection.

Before timing, both walks run once (which also lets the sandbox generate its data) and must
agree on the number of pages, buckets and results, and on the total of ``input_tokens``. Then
the two walks alternate, each timed whole with the garbage collector on (a collection before
each), and the best of each is kept. The ratio is usagekit's time over the baseline's.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from usagekit import OpenAIClient
from usagekit._providers.openai._models import CompletionsGroupBy

from ._common import Result, interleaved
from ._remote import RemoteSandbox

TARGET = 1.15
NOW = "2026-11-15T12:00:00Z"
"""The sandbox's frozen clock: the same data on every run."""
END = datetime(2026, 11, 15, tzinfo=timezone.utc)
Query = tuple[tuple[str, str], ...]
GROUP_BY: tuple[CompletionsGroupBy, ...] = ("model", "project_id")


def _baseline_params(start: datetime, end: datetime) -> Query:
    """The first request's query, written out by hand as the API documents it."""
    return (
        ("start_time", str(int(start.timestamp()))),
        ("end_time", str(int(end.timestamp()))),
        ("bucket_width", "1h"),
        *(("group_by", field) for field in GROUP_BY),
        ("limit", "1"),
    )


def httpx_walk(
    http: httpx.Client, url: str, headers: dict[str, str], params: Query
) -> list[dict[str, Any]]:
    """The baseline: follow ``next_page`` with plain httpx, each page parsed by ``json.loads``."""
    pages = []
    query = params
    while True:
        response = http.get(url, params=query, headers=headers)
        response.raise_for_status()
        page = json.loads(response.content)
        pages.append(page)
        if not page["has_more"]:
            return pages
        query = (*params, ("page", page["next_page"]))


def usagekit_walk(client: OpenAIClient, start: datetime, end: datetime) -> list[Any]:
    """usagekit: the same walk through the pager, each page validated into typed models."""
    pager = client.usage.completions(
        start, end, bucket_width="1h", group_by=list(GROUP_BY), limit=1
    )
    return list(pager.iter_pages())


def _check_same_data(plain: list[dict[str, Any]], typed: list[Any]) -> tuple[int, int]:
    """Both walks fetched the same pages; return (buckets, results).

    Raises:
        RuntimeError: They differ.
    """
    plain_buckets = [bucket for page in plain for bucket in page["data"]]
    typed_buckets = [bucket for page in typed for bucket in page.data]
    plain_results = [result for bucket in plain_buckets for result in bucket["results"]]
    typed_results = [result for bucket in typed_buckets for result in bucket.results]
    plain_tokens = sum(result["input_tokens"] for result in plain_results)
    typed_tokens = sum(result.input_tokens for result in typed_results)
    seen = (len(plain), len(plain_buckets), len(plain_results), plain_tokens)
    if seen != (len(typed), len(typed_buckets), len(typed_results), typed_tokens):
        raise RuntimeError(
            f"the walks differ: httpx pages/buckets/results/tokens {seen}, usagekit "
            f"{(len(typed), len(typed_buckets), len(typed_results), typed_tokens)}"
        )
    return len(plain_buckets), len(plain_results)


def run(smoke: bool = False) -> Result:
    """Time both walks alternately and return usagekit's time over the baseline's."""
    count = 20 if smoke else 500
    repeats = 2 if smoke else 9
    start = END - timedelta(hours=count)
    with (
        RemoteSandbox(seed=1, now=NOW) as sb,
        sb.openai_client() as client,
        httpx.Client() as http,
    ):
        url = f"{sb.base_urls['openai']}/organization/usage/completions"
        headers = {
            "Authorization": f"Bearer {sb.keys.openai_admin_key}",
            "Accept": "application/json",
        }
        params = _baseline_params(start, END)
        plain = httpx_walk(http, url, headers, params)
        typed = usagekit_walk(client, start, END)
        if len(plain) != count:
            raise RuntimeError(f"expected {count} pages, the walk took {len(plain)}")
        buckets, results = _check_same_data(plain, typed)
        size = sum(len(json.dumps(page)) for page in plain) / len(plain)
        base, cand = interleaved(
            repeats,
            lambda: httpx_walk(http, url, headers, params),
            lambda: usagekit_walk(client, start, END),
        )
    return Result(
        "transport",
        cand / base,
        TARGET,
        f"{count} pages ({buckets} buckets, {results:,} results, ~{size / 1000:.1f} KB a page); "
        f"httpx loop {base / count * 1e6:.0f} us/page, usagekit pager {cand / count * 1e6:.0f} "
        f"us/page ({(cand - base) / count * 1e6:+.0f} us/page); best of {repeats}, GC on",
        what=f"{count} pages through the pager from the sandbox over loopback",
        baseline="a plain httpx loop doing the same requests",
        brief=f"{(cand - base) / count * 1e6:+.0f} us a page",
    )


if __name__ == "__main__":
    print(run().line())

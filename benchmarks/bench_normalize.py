"""Benchmark 1: OpenAI completions pages into UsageRecords, against parsing alone.

Both sides start from the same bytes: real completions pages at every bucket width (``1m``,
``1h``, ``1d``) as the data server sent them to the client (see :mod:`benchmarks._pages`: grouped
by project, user, API key, model, batch and service tier, 50 groups a bucket, 15 numeric fields a
result). The baseline parses them into the wire models, as the client does
(``usagekit._core.transport.decode_body``); usagekit parses and normalizes (the full path:
``page_table`` once it exists, else ``page_records``). The two alternate, garbage collector on,
best of N each; the ratio is per result, over the pages of all three widths, and each width's
own ratio is printed beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from usagekit._core.transport import decode_body
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

from ._common import Result, interleaved
from ._pages import WIDTHS, full_path, full_path_name, real_pages

TARGET = 5.0


def _each(work: Callable[[bytes], Any], bodies: list[bytes]) -> list[Any]:
    return [work(body) for body in bodies]


def run(smoke: bool = False) -> Result:
    """Time parsing alone and parsing plus normalizing, alternately; the ratio per result."""
    endpoint = ENDPOINTS_BY_NAME["completions"]
    by_width = real_pages(pages=1 if smoke else 3, buckets=2 if smoke else 20)
    full = full_path()
    repeats = 2 if smoke else 7

    def parse(bodies: list[bytes]) -> int:
        results = 0
        for body in bodies:
            page = decode_body(body, endpoint.page_type, provider="openai", endpoint="completions")
            results += sum(len(bucket.results) for bucket in page.data)
        return results

    figures = []
    base_total = full_total = 0.0
    results_total = records_total = 0
    for width in WIDTHS:
        bodies = by_width[width]
        results = parse(bodies)
        records = sum(full(body) for body in bodies)
        base, cand = interleaved(repeats, partial(parse, bodies), partial(_each, full, bodies))
        base_total += base
        full_total += cand
        results_total += results
        records_total += records
        figures.append(
            f"{width} {cand / base:.2f}x ({base / results * 1e6:.1f} to "
            f"{cand / results * 1e6:.1f} us/result)"
        )
    per_base = base_total / results_total * 1e6
    per_full = full_total / results_total * 1e6
    return Result(
        "normalize",
        full_total / base_total,
        TARGET,
        f"{results_total:,} results -> {records_total:,} records at 1m/1h/1d; parse "
        f"{per_base:.1f} us/result, parse+normalize ({full_path_name()}) {per_full:.1f} "
        f"us/result; by width: {', '.join(figures)}; best of {repeats}, GC on",
        what="OpenAI completions pages of every width (grouped by every field) into records",
        baseline="pydantic parsing the same JSON into the wire models",
        brief=f"{per_base:.1f} to {per_full:.1f} us a result of 15 records",
    )


if __name__ == "__main__":
    print(run().line())

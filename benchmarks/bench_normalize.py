"""Benchmark 1: OpenAI completions pages into UsageRecords, against parsing alone.

Both sides start from the same JSON bytes of completions pages grouped by model, project, user
and api key, every result carrying OpenAI's full token breakdown (15 numeric fields). The
baseline parses them into the wire models, as the client does; usagekit parses and normalizes.
The ratio is per result.
"""

from __future__ import annotations

import json
import random
from typing import Any

from usagekit._core.transport import decode_body
from usagekit._providers.openai._normalize import page_records
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

from ._common import Result, interleaved

TARGET = 5.0
_NUMERIC = (
    "input_tokens", "output_tokens", "input_cached_tokens", "input_cache_write_tokens",
    "input_uncached_tokens", "input_text_tokens", "output_text_tokens",
    "input_cached_text_tokens", "input_audio_tokens", "input_cached_audio_tokens",
    "output_audio_tokens", "input_image_tokens", "input_cached_image_tokens",
    "output_image_tokens", "num_model_requests",
)  # fmt: skip


def pages(count: int, buckets: int = 7, results: int = 40, seed: int = 1) -> list[bytes]:
    """Completions pages as OpenAI sends them, grouped by model, project, user and api key."""
    rng = random.Random(seed)
    out = []
    start = 1_793_491_200
    for p in range(count):
        data = []
        for b in range(buckets):
            day = start + (p * buckets + b) * 86400
            rows: list[dict[str, Any]] = []
            for r in range(results):
                row: dict[str, Any] = {"object": "organization.usage.completions.result"}
                row.update({name: rng.randrange(0, 1_000_000) for name in _NUMERIC})
                row.update(
                    project_id=f"proj_{r % 5}", user_id=f"user-{r % 11}",
                    api_key_id=f"key_{r % 7}", model=("gpt-4o", "gpt-4o-mini", "o3")[r % 3],
                    batch=None, service_tier=None,
                )  # fmt: skip
                rows.append(row)
            data.append(
                {"object": "bucket", "start_time": day, "end_time": day + 86400, "results": rows}
            )
        page = {"object": "page", "data": data, "has_more": p < count - 1, "next_page": f"page_{p}"}
        out.append(json.dumps(page).encode())
    return out


def run(smoke: bool = False) -> Result:
    """Time parsing alone and parsing plus normalizing, alternately; the ratio per result."""
    endpoint = ENDPOINTS_BY_NAME["completions"]
    bodies = pages(2 if smoke else 20)
    results = sum(len(b["results"]) for body in bodies for b in json.loads(body)["data"])
    records = 0

    def parse_only() -> None:
        for body in bodies:
            decode_body(body, endpoint.page_type, provider="openai", endpoint="completions")

    def parse_and_normalize() -> None:
        nonlocal records
        records = 0
        for body in bodies:
            page = decode_body(body, endpoint.page_type, provider="openai", endpoint="completions")
            records += len(page_records(endpoint, page))

    base, full = interleaved(2 if smoke else 7, parse_only, parse_and_normalize)
    per_base = base / results * 1e6
    per_full = full / results * 1e6
    return Result(
        "normalize",
        full / base,
        TARGET,
        f"{results:,} results -> {records:,} records; parse {per_base:.1f} us/result, "
        f"parse+normalize {per_full:.1f} us/result",
    )


if __name__ == "__main__":
    print(run().line())

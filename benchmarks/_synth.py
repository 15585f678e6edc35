"""Synthetic OpenAI usage and costs in the API's real shape: deterministic and cheap to make.

The data server (:mod:`benchmarks.dataserver`) answers from this module. An organization has
``G`` groups, each one combination of every dimension an endpoint can group by (project, user,
API key, model, batch, service tier, image size and source, vector store, search context
level, cost line item). In every bucket each group is active with probability ``active``
(drawn from a hash of the seed, the endpoint, the bucket and the group, so the same query
always gets the same answer); an active group has every numeric field of its endpoint's
result, completions' fifteen included, consistent with one another (``input_tokens`` is the sum
of its text, audio and image parts, the cached counts are parts of it). Figures scale with the
bucket width; ``usage_bytes`` (vector stores) is a level, so it does not.

A query's ``group_by`` picks which dimensions are filled: groups that agree on them are summed
into one result (one result per bucket without grouping), as the API does. Filters
(``project_ids``, ``models``, ...) keep only the groups that match.

Buckets are encoded straight to JSON text by ``%`` templates (no dicts, no ``json.dumps`` per
result), so the server stays much faster than the client it feeds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "Grouping", "Kind", "bucket_json", "group_dims", "grouping", "mix"]

_M64 = (1 << 64) - 1
MODELS = (
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
    "o3-2025-04-16",
    "gpt-4.1-2025-04-14",
    "o4-mini-2025-04-16",
)
_TIERS = ("default", "default", "flex")
_SIZES = ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792")
_SOURCES = ("image.generation", "image.edit", "image.variation")
_LEVELS = ("low", "medium", "high")
_CHARGES = ("input", "output", "cached input", "batch input")


def mix(value: int) -> int:
    """SplitMix64's finalizer: a well-spread 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _M64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _M64
    return value ^ (value >> 31)


def _completions(p: Sequence[int]) -> tuple[int, ...]:
    """The fifteen completions fields from eleven additive parts (see ``_COMPLETIONS_PARTS``)."""
    cached_text, write, rest_text, cached_audio, rest_audio, cached_image, rest_image = p[:7]
    output_text, output_audio, output_image, requests = p[7:]
    input_text = cached_text + write + rest_text
    input_audio = cached_audio + rest_audio
    input_image = cached_image + rest_image
    cached = cached_text + cached_audio + cached_image
    total = input_text + input_audio + input_image
    return (
        total,  # input_tokens
        cached,  # input_cached_tokens
        write,  # input_cache_write_tokens
        total - cached - write,  # input_uncached_tokens
        output_text + output_audio + output_image,  # output_tokens
        input_text,
        output_text,
        cached_text,  # input_cached_text_tokens
        input_audio,
        cached_audio,  # input_cached_audio_tokens
        output_audio,
        input_image,
        cached_image,  # input_cached_image_tokens
        output_image,
        requests,  # num_model_requests
    )


_COMPLETIONS_FIELDS = (
    "input_tokens",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_uncached_tokens",
    "output_tokens",
    "input_text_tokens",
    "output_text_tokens",
    "input_cached_text_tokens",
    "input_audio_tokens",
    "input_cached_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "input_cached_image_tokens",
    "output_image_tokens",
    "num_model_requests",
)
_COMPLETIONS_PARTS = (40_000, 5_000, 60_000, 2_000, 3_000, 2_000, 3_000, 30_000, 2_000, 1_000, 200)
"""The largest value of each additive part in an hour (cached text, cache write, other text,
cached audio, other audio, cached image, other image, output text, audio, image, requests)."""

_USER = ("project_id", "user_id", "api_key_id", "model")
_USER_FILTERS = {
    "project_ids": "project_id",
    "user_ids": "user_id",
    "api_key_ids": "api_key_id",
    "models": "model",
}


@dataclass(frozen=True)
class Kind:
    """One endpoint's results: fields, dimensions, filters and how figures are drawn.

    Attributes:
        name: The endpoint (``"completions"``, ``"costs"``).
        object: The results' ``object``.
        metrics: The numeric fields, in the order they are sent.
        dims: The dimension fields (all of them ``group_by`` fields), in the order sent.
        filters: Filter parameter to the dimension it filters on.
        caps: The largest value of each additive part in an hour.
        derive: Parts to the metric values, in ``metrics`` order (None: the parts are them).
        level: The figures are levels (bytes stored): they do not scale with the width.
        floor: Added to the last part (a request count of at least one).
    """

    name: str
    object: str
    metrics: tuple[str, ...]
    dims: tuple[str, ...]
    filters: Mapping[str, str] = field(default_factory=dict)
    caps: tuple[int, ...] = ()
    derive: Callable[[Sequence[int]], tuple[int, ...]] | None = None
    level: bool = False
    floor: int = 0

    @property
    def path(self) -> str:
        """The path under ``/v1``."""
        return "/organization/costs" if self.name == "costs" else f"/organization/usage/{self.name}"

    @property
    def salt(self) -> int:
        """A per-endpoint number mixed into every draw."""
        return sum((i + 1) * ord(c) for i, c in enumerate(self.name)) * 0x1000193


def _kind(name: str, obj: str, metrics: dict[str, int], **kw: Any) -> Kind:
    return Kind(
        name, obj, tuple(metrics), kw.pop("dims", _USER), caps=tuple(metrics.values()), **kw
    )


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "completions",
            "organization.usage.completions.result",
            _COMPLETIONS_FIELDS,
            (*_USER, "batch", "service_tier"),
            {**_USER_FILTERS, "batch": "batch"},
            _COMPLETIONS_PARTS,
            _completions,
            floor=1,
        ),
        _kind(
            "embeddings",
            "organization.usage.embeddings.result",
            {"input_tokens": 50_000, "num_model_requests": 100},
            filters=_USER_FILTERS,
            floor=1,
        ),
        _kind(
            "moderations",
            "organization.usage.moderations.result",
            {"input_tokens": 10_000, "num_model_requests": 100},
            filters=_USER_FILTERS,
            floor=1,
        ),
        _kind(
            "images",
            "organization.usage.images.result",
            {"images": 50, "num_model_requests": 50},
            dims=(*_USER, "source", "size"),
            filters={**_USER_FILTERS, "sources": "source", "sizes": "size"},
            floor=1,
        ),
        _kind(
            "audio_speeches",
            "organization.usage.audio_speeches.result",
            {"characters": 20_000, "num_model_requests": 50},
            filters=_USER_FILTERS,
            floor=1,
        ),
        _kind(
            "audio_transcriptions",
            "organization.usage.audio_transcriptions.result",
            {"seconds": 3_600, "num_model_requests": 50},
            filters=_USER_FILTERS,
            floor=1,
        ),
        _kind(
            "vector_stores",
            "organization.usage.vector_stores.result",
            {"usage_bytes": 1_000_000_000},
            dims=("project_id",),
            filters={"project_ids": "project_id"},
            level=True,
        ),
        _kind(
            "code_interpreter_sessions",
            "organization.usage.code_interpreter_sessions.result",
            {"num_sessions": 20},
            dims=("project_id",),
            filters={"project_ids": "project_id"},
            floor=1,
        ),
        _kind(
            "file_search_calls",
            "organization.usage.file_searches.result",
            {"num_requests": 200},
            dims=("project_id", "user_id", "api_key_id", "vector_store_id"),
            filters={**_USER_FILTERS, "vector_store_ids": "vector_store_id"},
            floor=1,
        ),
        _kind(
            "web_search_calls",
            "organization.usage.web_searches.result",
            {"num_model_requests": 100, "num_requests": 100},
            dims=(*_USER, "context_level"),
            filters={**_USER_FILTERS, "context_levels": "context_level"},
            floor=1,
        ),
        _kind(
            "costs",
            "organization.costs.result",
            {"amount": 50_000_000 // 24, "quantity": 1_000_000},
            dims=("line_item", "project_id", "api_key_id"),
            filters={"project_ids": "project_id", "api_key_ids": "api_key_id"},
        ),
    )
}
"""The ten usage endpoints and costs, by name."""


def group_dims(g: int, groups: int) -> dict[str, Any]:
    """Every dimension of group ``g`` of ``groups`` (each group has its own user and key)."""
    projects = max(1, groups // 10)
    model = MODELS[g % len(MODELS)]
    return {
        "project_id": f"proj_{g % projects:03d}",
        "user_id": f"user-{g:04d}",
        "api_key_id": f"key_{g:04d}",
        "model": model,
        "batch": g % 7 == 6,
        "service_tier": _TIERS[g % len(_TIERS)],
        "source": _SOURCES[g % len(_SOURCES)],
        "size": _SIZES[g % len(_SIZES)],
        "vector_store_id": f"vs_{g % 8:03d}",
        "context_level": _LEVELS[g % len(_LEVELS)],
        "line_item": f"{model}, {_CHARGES[(g // len(MODELS)) % len(_CHARGES)]}",
    }


@dataclass(frozen=True)
class Grouping:
    """How one query's groups become results: per result, its JSON dimension text and members.

    Attributes:
        results: ``(dimension fields as JSON text, member group numbers)``, in result order.
    """

    results: tuple[tuple[str, tuple[int, ...]], ...]


def _json_value(value: Any) -> str:
    return json.dumps(value)


def grouping(
    kind: Kind, groups: int, group_by: Sequence[str], filters: Mapping[str, frozenset[str]]
) -> Grouping:
    """The results of one query: groups matching ``filters``, summed by ``group_by``.

    Args:
        kind: The endpoint.
        groups: The organization's number of groups.
        group_by: The dimensions to fill (others are sent as null).
        filters: Filter parameter to the values it keeps (``batch``: ``{"true"}``).

    Returns:
        The grouping, results in the order of their first member.
    """
    wanted = set(group_by)
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for g in range(groups):
        dims = group_dims(g, groups)
        keep = True
        for param, values in filters.items():
            value = dims[kind.filters[param]]
            text = ("true" if value else "false") if isinstance(value, bool) else value
            keep = keep and text in values
        if keep:
            key = tuple(dims[d] if d in wanted else None for d in kind.dims)
            by_key.setdefault(key, []).append(g)
    results = tuple(
        (
            ",".join(f'"{d}":{_json_value(v)}' for d, v in zip(kind.dims, key, strict=True)),
            tuple(members),
        )
        for key, members in by_key.items()
    )
    return Grouping(results)


def _caps(kind: Kind, width: int) -> tuple[int, ...]:
    if kind.level:
        return kind.caps
    return tuple(max(1, cap * width // 3600) for cap in kind.caps)


def bucket_json(
    kind: Kind, plan: Grouping, start: int, width: int, *, seed: int, active: float
) -> str:
    """One bucket ``[start, start + width)`` of ``kind`` as JSON text.

    Args:
        kind: The endpoint.
        plan: The query's grouping (see :func:`grouping`).
        start: The bucket start, unix seconds.
        width: The bucket width in seconds.
        seed: The data seed.
        active: The chance that a group is active in a bucket (0..1].

    Returns:
        ``{"object": "bucket", "start_time": ..., "end_time": ..., "results": [...]}``.
    """
    caps = _caps(kind, width)
    count = len(caps)
    draws = (count + 3) // 4
    threshold = int(active * 65536)
    base = mix(seed * 0x5851F42D4C957F2D + kind.salt + start)
    derive = kind.derive
    floor = kind.floor
    is_costs = kind.name == "costs"
    head = f'{{"object":"{kind.object}",'
    if not is_costs:
        head += ",".join(f'"{m}":%d' for m in kind.metrics) + ","
    out: list[str] = []
    for dims, members in plan.results:
        total: list[int] | None = None
        for g in members:
            h = mix(base ^ (g * 0x9E3779B97F4A7C15 & _M64))
            if (h & 0xFFFF) >= threshold:
                continue
            parts = []
            for _ in range(draws):
                h = mix(h)
                for shift in (0, 16, 32, 48):
                    parts.append((h >> shift) & 0xFFFF)
            values = [(parts[i] * caps[i]) >> 16 for i in range(count)]
            if floor:
                values[-1] += floor
            total = values if total is None else [a + b for a, b in zip(total, values, strict=True)]
        if total is None:
            continue
        if is_costs:
            micros, quantity = total
            grouped = not dims.startswith('"line_item":null')
            amount = f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
            billed = (
                f'{quantity},"quantity_unit":"tokens"' if grouped else 'null,"quantity_unit":null'
            )
            out.append(
                f'{head}"amount":{{"value":{amount},"currency":"usd"}},{dims},"quantity":{billed}}}'
            )
        else:
            figures = derive(total) if derive is not None else tuple(total)
            out.append(head % figures + dims + "}")
    return (
        f'{{"object":"bucket","start_time":{start},"end_time":{start + width},'
        f'"results":[{",".join(out)}]}}'
    )

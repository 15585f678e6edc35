"""OpenAI's usage endpoints ("kinds") as data: their metrics, dimensions, filters and how a
row's metrics split into additive parts (so minute rows add up to their hour exactly)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["OPENAI_KINDS", "KindSpec", "add_into", "completion_metrics", "split"]


def _completion_fundamentals(m: Mapping[str, int]) -> tuple[int, ...]:
    return (
        m["input_cached_text_tokens"],
        m["input_cache_write_tokens"],
        m["input_text_tokens"] - m["input_cached_text_tokens"] - m["input_cache_write_tokens"],
        m["input_cached_audio_tokens"],
        m["input_audio_tokens"] - m["input_cached_audio_tokens"],
        m["input_cached_image_tokens"],
        m["input_image_tokens"] - m["input_cached_image_tokens"],
        m["output_text_tokens"],
        m["output_audio_tokens"],
        m["output_image_tokens"],
        m["num_model_requests"],
    )


def completion_metrics(f: Sequence[int]) -> dict[str, int]:
    """Every metric of a completions row, from its eleven additive parts."""
    cached_text, write, rest_text, cached_audio, rest_audio, cached_image, rest_image = f[:7]
    output_text, output_audio, output_image, requests = f[7:]
    input_text = cached_text + write + rest_text
    input_audio = cached_audio + rest_audio
    input_image = cached_image + rest_image
    cached = cached_text + cached_audio + cached_image
    total_input = input_text + input_audio + input_image
    return {
        "input_tokens": total_input,
        "input_cached_tokens": cached,
        "input_cache_write_tokens": write,
        "input_uncached_tokens": total_input - cached - write,
        "output_tokens": output_text + output_audio + output_image,
        "input_text_tokens": input_text,
        "output_text_tokens": output_text,
        "input_cached_text_tokens": cached_text,
        "input_audio_tokens": input_audio,
        "input_cached_audio_tokens": cached_audio,
        "output_audio_tokens": output_audio,
        "input_image_tokens": input_image,
        "input_cached_image_tokens": cached_image,
        "output_image_tokens": output_image,
        "num_model_requests": requests,
    }


@dataclass(frozen=True)
class KindSpec:
    """How one OpenAI usage endpoint looks.

    Attributes:
        name: Endpoint name (path segment).
        object: The ``object`` of its results.
        metrics: Numeric result fields, in order.
        dims: Dimension result fields, in order.
        group_by: Fields ``group_by`` accepts.
        filters: Array filter parameter -> dimension it filters on.
        primary: The count that splits into minutes with at least one per minute.
        level: The metric is a level (bytes stored), not a flow.
        fundamentals: Metrics -> independent additive parts (splitting these keeps every
            derived field consistent); None when the metrics are the parts.
        from_fundamentals: The inverse of ``fundamentals``.
    """

    name: str
    object: str
    metrics: tuple[str, ...]
    dims: tuple[str, ...]
    group_by: tuple[str, ...]
    filters: Mapping[str, str]
    primary: str
    level: bool = False
    fundamentals: Callable[[Mapping[str, int]], tuple[int, ...]] | None = None
    from_fundamentals: Callable[[Sequence[int]], dict[str, int]] | None = None

    def parts(self, metrics: Mapping[str, int]) -> tuple[int, ...]:
        """Split metrics into additive parts."""
        if self.fundamentals is not None:
            return self.fundamentals(metrics)
        return tuple(metrics[name] for name in self.metrics)

    def join(self, parts: Sequence[int]) -> dict[str, int]:
        """Rebuild metrics from additive parts."""
        if self.from_fundamentals is not None:
            return self.from_fundamentals(parts)
        return dict(zip(self.metrics, parts, strict=True))

    def primary_index(self) -> int:
        """Index of the primary count among the parts."""
        if self.name == "completions":
            return 10
        return self.metrics.index(self.primary)


_USER_DIMS = ("project_id", "user_id", "api_key_id", "model")
_USER_FILTERS = {
    "project_ids": "project_id",
    "user_ids": "user_id",
    "api_key_ids": "api_key_id",
    "models": "model",
}


def _spec(name: str, obj: str, metrics: tuple[str, ...], primary: str) -> KindSpec:
    return KindSpec(name, obj, metrics, _USER_DIMS, _USER_DIMS, _USER_FILTERS, primary)


OPENAI_KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec(
            "completions",
            "organization.usage.completions.result",
            tuple(completion_metrics((0,) * 11)),
            (*_USER_DIMS, "batch", "service_tier"),
            (*_USER_DIMS, "batch", "service_tier"),
            {**_USER_FILTERS, "batch": "batch"},
            "num_model_requests",
            fundamentals=_completion_fundamentals,
            from_fundamentals=completion_metrics,
        ),
        _spec(
            "embeddings",
            "organization.usage.embeddings.result",
            ("input_tokens", "num_model_requests"),
            "num_model_requests",
        ),
        _spec(
            "moderations",
            "organization.usage.moderations.result",
            ("input_tokens", "num_model_requests"),
            "num_model_requests",
        ),
        KindSpec(
            "images",
            "organization.usage.images.result",
            ("images", "num_model_requests"),
            ("source", "size", *_USER_DIMS),
            (*_USER_DIMS, "size", "source"),
            {**_USER_FILTERS, "sources": "source", "sizes": "size"},
            "num_model_requests",
            fundamentals=lambda m: (m["images"] - m["num_model_requests"], m["num_model_requests"]),
            from_fundamentals=lambda f: {"images": f[0] + f[1], "num_model_requests": f[1]},
        ),
        _spec(
            "audio_speeches",
            "organization.usage.audio_speeches.result",
            ("characters", "num_model_requests"),
            "num_model_requests",
        ),
        _spec(
            "audio_transcriptions",
            "organization.usage.audio_transcriptions.result",
            ("seconds", "num_model_requests"),
            "num_model_requests",
        ),
        KindSpec(
            "vector_stores",
            "organization.usage.vector_stores.result",
            ("usage_bytes",),
            ("project_id",),
            ("project_id",),
            {"project_ids": "project_id"},
            "usage_bytes",
            level=True,
        ),
        KindSpec(
            "code_interpreter_sessions",
            "organization.usage.code_interpreter_sessions.result",
            ("num_sessions",),
            ("project_id",),
            ("project_id",),
            {"project_ids": "project_id"},
            "num_sessions",
        ),
        KindSpec(
            "file_search_calls",
            "organization.usage.file_searches.result",
            ("num_requests",),
            ("project_id", "user_id", "api_key_id", "vector_store_id"),
            ("project_id", "user_id", "api_key_id", "vector_store_id"),
            {
                "project_ids": "project_id",
                "user_ids": "user_id",
                "api_key_ids": "api_key_id",
                "vector_store_ids": "vector_store_id",
            },
            "num_requests",
        ),
        KindSpec(
            "web_search_calls",
            "organization.usage.web_searches.result",
            ("num_model_requests", "num_requests"),
            (*_USER_DIMS, "context_level"),
            (*_USER_DIMS, "context_level"),
            {**_USER_FILTERS, "context_levels": "context_level"},
            "num_model_requests",
            fundamentals=lambda m: (
                m["num_model_requests"],
                m["num_requests"] - m["num_model_requests"],
            ),
            from_fundamentals=lambda f: {"num_model_requests": f[0], "num_requests": f[0] + f[1]},
        ),
    )
}
"""Every OpenAI usage endpoint, by name."""


def split(total: int, cumulative: Sequence[float]) -> list[int]:
    """Split an integer into parts along cumulative weights (parts add up exactly)."""
    parts = []
    previous = 0
    last = len(cumulative) - 1
    for i, point in enumerate(cumulative):
        current = total if i == last else math.floor(total * point)
        parts.append(current - previous)
        previous = current
    return parts


def add_into(target: dict[str, int], metrics: Mapping[str, int]) -> None:
    """Add ``metrics`` into ``target``, name by name."""
    for name, value in metrics.items():
        target[name] = target.get(name, 0) + value

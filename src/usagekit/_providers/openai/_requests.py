"""The 11 OpenAI usage and costs endpoints as data, and the requests built from them.

One :class:`Endpoint` entry in :data:`ENDPOINTS` per endpoint says everything the rest of the
package needs: its path, its result model, the filters and ``group_by`` fields it documents, the
bucket widths and limit caps it accepts, and how its results become records. Request building
and validation (:func:`prepare`; ``records()``'s plan is :mod:`._plan`'s) are written once, for
all of them and for both clients; nothing in this module does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, Literal, get_args

from ..._core._http import register_plain_json
from ..._core.clock import (
    TimeLike,
    Window,
    resolve_window,
    to_unix,
)
from ..._core.errors import ConfigError
from ..._core.records import FLOW, LEVEL, MetricKind
from ..._core.transport import RequestSpec
from ._models import (
    CompletionsGroupBy,
    ContextLevel,
    CostsGroupBy,
    FileSearchGroupBy,
    ImagesGroupBy,
    ImageSize,
    ImageSource,
    ModelGroupBy,
    OpenAIAudioSpeechesResult,
    OpenAIAudioTranscriptionsResult,
    OpenAICodeInterpreterSessionsResult,
    OpenAICompletionsResult,
    OpenAICostsResult,
    OpenAIEmbeddingsResult,
    OpenAIFileSearchCallsResult,
    OpenAIImagesResult,
    OpenAIModerationsResult,
    OpenAIPage,
    OpenAIVectorStoresResult,
    OpenAIWebSearchCallsResult,
    ProjectGroupBy,
    ResultT,
    WebSearchGroupBy,
    plain_usage_page,
)

__all__ = [
    "AUDIO_SPEECHES",
    "AUDIO_TRANSCRIPTIONS",
    "CODE_INTERPRETER_SESSIONS",
    "COMPLETIONS",
    "COSTS",
    "EMBEDDINGS",
    "ENDPOINTS",
    "ENDPOINTS_BY_NAME",
    "FILE_SEARCH_CALLS",
    "IMAGES",
    "MODERATIONS",
    "SOURCE_NAMES",
    "USAGE_LIMITS",
    "VECTOR_STORES",
    "WEB_SEARCH_CALLS",
    "BucketWidth",
    "CostsBucketWidth",
    "Endpoint",
    "Metric",
    "SourceName",
    "prepare",
    "whole_buckets",
]

BucketWidth = Literal["1m", "1h", "1d"]
"""Bucket widths of the usage endpoints: one minute, one hour, one day."""

CostsBucketWidth = Literal["1d"]
"""The only bucket width of the costs endpoint."""

SourceName = Literal[
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "vector_stores",
    "code_interpreter_sessions",
    "file_search_calls",
    "web_search_calls",
    "costs",
]
"""Endpoint names, as accepted by ``records(sources=...)`` and used as a record's ``source``."""

USAGE_LIMITS: Mapping[str, int] = {"1d": 31, "1h": 168, "1m": 1440}
"""The largest ``limit`` (buckets per page) of the usage endpoints, per bucket width."""

_COSTS_LIMITS: Mapping[str, int] = {"1d": 180}


@dataclass(frozen=True)
class Metric:
    """A numeric result field that becomes one record per result.

    Attributes:
        field: The API's field name, which is also the record's ``metric``.
        unit: The record's unit.
        kind: Flow (summable over time) or level (a stock).
    """

    field: str
    unit: str
    kind: MetricKind = FLOW


def _requests(*fields: str) -> tuple[Metric, ...]:
    return tuple(Metric(name, "requests") for name in fields)


def _tokens(*fields: str) -> tuple[Metric, ...]:
    return tuple(Metric(name, "tokens") for name in fields)


@dataclass(frozen=True)
class Endpoint(Generic[ResultT]):
    """Everything about one endpoint, as data.

    Attributes:
        name: The endpoint's name (``"completions"``); a record's ``source``.
        path: The path under the base URL.
        result_type: The pydantic model of one result.
        page_type: The pydantic model of one page.
        filters: The array or boolean filters the endpoint documents, by their API names, in
            the order they are sent.
        group_by: The fields the endpoint can group by.
        limits: The accepted bucket widths, each with its largest ``limit``.
        enums: Allowed values of the filters that take a fixed set of values.
        metrics: The numeric result fields that become records.
        attributes: The result fields kept as record attributes (dimensions that are not
            fields of :class:`~usagekit.UsageRecord`).
    """

    name: str
    path: str
    result_type: type[ResultT]
    page_type: type[OpenAIPage[ResultT]]
    filters: tuple[str, ...]
    group_by: tuple[str, ...]
    limits: Mapping[str, int] = field(default_factory=lambda: USAGE_LIMITS)
    enums: Mapping[str, frozenset[str]] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    attributes: tuple[str, ...] = ()

    @property
    def qualified_name(self) -> str:
        """The name used in errors and logs (``"usage.completions"``, ``"costs"``)."""
        return self.name if self.name == "costs" else f"usage.{self.name}"

    @property
    def is_costs(self) -> bool:
        """Whether this is the costs endpoint (money, not usage)."""
        return self.name == "costs"


_KEY_FILTERS = ("project_ids", "user_ids", "api_key_ids")
_MODEL_FILTERS = (*_KEY_FILTERS, "models")


def _usage(
    name: str,
    result_type: type[ResultT],
    *,
    metrics: tuple[Metric, ...],
    filters: tuple[str, ...] = _MODEL_FILTERS,
    group_by: object = ModelGroupBy,
    attributes: tuple[str, ...] = (),
    enums: Mapping[str, object] | None = None,
) -> Endpoint[ResultT]:
    """An ``/organization/usage/...`` endpoint; ``group_by`` and ``enums`` values are Literals.

    Its pages' numbers are all counts and unix times: they are validated straight from the
    bytes when they hold no float (:func:`~usagekit._core._http.register_plain_json`).
    """
    page_type = OpenAIPage[result_type]  # type: ignore[valid-type]
    register_plain_json(page_type, plain_usage_page)
    return Endpoint(
        name=name,
        path=f"/organization/usage/{name}",
        result_type=result_type,
        page_type=page_type,
        filters=filters,
        group_by=get_args(group_by),
        enums={key: frozenset(get_args(values)) for key, values in (enums or {}).items()},
        metrics=metrics,
        attributes=attributes,
    )


# One entry per endpoint, in the order ``records()`` reads them; each is also named
# (``COMPLETIONS := ...``) for the methods that call it.
ENDPOINTS: tuple[Endpoint[Any], ...] = (
    COMPLETIONS := _usage(
        "completions",
        OpenAICompletionsResult,
        filters=(*_MODEL_FILTERS, "batch"),
        group_by=CompletionsGroupBy,
        metrics=(
            *_tokens(
                "input_tokens",
                "output_tokens",
                "input_cached_tokens",
                "input_cache_write_tokens",
                "input_uncached_tokens",
                "input_text_tokens",
                "output_text_tokens",
                "input_cached_text_tokens",
                "input_audio_tokens",
                "input_cached_audio_tokens",
                "output_audio_tokens",
                "input_image_tokens",
                "input_cached_image_tokens",
                "output_image_tokens",
            ),
            *_requests("num_model_requests"),
        ),
        attributes=("batch", "service_tier"),
    ),
    EMBEDDINGS := _usage(
        "embeddings",
        OpenAIEmbeddingsResult,
        metrics=(*_tokens("input_tokens"), *_requests("num_model_requests")),
    ),
    MODERATIONS := _usage(
        "moderations",
        OpenAIModerationsResult,
        metrics=(*_tokens("input_tokens"), *_requests("num_model_requests")),
    ),
    IMAGES := _usage(
        "images",
        OpenAIImagesResult,
        filters=("sources", "sizes", *_MODEL_FILTERS),
        group_by=ImagesGroupBy,
        metrics=(Metric("images", "images"), *_requests("num_model_requests")),
        attributes=("source", "size"),
        enums={"sources": ImageSource, "sizes": ImageSize},
    ),
    AUDIO_SPEECHES := _usage(
        "audio_speeches",
        OpenAIAudioSpeechesResult,
        metrics=(Metric("characters", "characters"), *_requests("num_model_requests")),
    ),
    AUDIO_TRANSCRIPTIONS := _usage(
        "audio_transcriptions",
        OpenAIAudioTranscriptionsResult,
        metrics=(Metric("seconds", "seconds"), *_requests("num_model_requests")),
    ),
    VECTOR_STORES := _usage(
        "vector_stores",
        OpenAIVectorStoresResult,
        filters=("project_ids",),
        group_by=ProjectGroupBy,
        metrics=(Metric("usage_bytes", "bytes", LEVEL),),
    ),
    CODE_INTERPRETER_SESSIONS := _usage(
        "code_interpreter_sessions",
        OpenAICodeInterpreterSessionsResult,
        filters=("project_ids",),
        group_by=ProjectGroupBy,
        metrics=(Metric("num_sessions", "sessions"),),
    ),
    FILE_SEARCH_CALLS := _usage(
        "file_search_calls",
        OpenAIFileSearchCallsResult,
        filters=(*_KEY_FILTERS, "vector_store_ids"),
        group_by=FileSearchGroupBy,
        metrics=_requests("num_requests"),
        attributes=("vector_store_id",),
    ),
    WEB_SEARCH_CALLS := _usage(
        "web_search_calls",
        OpenAIWebSearchCallsResult,
        filters=(*_MODEL_FILTERS, "context_levels"),
        group_by=WebSearchGroupBy,
        metrics=_requests("num_model_requests", "num_requests"),
        attributes=("context_level",),
        enums={"context_levels": ContextLevel},
    ),
    COSTS := Endpoint(
        name="costs",
        path="/organization/costs",
        result_type=OpenAICostsResult,
        page_type=OpenAIPage[OpenAICostsResult],
        filters=("project_ids", "api_key_ids"),
        group_by=get_args(CostsGroupBy),
        limits=_COSTS_LIMITS,
    ),
)
"""All 11 endpoints, in the order ``records()`` reads them."""

ENDPOINTS_BY_NAME: Mapping[str, Endpoint[Any]] = {ep.name: ep for ep in ENDPOINTS}

SOURCE_NAMES: tuple[str, ...] = tuple(ep.name for ep in ENDPOINTS)
"""The endpoint names accepted by ``records(sources=...)``."""


def _choices(values: Sequence[str] | frozenset[str] | Mapping[str, Any]) -> str:
    ordered = sorted(values) if isinstance(values, frozenset) else list(values)
    return ", ".join(repr(v) for v in ordered)


def _strings(value: Any, *, name: str, where: str, allow_empty: bool = False) -> tuple[str, ...]:
    """Return a string-list argument as a tuple: a single string counts as one item.

    Raises:
        ConfigError: The value is not a string or a collection of non-empty strings, or is
            empty when that is not allowed.
    """
    items: tuple[Any, ...]
    if isinstance(value, str):
        items = (value,)
    elif isinstance(value, (Sequence, frozenset, set)) and not isinstance(value, (bytes,)):
        items = tuple(value)
    else:
        raise ConfigError(f"{where}: {name} must be a list of strings, got {type(value).__name__}")
    if not items and not allow_empty:
        raise ConfigError(f"{where}: {name} must not be empty; pass None for no filter")
    for item in items:
        if not isinstance(item, str) or not item:
            raise ConfigError(f"{where}: {name} must hold non-empty strings, got {item!r}")
    return items


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _check_width(endpoint: Endpoint[Any], bucket_width: Any) -> int:
    """The largest ``limit`` of ``bucket_width`` (a ConfigError if the endpoint lacks it)."""
    cap = endpoint.limits.get(bucket_width) if isinstance(bucket_width, str) else None
    if cap is None:
        allowed = _choices(endpoint.limits)
        raise ConfigError(
            f"openai {endpoint.qualified_name}: bucket_width must be one of {allowed}, "
            f"got {bucket_width!r}"
        )
    return cap


def _check_limit(endpoint: Endpoint[Any], bucket_width: str, limit: Any, cap: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ConfigError(
            f"openai {endpoint.qualified_name}: limit must be an integer, "
            f"got {type(limit).__name__}"
        )
    if not 1 <= limit <= cap:
        raise ConfigError(
            f"openai {endpoint.qualified_name}: limit must be between 1 and {cap} for "
            f"bucket_width={bucket_width!r}, got {limit}"
        )
    return limit


def _check_group_by(endpoint: Endpoint[Any], group_by: Any) -> tuple[str, ...]:
    where = f"openai {endpoint.qualified_name}"
    fields = _strings(group_by, name="group_by", where=where, allow_empty=True)
    for name in fields:
        if name not in endpoint.group_by:
            raise ConfigError(
                f"{where}: cannot group by {name!r}; supported group_by fields are "
                f"{_choices(endpoint.group_by)}"
            )
    return _unique(fields)


def prepare(
    endpoint: Endpoint[Any],
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    bucket_width: str,
    group_by: Sequence[str] | None,
    limit: int | None,
    filters: Mapping[str, Any],
    default_start: datetime | None = None,
) -> RequestSpec:
    """Validate one call's arguments and describe its first request.

    Args:
        endpoint: The endpoint called.
        start: The window start, in any form :func:`~usagekit.as_utc` accepts.
        end: The window end (exclusive), or None for "up to now".
        bucket_width: ``"1m"``, ``"1h"`` or ``"1d"`` (costs: ``"1d"`` only).
        group_by: Fields to group by; None or empty for no grouping.
        limit: Buckets per page; None for the largest the width allows.
        filters: The endpoint's filters by API name; None values are left out.
        default_start: What a missing ``start`` means (None: ``start`` is required).

    Returns:
        The request, parameters in a fixed order, arrays as repeated keys.

    Raises:
        ConfigError: An argument the endpoint does not accept, with what it does accept.
    """
    where = f"openai {endpoint.qualified_name}"
    unknown = [name for name in filters if name not in endpoint.filters]
    if unknown:
        raise ConfigError(
            f"{where}: unsupported filter {unknown[0]!r}; supported filters are "
            f"{_choices(endpoint.filters)}"
        )
    window: Window = resolve_window(start, end, default_start=default_start)
    cap = _check_width(endpoint, bucket_width)
    page_size = cap if limit is None else _check_limit(endpoint, bucket_width, limit, cap)
    fields = () if group_by is None else _check_group_by(endpoint, group_by)

    params: list[tuple[str, str]] = [("start_time", str(to_unix(window.start)))]
    if window.end is not None:
        params.append(("end_time", str(to_unix(window.end))))
    params.append(("bucket_width", bucket_width))
    for name in endpoint.filters:
        value = filters.get(name)
        if value is None:
            continue
        if name == "batch":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: batch must be True, False or None, got {value!r}")
            params.append((name, "true" if value else "false"))
            continue
        items = _strings(value, name=name, where=where)
        allowed = endpoint.enums.get(name)
        if allowed is not None:
            bad = [item for item in items if item not in allowed]
            if bad:
                raise ConfigError(
                    f"{where}: {name} value {bad[0]!r} is not supported; "
                    f"allowed values are {_choices(allowed)}"
                )
        params.extend((name, item) for item in _unique(items))
    params.extend(("group_by", name) for name in fields)
    params.append(("limit", str(page_size)))
    return RequestSpec(endpoint.path, endpoint.qualified_name, tuple(params))


_WIDTH_MICROSECONDS: Mapping[str, int] = {
    "1m": 60_000_000,
    "1h": 3_600_000_000,
    "1d": 86_400_000_000,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def whole_buckets(
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    width: str,
    default_start: datetime | None = None,
) -> tuple[datetime, datetime | None]:
    """Widen a window to whole buckets of ``width``: the start down, the end up.

    OpenAI's buckets are aligned to UTC boundaries of their width. A ``start_time`` inside a
    bucket gets that bucket back under its own start and end, holding only what happened
    after ``start_time``: a record that would claim the whole day with part of its usage, and
    replace the whole day's figure in a store. Asking from the bucket's start never does.

    Args:
        start: The window start (None: ``default_start``).
        end: The window end (exclusive), or None for up to now.
        width: ``"1m"``, ``"1h"`` or ``"1d"``.
        default_start: What a missing start means.

    Returns:
        The aligned start and end (None stays None).

    Raises:
        ConfigError: A malformed window (checked before widening).
    """
    window = resolve_window(start, end, default_start=default_start)
    step = _WIDTH_MICROSECONDS[width]
    micros = timedelta(microseconds=1)
    first = (window.start - _EPOCH) // micros // step * step
    aligned = _EPOCH + timedelta(microseconds=first)
    if window.end is None:
        return aligned, None
    last = -(-((window.end - _EPOCH) // micros) // step) * step
    return aligned, _EPOCH + timedelta(microseconds=last)

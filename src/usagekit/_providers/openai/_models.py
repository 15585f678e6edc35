"""Wire models of OpenAI's organization usage and costs endpoints: the JSON as sent.

Every model keeps unknown fields (``extra="allow"``): OpenAI adds fields to these results from
time to time, and a new field must never break a caller. Fields the API documents as optional
may be missing. Results are discriminated on their ``object`` field; each endpoint's page holds
buckets of that endpoint's result type only.

Usage counts (tokens, requests, images, characters, seconds, bytes, sessions) are
non-negative integers: a negative count, or a boolean, is a
:class:`~usagekit.ResponseValidationError` naming the field. Cost amounts and billed
quantities may be negative (credits, refunds and adjustments are line items) and are exact
``Decimal`` values at any precision.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AliasChoices, Field, model_validator

from ..._core._http import floatless
from ..._core.wire import Count, ExactDecimal, UnixDateTime, WireModel

__all__ = [
    "CompletionsGroupBy",
    "ContextLevel",
    "CostsGroupBy",
    "FileSearchGroupBy",
    "ImageSize",
    "ImageSource",
    "ImagesGroupBy",
    "ModelGroupBy",
    "OpenAIAudioSpeechesResult",
    "OpenAIAudioTranscriptionsResult",
    "OpenAIBucket",
    "OpenAICodeInterpreterSessionsResult",
    "OpenAICompletionsResult",
    "OpenAICostAmount",
    "OpenAICostsResult",
    "OpenAIEmbeddingsResult",
    "OpenAIFileSearchCallsResult",
    "OpenAIImagesResult",
    "OpenAIModerationsResult",
    "OpenAIPage",
    "OpenAIResult",
    "OpenAIVectorStoresResult",
    "OpenAIWebSearchCallsResult",
    "ProjectGroupBy",
    "ResultT",
    "WebSearchGroupBy",
    "plain_usage_page",
]


# The API's vocabulary: the values of the filters that take a fixed set, and the ``group_by``
# fields of each endpoint (each one a result field of the models below).

ImageSource = Literal["image.generation", "image.edit", "image.variation"]
"""Values of the images endpoint's ``sources`` filter."""

ImageSize = Literal["256x256", "512x512", "1024x1024", "1792x1792", "1024x1792"]
"""Values of the images endpoint's ``sizes`` filter."""

ContextLevel = Literal["low", "medium", "high"]
"""Values of the web search endpoint's ``context_levels`` filter."""

CompletionsGroupBy = Literal[
    "project_id", "user_id", "api_key_id", "model", "batch", "service_tier"
]
"""``group_by`` fields of completions."""

ModelGroupBy = Literal["project_id", "user_id", "api_key_id", "model"]
"""``group_by`` fields of embeddings, moderations, audio speeches and audio transcriptions."""

ImagesGroupBy = Literal["project_id", "user_id", "api_key_id", "model", "size", "source"]
"""``group_by`` fields of images."""

ProjectGroupBy = Literal["project_id"]
"""``group_by`` field of vector stores and code interpreter sessions."""

FileSearchGroupBy = Literal["project_id", "user_id", "api_key_id", "vector_store_id"]
"""``group_by`` fields of file search calls."""

WebSearchGroupBy = Literal["project_id", "user_id", "api_key_id", "model", "context_level"]
"""``group_by`` fields of web search calls."""

CostsGroupBy = Literal["project_id", "line_item", "api_key_id"]
"""``group_by`` fields of costs."""


class _ProjectScoped(WireModel):
    """Results that can be grouped by project only."""

    project_id: str | None = None
    """Filled when grouped by ``project_id``."""


class _KeyScoped(_ProjectScoped):
    """Results that can be grouped by project, user and API key."""

    user_id: str | None = None
    """Filled when grouped by ``user_id``."""
    api_key_id: str | None = None
    """Filled when grouped by ``api_key_id`` (the key's id, never the key)."""


class _ModelScoped(_KeyScoped):
    """Results that can also be grouped by model."""

    model: str | None = None
    """Filled when grouped by ``model``."""


class OpenAICompletionsResult(_ModelScoped):
    """Completions usage of one group in one bucket.

    ``input_tokens`` already includes the cached and cache-write tokens: the ``input_cached_*``
    counts are a part of it, not an addition.
    """

    object: Literal["organization.usage.completions.result"]
    input_tokens: Count
    output_tokens: Count
    num_model_requests: Count
    input_cached_tokens: Count | None = None
    input_cache_write_tokens: Count | None = None
    input_uncached_tokens: Count | None = None
    input_text_tokens: Count | None = None
    output_text_tokens: Count | None = None
    input_cached_text_tokens: Count | None = None
    input_audio_tokens: Count | None = None
    input_cached_audio_tokens: Count | None = None
    output_audio_tokens: Count | None = None
    input_image_tokens: Count | None = None
    input_cached_image_tokens: Count | None = None
    output_image_tokens: Count | None = None
    batch: bool | None = None
    """Filled when grouped by ``batch``."""
    service_tier: str | None = None
    """Filled when grouped by ``service_tier``."""


class OpenAIEmbeddingsResult(_ModelScoped):
    """Embeddings usage of one group in one bucket."""

    object: Literal["organization.usage.embeddings.result"]
    input_tokens: Count
    num_model_requests: Count


class OpenAIModerationsResult(_ModelScoped):
    """Moderations usage of one group in one bucket."""

    object: Literal["organization.usage.moderations.result"]
    input_tokens: Count
    num_model_requests: Count


class OpenAIImagesResult(_ModelScoped):
    """Images usage of one group in one bucket."""

    object: Literal["organization.usage.images.result"]
    images: Count
    num_model_requests: Count
    source: str | None = None
    """Filled when grouped by ``source`` (``image.generation``, ``image.edit``, ...)."""
    size: str | None = None
    """Filled when grouped by ``size`` (``1024x1024``, ...)."""


class OpenAIAudioSpeechesResult(_ModelScoped):
    """Text-to-speech usage of one group in one bucket."""

    object: Literal["organization.usage.audio_speeches.result"]
    characters: Count
    num_model_requests: Count


class OpenAIAudioTranscriptionsResult(_ModelScoped):
    """Transcription usage of one group in one bucket."""

    object: Literal["organization.usage.audio_transcriptions.result"]
    seconds: Count
    num_model_requests: Count


class OpenAIVectorStoresResult(_ProjectScoped):
    """Vector store storage of one project in one bucket.

    ``usage_bytes`` is a level (bytes stored), not a flow: never sum it over time.
    """

    object: Literal["organization.usage.vector_stores.result"]
    usage_bytes: Count


class OpenAICodeInterpreterSessionsResult(_ProjectScoped):
    """Code interpreter sessions of one project in one bucket."""

    object: Literal["organization.usage.code_interpreter_sessions.result"]
    num_sessions: Count


class OpenAIFileSearchCallsResult(_KeyScoped):
    """File search tool calls of one group in one bucket (no model dimension)."""

    object: Literal["organization.usage.file_searches.result"]
    num_requests: Count
    vector_store_id: str | None = None
    """Filled when grouped by ``vector_store_id``."""


class OpenAIWebSearchCallsResult(_ModelScoped):
    """Web search tool calls of one group in one bucket."""

    object: Literal["organization.usage.web_searches.result"]
    num_model_requests: Count
    num_requests: Count
    context_level: str | None = None
    """Filled when grouped by ``context_level`` (``low``, ``medium``, ``high``)."""


class OpenAICostAmount(WireModel):
    """A monetary amount: ``value`` in currency units, exact.

    Both fields are optional here, as in OpenAI's own SDK, so that the raw pager shows what was
    sent; ``records()`` refuses a cost without a value or currency
    (:class:`~usagekit.ResponseValidationError` naming the field), never skips it.
    """

    value: ExactDecimal | None = None
    """The amount exactly as sent (0.06 stays ``Decimal("0.06")``); negative for a credit."""
    currency: str | None = None
    """Lower-case ISO 4217 code, such as ``"usd"``."""


class OpenAICostsResult(_ProjectScoped):
    """Costs of one group in one bucket."""

    object: Literal["organization.costs.result"]
    amount: OpenAICostAmount | None = None
    line_item: str | None = None
    """Filled when grouped by ``line_item``."""
    api_key_id: str | None = None
    """Filled when grouped by ``api_key_id``."""
    quantity: ExactDecimal | None = None
    """The billed quantity, when OpenAI reports one."""
    quantity_unit: str | None = None
    """The unit of ``quantity`` (``tokens``, ``1000_tokens``, ``gibibyte_hours``, ...)."""


OpenAIResult = Annotated[
    OpenAICompletionsResult
    | OpenAIEmbeddingsResult
    | OpenAIModerationsResult
    | OpenAIImagesResult
    | OpenAIAudioSpeechesResult
    | OpenAIAudioTranscriptionsResult
    | OpenAIVectorStoresResult
    | OpenAICodeInterpreterSessionsResult
    | OpenAIFileSearchCallsResult
    | OpenAIWebSearchCallsResult
    | OpenAICostsResult,
    Field(discriminator="object"),
]
"""Any result of any of the 11 endpoints, discriminated on ``object``."""

ResultT = TypeVar("ResultT")


class OpenAIBucket(WireModel, Generic[ResultT]):
    """One time bucket ``[start_time, end_time)`` and its results, one per group.

    The API's older revisions named the list ``result``; both names are accepted.
    """

    object: Literal["bucket"] = "bucket"
    start_time: UnixDateTime
    """Bucket start, aware UTC, inclusive."""
    end_time: UnixDateTime
    """Bucket end, aware UTC, exclusive."""
    results: list[ResultT] = Field(validation_alias=AliasChoices("results", "result"))
    """One result per combination of the ``group_by`` fields (one when not grouped)."""

    @model_validator(mode="after")
    def _ordered(self) -> OpenAIBucket[ResultT]:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class OpenAIPage(WireModel, Generic[ResultT]):
    """One page of buckets; the pager follows ``next_page`` while ``has_more``."""

    object: Literal["page"] = "page"
    data: list[OpenAIBucket[ResultT]]
    has_more: bool
    next_page: str | None = None


def plain_usage_page(page: OpenAIPage[Any]) -> bool:
    """Whether a usage page validated from its bytes holds no float (its unknown fields, at any
    level, are the only place one could be: every number it declares is a count or a unix
    time, validated strictly). See :func:`usagekit._core._http.register_plain_json`.

    Args:
        page: The page.

    Returns:
        True when its unknown fields, if any, hold no float.
    """
    if page.__pydantic_extra__ and not floatless(page.__pydantic_extra__):
        return False
    for bucket in page.data:
        if bucket.__pydantic_extra__ and not floatless(bucket.__pydantic_extra__):
            return False
        for result in bucket.results:
            extra = result.__pydantic_extra__
            if extra and not floatless(extra):
                return False
    return True

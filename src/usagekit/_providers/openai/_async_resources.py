"""``AsyncUsage``: the typed endpoint methods, ``client.usage.<endpoint>(...)``.

Each method validates its arguments and describes its request through the endpoint table
(:func:`~usagekit._providers.openai._requests.prepare`), then hands it to a lazy pager: nothing
is sent until the pager is iterated. The resource borrows the client's transport at call time, so
a client made by ``with_options`` uses its own options. The sync resource is generated from the
async one by ``scripts/unasync.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..._core.clock import TimeLike
from ..._core.pagination import AsyncPager
from ._models import (
    CompletionsGroupBy,
    ContextLevel,
    FileSearchGroupBy,
    ImagesGroupBy,
    ImageSize,
    ImageSource,
    ModelGroupBy,
    OpenAIAudioSpeechesResult,
    OpenAIAudioTranscriptionsResult,
    OpenAIBucket,
    OpenAICodeInterpreterSessionsResult,
    OpenAICompletionsResult,
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
)
from ._requests import (
    AUDIO_SPEECHES,
    AUDIO_TRANSCRIPTIONS,
    CODE_INTERPRETER_SESSIONS,
    COMPLETIONS,
    EMBEDDINGS,
    FILE_SEARCH_CALLS,
    IMAGES,
    MODERATIONS,
    VECTOR_STORES,
    WEB_SEARCH_CALLS,
    BucketWidth,
    Endpoint,
    prepare,
)

if TYPE_CHECKING:
    from ._async_client import AsyncOpenAIClient

__all__ = ["AsyncUsage"]


class AsyncUsage:
    """The ten organization usage endpoints of :class:`~usagekit.AsyncOpenAIClient`.

    Every method takes the window (``start`` inclusive, ``end`` exclusive, in any form
    :func:`~usagekit.as_utc` accepts; ``end=None`` means up to now) and exactly the filters its
    endpoint documents, by their API names. It returns a lazy pager, iterated with
    ``async for bucket in ...``: it yields :class:`~usagekit.OpenAIBucket` objects across every
    page, each with aware UTC ``start_time``/``end_time`` and typed ``results``;
    ``.iter_pages()`` yields whole pages. Nothing is sent until the pager is iterated, and every
    filter is kept on every page.

    Arguments common to all methods:

    * ``bucket_width``: ``"1m"``, ``"1h"`` or ``"1d"`` (default).
    * ``group_by``: fields to break the results down by (only the endpoint's own fields).
    * ``limit``: buckets per page, at most 31 (``1d``), 168 (``1h``) or 1440 (``1m``); None (the
      default) asks for the most, so that a window takes as few requests as possible.
    * Array filters (``project_ids``, ``models``, ...) are sent as repeated keys
      (``models=a&models=b``); a single string counts as a one-item list.
    """

    def __init__(self, client: AsyncOpenAIClient) -> None:
        self._client = client

    def _pager(
        self,
        endpoint: Endpoint[ResultT],
        start: TimeLike,
        end: TimeLike | None,
        bucket_width: str,
        group_by: Sequence[str] | None,
        limit: int | None,
        **filters: Any,
    ) -> AsyncPager[OpenAIPage[ResultT], OpenAIBucket[ResultT]]:
        """Validate one call (before any request) and return its lazy pager."""
        request = prepare(
            endpoint,
            start,
            end,
            bucket_width=bucket_width,
            group_by=group_by,
            limit=limit,
            filters=filters,
        )
        return AsyncPager(self._client._transport, request, endpoint.page_type)

    def completions(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        batch: bool | None = None,
        group_by: Sequence[CompletionsGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[OpenAIPage[OpenAICompletionsResult], OpenAIBucket[OpenAICompletionsResult]]:
        """Completions usage: tokens and model requests (``GET /organization/usage/completions``).

        ``input_tokens`` already includes cached and cache-write tokens:
        ``input_cached_tokens`` and ``input_cache_write_tokens`` are a part of it, not an
        addition.

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            user_ids: Only these users.
            api_key_ids: Only these API keys (ids, not keys).
            models: Only these models.
            batch: True for batch jobs only, False for non-batch jobs only, None for both.
            group_by: Any of ``project_id``, ``user_id``, ``api_key_id``, ``model``,
                ``batch``, ``service_tier``.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of completions buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        return self._pager(
            COMPLETIONS,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            project_ids=project_ids,
            user_ids=user_ids,
            api_key_ids=api_key_ids,
            models=models,
            batch=batch,
        )

    def embeddings(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        group_by: Sequence[ModelGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[OpenAIPage[OpenAIEmbeddingsResult], OpenAIBucket[OpenAIEmbeddingsResult]]:
        """Embeddings usage: input tokens and model requests (``GET .../usage/embeddings``).

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            user_ids: Only these users.
            api_key_ids: Only these API keys (ids, not keys).
            models: Only these models.
            group_by: Any of ``project_id``, ``user_id``, ``api_key_id``, ``model``.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of embeddings buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        return self._pager(
            EMBEDDINGS,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            project_ids=project_ids,
            user_ids=user_ids,
            api_key_ids=api_key_ids,
            models=models,
        )

    def moderations(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        group_by: Sequence[ModelGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[OpenAIPage[OpenAIModerationsResult], OpenAIBucket[OpenAIModerationsResult]]:
        """Moderations usage: input tokens and model requests (``GET .../usage/moderations``).

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            user_ids: Only these users.
            api_key_ids: Only these API keys (ids, not keys).
            models: Only these models.
            group_by: Any of ``project_id``, ``user_id``, ``api_key_id``, ``model``.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of moderations buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        return self._pager(
            MODERATIONS,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            project_ids=project_ids,
            user_ids=user_ids,
            api_key_ids=api_key_ids,
            models=models,
        )

    def images(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        sources: Sequence[ImageSource] | None = None,
        sizes: Sequence[ImageSize] | None = None,
        project_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        group_by: Sequence[ImagesGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[OpenAIPage[OpenAIImagesResult], OpenAIBucket[OpenAIImagesResult]]:
        """Images usage: images and model requests (``GET /organization/usage/images``).

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            sources: Only these sources: ``image.generation``, ``image.edit``,
                ``image.variation``.
            sizes: Only these sizes: ``256x256``, ``512x512``, ``1024x1024``, ``1792x1792``,
                ``1024x1792``.
            project_ids: Only these projects.
            user_ids: Only these users.
            api_key_ids: Only these API keys (ids, not keys).
            models: Only these models.
            group_by: Any of ``project_id``, ``user_id``, ``api_key_id``, ``model``, ``size``,
                ``source``.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of images buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept, such as an unknown source
                or size (before any request).
        """
        return self._pager(
            IMAGES,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            sources=sources,
            sizes=sizes,
            project_ids=project_ids,
            user_ids=user_ids,
            api_key_ids=api_key_ids,
            models=models,
        )

    def audio_speeches(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        group_by: Sequence[ModelGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[OpenAIPage[OpenAIAudioSpeechesResult], OpenAIBucket[OpenAIAudioSpeechesResult]]:
        """Text-to-speech usage: characters and model requests (``GET .../audio_speeches``).

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            user_ids: Only these users.
            api_key_ids: Only these API keys (ids, not keys).
            models: Only these models.
            group_by: Any of ``project_id``, ``user_id``, ``api_key_id``, ``model``.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of audio speeches buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        return self._pager(
            AUDIO_SPEECHES,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            project_ids=project_ids,
            user_ids=user_ids,
            api_key_ids=api_key_ids,
            models=models,
        )

    def audio_transcriptions(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        group_by: Sequence[ModelGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[
        OpenAIPage[OpenAIAudioTranscriptionsResult], OpenAIBucket[OpenAIAudioTranscriptionsResult]
    ]:
        """Transcription usage: seconds and model requests (``GET .../audio_transcriptions``).

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            user_ids: Only these users.
            api_key_ids: Only these API keys (ids, not keys).
            models: Only these models.
            group_by: Any of ``project_id``, ``user_id``, ``api_key_id``, ``model``.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of audio transcriptions buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        return self._pager(
            AUDIO_TRANSCRIPTIONS,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            project_ids=project_ids,
            user_ids=user_ids,
            api_key_ids=api_key_ids,
            models=models,
        )

    def vector_stores(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        group_by: Sequence[ProjectGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[OpenAIPage[OpenAIVectorStoresResult], OpenAIBucket[OpenAIVectorStoresResult]]:
        """Vector store storage in bytes (``GET /organization/usage/vector_stores``).

        ``usage_bytes`` is a level (bytes stored during the bucket), not a flow: sum it across
        projects at one time, never over time.

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            group_by: ``project_id`` or nothing.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of vector stores buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        return self._pager(
            VECTOR_STORES, start, end, bucket_width, group_by, limit, project_ids=project_ids
        )

    def code_interpreter_sessions(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        group_by: Sequence[ProjectGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[
        OpenAIPage[OpenAICodeInterpreterSessionsResult],
        OpenAIBucket[OpenAICodeInterpreterSessionsResult],
    ]:
        """Code interpreter sessions (``GET /organization/usage/code_interpreter_sessions``).

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            group_by: ``project_id`` or nothing.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of code interpreter sessions buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        return self._pager(
            CODE_INTERPRETER_SESSIONS,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            project_ids=project_ids,
        )

    def file_search_calls(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        vector_store_ids: Sequence[str] | None = None,
        group_by: Sequence[FileSearchGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[
        OpenAIPage[OpenAIFileSearchCallsResult], OpenAIBucket[OpenAIFileSearchCallsResult]
    ]:
        """File search tool calls (``GET /organization/usage/file_search_calls``).

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            user_ids: Only these users.
            api_key_ids: Only these API keys (ids, not keys).
            vector_store_ids: Only these vector stores.
            group_by: Any of ``project_id``, ``user_id``, ``api_key_id``, ``vector_store_id``.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of file search buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept (before any request).
        """
        return self._pager(
            FILE_SEARCH_CALLS,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            project_ids=project_ids,
            user_ids=user_ids,
            api_key_ids=api_key_ids,
            vector_store_ids=vector_store_ids,
        )

    def web_search_calls(
        self,
        start: TimeLike,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        project_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        api_key_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        context_levels: Sequence[ContextLevel] | None = None,
        group_by: Sequence[WebSearchGroupBy] | None = None,
        limit: int | None = None,
    ) -> AsyncPager[
        OpenAIPage[OpenAIWebSearchCallsResult], OpenAIBucket[OpenAIWebSearchCallsResult]
    ]:
        """Web search tool calls (``GET /organization/usage/web_search_calls``).

        Args:
            start: Window start, inclusive.
            end: Window end, exclusive; None for up to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            project_ids: Only these projects.
            user_ids: Only these users.
            api_key_ids: Only these API keys (ids, not keys).
            models: Only these models.
            context_levels: Only these search context levels: ``low``, ``medium``, ``high``.
            group_by: Any of ``project_id``, ``user_id``, ``api_key_id``, ``model``,
                ``context_level``.
            limit: Buckets per page (1 to the width's cap); None for the cap.

        Returns:
            A lazy pager of web search buckets.

        Raises:
            ConfigError: An argument the endpoint does not accept, such as an unknown context
                level (before any request).
        """
        return self._pager(
            WEB_SEARCH_CALLS,
            start,
            end,
            bucket_width,
            group_by,
            limit,
            project_ids=project_ids,
            user_ids=user_ids,
            api_key_ids=api_key_ids,
            models=models,
            context_levels=context_levels,
        )

"""usagekit: AI usage and spend from the providers' own APIs, as one typed record stream.

The clients, records, reports, the store and the errors load with the package; the export
formats, ``usagekit.analytics`` and ``usagekit.sandbox`` load on first use (``usagekit.write_csv``,
``usagekit.sandbox.serve``, ...), so that ``import usagekit`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._allocate import (
    ALLOCATION_ATTRIBUTES,
    ALLOCATION_QUANTUM,
    AllocationSummary,
    allocate_records,
    split_exact,
)
from ._canonical import CanonicalModel, canonical_model
from ._collect import Progress, acollect, collect
from ._core.clock import (
    CLOCK_ENV,
    TimeLike,
    Window,
    as_utc,
    month_start,
    pin_clock,
    resolve_window,
    utcnow,
)
from ._core.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ExportError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
    StoreError,
    UsagekitError,
)
from ._core.logs import SensitiveDataFilter
from ._core.pagination import AsyncPager, Pager
from ._core.ratelimit import AdaptiveRateLimiter
from ._core.records import DERIVED_ATTRIBUTES, FLOW, LEVEL, TOKEN_METRICS, MetricKind, UsageRecord
from ._core.retry import RetryPolicy
from ._lineitems import CHARGE_KINDS, ChargeKind, LineItem, anthropic_charge, parse_line_item
from ._providers import parse_retry_after
from ._providers.anthropic import (
    AnthropicCacheCreation,
    AnthropicClaudeCodeActor,
    AnthropicClaudeCodeCoreMetrics,
    AnthropicClaudeCodeModel,
    AnthropicClaudeCodeModelTokens,
    AnthropicClaudeCodePage,
    AnthropicClaudeCodeRecord,
    AnthropicClient,
    AnthropicCostBucket,
    AnthropicCostPage,
    AnthropicCostResult,
    AnthropicEstimatedCost,
    AnthropicLinesOfCode,
    AnthropicMessagesBucket,
    AnthropicMessagesPage,
    AnthropicMessagesResult,
    AnthropicServerToolUse,
    AnthropicToolAction,
    AsyncAnthropicClient,
)
from ._providers.basedash import (
    AsyncBasedashClient,
    BasedashAIUsage,
    BasedashClient,
    BasedashMemberUsage,
)
from ._providers.daramex import (
    AsyncDaramexClient,
    DaramexAction,
    DaramexBucket,
    DaramexCacheSavings,
    DaramexClient,
    DaramexGranularity,
    DaramexGroupBy,
    DaramexHeatmap,
    DaramexHeatmapCell,
    DaramexModelEfficiency,
    DaramexProjection,
    DaramexProjectionInsufficientData,
    DaramexProjectionOk,
    DaramexSeriesValue,
    DaramexSource,
    DaramexTimeSeries,
)
from ._providers.openai import (
    AsyncOpenAIClient,
    OpenAIAudioSpeechesResult,
    OpenAIAudioTranscriptionsResult,
    OpenAIBucket,
    OpenAIClient,
    OpenAICodeInterpreterSessionsResult,
    OpenAICompletionsResult,
    OpenAICostAmount,
    OpenAICostsResult,
    OpenAIEmbeddingsResult,
    OpenAIFileSearchCallsResult,
    OpenAIImagesResult,
    OpenAIModerationsResult,
    OpenAIPage,
    OpenAIResult,
    OpenAIVectorStoresResult,
    OpenAIWebSearchCallsResult,
)
from ._providers.openrouter import (
    AsyncOpenRouterClient,
    OpenRouterActivity,
    OpenRouterActivityItem,
    OpenRouterClient,
    OpenRouterCredits,
)
from ._providers.unsiloed import AsyncUnsiloedClient, UnsiloedClient, UnsiloedUsage
from ._report import ProviderFailure, ProviderStatus, Total, UsageReport
from ._store._session import SyncSession
from ._store.store import Snapshot, Store
from ._store.sync import CURRENT_PERIOD_PROVIDERS, ProviderSync, SyncClient, SyncResult, sync
from ._version import __version__

if TYPE_CHECKING:
    from . import analytics, sandbox
    from ._io._columns import RECORD_COLUMNS
    from ._io.csv import read_csv, write_csv
    from ._io.focus import (
        FOCUS_COLUMNS,
        FOCUS_VERSION,
        focus_rows,
        write_focus_csv,
        write_focus_parquet,
    )
    from ._io.jsonl import read_jsonl, write_jsonl
    from ._io.pandas import to_pandas
    from ._io.parquet import read_parquet, write_parquet

_LAZY: dict[str, str] = {
    "analytics": "usagekit.analytics",
    "sandbox": "usagekit.sandbox",
    "RECORD_COLUMNS": "usagekit._io._columns",
    "read_csv": "usagekit._io.csv",
    "write_csv": "usagekit._io.csv",
    "FOCUS_COLUMNS": "usagekit._io.focus",
    "FOCUS_VERSION": "usagekit._io.focus",
    "focus_rows": "usagekit._io.focus",
    "write_focus_csv": "usagekit._io.focus",
    "write_focus_parquet": "usagekit._io.focus",
    "read_jsonl": "usagekit._io.jsonl",
    "write_jsonl": "usagekit._io.jsonl",
    "to_pandas": "usagekit._io.pandas",
    "read_parquet": "usagekit._io.parquet",
    "write_parquet": "usagekit._io.parquet",
}
"""Public names loaded on first use: name -> the module that defines it (a module's own name
for the subpackages)."""


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'usagekit' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name == f"usagekit.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ALLOCATION_ATTRIBUTES",
    "ALLOCATION_QUANTUM",
    "CHARGE_KINDS",
    "CLOCK_ENV",
    "CURRENT_PERIOD_PROVIDERS",
    "DERIVED_ATTRIBUTES",
    "FLOW",
    "FOCUS_COLUMNS",
    "FOCUS_VERSION",
    "LEVEL",
    "RECORD_COLUMNS",
    "TOKEN_METRICS",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AdaptiveRateLimiter",
    "AllocationSummary",
    "AnthropicCacheCreation",
    "AnthropicClaudeCodeActor",
    "AnthropicClaudeCodeCoreMetrics",
    "AnthropicClaudeCodeModel",
    "AnthropicClaudeCodeModelTokens",
    "AnthropicClaudeCodePage",
    "AnthropicClaudeCodeRecord",
    "AnthropicClient",
    "AnthropicCostBucket",
    "AnthropicCostPage",
    "AnthropicCostResult",
    "AnthropicEstimatedCost",
    "AnthropicLinesOfCode",
    "AnthropicMessagesBucket",
    "AnthropicMessagesPage",
    "AnthropicMessagesResult",
    "AnthropicServerToolUse",
    "AnthropicToolAction",
    "AsyncAnthropicClient",
    "AsyncBasedashClient",
    "AsyncDaramexClient",
    "AsyncOpenAIClient",
    "AsyncOpenRouterClient",
    "AsyncPager",
    "AsyncUnsiloedClient",
    "AuthenticationError",
    "BadRequestError",
    "BasedashAIUsage",
    "BasedashClient",
    "BasedashMemberUsage",
    "CanonicalModel",
    "ChargeKind",
    "ConfigError",
    "DaramexAction",
    "DaramexBucket",
    "DaramexCacheSavings",
    "DaramexClient",
    "DaramexGranularity",
    "DaramexGroupBy",
    "DaramexHeatmap",
    "DaramexHeatmapCell",
    "DaramexModelEfficiency",
    "DaramexProjection",
    "DaramexProjectionInsufficientData",
    "DaramexProjectionOk",
    "DaramexSeriesValue",
    "DaramexSource",
    "DaramexTimeSeries",
    "ExportError",
    "LineItem",
    "MetricKind",
    "NotFoundError",
    "OpenAIAudioSpeechesResult",
    "OpenAIAudioTranscriptionsResult",
    "OpenAIBucket",
    "OpenAIClient",
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
    "OpenRouterActivity",
    "OpenRouterActivityItem",
    "OpenRouterClient",
    "OpenRouterCredits",
    "Pager",
    "PaginationError",
    "PermissionDeniedError",
    "Progress",
    "ProviderFailure",
    "ProviderStatus",
    "ProviderSync",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "SensitiveDataFilter",
    "ServerError",
    "Snapshot",
    "Store",
    "StoreError",
    "SyncClient",
    "SyncResult",
    "SyncSession",
    "TimeLike",
    "Total",
    "UnsiloedClient",
    "UnsiloedUsage",
    "UsageRecord",
    "UsageReport",
    "UsagekitError",
    "Window",
    "__version__",
    "acollect",
    "allocate_records",
    "analytics",
    "anthropic_charge",
    "as_utc",
    "canonical_model",
    "collect",
    "focus_rows",
    "month_start",
    "parse_line_item",
    "parse_retry_after",
    "pin_clock",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "resolve_window",
    "sandbox",
    "split_exact",
    "sync",
    "to_pandas",
    "utcnow",
    "write_csv",
    "write_focus_csv",
    "write_focus_parquet",
    "write_jsonl",
    "write_parquet",
]

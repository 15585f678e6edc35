"""Anthropic: the Admin API's usage report, cost report and Claude Code usage report."""

from __future__ import annotations

from ._async_client import AsyncAnthropicClient
from ._client import AnthropicClient
from ._models import (
    AnthropicCacheCreation,
    AnthropicClaudeCodeActor,
    AnthropicClaudeCodeCoreMetrics,
    AnthropicClaudeCodeModel,
    AnthropicClaudeCodeModelTokens,
    AnthropicClaudeCodePage,
    AnthropicClaudeCodeRecord,
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
)

__all__ = [
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
]

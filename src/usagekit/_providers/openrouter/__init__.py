"""OpenRouter: the activity and credits APIs (a management key)."""

from __future__ import annotations

from ._async_client import AsyncOpenRouterClient
from ._client import OpenRouterClient
from ._models import OpenRouterActivity, OpenRouterActivityItem, OpenRouterCredits

__all__ = [
    "AsyncOpenRouterClient",
    "OpenRouterActivity",
    "OpenRouterActivityItem",
    "OpenRouterClient",
    "OpenRouterCredits",
]

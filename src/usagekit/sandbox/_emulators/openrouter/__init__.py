"""The OpenRouter emulator: its own data tables, its routes and its error shapes."""

from ._data import OpenRouterData, OpenRouterKeys, OpenRouterRow, openrouter_keys
from ._provider import OpenRouterProvider

__all__ = [
    "OpenRouterData",
    "OpenRouterKeys",
    "OpenRouterProvider",
    "OpenRouterRow",
    "openrouter_keys",
]

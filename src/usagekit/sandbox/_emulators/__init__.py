"""The sandbox's provider emulators: one folder each, listed once in :data:`EMULATORS`.

Each folder holds its HTTP emulation (``_api.py``, a :class:`~usagekit.sandbox._http.Provider`)
and whatever that emulation alone needs. The sandbox keeps its own tables (catalog, prices,
credentials): it must not agree with the SDK by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .anthropic import AnthropicProvider
from .basedash import BasedashProvider
from .daramex import DaramexProvider
from .openai import OpenAIProvider
from .openrouter import OpenRouterProvider
from .unsiloed import UnsiloedProvider

if TYPE_CHECKING:
    from .._data import SandboxData
    from .._http import Provider

__all__ = ["EMULATORS"]

EMULATORS: tuple[Callable[[SandboxData], Provider], ...] = (
    OpenAIProvider,
    BasedashProvider,
    UnsiloedProvider,
    DaramexProvider,
    AnthropicProvider,
    OpenRouterProvider,
)
"""Every emulated provider, in the order the server tries their path prefixes."""

"""The sandbox's emulation of the OpenAI organization usage and costs API."""

from __future__ import annotations

from ._api import OpenAIProvider

__all__ = ["OpenAIProvider"]

"""The Anthropic Admin API emulator: its own data tables (``_data``) and its HTTP API (``_api``)."""

from ._api import AnthropicProvider
from ._data import AnthropicData, admin_key, inference_key

__all__ = ["AnthropicData", "AnthropicProvider", "admin_key", "inference_key"]

"""Unsiloed: an organization's credits used, limit and remaining quota in the current cycle."""

from ._async_client import AsyncUnsiloedClient
from ._client import UnsiloedClient
from ._models import UnsiloedUsage

__all__ = ["AsyncUnsiloedClient", "UnsiloedClient", "UnsiloedUsage"]

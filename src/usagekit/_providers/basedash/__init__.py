"""Basedash: billable AI usage of an organization's current billing period, per member."""

from ._async_client import AsyncBasedashClient
from ._client import BasedashClient
from ._models import BasedashAIUsage, BasedashMemberUsage

__all__ = ["AsyncBasedashClient", "BasedashAIUsage", "BasedashClient", "BasedashMemberUsage"]

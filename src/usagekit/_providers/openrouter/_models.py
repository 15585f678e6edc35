"""OpenRouter's wire models: the JSON of ``/activity`` and ``/credits`` as sent.

Money is US dollars sent as JSON numbers; the transport parses every number with a fraction from
its text as a ``Decimal`` (never through a binary float), so ``usage`` keeps every digit it was
sent with. Unknown fields are kept (``extra="allow"``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator

from ..._core.wire import EXACT, Count, ExactDecimal, WireModel, parse_iso_day

__all__ = [
    "OpenRouterActivity",
    "OpenRouterActivityItem",
    "OpenRouterCredits",
    "OpenRouterCreditsResponse",
    "parse_activity_date",
]

parse_activity_date = parse_iso_day
"""Read an activity item's ``date``: ``YYYY-MM-DD`` as documented, or an ISO-8601 date-time
taken as its UTC day (the tolerant reading; see :func:`~usagekit._core.wire.parse_iso_day`)."""

ActivityDate = Annotated[date, BeforeValidator(parse_activity_date)]


class OpenRouterActivityItem(WireModel):
    """One row of ``GET /activity``: a UTC day's usage of one model on one provider endpoint.

    Amounts are US dollars, exact. They are kept with their sign (OpenRouter does not document
    them as never negative, so a correction is kept rather than refused).

    Attributes:
        date: The UTC day.
        model: The model slug (``openai/gpt-4.1``); its prefix is the model's vendor.
        model_permaslug: The versioned slug (``openai/gpt-4.1-2025-04-14``).
        endpoint_id: The provider endpoint that served the requests.
        provider_name: The upstream provider of that endpoint (``Amazon Bedrock``, ``OpenAI``).
        usage: OpenRouter credits spent, in US dollars: what OpenRouter bills.
        byok_usage_inference: Inference cost on your own provider keys (BYOK), in US dollars;
            billed by the upstream provider, not by OpenRouter.
        requests: Requests.
        prompt_tokens: Prompt tokens.
        completion_tokens: Completion tokens.
        reasoning_tokens: Reasoning tokens (counted inside ``completion_tokens`` for billing).
        workspace_id: The workspace, only when the call asked ``group_by=workspace``.
    """

    date: ActivityDate
    model: str
    model_permaslug: str
    endpoint_id: str
    provider_name: str
    usage: ExactDecimal
    byok_usage_inference: ExactDecimal
    requests: Count
    prompt_tokens: Count
    completion_tokens: Count
    reasoning_tokens: Count
    workspace_id: str | None = None

    @property
    def model_vendor(self) -> str | None:
        """The model's vendor: the slug's prefix (``anthropic`` of ``anthropic/claude-...``).

        None for a slug without a ``/``.
        """
        vendor, slash, _ = self.model.partition("/")
        return vendor if slash and vendor else None


class OpenRouterActivity(WireModel):
    """The ``GET /activity`` response: every row of the day asked for (no pagination).

    Attributes:
        data: The rows, one per (date, model, endpoint[, workspace]); their order is not
            documented and not relied upon.
    """

    data: list[OpenRouterActivityItem]


class OpenRouterCredits(WireModel):
    """The account's credit totals (``data`` of ``GET /credits``), in US dollars, exact.

    Attributes:
        total_credits: Credits ever purchased.
        total_usage: Credits ever used.
    """

    total_credits: ExactDecimal
    total_usage: ExactDecimal

    @property
    def remaining(self) -> Decimal:
        """Credits left: ``total_credits - total_usage``, exactly (not a field of the API)."""
        return EXACT.subtract(self.total_credits, self.total_usage)


class OpenRouterCreditsResponse(WireModel):
    """The ``GET /credits`` response envelope.

    Attributes:
        data: The totals.
    """

    data: OpenRouterCredits

"""Cost, tokens and requests per model: :func:`model_efficiency`."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .._core.errors import ConfigError
from .._core.records import UsageRecord
from ._results import ModelEfficiency
from ._tally import Tally, check_record, pick_currency

__all__ = ["model_efficiency"]


def model_efficiency(
    records: Iterable[UsageRecord], *, limit: int = 20, currency: str | None = None
) -> list[ModelEfficiency]:
    """Return per-model cost, tokens, requests and cost per million tokens, by cost descending.

    Only records with a ``model`` dimension count (OpenAI's costs endpoint has none: its cost
    is not attributed to models here).

    Args:
        records: The records.
        limit: The most models to return (at least 1).
        currency: The currency of the costs; None: the only one present.

    Returns:
        At most ``limit`` entries, by cost descending, then by model name.

    Raises:
        ConfigError: A bad ``limit``, or costs in several currencies without ``currency``.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"limit must be a positive integer, got {limit!r}")
    tally: Tally[str] = Tally()
    for item in records:
        record = check_record(item)
        if record.model is not None and Tally.relevant(record, requests=True):
            tally.add(record.model, record)
    chosen = pick_currency(tally.currencies(), currency)
    million = Decimal(1_000_000)
    entries: list[ModelEfficiency] = []
    for model in tally.keys:
        cost = tally.cost.get(model, {}).get(chosen, Decimal(0)) if chosen else Decimal(0)
        tokens = tally.tokens(model)
        entries.append(
            ModelEfficiency(
                model=model,
                currency=chosen,
                cost=cost,
                tokens=tokens,
                requests=tally.requests.get(model, Decimal(0)),
                cost_per_million_tokens=cost * million / tokens if tokens else None,
            )
        )
    entries.sort(key=lambda entry: (-entry.cost, entry.model))
    return entries[:limit]

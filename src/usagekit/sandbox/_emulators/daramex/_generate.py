"""Daramex's ``token_usage_logs`` rows, made per hour, for :class:`~usagekit.sandbox.SandboxData`.

Each hour's events are a pure function of the seed and the hour, drawn from a hashed random
stream, and cached per hour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._catalog import (
    DARAMEX_ACTIONS,
    DARAMEX_ACTIVITY_OFFSET,
    DARAMEX_MODELS,
    MILLION,
    DaramexOrg,
)
from ..._rows import DaramexEvent
from ..._util import MINUTE, HashRandom, quantize_money

if TYPE_CHECKING:
    from ..._data import SandboxData

__all__ = ["DaramexEvents"]


class DaramexEvents:
    """Daramex's ``token_usage_logs`` rows, generated on first use.

    Args:
        data: The sandbox data (its seed, catalog, clock and cache).
    """

    def __init__(self, data: SandboxData) -> None:
        self.data = data

    def hour_events(self, org: DaramexOrg, hour: int) -> list[DaramexEvent]:
        """The events of ``org`` in a complete hour (cached; ignores ``now``)."""

        def make() -> list[DaramexEvent]:
            rng = HashRandom(self.data.seed, "daramex", org.id, hour)
            shape = self.data._shape("daramex", hour, DARAMEX_ACTIVITY_OFFSET)
            actions = list(DARAMEX_ACTIONS)
            action_weights = [DARAMEX_ACTIONS[a][0] for a in actions]
            events = []
            for _ in range(rng.poisson(org.volume * shape)):
                ts = hour + rng.below(60) * MINUTE + rng.below(60)
                action = rng.weighted(actions, action_weights)
                _, choices, mean_in, mean_out = DARAMEX_ACTIONS[action]
                model = DARAMEX_MODELS[
                    rng.weighted([c[0] for c in choices], [c[1] for c in choices])
                ]
                source = "byok" if rng.chance(0.2) else "system"
                total_in = max(1, round(mean_in * rng.lognormal(0.5)))
                output = round(mean_out * rng.lognormal(0.5))
                cacheable = source == "system" and model.cache_read > 0
                cache_read = round(total_in * rng.uniform(0.1, 0.6)) if cacheable else 0
                regular = total_in - cache_read
                cost = quantize_money(
                    (regular * model.input + cache_read * model.cache_read + output * model.output)
                    / MILLION
                )
                latency = None
                if model.latency_ms is not None:
                    latency = round(model.latency_ms * rng.lognormal(0.45) * (1 + output / 2000), 1)
                events.append(
                    DaramexEvent(
                        ts,
                        org.id,
                        source,
                        action,
                        model.id,
                        regular,
                        cache_read,
                        output,
                        cost,
                        latency,
                    )
                )
            events.sort(key=lambda e: e.ts)
            return events

        return self.data._cached(("daramex", org.id, hour), make)

"""Unsiloed's jobs and their credits, made per hour, for :class:`~usagekit.sandbox.SandboxData`.

Each hour's events are a pure function of the seed and the hour, drawn from a hashed random
stream, and cached per hour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._catalog import UNSILOED_ACTIVITY_OFFSET
from ..._rows import UnsiloedEvent
from ..._util import HOUR, HashRandom

if TYPE_CHECKING:
    from ..._data import SandboxData

__all__ = ["UnsiloedEvents"]


class UnsiloedEvents:
    """Unsiloed's jobs and the credits they used, generated on first use.

    Args:
        data: The sandbox data (its seed, catalog, clock and cache).
    """

    def __init__(self, data: SandboxData) -> None:
        self.data = data

    def hour_events(self, hour: int) -> list[UnsiloedEvent]:
        """The events of a complete hour (cached; ignores ``now``)."""

        def make() -> list[UnsiloedEvent]:
            rng = HashRandom(self.data.seed, "unsiloed", hour)
            shape = self.data._shape("unsiloed", hour, UNSILOED_ACTIVITY_OFFSET)
            events = [
                UnsiloedEvent(
                    hour + rng.below(HOUR),
                    max(1, round(9 * rng.lognormal(0.9))),
                    rng.pick(("parse", "extract", "classify", "split")),
                )
                for _ in range(rng.poisson(2.2 * shape))
            ]
            events.sort(key=lambda e: e.ts)
            return events

        return self.data._cached(("unsiloed", hour), make)

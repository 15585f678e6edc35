"""Basedash's billable AI actions, made per hour, for :class:`~usagekit.sandbox.SandboxData`.

Each hour's events are a pure function of the seed and the hour, drawn from a hashed random
stream, and cached per hour.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ..._catalog import BASEDASH_ACTIVITY_OFFSET
from ..._rows import BasedashEvent
from ..._util import DAY, HOUR, HashRandom

if TYPE_CHECKING:
    from ..._data import SandboxData

__all__ = ["BasedashEvents"]


class BasedashEvents:
    """Basedash's billable AI actions, generated on first use.

    Args:
        data: The sandbox data (its seed, catalog, clock and cache).
    """

    def __init__(self, data: SandboxData) -> None:
        self.data = data

    def hour_events(self, hour: int) -> list[BasedashEvent]:
        """The events of a complete hour (cached; ignores ``now``)."""

        def make() -> list[BasedashEvent]:
            rng = HashRandom(self.data.seed, "basedash", hour)
            shape = self.data._shape("basedash", hour, BASEDASH_ACTIVITY_OFFSET)
            events = []
            for member in self.data.catalog.basedash_members:
                active = rng.random() < min(0.9, 0.75 * member.weight * shape)
                if not member.current:
                    day = hour // DAY
                    active = active and HashRandom(self.data.seed, "basedash-former", day).chance(
                        0.3
                    )
                if not active:
                    continue
                for _ in range(1 + rng.below(3)):
                    micros = round(rng.uniform(2_000, 60_000) * rng.lognormal(0.8))
                    events.append(
                        BasedashEvent(
                            hour + rng.below(HOUR),
                            member.user_id,
                            member.member_id,
                            member.email,
                            Decimal(micros).scaleb(-6),
                        )
                    )
            if rng.chance(0.08 * shape):
                micros = round(rng.uniform(1_000, 30_000))
                events.append(
                    BasedashEvent(
                        hour + rng.below(HOUR), None, None, None, Decimal(micros).scaleb(-6)
                    )
                )
            events.sort(key=lambda e: e.ts)
            return events

        return self.data._cached(("basedash", hour), make)

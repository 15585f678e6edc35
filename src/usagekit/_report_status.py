"""How fetching each provider went: :class:`ProviderStatus` and :class:`ProviderFailure`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._core.errors import UsagekitError
from ._core.records import UsageRecord

__all__ = ["ProviderFailure", "ProviderStatus"]


@dataclass(frozen=True)
class ProviderStatus:
    """How fetching one client went.

    A provider that can only answer for a span of its own (a billing period, a 30-day cycle,
    whole UTC days) says so: ``covered_start``/``covered_end`` give the span its records
    actually cover and ``note`` says how that differs from the window asked for, e.g.
    ``"reports only its current billing period, 2026-12-01 to 2027-01-01; nothing in this
    window"``. A provider is never silently missing from a window.

    Attributes:
        provider: The provider name.
        records: Records kept from it (0 when it failed).
        seconds: Wall time spent on it.
        error: None when it succeeded, else a one-line reason.
        covered_start: Start of the span its records cover (or of the span it reports, when
            that lies outside the window); None when it has nothing to show.
        covered_end: End (exclusive) of that span.
        note: How the covered span differs from the window, or None when it matches.
    """

    provider: str
    records: int
    seconds: float
    error: str | None = None
    covered_start: datetime | None = None
    covered_end: datetime | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the provider was fetched completely."""
        return self.error is None

    @property
    def state(self) -> str:
        """One line for people: ``ok``, ``ok; <note>`` or ``FAILED: <reason>``."""
        if self.error is not None:
            return f"FAILED: {self.error}"
        return "ok" if self.note is None else f"ok; {self.note}"

    def as_dict(self) -> dict[str, Any]:
        """The status as JSON-ready values (times as ISO-8601 text).

        Returns:
            ``provider``, ``records``, ``ok``, ``error``, ``covered_start``, ``covered_end``
            and ``note``.
        """
        return {
            "provider": self.provider,
            "records": self.records,
            "ok": self.ok,
            "error": self.error,
            "covered_start": None if self.covered_start is None else self.covered_start.isoformat(),
            "covered_end": None if self.covered_end is None else self.covered_end.isoformat(),
            "note": self.note,
        }


@dataclass(frozen=True)
class ProviderFailure:
    """A provider that failed, why, and what had arrived before it failed.

    The partial records are kept here, not in the report's records, so that totals never
    silently include an incomplete provider.

    Attributes:
        provider: The provider name.
        error: The exception.
        partial_records: Records received before the failure.
    """

    provider: str
    error: BaseException
    partial_records: tuple[UsageRecord, ...] = ()

    @property
    def reason(self) -> str:
        """A one-line explanation."""
        kind = type(self.error).__name__
        return (
            f"{kind}: {self.error}"
            if isinstance(self.error, UsagekitError)
            else f"{kind}: {self.error!r}"
        )

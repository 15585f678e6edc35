"""From OpenRouter's answers to :class:`~usagekit.UsageRecord`, and which days a window reads.

No I/O here: the clients fetch, these functions plan the walk and map the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ..._core.clock import Window
from ..._core.coverage import span_text
from ..._core.errors import ResponseValidationError
from ..._core.records import FLOW, LEVEL, Measure, UsageRecord
from ..._core.wire import parse_utc_date
from ._info import INFO
from ._models import OpenRouterActivity, OpenRouterActivityItem, OpenRouterCredits
from ._requests import ACTIVITY_SOURCE, AVAILABLE_DAYS, CREDITS_SOURCE, ActivityFilters

__all__ = ["DayPlan", "activity_records", "credit_records", "plan_days"]

PROVIDER = INFO.name
_UTC = timezone.utc
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DayPlan:
    """The UTC days a window reads, and what to tell ``collect`` about the span they cover.

    Attributes:
        days: The days to fetch, oldest first (each one ``/activity`` answers for).
        span: The span to declare (the days read, or the days available when none is), or
            None when the days read are exactly the window.
        notes: Why the span differs from the window.
        today: Midnight UTC of the current (incomplete) day.
    """

    days: tuple[date, ...]
    span: tuple[datetime, datetime] | None
    notes: tuple[str, ...]
    today: datetime

    @property
    def note(self) -> str:
        """The notes as one sentence (empty when there is none)."""
        return "; ".join(self.notes)


def plan_days(window: Window, now: datetime) -> DayPlan:
    """Choose the days of ``window`` that ``/activity`` can answer for.

    Every day the window touches is read whole (the API is daily); only the last 30 completed
    UTC days exist, so the window is clipped to them and the clipping is said.

    Args:
        window: The window asked for (``end`` None means up to ``now``).
        now: The current time.

    Returns:
        The plan.
    """
    today = parse_utc_date(now.date())
    first_available = today - timedelta(days=AVAILABLE_DAYS)
    end = window.end if window.end is not None else now
    first_wanted = parse_utc_date(window.start.date())
    last_wanted = parse_utc_date((end - timedelta(microseconds=1)).date())
    first, last = max(first_wanted, first_available), min(last_wanted, today - _DAY)
    notes: list[str] = []
    if first_wanted < first_available:
        notes.append(
            f"keeps only the last {AVAILABLE_DAYS} completed UTC days: "
            f"nothing before {first_available:%Y-%m-%d}"
        )
    if last_wanted >= today:
        notes.append(f"reports completed UTC days only: {today:%Y-%m-%d} is not over")
    if first > last:
        available = span_text(first_available, today)
        notes.append(f"its days available are {available}; nothing in this window")
        return DayPlan((), (first_available, today), tuple(notes), today)
    partial_end = end != last_wanted + _DAY and last_wanted < today
    if window.start != first_wanted or partial_end:
        notes.append("reports whole UTC days")
    days = tuple((first + timedelta(days=n)).date() for n in range((last - first).days + 1))
    span = (first, last + _DAY) if notes else None
    return DayPlan(days, span, tuple(notes), today)


def _item_identity(item: OpenRouterActivityItem) -> tuple[str, ...]:
    return (
        item.model,
        item.model_permaslug,
        item.endpoint_id,
        item.provider_name,
        item.workspace_id or "",
    )


def _figures(item: OpenRouterActivityItem) -> tuple[object, ...]:
    return (
        item.usage,
        item.byok_usage_inference,
        item.requests,
        item.prompt_tokens,
        item.completion_tokens,
        item.reasoning_tokens,
    )


def _invalid(message: str, field: str) -> ResponseValidationError:
    return ResponseValidationError(
        message, provider=PROVIDER, endpoint=ACTIVITY_SOURCE, field=field
    )


def activity_records(
    activity: OpenRouterActivity, *, day: date, filters: ActivityFilters
) -> list[UsageRecord]:
    """Normalize one day's ``/activity`` answer into records.

    Each row gives six records over its UTC day: ``cost`` (``usage``, USD: what OpenRouter
    bills), ``byok_usage_inference`` (USD billed by the upstream provider on your own key,
    never part of ``cost``), ``requests``, ``input_tokens`` (the API's ``prompt_tokens``),
    ``output_tokens`` (its ``completion_tokens``) and ``reasoning_tokens`` (a part of
    ``output_tokens``, left out of token totals), all flows. ``model`` is the slug;
    ``project_id`` the workspace (of the row, or of the ``workspace_id`` filter);
    ``api_key_id`` and ``user_id`` the ``api_key_hash`` and ``user_id`` filters when given.
    ``attributes`` hold ``upstream_provider`` (``provider_name``: who served it),
    ``model_vendor`` (the slug's prefix: who made the model), ``endpoint_id`` and
    ``model_permaslug``.

    Args:
        activity: The validated answer.
        day: The day asked for.
        filters: The filters it was asked with.

    Returns:
        The records, in the answer's order; a row repeated identically is kept once.

    Raises:
        ResponseValidationError: A row of another day, or a row repeated with other figures.
    """
    start = parse_utc_date(day)
    end = start + _DAY
    seen: dict[tuple[str, ...], tuple[object, ...]] = {}
    records: list[UsageRecord] = []
    for index, item in enumerate(activity.data):
        if item.date != day:
            raise _invalid(
                f"a row of {item.date.isoformat()} in the answer for {day.isoformat()}",
                f"data.{index}.date",
            )
        identity, figures = _item_identity(item), _figures(item)
        previous = seen.get(identity)
        if previous is not None:
            if previous == figures:
                continue
            raise _invalid(
                "a row is repeated with other figures; refusing to sum or to pick one",
                f"data.{index}",
            )
        seen[identity] = figures
        attributes = {
            "endpoint_id": item.endpoint_id,
            "model_permaslug": item.model_permaslug,
            "upstream_provider": item.provider_name,
        }
        vendor = item.model_vendor
        if vendor is not None:
            attributes["model_vendor"] = vendor
        measures: tuple[Measure, ...] = (
            ("cost", item.usage, "USD", FLOW),
            ("byok_usage_inference", item.byok_usage_inference, "USD", FLOW),
            ("requests", _count(item.requests), "requests", FLOW),
            ("input_tokens", _count(item.prompt_tokens), "tokens", FLOW),
            ("output_tokens", _count(item.completion_tokens), "tokens", FLOW),
            ("reasoning_tokens", _count(item.reasoning_tokens), "tokens", FLOW),
        )
        records.extend(
            UsageRecord.trusted_many(
                measures,
                provider=PROVIDER,
                source=ACTIVITY_SOURCE,
                start=start,
                end=end,
                project_id=item.workspace_id or filters.workspace_id,
                user_id=filters.user_id,
                api_key_id=filters.api_key_hash,
                model=item.model,
                attributes=attributes,
            )
        )
    return records


def _count(value: int) -> Decimal:
    return Decimal(value)


def credit_records(credits: OpenRouterCredits, *, now: datetime) -> list[UsageRecord]:
    """The account's credit totals as two levels over the current UTC day.

    ``total_credits`` and ``total_usage`` (USD) are stocks observed now, never summed over
    time; the current day is their interval, so a later fetch the same day replaces them.

    Args:
        credits: The validated totals.
        now: When they were read.

    Returns:
        The two records.
    """
    start = datetime(now.year, now.month, now.day, tzinfo=_UTC)
    return UsageRecord.trusted_many(
        (
            ("total_credits", credits.total_credits, "USD", LEVEL),
            ("total_usage", credits.total_usage, "USD", LEVEL),
        ),
        provider=PROVIDER,
        source=CREDITS_SOURCE,
        start=start,
        end=start + _DAY,
    )

"""Deterministic usage data for every provider, and the ground truth tests compare against.

Each hour's data is a pure function of ``(seed, provider, hour)`` drawn from a hashed random
stream, so it does not depend on when or in what order it is asked for. It is generated lazily
and cached per hour. An event or row exists when ``history_start <= time < now``.

OpenAI usage is generated per hour and per *stream* (a fixed combination of project, user,
key, model, ...). Minute rows split each hour row over a few minutes (exactly: the minute
rows of an hour add up to the hour row); the hour that contains ``now`` is the sum of its
minutes before ``now``. Costs are derived from the hourly rows (one cost row per hour row and
line item, each amount quantized to 6 decimal places), so they always match the token usage.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, NamedTuple, TypeVar

from ._catalog import (
    BASEDASH_ACTIVITY_OFFSET,
    CODE_INTERPRETER_SESSION,
    COMPLETION_PRICES,
    DARAMEX_ACTIONS,
    DARAMEX_ACTIVITY_OFFSET,
    DARAMEX_MODELS,
    EMBEDDING_PRICES,
    FILE_SEARCH_CALL,
    IMAGE_PRICES,
    OPENAI_ACTIVITY_OFFSET,
    SPEECH_PRICES,
    TIER_MULTIPLIER,
    TRANSCRIPTION_PRICES,
    UNSILOED_ACTIVITY_OFFSET,
    VECTOR_STORE_GIB_HOUR,
    WEB_SEARCH_CALL,
    Catalog,
    DaramexOrg,
    Stream,
    build_catalog,
)
from ._util import (
    DAY,
    HOUR,
    MINUTE,
    UTC,
    Clock,
    HashRandom,
    TimeLike,
    floor_to,
    next_month,
    quantize_money,
)
from ._util import to_datetime as _to_datetime
from ._util import to_unix as _to_unix

__all__ = [
    "MILLION",
    "OPENAI_KINDS",
    "BasedashEvent",
    "BasedashPeriod",
    "CostRow",
    "DaramexEvent",
    "KindSpec",
    "SandboxData",
    "UnsiloedCycle",
    "UnsiloedEvent",
    "UsageRow",
]

_T = TypeVar("_T")
_WEEK = 7 * DAY
MILLION = Decimal(1_000_000)
"""Prices are per million tokens (or characters)."""
_GIB = Decimal(2**30)
Dim = str | bool | None
"""The value of a dimension field (ids and enums are strings, ``batch`` is a bool)."""


# --------------------------------------------------------------------------------------------
# Row types


class UsageRow(NamedTuple):
    """OpenAI usage at the hour or minute grain for one combination of dimensions.

    Attributes:
        kind: Usage endpoint name, e.g. ``completions``.
        start: Unix seconds at which the hour (or minute) starts.
        width: 3600 for an hourly row, 60 for a minute row.
        dims: Every dimension field of the kind (``project_id``, ``model``, ``batch``, ...).
        metrics: The result's numeric fields, e.g. ``input_tokens``. For ``vector_stores``
            ``usage_bytes`` is the level stored during the row, not a flow.
    """

    kind: str
    start: int
    width: int
    dims: Mapping[str, Dim]
    metrics: Mapping[str, int]


class CostRow(NamedTuple):
    """One OpenAI cost line item for one hour and one usage row.

    Attributes:
        start: Unix seconds of the hour.
        kind: The usage endpoint the cost comes from.
        project_id: Project charged.
        api_key_id: Key used, or None (playground, storage, sessions).
        line_item: For example ``gpt-4o-2024-08-06, input``.
        quantity: Units billed.
        quantity_unit: ``tokens``, ``images``, ``characters``, ``duration_seconds``,
            ``gibibyte_hours``, ``sessions`` or ``calls``.
        amount: USD, quantized to 6 decimal places.
    """

    start: int
    kind: str
    project_id: str | None
    api_key_id: str | None
    line_item: str
    quantity: Decimal
    quantity_unit: str
    amount: Decimal


class BasedashEvent(NamedTuple):
    """One billable Basedash AI action.

    ``user_id``/``member_id``/``email`` are None for usage that no member is credited with;
    usage by a removed member carries their ids but they are not in ``memberUsage``.
    """

    ts: int
    user_id: str | None
    member_id: str | None
    email: str | None
    usage: Decimal


class UnsiloedEvent(NamedTuple):
    """One Unsiloed job and the credits it used."""

    ts: int
    credits: int
    operation: str


class DaramexEvent(NamedTuple):
    """One row of Daramex ``token_usage_logs``.

    Attributes:
        ts: Unix seconds.
        org_id: Organization.
        source: ``system`` or ``byok``.
        action: ``user_interaction``, ``guardrail_check``, ...
        model: Gateway model id.
        input_tokens: Regular (not cached) input tokens.
        cache_read_tokens: Input tokens served from the prompt cache.
        output_tokens: Output tokens.
        cost_usd: Cost, quantized to 6 decimal places.
        latency_ms: Execution latency, or None for models without latency data.
    """

    ts: int
    org_id: str
    source: str
    action: str
    model: str
    input_tokens: int
    cache_read_tokens: int
    output_tokens: int
    cost_usd: Decimal
    latency_ms: float | None

    @property
    def total_input_tokens(self) -> int:
        """Cache reads plus regular input."""
        return self.input_tokens + self.cache_read_tokens

    @property
    def total_tokens(self) -> int:
        """All tokens of the row."""
        return self.input_tokens + self.cache_read_tokens + self.output_tokens


@dataclass(frozen=True)
class BasedashPeriod:
    """Basedash usage for one billing period (a calendar month, UTC).

    Attributes:
        start: First instant of the period.
        end: First instant of the next period.
        total: All billable usage in the period up to now (USD).
        members: Usage by current member ``user_id`` (members without usage are absent).
        unattributed: ``total`` minus the members' usage (removed members, no member).
    """

    start: datetime
    end: datetime
    total: Decimal
    members: dict[str, Decimal]
    unattributed: Decimal


@dataclass(frozen=True)
class UnsiloedCycle:
    """Unsiloed's current 30-day billing cycle."""

    last_billed_date: date
    current_usage: int
    usage_limit: int

    @property
    def remaining_quota(self) -> int:
        """``usage_limit - current_usage``."""
        return self.usage_limit - self.current_usage


# --------------------------------------------------------------------------------------------
# OpenAI usage kinds


def _completion_fundamentals(m: Mapping[str, int]) -> tuple[int, ...]:
    return (
        m["input_cached_text_tokens"],
        m["input_cache_write_tokens"],
        m["input_text_tokens"] - m["input_cached_text_tokens"] - m["input_cache_write_tokens"],
        m["input_cached_audio_tokens"],
        m["input_audio_tokens"] - m["input_cached_audio_tokens"],
        m["input_cached_image_tokens"],
        m["input_image_tokens"] - m["input_cached_image_tokens"],
        m["output_text_tokens"],
        m["output_audio_tokens"],
        m["output_image_tokens"],
        m["num_model_requests"],
    )


def _completion_metrics(f: Sequence[int]) -> dict[str, int]:
    cached_text, write, rest_text, cached_audio, rest_audio, cached_image, rest_image = f[:7]
    output_text, output_audio, output_image, requests = f[7:]
    input_text = cached_text + write + rest_text
    input_audio = cached_audio + rest_audio
    input_image = cached_image + rest_image
    cached = cached_text + cached_audio + cached_image
    total_input = input_text + input_audio + input_image
    return {
        "input_tokens": total_input,
        "input_cached_tokens": cached,
        "input_cache_write_tokens": write,
        "input_uncached_tokens": total_input - cached - write,
        "output_tokens": output_text + output_audio + output_image,
        "input_text_tokens": input_text,
        "output_text_tokens": output_text,
        "input_cached_text_tokens": cached_text,
        "input_audio_tokens": input_audio,
        "input_cached_audio_tokens": cached_audio,
        "output_audio_tokens": output_audio,
        "input_image_tokens": input_image,
        "input_cached_image_tokens": cached_image,
        "output_image_tokens": output_image,
        "num_model_requests": requests,
    }


@dataclass(frozen=True)
class KindSpec:
    """How one OpenAI usage endpoint looks.

    Attributes:
        name: Endpoint name (path segment).
        object: The ``object`` of its results.
        metrics: Numeric result fields, in order.
        dims: Dimension result fields, in order.
        group_by: Fields ``group_by`` accepts.
        filters: Array filter parameter -> dimension it filters on.
        primary: The count that splits into minutes with at least one per minute.
        level: The metric is a level (bytes stored), not a flow.
        fundamentals: Metrics -> independent additive parts (splitting these keeps every
            derived field consistent); None when the metrics are the parts.
        from_fundamentals: The inverse of ``fundamentals``.
    """

    name: str
    object: str
    metrics: tuple[str, ...]
    dims: tuple[str, ...]
    group_by: tuple[str, ...]
    filters: Mapping[str, str]
    primary: str
    level: bool = False
    fundamentals: Callable[[Mapping[str, int]], tuple[int, ...]] | None = None
    from_fundamentals: Callable[[Sequence[int]], dict[str, int]] | None = None

    def parts(self, metrics: Mapping[str, int]) -> tuple[int, ...]:
        """Split metrics into additive parts."""
        if self.fundamentals is not None:
            return self.fundamentals(metrics)
        return tuple(metrics[name] for name in self.metrics)

    def join(self, parts: Sequence[int]) -> dict[str, int]:
        """Rebuild metrics from additive parts."""
        if self.from_fundamentals is not None:
            return self.from_fundamentals(parts)
        return dict(zip(self.metrics, parts, strict=True))

    def primary_index(self) -> int:
        """Index of the primary count among the parts."""
        if self.name == "completions":
            return 10
        return self.metrics.index(self.primary)


_USER_DIMS = ("project_id", "user_id", "api_key_id", "model")
_USER_FILTERS = {
    "project_ids": "project_id",
    "user_ids": "user_id",
    "api_key_ids": "api_key_id",
    "models": "model",
}


def _spec(name: str, obj: str, metrics: tuple[str, ...], primary: str) -> KindSpec:
    return KindSpec(name, obj, metrics, _USER_DIMS, _USER_DIMS, _USER_FILTERS, primary)


OPENAI_KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec(
            "completions",
            "organization.usage.completions.result",
            tuple(_completion_metrics((0,) * 11)),
            (*_USER_DIMS, "batch", "service_tier"),
            (*_USER_DIMS, "batch", "service_tier"),
            {**_USER_FILTERS, "batch": "batch"},
            "num_model_requests",
            fundamentals=_completion_fundamentals,
            from_fundamentals=_completion_metrics,
        ),
        _spec(
            "embeddings",
            "organization.usage.embeddings.result",
            ("input_tokens", "num_model_requests"),
            "num_model_requests",
        ),
        _spec(
            "moderations",
            "organization.usage.moderations.result",
            ("input_tokens", "num_model_requests"),
            "num_model_requests",
        ),
        KindSpec(
            "images",
            "organization.usage.images.result",
            ("images", "num_model_requests"),
            ("source", "size", *_USER_DIMS),
            (*_USER_DIMS, "size", "source"),
            {**_USER_FILTERS, "sources": "source", "sizes": "size"},
            "num_model_requests",
            fundamentals=lambda m: (m["images"] - m["num_model_requests"], m["num_model_requests"]),
            from_fundamentals=lambda f: {"images": f[0] + f[1], "num_model_requests": f[1]},
        ),
        _spec(
            "audio_speeches",
            "organization.usage.audio_speeches.result",
            ("characters", "num_model_requests"),
            "num_model_requests",
        ),
        _spec(
            "audio_transcriptions",
            "organization.usage.audio_transcriptions.result",
            ("seconds", "num_model_requests"),
            "num_model_requests",
        ),
        KindSpec(
            "vector_stores",
            "organization.usage.vector_stores.result",
            ("usage_bytes",),
            ("project_id",),
            ("project_id",),
            {"project_ids": "project_id"},
            "usage_bytes",
            level=True,
        ),
        KindSpec(
            "code_interpreter_sessions",
            "organization.usage.code_interpreter_sessions.result",
            ("num_sessions",),
            ("project_id",),
            ("project_id",),
            {"project_ids": "project_id"},
            "num_sessions",
        ),
        KindSpec(
            "file_search_calls",
            "organization.usage.file_searches.result",
            ("num_requests",),
            ("project_id", "user_id", "api_key_id", "vector_store_id"),
            ("project_id", "user_id", "api_key_id", "vector_store_id"),
            {
                "project_ids": "project_id",
                "user_ids": "user_id",
                "api_key_ids": "api_key_id",
                "vector_store_ids": "vector_store_id",
            },
            "num_requests",
        ),
        KindSpec(
            "web_search_calls",
            "organization.usage.web_searches.result",
            ("num_model_requests", "num_requests"),
            (*_USER_DIMS, "context_level"),
            (*_USER_DIMS, "context_level"),
            {**_USER_FILTERS, "context_levels": "context_level"},
            "num_model_requests",
            fundamentals=lambda m: (
                m["num_model_requests"],
                m["num_requests"] - m["num_model_requests"],
            ),
            from_fundamentals=lambda f: {"num_model_requests": f[0], "num_requests": f[0] + f[1]},
        ),
    )
}
"""Every OpenAI usage endpoint, by name."""


def _split(total: int, cumulative: Sequence[float]) -> list[int]:
    """Split an integer into parts along cumulative weights (parts add up exactly)."""
    parts = []
    previous = 0
    last = len(cumulative) - 1
    for i, point in enumerate(cumulative):
        current = total if i == last else math.floor(total * point)
        parts.append(current - previous)
        previous = current
    return parts


def _add_into(target: dict[str, int], metrics: Mapping[str, int]) -> None:
    for name, value in metrics.items():
        target[name] = target.get(name, 0) + value


# --------------------------------------------------------------------------------------------
# The data


class SandboxData:
    """All the sandbox's data for one seed, and the ground truth for tests.

    The methods return the raw finest-grain rows and events of a window (``start``
    inclusive, ``end`` exclusive; datetimes, unix seconds or ISO-8601 text) and plain
    totals summed straight from them, independently of the HTTP server's bucketing and
    grouping.

    Args:
        seed: Data seed; the same seed always gives the same data.
        clock: The sandbox clock (real time when None).
        history_days: Days of history before the clock's day at construction.
    """

    def __init__(
        self, seed: int = 1, *, clock: Clock | None = None, history_days: int = 120
    ) -> None:
        self.seed = seed
        self.clock = clock if clock is not None else Clock()
        self.catalog: Catalog = build_catalog(seed)
        start = floor_to(self.clock.now_ts(), DAY) - history_days * DAY
        self.history_start_ts: int = start
        self._lock = threading.Lock()
        self._cache: dict[tuple[object, ...], object] = {}
        self._minutes: OrderedDict[tuple[str, int], list[list[UsageRow]]] = OrderedDict()
        self._day_factors: dict[tuple[str, int], float] = {}

    # ---------------------------------------------------------------- general

    @property
    def history_start(self) -> datetime:
        """The first instant with data."""
        return _to_datetime(self.history_start_ts)

    def now(self) -> datetime:
        """The sandbox clock's current instant (data exists before it)."""
        return self.clock.now()

    def _window(self, start: TimeLike, end: TimeLike) -> tuple[int, int]:
        """Clip a window to ``[history_start, now)``."""
        return (
            max(_to_unix(start), self.history_start_ts),
            min(_to_unix(end), self.clock.now_ts()),
        )

    def _cached(self, key: tuple[object, ...], make: Callable[[], _T]) -> _T:
        with self._lock:
            if key in self._cache:
                return self._cache[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            return self._cache.setdefault(key, value)  # type: ignore[return-value]

    def _day_factor(self, provider: str, day: int) -> float:
        key = (provider, day)
        factor = self._day_factors.get(key)
        if factor is None:
            rng = HashRandom(self.seed, provider, "day", day)
            factor = rng.uniform(0.7, 1.3) * (1.0 + 0.15 * math.sin(day / 11.0))
            self._day_factors[key] = factor
        return factor

    def _shape(self, provider: str, hour: int, offset: int, *, night: bool = False) -> float:
        """Traffic level of an hour: office hours (or nights), quieter weekends, daily noise."""
        local = hour + offset * HOUR
        hour_of_day = (local // HOUR) % 24
        day = local // DAY
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        if night:
            distance = (hour_of_day - 2 + 12) % 24 - 12
            daily = 0.15 + 0.85 * math.exp(-((distance / 3.0) ** 2))
            weekly = 1.0 if weekday < 5 else 0.6
        else:
            daily = 0.05 + 0.95 * math.exp(-(((hour_of_day - 13.5) / 5.0) ** 4))
            weekly = 1.0 if weekday < 5 else 0.28
        return daily * weekly * self._day_factor(provider, day)

    def _hours(self, start: int, end: int) -> range:
        return range(floor_to(start, HOUR), end, HOUR)

    # ---------------------------------------------------------------- OpenAI generation

    def _openai_hour(self, kind: str, hour: int) -> list[UsageRow]:
        """All rows of a complete hour (cached; ignores ``now``)."""
        return self._cached(("openai", kind, hour), lambda: self._generate_openai(kind, hour))

    def _generate_openai(self, kind: str, hour: int) -> list[UsageRow]:
        if kind == "vector_stores":
            return self._vector_store_levels(hour)
        rng = HashRandom(self.seed, "openai", kind, hour)
        rows = []
        for index, stream in enumerate(self.catalog.openai_streams[kind]):
            profile = stream.profile
            draw = rng.random()
            if profile.intermittent and not HashRandom(
                self.seed, "week", kind, index, hour // _WEEK
            ).chance(0.6):
                continue
            shape = self._shape("openai", hour, OPENAI_ACTIVITY_OFFSET, night=profile.night)
            if draw >= min(0.97, profile.probability * shape * 1.4):
                continue
            count = max(1, round(profile.volume * shape * rng.lognormal(0.45)))
            metrics = self._openai_metrics(kind, stream, count, rng)
            rows.append(UsageRow(kind, hour, HOUR, dict(stream.dims), metrics))
        return rows

    def _openai_metrics(
        self, kind: str, stream: Stream, count: int, rng: HashRandom
    ) -> dict[str, int]:
        profile = stream.profile
        dims = dict(stream.dims)
        if kind == "completions":
            return self._completion_row(str(dims["model"]), bool(dims["batch"]), stream, count, rng)
        if kind in ("embeddings", "moderations"):
            return {
                "input_tokens": round(count * profile.size * rng.lognormal(0.3)),
                "num_model_requests": count,
            }
        if kind == "images":
            extra = round(count * (profile.size - 1.0) * rng.uniform(0.5, 1.5))
            return {"images": count + extra, "num_model_requests": count}
        if kind == "audio_speeches":
            return {
                "characters": round(count * profile.size * rng.lognormal(0.3)),
                "num_model_requests": count,
            }
        if kind == "audio_transcriptions":
            return {
                "seconds": round(count * profile.size * rng.lognormal(0.3)),
                "num_model_requests": count,
            }
        if kind == "code_interpreter_sessions":
            return {"num_sessions": count}
        if kind == "file_search_calls":
            return {"num_requests": count}
        if kind == "web_search_calls":
            extra = round(count * (profile.size - 1.0) * rng.uniform(0.5, 1.5))
            return {"num_model_requests": count, "num_requests": count + extra}
        raise ValueError(f"unknown usage kind {kind!r}")

    def _completion_row(
        self, model: str, batch: bool, stream: Stream, count: int, rng: HashRandom
    ) -> dict[str, int]:
        price = COMPLETION_PRICES[model]
        profile = stream.profile
        total_input = round(count * profile.size * rng.lognormal(0.3))
        audio_share = rng.uniform(0.3, 0.6) if price.audio_input is not None else 0.0
        image_share = rng.uniform(0.0, 0.1) if price.vision and not batch else 0.0
        audio_in = round(total_input * audio_share)
        image_in = round(total_input * image_share)
        text_in = total_input - audio_in - image_in
        cache_share = min(0.9, profile.cache_share * rng.uniform(0.6, 1.3))
        cached_text = round(text_in * cache_share)
        cached_image = round(image_in * cache_share)
        cached_audio = round(audio_in * cache_share * 0.5)
        write = round((text_in - cached_text) * rng.uniform(0.0, 0.08)) if cache_share else 0
        total_output = round(count * price.mean_output * rng.lognormal(0.35))
        audio_out = round(total_output * rng.uniform(0.4, 0.8)) if price.audio_output else 0
        return _completion_metrics(
            (
                cached_text,
                write,
                text_in - cached_text - write,
                cached_audio,
                audio_in - cached_audio,
                cached_image,
                image_in - cached_image,
                total_output - audio_out,
                audio_out,
                0,
                count,
            )
        )

    def _vector_store_levels(self, hour: int) -> list[UsageRow]:
        rows = []
        day = hour // DAY
        reference_day = 19_723  # 2024-01-01
        for project_id, base, growth in self.catalog.vector_store_projects:
            jitter = HashRandom(self.seed, "vector-store", project_id, day).uniform(-0.03, 0.03)
            level = (
                base * (1.0 + jitter) + growth * (day - reference_day) + growth * (hour % DAY) / DAY
            )
            if level > 0:
                dims: dict[str, Dim] = {"project_id": project_id}
                rows.append(
                    UsageRow("vector_stores", hour, HOUR, dims, {"usage_bytes": int(level)})
                )
        return rows

    def _minute_split(self, kind: str, hour: int) -> list[list[UsageRow]]:
        """The minute rows of each hour row (same order as the hour rows)."""
        key = (kind, hour)
        with self._lock:
            cached = self._minutes.get(key)
            if cached is not None:
                self._minutes.move_to_end(key)
                return cached
        spec = OPENAI_KINDS[kind]
        result = []
        for index, row in enumerate(self._openai_hour(kind, hour)):
            if spec.level:
                result.append(
                    [
                        UsageRow(kind, hour + m * MINUTE, MINUTE, row.dims, row.metrics)
                        for m in range(60)
                    ]
                )
                continue
            rng = HashRandom(self.seed, "minutes", kind, hour, index)
            parts = spec.parts(row.metrics)
            primary_at = spec.primary_index()
            primary = parts[primary_at]
            spread = round(math.sqrt(primary) * rng.uniform(1.0, 3.0))
            count = max(1, min(60, primary, spread))
            minutes = rng.sample(60, count)
            weights = [rng.uniform(0.2, 1.0) for _ in minutes]
            total = sum(weights)
            running = 0.0
            cumulative = []
            for weight in weights:
                running += weight
                cumulative.append(running / total)
            columns = []
            for i, value in enumerate(parts):
                if i == primary_at:
                    columns.append([1 + extra for extra in _split(value - count, cumulative)])
                else:
                    columns.append(_split(value, cumulative))
            result.append(
                [
                    UsageRow(
                        kind,
                        hour + minute * MINUTE,
                        MINUTE,
                        row.dims,
                        spec.join([column[j] for column in columns]),
                    )
                    for j, minute in enumerate(minutes)
                ]
            )
        with self._lock:
            self._minutes[key] = result
            while len(self._minutes) > 4096:
                self._minutes.popitem(last=False)
        return result

    def _visible_hour(self, kind: str, hour: int, now: int) -> list[UsageRow]:
        """Hour rows as of ``now``: complete, partial (the current hour) or none."""
        if hour < self.history_start_ts or hour >= now:
            return []
        if hour + HOUR <= now or OPENAI_KINDS[kind].level:
            return self._openai_hour(kind, hour)
        partial = []
        spec = OPENAI_KINDS[kind]
        for hour_row, minutes in zip(
            self._openai_hour(kind, hour), self._minute_split(kind, hour), strict=True
        ):
            seen = [m for m in minutes if m.start < now]
            if seen:
                totals: dict[str, int] = dict.fromkeys(spec.metrics, 0)
                for minute_row in seen:
                    _add_into(totals, minute_row.metrics)
                partial.append(UsageRow(kind, hour, HOUR, hour_row.dims, totals))
        return partial

    # ---------------------------------------------------------------- OpenAI ground truth

    def openai_rows(
        self,
        kind: str,
        start: TimeLike,
        end: TimeLike,
        *,
        grain: Literal["hour", "minute"] = "hour",
    ) -> list[UsageRow]:
        """OpenAI usage rows whose ``start`` lies in ``[start, end)``.

        Args:
            kind: Usage endpoint name (a key of ``OPENAI_KINDS``).
            start: Window start (inclusive).
            end: Window end (exclusive).
            grain: ``hour`` rows, or ``minute`` rows (the finest grain). The hour that
                contains ``now`` is the sum of its minutes before ``now``.

        Returns:
            Rows ordered by time.

        Raises:
            ValueError: For an unknown kind or grain.
        """
        if kind not in OPENAI_KINDS:
            raise ValueError(f"unknown usage kind {kind!r}")
        low, high = self._window(start, end)
        now = self.clock.now_ts()
        rows: list[UsageRow] = []
        for hour in self._hours(low, high):
            if grain == "hour":
                rows.extend(r for r in self._visible_hour(kind, hour, now) if low <= r.start)
            elif grain == "minute":
                if hour < self.history_start_ts:
                    continue
                minute_rows = [m for ms in self._minute_split(kind, hour) for m in ms]
                minute_rows.sort(key=lambda r: r.start)
                rows.extend(r for r in minute_rows if low <= r.start < high)
            else:
                raise ValueError(f"unknown grain {grain!r}")
        return rows

    def openai_totals(
        self,
        kind: str,
        start: TimeLike,
        end: TimeLike,
        *,
        group_by: Sequence[str] = (),
    ) -> dict[tuple[Dim, ...], dict[str, int]]:
        """Sum a flow kind's metrics over a window, optionally per combination of dimensions.

        Args:
            kind: Usage endpoint name (not ``vector_stores``: levels do not add up over
                time; use ``openai_vector_store_bytes``).
            start: Window start (inclusive, on an hour boundary for exact bucket totals).
            end: Window end (exclusive).
            group_by: Dimension fields to group by.

        Returns:
            ``{(dimension values...): {metric: total}}``; ``{(): totals}`` when not grouped
            (empty when there is no usage).

        Raises:
            ValueError: For ``vector_stores``.
        """
        if OPENAI_KINDS[kind].level:
            raise ValueError("vector_stores usage_bytes is a level: it does not add up")
        totals: dict[tuple[Dim, ...], dict[str, int]] = {}
        for row in self.openai_rows(kind, start, end):
            key = tuple(row.dims[name] for name in group_by)
            _add_into(totals.setdefault(key, {}), row.metrics)
        return totals

    def openai_vector_store_bytes(self, at: TimeLike, project_id: str | None = None) -> int:
        """Bytes stored in vector stores during the hour containing ``at`` (0 before history).

        Args:
            at: An instant before ``now``.
            project_id: One project, or all of them.

        Returns:
            The level in bytes.
        """
        hour = floor_to(_to_unix(at), HOUR)
        rows = self._visible_hour("vector_stores", hour, self.clock.now_ts())
        return sum(
            r.metrics["usage_bytes"]
            for r in rows
            if project_id is None or r.dims["project_id"] == project_id
        )

    def _hour_costs(self, hour: int, now: int) -> list[CostRow]:
        if hour + HOUR <= now:
            return self._cached(("costs", hour), lambda: self._make_costs(hour, now))
        return self._make_costs(hour, now)

    def _make_costs(self, hour: int, now: int) -> list[CostRow]:
        costs: list[CostRow] = []
        for kind in OPENAI_KINDS:
            for row in self._visible_hour(kind, hour, now):
                costs.extend(_row_costs(row))
        return costs

    def openai_cost_rows(self, start: TimeLike, end: TimeLike) -> list[CostRow]:
        """Cost line items of the hours that start in ``[start, end)``.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).

        Returns:
            Cost rows ordered by hour.
        """
        low, high = self._window(start, end)
        now = self.clock.now_ts()
        rows: list[CostRow] = []
        for hour in self._hours(low, high):
            if hour >= low:
                rows.extend(self._hour_costs(hour, now))
        return rows

    def openai_cost_totals(
        self, start: TimeLike, end: TimeLike, *, group_by: Sequence[str] = ()
    ) -> dict[tuple[str | None, ...], Decimal]:
        """Sum cost amounts over a window, optionally grouped by cost row fields.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            group_by: ``project_id``, ``line_item`` and/or ``api_key_id``.

        Returns:
            ``{(field values...): USD}`` (``{(): total}`` when not grouped).
        """
        totals: dict[tuple[str | None, ...], Decimal] = {}
        for row in self.openai_cost_rows(start, end):
            key = tuple(getattr(row, name) for name in group_by)
            totals[key] = totals.get(key, Decimal(0)) + row.amount
        return totals

    def openai_cost_by_usage(
        self, start: TimeLike, end: TimeLike, *, group_by: Sequence[str] = ("user_id", "model")
    ) -> dict[tuple[Dim, ...], Decimal]:
        """Cost amounts of the hours in ``[start, end)`` per usage dimension: who spent it.

        The costs endpoint never says which user or model a charge is for; the sandbox knows,
        because it derives every cost row from one usage row. This is the ground truth that
        an allocation of costs over usage should recover.

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            group_by: Usage dimension fields (``user_id``, ``model``, ``api_key_id``,
                ``project_id``, ...) and/or cost row fields (``line_item``, ``kind``); a
                dimension a usage kind does not have is None.

        Returns:
            ``{(values...): USD}``; the values sum to :meth:`openai_cost_totals`.
        """
        low, high = self._window(start, end)
        now = self.clock.now_ts()
        fields = set(CostRow._fields)
        totals: dict[tuple[Dim, ...], Decimal] = {}
        for hour in self._hours(low, high):
            if hour < low:
                continue
            for kind in OPENAI_KINDS:
                for row in self._visible_hour(kind, hour, now):
                    for cost in _row_costs(row):
                        key = tuple(
                            getattr(cost, name) if name in fields else row.dims.get(name)
                            for name in group_by
                        )
                        totals[key] = totals.get(key, Decimal(0)) + cost.amount
        return totals

    # ---------------------------------------------------------------- Basedash

    def _basedash_hour(self, hour: int) -> list[BasedashEvent]:
        def make() -> list[BasedashEvent]:
            rng = HashRandom(self.seed, "basedash", hour)
            shape = self._shape("basedash", hour, BASEDASH_ACTIVITY_OFFSET)
            events = []
            for member in self.catalog.basedash_members:
                active = rng.random() < min(0.9, 0.75 * member.weight * shape)
                if not member.current:
                    day = hour // DAY
                    active = active and HashRandom(self.seed, "basedash-former", day).chance(0.3)
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

        return self._cached(("basedash", hour), make)

    def basedash_events(self, start: TimeLike, end: TimeLike) -> list[BasedashEvent]:
        """Basedash billable AI actions in ``[start, end)`` (and before ``now``)."""
        low, high = self._window(start, end)
        return [
            e for h in self._hours(low, high) for e in self._basedash_hour(h) if low <= e.ts < high
        ]

    def basedash_period(self, at: TimeLike | None = None) -> BasedashPeriod:
        """Usage for the billing period (calendar month, UTC) containing ``at`` (default now).

        Usage counts up to ``min(at, now)``.
        """
        moment = _to_datetime(self.clock.now() if at is None else at)
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = next_month(start.date())
        end = datetime(following.year, following.month, 1, tzinfo=UTC)
        total = Decimal(0)
        members: dict[str, Decimal] = {}
        current = {m.user_id for m in self.catalog.basedash_members if m.current}
        for event in self.basedash_events(start, min(moment, end)):
            total += event.usage
            if event.user_id in current:
                members[event.user_id] = members.get(event.user_id, Decimal(0)) + event.usage
        return BasedashPeriod(start, end, total, members, total - sum(members.values(), Decimal(0)))

    # ---------------------------------------------------------------- Unsiloed

    def _unsiloed_hour(self, hour: int) -> list[UnsiloedEvent]:
        def make() -> list[UnsiloedEvent]:
            rng = HashRandom(self.seed, "unsiloed", hour)
            shape = self._shape("unsiloed", hour, UNSILOED_ACTIVITY_OFFSET)
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

        return self._cached(("unsiloed", hour), make)

    def unsiloed_events(self, start: TimeLike, end: TimeLike) -> list[UnsiloedEvent]:
        """Unsiloed jobs in ``[start, end)`` (and before ``now``)."""
        low, high = self._window(start, end)
        return [
            e for h in self._hours(low, high) for e in self._unsiloed_hour(h) if low <= e.ts < high
        ]

    def unsiloed_cycle(self, at: TimeLike | None = None) -> UnsiloedCycle:
        """The 30-day billing cycle containing ``at`` (default now) and its usage so far.

        Cycles start every 30 days from a fixed anchor date; usage counts from the last billed
        date at 00:00 UTC up to ``min(at, now)``.
        """
        moment = _to_datetime(self.clock.now() if at is None else at)
        anchor = self.catalog.unsiloed_anchor_ordinal
        today = moment.date().toordinal()
        billed = date.fromordinal(anchor + (today - anchor) // 30 * 30)
        since = datetime(billed.year, billed.month, billed.day, tzinfo=UTC)
        used = sum(e.credits for e in self.unsiloed_events(since, moment))
        return UnsiloedCycle(billed, used, self.catalog.unsiloed_usage_limit)

    # ---------------------------------------------------------------- Daramex

    def daramex_org(self, org_id: str) -> DaramexOrg | None:
        """The Daramex organization with this id, if any."""
        return next((o for o in self.catalog.daramex_orgs if o.id == org_id), None)

    def _daramex_hour(self, org: DaramexOrg, hour: int) -> list[DaramexEvent]:
        def make() -> list[DaramexEvent]:
            rng = HashRandom(self.seed, "daramex", org.id, hour)
            shape = self._shape("daramex", hour, DARAMEX_ACTIVITY_OFFSET)
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

        return self._cached(("daramex", org.id, hour), make)

    def daramex_events(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        org_id: str | None = None,
        source: str = "all",
    ) -> list[DaramexEvent]:
        """Daramex ``token_usage_logs`` rows in ``[start, end)`` (and before ``now``).

        Args:
            start: Window start (inclusive).
            end: Window end (exclusive).
            org_id: Organization (default: the first one, whose token ``keys`` hands out).
            source: ``system``, ``byok`` or ``all``.

        Returns:
            Events ordered by time.

        Raises:
            ValueError: For an unknown organization or source.
        """
        org = self.daramex_org(org_id) if org_id else self.catalog.daramex_orgs[0]
        if org is None:
            raise ValueError(f"unknown Daramex organization {org_id!r}")
        if source not in ("system", "byok", "all"):
            raise ValueError(f"unknown source {source!r}")
        low, high = self._window(start, end)
        return [
            e
            for h in self._hours(low, high)
            for e in self._daramex_hour(org, h)
            if low <= e.ts < high and (source == "all" or e.source == source)
        ]

    def daramex_totals(
        self, start: TimeLike, end: TimeLike, *, org_id: str | None = None, source: str = "all"
    ) -> tuple[int, Decimal]:
        """Total tokens and cost (USD) of Daramex events in a window."""
        events = self.daramex_events(start, end, org_id=org_id, source=source)
        return sum(e.total_tokens for e in events), sum((e.cost_usd for e in events), Decimal(0))


def _row_costs(row: UsageRow) -> Iterator[CostRow]:
    """The cost line items of one hourly usage row."""
    project = row.dims.get("project_id")
    key = row.dims.get("api_key_id")
    project_id = project if isinstance(project, str) else None
    api_key_id = key if isinstance(key, str) else None
    m = row.metrics

    def item(name: str, quantity: Decimal | int, unit: str, price: Decimal) -> CostRow:
        amount = quantize_money(Decimal(quantity) * price)
        return CostRow(
            row.start, row.kind, project_id, api_key_id, name, Decimal(quantity), unit, amount
        )

    model = str(row.dims.get("model"))
    if row.kind == "completions":
        price = COMPLETION_PRICES[model]
        tier = "batch" if row.dims["batch"] else str(row.dims["service_tier"])
        prefix = "" if tier == "default" else f"{tier} "
        scale = TIER_MULTIPLIER[tier] / MILLION
        parts: list[tuple[str, int, Decimal | None]] = [
            (
                "input",
                m["input_text_tokens"]
                - m["input_cached_text_tokens"]
                + m["input_image_tokens"]
                - m["input_cached_image_tokens"],
                price.input,
            ),
            (
                "cached input",
                m["input_cached_text_tokens"] + m["input_cached_image_tokens"],
                price.cached_input,
            ),
            ("output", m["output_text_tokens"] + m["output_image_tokens"], price.output),
            (
                "audio input",
                m["input_audio_tokens"] - m["input_cached_audio_tokens"],
                price.audio_input,
            ),
            ("cached audio input", m["input_cached_audio_tokens"], price.cached_audio_input),
            ("audio output", m["output_audio_tokens"], price.audio_output),
        ]
        for component, tokens, per_million in parts:
            if tokens > 0 and per_million is not None:
                yield item(f"{model}, {prefix}{component}", tokens, "tokens", per_million * scale)
    elif row.kind == "embeddings":
        yield item(
            f"{model}, input", m["input_tokens"], "tokens", EMBEDDING_PRICES[model] / MILLION
        )
    elif row.kind == "images":
        size = str(row.dims["size"])
        yield item(f"{model}, images {size}", m["images"], "images", IMAGE_PRICES[(model, size)])
    elif row.kind == "audio_speeches":
        yield item(
            f"{model}, characters", m["characters"], "characters", SPEECH_PRICES[model] / MILLION
        )
    elif row.kind == "audio_transcriptions":
        yield item(f"{model}, audio", m["seconds"], "duration_seconds", TRANSCRIPTION_PRICES[model])
    elif row.kind == "vector_stores":
        gib_hours = quantize_money(Decimal(m["usage_bytes"]) / _GIB)
        yield item("vector-stores, storage", gib_hours, "gibibyte_hours", VECTOR_STORE_GIB_HOUR)
    elif row.kind == "code_interpreter_sessions":
        yield item(
            "code-interpreter, sessions", m["num_sessions"], "sessions", CODE_INTERPRETER_SESSION
        )
    elif row.kind == "file_search_calls":
        yield item("file-search, tool calls", m["num_requests"], "calls", FILE_SEARCH_CALL)
    elif row.kind == "web_search_calls":
        level = str(row.dims["context_level"])
        yield item(
            f"web-search, {level} context", m["num_requests"], "calls", WEB_SEARCH_CALL[level]
        )

"""OpenRouter's emulated account: its tables, its daily usage and the ground truth.

Independent of the other emulators' data: everything here derives from the sandbox seed, the
sandbox clock and the first day of history. The finest grain is a :class:`OpenRouterRow`: one
UTC day of one model on one provider endpoint, from one workspace, API key and member. The
server aggregates these as ``/activity`` does; :meth:`OpenRouterData.truth` sums them directly.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from ..._util import UTC, HashRandom, digest, parse_iso8601

if TYPE_CHECKING:
    from ..._data import SandboxData

__all__ = [
    "METRICS",
    "OpenRouterData",
    "OpenRouterEndpoint",
    "OpenRouterKeys",
    "OpenRouterRow",
    "openrouter_keys",
]

METRICS = (
    "cost",
    "byok_usage_inference",
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
)
"""The ground truth's metrics, named as usagekit's records name them (``cost`` is ``usage``)."""

_PLACES = Decimal("1E-12")
"""Dollar amounts have 12 decimal places: far more than a float keeps exactly in a sum."""


@dataclass(frozen=True)
class OpenRouterKeys:
    """The sandbox's OpenRouter credentials.

    Attributes:
        management_key: A management key: reads ``/activity`` and ``/credits``.
        api_key: A normal (inference) key: answered with 403 there.
    """

    management_key: str
    api_key: str


def openrouter_keys(seed: int) -> OpenRouterKeys:
    """The keys of a seed (both ``sk-or-v1-`` and 64 hex digits, as OpenRouter's are)."""
    return OpenRouterKeys(
        "sk-or-v1-" + digest(seed, "openrouter", "management", size=32).hex(),
        "sk-or-v1-" + digest(seed, "openrouter", "inference", size=32).hex(),
    )


@dataclass(frozen=True)
class OpenRouterEndpoint:
    """A provider endpoint serving one model.

    Attributes:
        endpoint_id: Its UUID.
        model: The model slug.
        permaslug: The versioned slug.
        provider_name: The upstream provider.
        price_in: Dollars per prompt token.
        price_out: Dollars per completion token.
        byok: Whether the account calls it with its own provider key (BYOK).
    """

    endpoint_id: str
    model: str
    permaslug: str
    provider_name: str
    price_in: Decimal
    price_out: Decimal
    byok: bool


class OpenRouterRow(NamedTuple):
    """One UTC day of one endpoint, from one workspace, API key (hash) and member."""

    day: date
    endpoint: OpenRouterEndpoint
    workspace_id: str
    api_key_hash: str
    user_id: str
    usage: Decimal
    byok_usage_inference: Decimal
    requests: int
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int


_MODELS = (
    ("openai/gpt-4.1", "openai/gpt-4.1-2025-04-14", ("OpenAI", "Azure"), "2", "8"),
    ("openai/gpt-4.1-mini", "openai/gpt-4.1-mini-2025-04-14", ("OpenAI",), "0.4", "1.6"),
    (
        "anthropic/claude-sonnet-4.6",
        "anthropic/claude-sonnet-4.6",
        ("Anthropic", "Amazon Bedrock", "Google Vertex"),
        "3",
        "15",
    ),
    ("google/gemini-2.5-flash", "google/gemini-2.5-flash", ("Google AI Studio",), "0.3", "2.5"),
    ("deepseek/deepseek-r1", "deepseek/deepseek-r1-0528", ("DeepInfra", "Together"), "0.5", "2.1"),
    ("meta-llama/llama-4-maverick", "meta-llama/llama-4-maverick-17b", ("Groq",), "0.2", "0.6"),
)
"""Slug, permaslug, upstream providers, dollars per million prompt and completion tokens."""

_REASONING = ("deepseek/deepseek-r1", "anthropic/claude-sonnet-4.6", "google/gemini-2.5-flash")
_BYOK_FEE = Decimal("0.05")
"""OpenRouter charges 5% of the upstream cost on BYOK requests."""


def _uuid(*parts: object) -> str:
    h = digest(*parts, size=16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


class OpenRouterData:
    """The emulated OpenRouter account of one sandbox, and its ground truth.

    Args:
        data: The sandbox data (for its seed, its clock and its first day of history).
    """

    def __init__(self, data: SandboxData) -> None:
        self.seed = data.seed
        self.clock = data.clock
        self.first_day: date = data.history_start.date()
        self.keys = openrouter_keys(self.seed)
        seed = self.seed
        self.workspaces: tuple[str, ...] = tuple(
            _uuid(seed, "openrouter", "workspace", n) for n in range(3)
        )
        """Workspace ids; the first is the account's default workspace."""
        inference = [self.keys.api_key] + [
            "sk-or-v1-" + digest(seed, "openrouter", "key", n, size=32).hex() for n in range(2)
        ]
        self.api_key_hashes: tuple[str, ...] = tuple(
            hashlib.sha256(key.encode()).hexdigest() for key in inference
        )
        self.users: tuple[str, ...] = tuple(
            "user_" + digest(seed, "openrouter", "user", n, size=12).hex() for n in range(3)
        )
        endpoints = []
        for slug, permaslug, providers, price_in, price_out in _MODELS:
            for name in providers:
                rng = HashRandom(seed, "openrouter", "endpoint", slug, name)
                endpoints.append(
                    OpenRouterEndpoint(
                        _uuid(seed, "openrouter", "endpoint", slug, name),
                        slug,
                        permaslug,
                        name,
                        Decimal(price_in) / 1_000_000,
                        Decimal(price_out) / 1_000_000,
                        rng.chance(0.25),
                    )
                )
        self.endpoints: tuple[OpenRouterEndpoint, ...] = tuple(endpoints)
        self.purchased: Decimal = Decimal(
            500 + HashRandom(seed, "openrouter", "credits").below(20) * 250
        )
        """Credits ever purchased, in dollars."""
        self._lock = threading.Lock()
        self._days: dict[date, list[OpenRouterRow]] = {}

    def today(self) -> date:
        """The sandbox clock's current UTC day."""
        return self.clock.now().date()

    def available(self) -> tuple[date, date]:
        """The days ``/activity`` answers for: the last 30 completed UTC days (inclusive)."""
        today = self.today()
        return today - timedelta(days=30), today - timedelta(days=1)

    def _make_day(self, day: date) -> list[OpenRouterRow]:
        rows = []
        weekday_factor = 1.0 if day.weekday() < 5 else 0.4
        for endpoint in self.endpoints:
            rng = HashRandom(self.seed, "openrouter", day.isoformat(), endpoint.endpoint_id)
            for workspace in self.workspaces:
                for key_hash in self.api_key_hashes:
                    for user in self.users:
                        if not rng.chance(0.12 * weekday_factor):
                            continue
                        requests = 1 + rng.poisson(6)
                        prompt = requests * max(1, round(1800 * rng.lognormal(0.8)))
                        completion = requests * max(1, round(350 * rng.lognormal(0.7)))
                        reasoning = (
                            rng.below(completion // 2 + 1) if endpoint.model in _REASONING else 0
                        )
                        jitter = Decimal(rng.between(900_000, 1_100_000)) / 1_000_000
                        cost = (
                            (prompt * endpoint.price_in + completion * endpoint.price_out) * jitter
                        ).quantize(_PLACES)
                        usage, byok = cost, Decimal(0)
                        if endpoint.byok:
                            usage, byok = (cost * _BYOK_FEE).quantize(_PLACES), cost
                        rows.append(
                            OpenRouterRow(
                                day,
                                endpoint,
                                workspace,
                                key_hash,
                                user,
                                usage,
                                byok,
                                requests,
                                prompt,
                                completion,
                                reasoning,
                            )
                        )
        return rows

    def day_rows(self, day: date) -> list[OpenRouterRow]:
        """Every finest-grain row of a day (none before the history or from today on)."""
        if day < self.first_day or day >= self.today():
            return []
        with self._lock:
            rows = self._days.get(day)
        if rows is None:
            rows = self._make_day(day)
            with self._lock:
                rows = self._days.setdefault(day, rows)
        return rows

    def rows(
        self,
        start: date,
        end: date,
        *,
        api_key_hash: str | None = None,
        user_id: str | None = None,
        workspace_id: str | None = None,
    ) -> list[OpenRouterRow]:
        """The rows of the days ``[start, end)`` that pass the filters."""
        found: list[OpenRouterRow] = []
        day = start
        while day < end:
            found.extend(
                row
                for row in self.day_rows(day)
                if (api_key_hash is None or row.api_key_hash == api_key_hash)
                and (user_id is None or row.user_id == user_id)
                and (workspace_id is None or row.workspace_id == workspace_id)
            )
            day += timedelta(days=1)
        return found

    def truth(
        self,
        start: date | datetime | str,
        end: date | datetime | str,
        *,
        api_key_hash: str | None = None,
        user_id: str | None = None,
        workspace_id: str | None = None,
    ) -> dict[str, Decimal]:
        """Ground truth: each metric summed straight from the rows of the days ``[start, end)``.

        Not clipped to the 30 days ``/activity`` serves: clip the window yourself.

        Args:
            start: The first day (a datetime or ISO-8601 text is taken as its UTC day).
            end: The day after the last (exclusive).
            api_key_hash: Only this key's rows.
            user_id: Only this member's rows.
            workspace_id: Only this workspace's rows.

        Returns:
            Sums by metric name (``cost`` is ``usage``), exact.
        """
        rows = self.rows(
            _day(start),
            _day(end),
            api_key_hash=api_key_hash,
            user_id=user_id,
            workspace_id=workspace_id,
        )
        return _sums(rows)

    def total_usage(self) -> Decimal:
        """Credits ever used: ``usage`` of every completed day of history."""
        return _sums(self.rows(self.first_day, self.today()))["cost"]


def _day(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = parse_iso8601(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value


def _sums(rows: Iterable[OpenRouterRow]) -> dict[str, Decimal]:
    sums = dict.fromkeys(METRICS, Decimal(0))
    for row in rows:
        sums["cost"] += row.usage
        sums["byok_usage_inference"] += row.byok_usage_inference
        sums["requests"] += row.requests
        sums["prompt_tokens"] += row.prompt_tokens
        sums["completion_tokens"] += row.completion_tokens
        sums["reasoning_tokens"] += row.reasoning_tokens
    return sums

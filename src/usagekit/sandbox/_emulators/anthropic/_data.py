"""The Anthropic emulator's data: deterministic from the seed, independent of the other tables.

Messages usage is made per hour as a few events (each at a minute, with its dimensions and
token counts); costs follow from the events at fixed prices (in fractional cents, standard and
batch tier only: Priority Tier is not in the cost report), plus web search and a daily code
execution charge; Claude Code is made per day and actor. The ground-truth methods sum the raw
rows directly, independently of the server's bucketing, grouping and paging.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import NamedTuple

from ..._util import DAY, HOUR, Clock, HashRandom, TimeLike, digest, floor_to, to_unix

__all__ = [
    "MODELS",
    "AnthropicData",
    "ClaudeCodeDay",
    "CostRow",
    "Event",
    "Model",
    "admin_key",
    "inference_key",
]

_UTC = timezone.utc
_MTOK = Decimal(1_000_000)


def admin_key(seed: int) -> str:
    """The Admin API key the emulator accepts for ``seed``."""
    return "sk-ant-admin01-" + digest(seed, "anthropic-admin", size=24).hex()


def inference_key(seed: int) -> str:
    """A normal (inference) API key of the same organization: answered with 403."""
    return "sk-ant-api03-" + digest(seed, "anthropic-inference", size=24).hex()


@dataclass(frozen=True)
class Model:
    """A model and its prices in dollars per million tokens (input, output)."""

    id: str
    display: str
    input_price: Decimal
    output_price: Decimal
    geo_capable: bool


MODELS: tuple[Model, ...] = (
    Model("claude-opus-4-6", "Claude Opus 4.6", Decimal(5), Decimal(25), True),
    Model("claude-sonnet-4-6", "Claude Sonnet 4.6", Decimal(3), Decimal(15), True),
    Model("claude-haiku-4-5", "Claude Haiku 4.5", Decimal(1), Decimal(5), False),
)
_MODELS = {m.id: m for m in MODELS}
_TOKEN_TYPES = (
    ("uncached_input_tokens", "Input Tokens", Decimal(1)),
    ("cache_read_input_tokens", "Cache Read Input Tokens", Decimal("0.1")),
    ("cache_creation.ephemeral_5m_input_tokens", "5m Cache Write Input Tokens", Decimal("1.25")),
    ("cache_creation.ephemeral_1h_input_tokens", "1h Cache Write Input Tokens", Decimal(2)),
    ("output_tokens", "Output Tokens", Decimal(0)),
)
USAGE_METRICS = (
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "output_tokens",
    "web_search_requests",
)
"""The usage counts of an event (as the SDK names its metrics)."""


class Event(NamedTuple):
    """One minute of one combination of dimensions, with its counts."""

    ts: int
    workspace_id: str | None
    api_key_id: str | None
    account_id: str | None
    service_account_id: str | None
    model: str
    service_tier: str
    context_window: str
    inference_geo: str
    speed: str
    uncached_input_tokens: int
    cache_read_input_tokens: int
    cache_creation_5m_input_tokens: int
    cache_creation_1h_input_tokens: int
    output_tokens: int
    web_search_requests: int

    def dims(self) -> dict[str, str | None]:
        """The groupable fields."""
        return {
            "account_id": self.account_id,
            "api_key_id": self.api_key_id,
            "context_window": self.context_window,
            "inference_geo": self.inference_geo,
            "model": self.model,
            "service_account_id": self.service_account_id,
            "service_tier": self.service_tier,
            "speed": self.speed,
            "workspace_id": self.workspace_id,
        }


class CostRow(NamedTuple):
    """One charge of one day, in cents."""

    day: int
    workspace_id: str | None
    description: str
    cost_type: str
    model: str | None
    token_type: str | None
    service_tier: str | None
    context_window: str | None
    inference_geo: str | None
    amount: Decimal


class ClaudeCodeDay(NamedTuple):
    """One actor's Claude Code record of one day (the JSON as the API sends it)."""

    day: int
    key: str
    body: dict[str, object]


class AnthropicData:
    """All the emulator's data for one seed.

    Args:
        seed: The data seed.
        clock: The sandbox clock (what is visible ends at its now).
        history_start_ts: The first instant with data (unix seconds).
    """

    def __init__(self, seed: int, clock: Clock, history_start_ts: int) -> None:
        self.seed = seed
        self.clock = clock
        self.history_start_ts = history_start_ts
        self.admin_key = admin_key(seed)
        self.inference_key = inference_key(seed)
        self.organization_id = digest(seed, "anthropic-org", size=16).hex()
        ids = [digest(seed, "anthropic-id", i, size=12).hex()[:22] for i in range(8)]
        self.workspaces: tuple[str | None, ...] = (None, f"wrkspc_{ids[0]}", f"wrkspc_{ids[1]}")
        self.api_keys: tuple[str | None, ...] = (
            None,
            f"apikey_{ids[2]}",
            f"apikey_{ids[3]}",
            f"apikey_{ids[4]}",
        )
        self.accounts: tuple[str | None, ...] = (None, f"user_{ids[5]}", f"user_{ids[6]}")
        self.service_account = f"svac_{ids[7]}"
        self._lock = threading.Lock()
        self._hours: dict[int, list[Event]] = {}

    @classmethod
    def for_sandbox(cls, data: object) -> AnthropicData:
        """The tables of a sandbox (same seed, clock and history as its ``SandboxData``)."""
        return cls(data.seed, data.clock, data.history_start_ts)  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- generation

    def _hour(self, hour: int) -> list[Event]:
        with self._lock:
            found = self._hours.get(hour)
        if found is not None:
            return found
        made = self._make_hour(hour)
        with self._lock:
            if len(self._hours) > 20_000:
                self._hours.clear()
            self._hours[hour] = made
        return made

    def _make_hour(self, hour: int) -> list[Event]:
        rng = HashRandom(self.seed, "anthropic-hour", hour)
        night = (hour // HOUR) % 24 < 6
        events = []
        for _ in range(rng.poisson(0.8 if night else 2.5)):
            model = rng.weighted(MODELS, (1, 3, 2))
            tier = rng.weighted(("standard", "batch", "priority"), (8, 2, 1))
            size = rng.lognormal(0.8)
            events.append(
                Event(
                    ts=hour + 60 * rng.below(60),
                    workspace_id=rng.weighted(self.workspaces, (3, 2, 1)),
                    api_key_id=rng.weighted(self.api_keys, (1, 4, 3, 2)),
                    account_id=rng.weighted(self.accounts, (4, 1, 1)),
                    service_account_id=self.service_account if rng.chance(0.1) else None,
                    model=model.id,
                    service_tier=tier,
                    context_window="200k-1M" if rng.chance(0.1) else "0-200k",
                    inference_geo=rng.pick(("global", "us"))
                    if model.geo_capable
                    else "not_available",
                    speed="fast" if rng.chance(0.05) else "standard",
                    uncached_input_tokens=round(4000 * size) + rng.below(100),
                    cache_read_input_tokens=round(20000 * size) if rng.chance(0.6) else 0,
                    cache_creation_5m_input_tokens=round(3000 * size) if rng.chance(0.4) else 0,
                    cache_creation_1h_input_tokens=round(2000 * size) if rng.chance(0.1) else 0,
                    output_tokens=round(900 * size) + rng.below(50),
                    web_search_requests=rng.below(4) if rng.chance(0.15) else 0,
                )
            )
        events.sort(key=lambda e: e.ts)
        return events

    def _visible_range(self, start: int, end: int) -> tuple[int, int]:
        return max(start, self.history_start_ts), min(end, self.clock.now_ts())

    def events(self, start: TimeLike, end: TimeLike) -> list[Event]:
        """The usage events of ``[start, end)`` that happened before now."""
        low, high = self._visible_range(to_unix(start), to_unix(end))
        out: list[Event] = []
        for hour in range(floor_to(low, HOUR), high, HOUR):
            out.extend(e for e in self._hour(hour) if low <= e.ts < high)
        return out

    def _event_costs(self, event: Event) -> Iterator[CostRow]:
        if event.service_tier == "priority":
            return  # Priority Tier is not in the cost report
        model = _MODELS[event.model]
        discount = Decimal("0.5") if event.service_tier == "batch" else Decimal(1)
        day = floor_to(event.ts, DAY)
        counts = (
            event.uncached_input_tokens,
            event.cache_read_input_tokens,
            event.cache_creation_5m_input_tokens,
            event.cache_creation_1h_input_tokens,
            event.output_tokens,
        )
        for (token_type, label, factor), tokens in zip(_TOKEN_TYPES, counts, strict=True):
            if not tokens:
                continue
            price = model.output_price if token_type == "output_tokens" else model.input_price
            if factor:
                price *= factor
            cents = Decimal(tokens) * price * 100 * discount / _MTOK
            yield CostRow(
                day,
                event.workspace_id,
                f"{model.display} Usage - {label}",
                "tokens",
                model.id,
                token_type,
                event.service_tier,
                event.context_window,
                event.inference_geo,
                cents,
            )
        if event.web_search_requests:
            yield CostRow(
                day,
                event.workspace_id,
                "Web Search Usage",
                "web_search",
                None,
                None,
                None,
                None,
                None,
                Decimal(event.web_search_requests),  # $10 per 1000 searches: 1 cent each
            )

    def finished_before(self) -> int:
        """Midnight UTC of the clock's day: the cost report and Claude Code end there."""
        return floor_to(self.clock.now_ts(), DAY)

    def cost_rows(self, start: TimeLike, end: TimeLike) -> list[CostRow]:
        """The charges of the finished days that start in ``[start, end)``."""
        low = max(floor_to(to_unix(start), DAY), floor_to(self.history_start_ts, DAY))
        high = min(to_unix(end), self.finished_before())
        rows: list[CostRow] = []
        for day in range(low, high, DAY):
            for event in self.events(day, day + DAY):
                rows.extend(self._event_costs(event))
            for workspace in self.workspaces:
                rng = HashRandom(self.seed, "anthropic-code-execution", day, workspace)
                if rng.chance(0.3):
                    hours = Decimal(rng.between(1, 40)) / 10
                    rows.append(
                        CostRow(
                            day,
                            workspace,
                            "Code Execution Usage",
                            "code_execution",
                            None,
                            None,
                            None,
                            None,
                            None,
                            hours * 5,  # $0.05 per container hour
                        )
                    )
        return rows

    def claude_code_day(self, day: date) -> list[ClaudeCodeDay]:
        """The Claude Code records of a UTC day (none before history, none for today yet)."""
        start = to_unix(datetime(day.year, day.month, day.day, tzinfo=_UTC))
        if start < floor_to(self.history_start_ts, DAY) or start >= self.finished_before():
            return []
        actors: list[tuple[str, dict[str, object], bool]] = [
            ("ada", {"type": "user_actor", "email_address": "ada@example.com"}, False),
            ("ada-web", {"type": "user_actor", "email_address": "ada@example.com"}, True),
            ("lin", {"type": "user_actor", "email_address": "lin@example.com"}, False),
            ("ci", {"type": "api_actor", "api_key_name": "ci-bot"}, False),
        ]
        out = []
        for key, actor, remote in actors:
            rng = HashRandom(self.seed, "anthropic-claude-code", start, key)
            if not rng.chance(0.7):
                continue
            breakdown = []
            for model in (MODELS[0], MODELS[1]):
                if not rng.chance(0.6):
                    continue
                breakdown.append(
                    {
                        "model": model.id,
                        "tokens": {
                            "input": rng.between(1000, 90000),
                            "output": rng.between(500, 30000),
                            "cache_read": rng.between(0, 500000),
                            "cache_creation": rng.between(0, 40000),
                        },
                        "estimated_cost": {"currency": "USD", "amount": rng.between(5, 900)},
                    }
                )
            tools = {
                name: {"accepted": rng.between(0, 40), "rejected": rng.between(0, 5)}
                for name in ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
                if rng.chance(0.6)
            }
            body: dict[str, object] = {
                "date": f"{day.isoformat()}T00:00:00Z",
                "actor": actor,
                "organization_id": self.organization_id,
                "customer_type": "api",
                "subscription_type": None,
                "terminal_type": "web" if remote else rng.pick(("vscode", "iTerm.app", "tmux")),
                "is_remote": remote,
                "core_metrics": {
                    "num_sessions": rng.between(1, 9),
                    "lines_of_code": {"added": rng.between(0, 900), "removed": rng.between(0, 200)},
                    "commits_by_claude_code": rng.between(0, 6),
                    "pull_requests_by_claude_code": rng.between(0, 2),
                },
                "tool_actions": tools,
                "model_breakdown": breakdown,
            }
            out.append(ClaudeCodeDay(start, key, body))
        return out

    # ---------------------------------------------------------------- ground truth

    def usage_totals(self, start: TimeLike, end: TimeLike) -> dict[str, int]:
        """Each usage count summed over the events of ``[start, end)`` (before now)."""
        totals = dict.fromkeys(USAGE_METRICS, 0)
        for event in self.events(start, end):
            for name in USAGE_METRICS:
                totals[name] += getattr(event, name)
        return totals

    def cost_total(self, start: TimeLike, end: TimeLike) -> Decimal:
        """The billed cost of the finished days in ``[start, end)``, in **dollars**, exact."""
        cents = sum((row.amount for row in self.cost_rows(start, end)), Decimal(0))
        return cents / 100

    def claude_code_totals(self, start: TimeLike, end: TimeLike) -> dict[str, Decimal]:
        """Claude Code's totals over the days starting in ``[start, end)`` (SDK metric names;
        the estimated cost in dollars)."""
        totals: dict[str, Decimal] = {}

        def add(name: str, value: object) -> None:
            totals[name] = totals.get(name, Decimal(0)) + Decimal(str(value))

        first = floor_to(to_unix(start), DAY)
        first = first if first == to_unix(start) else first + DAY
        for day in range(first, to_unix(end), DAY):
            moment = datetime.fromtimestamp(day, _UTC).date()
            for entry in self.claude_code_day(moment):
                body = entry.body
                core = body["core_metrics"]
                assert isinstance(core, dict)
                add("claude_code_sessions", core["num_sessions"])
                add("claude_code_lines_added", core["lines_of_code"]["added"])
                add("claude_code_lines_removed", core["lines_of_code"]["removed"])
                add("claude_code_commits", core["commits_by_claude_code"])
                add("claude_code_pull_requests", core["pull_requests_by_claude_code"])
                tools = body["tool_actions"]
                assert isinstance(tools, dict)
                for action in tools.values():
                    add("claude_code_tool_accepted", action["accepted"])
                    add("claude_code_tool_rejected", action["rejected"])
                models = body["model_breakdown"]
                assert isinstance(models, list)
                for item in models:
                    tokens = item["tokens"]
                    add("claude_code_input_tokens", tokens["input"])
                    add("claude_code_output_tokens", tokens["output"])
                    add("claude_code_cache_read_tokens", tokens["cache_read"])
                    add("claude_code_cache_creation_tokens", tokens["cache_creation"])
                    add(
                        "claude_code_estimated_cost",
                        Decimal(item["estimated_cost"]["amount"]) / 100,
                    )
        return totals

"""OpenAI's usage, made per hour and per stream, split into minutes, and the costs derived
from it: the rows :class:`~usagekit.sandbox.SandboxData` answers for OpenAI.

Each hour's rows are a pure function of ``(seed, kind, hour)``. Minute rows split each hour row
over a few minutes (exactly: the minute rows of an hour add up to the hour row); the hour that
contains ``now`` is the sum of its minutes before ``now``. Costs are derived from the hourly
rows (one cost row per hour row and line item, each amount quantized to 6 decimal places).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from ..._catalog import (
    CODE_INTERPRETER_SESSION,
    COMPLETION_PRICES,
    EMBEDDING_PRICES,
    FILE_SEARCH_CALL,
    IMAGE_PRICES,
    MILLION,
    OPENAI_ACTIVITY_OFFSET,
    SPEECH_PRICES,
    TIER_MULTIPLIER,
    TRANSCRIPTION_PRICES,
    VECTOR_STORE_GIB_HOUR,
    WEB_SEARCH_CALL,
    Stream,
)
from ..._rows import CostRow, Dim, UsageRow
from ..._util import DAY, HOUR, MINUTE, HashRandom, quantize_money
from ._kinds import OPENAI_KINDS, add_into, completion_metrics, split

if TYPE_CHECKING:
    from ..._data import SandboxData

__all__ = ["OpenAIUsage", "row_costs"]

_WEEK = 7 * DAY
_GIB = Decimal(2**30)


class OpenAIUsage:
    """OpenAI's rows of one :class:`~usagekit.sandbox.SandboxData`, generated on first use.

    Args:
        data: The sandbox data (its seed, catalog, clock and cache).
    """

    def __init__(self, data: SandboxData) -> None:
        self.data = data
        self._lock = threading.Lock()
        self._minutes: OrderedDict[tuple[str, int], list[list[UsageRow]]] = OrderedDict()

    def hour_rows(self, kind: str, hour: int) -> list[UsageRow]:
        """All rows of a complete hour (cached; ignores ``now``)."""
        return self.data._cached(("openai", kind, hour), lambda: self._generate(kind, hour))

    def _generate(self, kind: str, hour: int) -> list[UsageRow]:
        if kind == "vector_stores":
            return self._vector_store_levels(hour)
        rng = HashRandom(self.data.seed, "openai", kind, hour)
        rows = []
        for index, stream in enumerate(self.data.catalog.openai_streams[kind]):
            profile = stream.profile
            draw = rng.random()
            if profile.intermittent and not HashRandom(
                self.data.seed, "week", kind, index, hour // _WEEK
            ).chance(0.6):
                continue
            shape = self.data._shape("openai", hour, OPENAI_ACTIVITY_OFFSET, night=profile.night)
            if draw >= min(0.97, profile.probability * shape * 1.4):
                continue
            count = max(1, round(profile.volume * shape * rng.lognormal(0.45)))
            metrics = self._metrics(kind, stream, count, rng)
            rows.append(UsageRow(kind, hour, HOUR, dict(stream.dims), metrics))
        return rows

    def _metrics(self, kind: str, stream: Stream, count: int, rng: HashRandom) -> dict[str, int]:
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
        return completion_metrics(
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
        for project_id, base, growth in self.data.catalog.vector_store_projects:
            jitter = HashRandom(self.data.seed, "vector-store", project_id, day).uniform(
                -0.03, 0.03
            )
            level = (
                base * (1.0 + jitter) + growth * (day - reference_day) + growth * (hour % DAY) / DAY
            )
            if level > 0:
                dims: dict[str, Dim] = {"project_id": project_id}
                rows.append(
                    UsageRow("vector_stores", hour, HOUR, dims, {"usage_bytes": int(level)})
                )
        return rows

    def minute_split(self, kind: str, hour: int) -> list[list[UsageRow]]:
        """The minute rows of each hour row (same order as the hour rows)."""
        key = (kind, hour)
        with self._lock:
            cached = self._minutes.get(key)
            if cached is not None:
                self._minutes.move_to_end(key)
                return cached
        spec = OPENAI_KINDS[kind]
        result = []
        for index, row in enumerate(self.hour_rows(kind, hour)):
            if spec.level:
                result.append(
                    [
                        UsageRow(kind, hour + m * MINUTE, MINUTE, row.dims, row.metrics)
                        for m in range(60)
                    ]
                )
                continue
            rng = HashRandom(self.data.seed, "minutes", kind, hour, index)
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
                    columns.append([1 + extra for extra in split(value - count, cumulative)])
                else:
                    columns.append(split(value, cumulative))
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

    def visible_hour(self, kind: str, hour: int, now: int) -> list[UsageRow]:
        """Hour rows as of ``now``: complete, partial (the current hour) or none."""
        if hour < self.data.history_start_ts or hour >= now:
            return []
        if hour + HOUR <= now or OPENAI_KINDS[kind].level:
            return self.hour_rows(kind, hour)
        partial = []
        spec = OPENAI_KINDS[kind]
        for hour_row, minutes in zip(
            self.hour_rows(kind, hour), self.minute_split(kind, hour), strict=True
        ):
            seen = [m for m in minutes if m.start < now]
            if seen:
                totals: dict[str, int] = dict.fromkeys(spec.metrics, 0)
                for minute_row in seen:
                    add_into(totals, minute_row.metrics)
                partial.append(UsageRow(kind, hour, HOUR, hour_row.dims, totals))
        return partial

    def hour_costs(self, hour: int, now: int) -> list[CostRow]:
        if hour + HOUR <= now:
            return self.data._cached(("costs", hour), lambda: self._make_costs(hour, now))
        return self._make_costs(hour, now)

    def _make_costs(self, hour: int, now: int) -> list[CostRow]:
        costs: list[CostRow] = []
        for kind in OPENAI_KINDS:
            for row in self.visible_hour(kind, hour, now):
                costs.extend(row_costs(row))
        return costs


def row_costs(row: UsageRow) -> Iterator[CostRow]:
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

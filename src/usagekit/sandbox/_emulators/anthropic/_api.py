"""Anthropic's Admin API: ``usage_report/messages``, ``cost_report``, ``usage_report/claude_code``.

Mounted under ``/anthropic`` (the base URL is ``<sandbox>/anthropic``), so that its
``/v1/organizations/...`` paths never meet OpenAI's ``/v1/organization/...``. Array parameters
are read as ``name[]`` (a bare ``name`` is accepted too). Buckets are aligned to UTC boundaries
of their width, oldest first, empty ones included with ``results: []``; ``limit`` counts buckets.
The cost report has only finished UTC days: ``ending_at`` is clipped to today's midnight, and a
window with no finished day is the observed 400. Cursors are ``page_`` + base64 of the next
position and a checksum of the query: another query's cursor is a 400. Errors are
``{"type": "error", "error": {"type", "message"}, "request_id"}`` with a ``request-id`` header.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from ..._http import HttpError, Provider, Request, Response, json_response, retry_after_seconds
from ..._util import DAY, HOUR, MINUTE, floor_to, parse_iso8601, to_unix
from ._data import AnthropicData, Event

if TYPE_CHECKING:
    from ..._data import SandboxData

__all__ = ["AnthropicProvider"]

_UTC = timezone.utc
_MOUNT = "/anthropic"
_PATHS = {
    "/v1/organizations/usage_report/messages": "usage_report/messages",
    "/v1/organizations/cost_report": "cost_report",
    "/v1/organizations/usage_report/claude_code": "usage_report/claude_code",
}
_WIDTHS = {"1m": MINUTE, "1h": HOUR, "1d": DAY}
_LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}
_GROUPS = (
    "account_id",
    "api_key_id",
    "context_window",
    "inference_geo",
    "model",
    "service_account_id",
    "service_tier",
    "speed",
    "workspace_id",
)
_FILTERS: Mapping[str, tuple[str, tuple[str, ...] | None]] = {
    "api_key_ids": ("api_key_id", None),
    "workspace_ids": ("workspace_id", None),
    "models": ("model", None),
    "service_tiers": (
        "service_tier",
        ("standard", "batch", "priority", "priority_on_demand", "flex", "flex_discount"),
    ),
    "context_window": ("context_window", ("0-200k", "200k-1M")),
    "inference_geos": ("inference_geo", ("global", "us", "not_available")),
    "speeds": ("speed", ("standard", "fast")),
    "account_ids": ("account_id", None),
    "service_account_ids": ("service_account_id", None),
}
_COST_GROUPS = ("workspace_id", "description")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_FAST_MODE = "fast-mode-2026-02-01"
_FIVE_PLACES = Decimal("0.00001")


def _error(status: int, message: str, kind: str | None = None) -> Response:
    request_id = "req_" + uuid.uuid4().hex[:24]
    body = {
        "type": "error",
        "error": {"type": kind or _ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": request_id,
    }
    return json_response(status, body, [("request-id", request_id)])


def _invalid(message: str) -> HttpError:
    return HttpError(_error(400, message))


def _rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, _UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cents(value: Decimal) -> str:
    """A cost report amount: a decimal string of cents, at least five places."""
    if value.as_tuple().exponent > -5:  # type: ignore[operator]
        value = value.quantize(_FIVE_PLACES)
    return f"{value:f}"


class _Query:
    """Validated access to a query string."""

    def __init__(self, query: Mapping[str, Sequence[str]], allowed: Sequence[str]) -> None:
        for name in query:
            if name not in allowed:
                raise _invalid(f"{name}: Extra inputs are not permitted")
        self._query = query

    def single(self, name: str) -> str | None:
        values = self._query.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise _invalid(f"{name}: expected a single value")
        return values[0]

    def instant(self, name: str, *, required: bool) -> int | None:
        text = self.single(name)
        if text is None:
            if required:
                raise _invalid(f"{name}: Field required")
            return None
        try:
            return to_unix(parse_iso8601(text))
        except (ValueError, OverflowError):
            raise _invalid(f"{name}: Input should be a valid datetime, got '{text}'") from None

    def limit(self, default: int, maximum: int) -> int:
        text = self.single("limit")
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise _invalid(f"limit: Input should be a valid integer, got '{text}'") from None
        if not 1 <= value <= maximum:
            raise _invalid(f"limit: must be between 1 and {maximum}, got {value}")
        return value

    def array(self, name: str, choices: Sequence[str] | None = None) -> list[str]:
        values = list(dict.fromkeys(self._query.get(name, ())))
        for value in values:
            if choices is not None and value not in choices:
                allowed = ", ".join(f"'{c}'" for c in choices)
                raise _invalid(f"{name}[]: Input should be {allowed}, got '{value}'")
        return values

    def checksum(self, endpoint: str) -> str:
        pairs = sorted((k, v) for k, values in self._query.items() if k != "page" for v in values)
        text = endpoint + "?" + "&".join(f"{k}={v}" for k, v in pairs)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _encode(position: str, checksum: str) -> str:
    return "page_" + base64.urlsafe_b64encode(f"{position}|{checksum}".encode()).decode()


def _decode(cursor: str, checksum: str) -> str:
    try:
        if not cursor.startswith("page_"):
            raise ValueError(cursor)
        position, _, check = base64.urlsafe_b64decode(cursor[5:].encode()).decode().partition("|")
    except (ValueError, UnicodeDecodeError):
        raise _invalid("page: invalid pagination cursor") from None
    if check != checksum:
        raise _invalid("page: the cursor belongs to a different query")
    return position


class AnthropicProvider(Provider):
    """The Anthropic Admin API's usage and cost reports, with their own data tables.

    Args:
        data: The sandbox data (its seed, clock and history start are shared; the tables are
            this emulator's own, see :class:`AnthropicData`).
    """

    name = "anthropic"
    prefix = _MOUNT + "/"

    def __init__(self, data: SandboxData) -> None:
        super().__init__(data)
        self.tables = AnthropicData.for_sandbox(data)

    def endpoint(self, path: str) -> str | None:
        """The endpoint of a path under ``/anthropic``."""
        return _PATHS.get(path.rstrip("/").removeprefix(_MOUNT))

    def credential(self, request: Request) -> str | None:
        """The ``x-api-key`` header."""
        return request.header("x-api-key")

    def error(self, status: int, message: str | None = None) -> Response:
        """An Anthropic-shaped error."""
        defaults = {
            404: "Not found",
            405: "Method not allowed",
            500: "Internal server error",
            503: "Service unavailable",
            529: "Overloaded",
        }
        return _error(status, message or defaults.get(status, self.reason(status)))

    def not_found(self, method: str, path: str) -> Response:
        """The answer to an unknown path."""
        return self.error(404, f"Not found: {method} {path}")

    def rate_limited(self, wait_ms: int) -> Response:
        """429 ``rate_limit_error`` with ``retry-after`` in seconds."""
        response = _error(429, "Number of requests has exceeded your rate limit.")
        response.headers.append(("retry-after", retry_after_seconds(wait_ms)))
        return response

    def _authorize(self, request: Request) -> None:
        key = request.header("x-api-key")
        if not key:
            raise HttpError(_error(401, "x-api-key header is required"))
        if key == self.tables.inference_key:
            raise HttpError(
                _error(
                    403,
                    "This endpoint requires an Admin API key (sk-ant-admin...); a standard API "
                    "key cannot access organization usage or costs.",
                )
            )
        if key != self.tables.admin_key:
            raise HttpError(_error(401, "invalid x-api-key"))
        if not request.header("anthropic-version"):
            raise _invalid("anthropic-version: header is required")

    def handle(self, endpoint: str, request: Request) -> Response:
        """Answer one of the three reports."""
        self._authorize(request)
        if endpoint == "cost_report":
            return self._costs(request)
        if endpoint == "usage_report/claude_code":
            return self._claude_code(request)
        return self._usage(request)

    # ---------------------------------------------------------------- buckets

    def _buckets(
        self, query: _Query, endpoint: str, width: int, start: int, end: int, limit: int
    ) -> tuple[list[int], str | None]:
        checksum = query.checksum(endpoint)
        first = floor_to(start, width)
        page_start = first
        cursor = query.single("page")
        if cursor is not None:
            try:
                page_start = int(_decode(cursor, checksum))
            except ValueError:
                raise _invalid("page: invalid pagination cursor") from None
            if page_start < first or (page_start - first) % width or page_start >= end:
                raise _invalid("page: the cursor is out of range for this query")
        buckets = [b for b in range(page_start, page_start + limit * width, width) if b < end]
        following = page_start + limit * width
        return buckets, _encode(str(following), checksum) if following < end else None

    @staticmethod
    def _page(data: list[dict[str, object]], next_page: str | None) -> Response:
        return json_response(
            200, {"data": data, "has_more": next_page is not None, "next_page": next_page}
        )

    def _usage(self, request: Request) -> Response:
        allowed = ("starting_at", "ending_at", "bucket_width", "limit", "page", "group_by")
        query = _Query(request.query, (*allowed, *_FILTERS))
        width_name = query.single("bucket_width") or "1d"
        if width_name not in _WIDTHS:
            raise _invalid(f"bucket_width: Input should be '1d', '1h' or '1m', got '{width_name}'")
        width = _WIDTHS[width_name]
        start = query.instant("starting_at", required=True)
        assert start is not None
        end = query.instant("ending_at", required=False)
        end = self.data.clock.now_ts() if end is None else end
        if end <= start:
            raise _invalid("Invalid date range: ending date must be after starting date")
        group_by = query.array("group_by", _GROUPS)
        if len(group_by) > 5:
            raise _invalid("Cannot specify more than 5 group_by[] dimensions.")
        betas = request.header("anthropic-beta") or ""
        fast = _FAST_MODE in [b.strip() for b in betas.split(",")]
        if not fast and ("speed" in group_by or query.array("speeds")):
            raise _invalid(f"speed requires the anthropic-beta header {_FAST_MODE}")
        filters = {
            field: set(values)
            for name, (field, choices) in _FILTERS.items()
            if (values := query.array(name, choices))
        }
        default, maximum = _LIMITS[width_name]
        limit = query.limit(default, maximum)
        buckets, next_page = self._buckets(query, "messages", width, start, end, limit)
        events: list[Event] = []
        if buckets:
            events = self.tables.events(buckets[0], buckets[-1] + width)
        grouped: dict[int, dict[tuple[str | None, ...], list[int]]] = {b: {} for b in buckets}
        for event in events:
            dims = event.dims()
            if any(dims[field] not in wanted for field, wanted in filters.items()):
                continue
            key = tuple(dims[g] if g in group_by else None for g in _GROUPS)
            totals = grouped[floor_to(event.ts, width)].setdefault(key, [0] * 6)
            for i, value in enumerate(event[10:16]):
                totals[i] += value
        data: list[dict[str, object]] = []
        for bucket in buckets:
            results = []
            for key, t in sorted(
                grouped[bucket].items(), key=lambda kv: [(v is None, v or "") for v in kv[0]]
            ):
                row: dict[str, object] = {
                    "uncached_input_tokens": t[0],
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": t[2],
                        "ephemeral_1h_input_tokens": t[3],
                    },
                    "cache_read_input_tokens": t[1],
                    "output_tokens": t[4],
                    "server_tool_use": {"web_search_requests": t[5]},
                }
                dims = dict(zip(_GROUPS, key, strict=True))
                if "speed" not in group_by:
                    dims.pop("speed")
                row.update(dims)
                results.append(row)
            data.append(
                {
                    "starting_at": _rfc3339(bucket),
                    "ending_at": _rfc3339(bucket + width),
                    "results": results,
                }
            )
        return self._page(data, next_page)

    def _costs(self, request: Request) -> Response:
        query = _Query(
            request.query, ("starting_at", "ending_at", "bucket_width", "limit", "page", "group_by")
        )
        width_name = query.single("bucket_width") or "1d"
        if width_name != "1d":
            raise _invalid(f"bucket_width: Input should be '1d', got '{width_name}'")
        start = query.instant("starting_at", required=True)
        assert start is not None
        end = query.instant("ending_at", required=False)
        finished = self.tables.finished_before()
        end = finished if end is None else min(end, finished)
        if end <= floor_to(start, DAY):
            raise _invalid("Invalid date range: ending date must be after starting date")
        group_by = query.array("group_by", _COST_GROUPS)
        limit = query.limit(7, 31)
        buckets, next_page = self._buckets(query, "cost", DAY, start, end, limit)
        rows = self.tables.cost_rows(buckets[0], buckets[-1] + DAY) if buckets else []
        by_description = "description" in group_by
        grouped: dict[int, dict[tuple[str | None, ...], Decimal]] = {b: {} for b in buckets}
        for row in rows:
            detail: tuple[str | None, ...] = (None,) * 7
            if by_description:
                detail = (
                    row.cost_type,
                    row.description,
                    row.model,
                    row.token_type,
                    row.service_tier,
                    row.context_window,
                    row.inference_geo,
                )
            key = (row.workspace_id if "workspace_id" in group_by else None, *detail)
            day = grouped[row.day]
            day[key] = day.get(key, Decimal(0)) + row.amount
        fields = (
            "workspace_id",
            "cost_type",
            "description",
            "model",
            "token_type",
            "service_tier",
            "context_window",
            "inference_geo",
        )
        data: list[dict[str, object]] = []
        for bucket in buckets:
            results = [
                {"amount": _cents(amount), "currency": "USD", **dict(zip(fields, key, strict=True))}
                for key, amount in sorted(
                    grouped[bucket].items(), key=lambda kv: [(v is None, v or "") for v in kv[0]]
                )
            ]
            data.append(
                {
                    "starting_at": _rfc3339(bucket),
                    "ending_at": _rfc3339(bucket + DAY),
                    "results": results,
                }
            )
        return self._page(data, next_page)

    def _claude_code(self, request: Request) -> Response:
        query = _Query(request.query, ("starting_at", "limit", "page"))
        text = query.single("starting_at")
        if text is None:
            raise _invalid("starting_at: Field required")
        try:
            day: date = parse_iso8601(text).date()
        except ValueError:
            raise _invalid(f"starting_at: Input should be a valid date, got '{text}'") from None
        limit = query.limit(20, 1000)
        records = self.tables.claude_code_day(day)
        checksum = query.checksum("claude_code")
        offset = 0
        cursor = query.single("page")
        if cursor is not None:
            try:
                offset = int(_decode(cursor, checksum))
            except ValueError:
                raise _invalid("page: invalid pagination cursor") from None
            if not 0 <= offset < len(records):
                raise _invalid("page: the cursor is out of range for this query")
        chunk = records[offset : offset + limit]
        following = offset + limit
        next_page = _encode(str(following), checksum) if following < len(records) else None
        return self._page([r.body for r in chunk], next_page)

"""OpenAI organization usage and costs endpoints.

Buckets are aligned to UTC boundaries of their width: ``start_time`` is floored to the
bucket that contains it and every bucket is whole (it holds all usage from its start to its
end, up to ``now``). Every bucket that starts before ``end_time`` is returned, empty ones with
``results: []``. ``limit`` counts buckets per page; ``next_page`` is an opaque cursor (the next
bucket's start plus a checksum of the query) that only the same query accepts.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from ..._http import HttpError, Provider, Request, Response, json_response
from ..._rows import CostRow, Dim, UsageRow
from ..._util import DAY, HOUR, MINUTE, floor_to, money
from ._kinds import OPENAI_KINDS, KindSpec

if TYPE_CHECKING:
    from ..._faults import FaultSettings

__all__ = ["OpenAIProvider", "PagingMode"]

_WIDTHS = {"1m": MINUTE, "1h": HOUR, "1d": DAY}
_LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}
_COST_LIMITS = (7, 180)
_ENUMS: dict[str, tuple[str, ...]] = {
    "sources": ("image.generation", "image.edit", "image.variation"),
    "sizes": ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792"),
    "context_levels": ("low", "medium", "high"),
}
_COST_GROUPS = ("project_id", "line_item", "api_key_id")
_COMMON = ("start_time", "end_time", "bucket_width", "group_by", "limit", "page")


class PagingMode:
    """How pages end: normally, never (``endless``), or with a cursor seen before (``cycle``)."""

    NORMAL = "normal"
    ENDLESS = "endless"
    CYCLE = "cycle"


def _invalid(message: str, param: str | None, code: str = "invalid_value") -> HttpError:
    return HttpError(_error(400, message, "invalid_request_error", param, code))


def _error(status: int, message: str, kind: str, param: str | None, code: str | None) -> Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return json_response(status, body)


def _number(value: Decimal) -> int | Decimal:
    """A JSON number: an int for whole values, else the exact 6-place decimal."""
    if value == value.to_integral_value():
        return int(value)
    return money(value)


def _equals(dim: str, wanted: bool) -> Callable[[Mapping[str, Dim]], bool]:
    return lambda dims: dims[dim] is wanted


def _member(dim: str, values: frozenset[str]) -> Callable[[Mapping[str, Dim]], bool]:
    return lambda dims: dims[dim] in values


def _sort_key(key: tuple[Dim, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, str(value)) for value in key)


class _Query:
    """Validated access to a query string."""

    def __init__(self, query: Mapping[str, Sequence[str]], allowed: Sequence[str]) -> None:
        for name in query:
            if name not in allowed:
                raise _invalid(
                    f"Unrecognized request argument supplied: {name}", name, "unknown_parameter"
                )
        self._query = query

    def single(self, name: str) -> str | None:
        values = self._query.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise _invalid(f"'{name}' was given more than once.", name)
        return values[0]

    def integer(self, name: str) -> int | None:
        text = self.single(name)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise _invalid(f"Invalid '{name}': expected an integer, got '{text}'.", name) from None

    def array(self, name: str, choices: Sequence[str] | None = None) -> list[str]:
        values = list(dict.fromkeys(self._query.get(name, ())))
        for value in values:
            if choices is not None and value not in choices:
                allowed = ", ".join(f"'{c}'" for c in choices)
                raise _invalid(
                    f"Invalid value '{value}' for '{name}'. Supported values are: {allowed}.", name
                )
        return values

    def checksum(self, path: str) -> bytes:
        pairs = sorted((k, v) for k, values in self._query.items() if k != "page" for v in values)
        text = path + "?" + "&".join(f"{k}={v}" for k, v in pairs)
        return hashlib.sha256(text.encode("utf-8")).digest()[:8]


class OpenAIProvider(Provider):
    """``/v1/organization/usage/*`` and ``/v1/organization/costs``."""

    name = "openai"
    prefix = "/v1/"

    paging: str = PagingMode.NORMAL

    def apply_settings(self, settings: FaultSettings) -> None:
        """Page as the settings say: normally, endlessly or back to a cursor seen before.

        Args:
            settings: The settings in force (``endless_cursor``, ``cursor_cycle``).
        """
        if settings.endless_cursor:
            self.paging = PagingMode.ENDLESS
        elif settings.cursor_cycle:
            self.paging = PagingMode.CYCLE
        else:
            self.paging = PagingMode.NORMAL

    def endpoint(self, path: str) -> str | None:
        """Name the endpoint: ``costs`` or ``usage/<kind>``."""
        if path.rstrip("/") == "/v1/organization/costs":
            return "costs"
        head, _, kind = path.rstrip("/").rpartition("/")
        if head == "/v1/organization/usage" and kind in OPENAI_KINDS:
            return f"usage/{kind}"
        return None

    # ---------------------------------------------------------------- errors

    def error(self, status: int, message: str | None = None) -> Response:
        """An OpenAI-shaped error."""
        if status == 404:
            return _error(404, message or "Invalid URL", "invalid_request_error", None, None)
        if status == 405:
            return _error(405, message or "Method not allowed", "invalid_request_error", None, None)
        if status == 503:
            text = message or "The server is overloaded or not ready yet."
            return _error(503, text, "server_error", None, None)
        text = message or "The server had an error while processing your request. Sorry about that!"
        return _error(status, text, "server_error", None, None)

    def rate_limited(self, wait_ms: int) -> Response:
        """429 with ``retry-after`` (whole seconds, rounded up) and ``retry-after-ms``."""
        response = _error(
            429,
            f"Rate limit reached for requests. Please try again in {wait_ms}ms.",
            "requests",
            None,
            "rate_limit_exceeded",
        )
        response.headers += [
            ("retry-after", str(max(1, math.ceil(wait_ms / 1000)))),
            ("retry-after-ms", str(wait_ms)),
        ]
        return response

    # ---------------------------------------------------------------- requests

    def _authorize(self, request: Request) -> None:
        token = self.bearer(request)
        catalog = self.data.catalog
        if token is None:
            raise HttpError(
                _error(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                    None,
                    None,
                )
            )
        if token == catalog.openai_admin_key:
            return
        if token == catalog.openai_project_key:
            raise HttpError(
                _error(
                    403,
                    "This endpoint requires an admin API key (sk-admin-...). Project API keys "
                    "(sk-proj-...) cannot read organization usage or costs: create an admin key "
                    "in the organization settings.",
                    "invalid_request_error",
                    None,
                    "insufficient_permissions",
                )
            )
        masked = (
            token[:8] + "*" * max(0, len(token) - 12) + token[-4:] if len(token) > 12 else "***"
        )
        raise HttpError(
            _error(
                401,
                f"Incorrect API key provided: {masked}.",
                "invalid_request_error",
                None,
                "invalid_api_key",
            )
        )

    def handle(self, endpoint: str, request: Request) -> Response:
        """Answer a usage or costs request."""
        self._authorize(request)
        if endpoint == "costs":
            query = _Query(request.query, (*_COMMON, "project_ids", "api_key_ids"))
            return self._costs(query, request.path)
        spec = OPENAI_KINDS[endpoint.partition("/")[2]]
        query = _Query(request.query, (*_COMMON, *spec.filters))
        return self._usage(spec, query, request.path)

    def _window(
        self, query: _Query, path: str, width_name: str, limits: tuple[int, int]
    ) -> tuple[list[int], int, str | None]:
        """Resolve start/end/limit/page into this page's bucket starts.

        Returns:
            (bucket starts, bucket width, next_page or None).
        """
        width = _WIDTHS[width_name]
        start = query.integer("start_time")
        if start is None:
            raise _invalid(
                "Missing required parameter: 'start_time'.",
                "start_time",
                "missing_required_parameter",
            )
        if start < 0:
            raise _invalid("'start_time' must be a non-negative unix timestamp.", "start_time")
        end = query.integer("end_time")
        if end is None:
            end = self.data.clock.now_ts()
        if end <= start:
            raise _invalid("'end_time' must be after 'start_time'.", "end_time")
        default, maximum = limits
        limit = query.integer("limit")
        if limit is None:
            limit = default
        if not 1 <= limit <= maximum:
            raise _invalid(
                f"Invalid 'limit': {limit}. For bucket_width={width_name} it must be between 1 "
                f"and {maximum}.",
                "limit",
            )
        checksum = query.checksum(path)
        first = floor_to(start, width)
        page_start = first
        cursor = query.single("page")
        if cursor is not None:
            page_start = self._decode(cursor, checksum)
            beyond = self.paging == PagingMode.NORMAL and page_start >= end
            if page_start < first or (page_start - first) % width or beyond:
                raise _invalid(
                    "The 'page' cursor is out of range for this query.", "page", "invalid_cursor"
                )
        buckets = [b for b in range(page_start, page_start + limit * width, width) if b < end]
        following = page_start + limit * width
        next_page = None
        if following < end or self.paging == PagingMode.ENDLESS:
            next_page = self._encode(following, checksum)
        elif self.paging == PagingMode.CYCLE:
            second = first + limit * width
            next_page = self._encode(second if second < end else first, checksum)
        return buckets, width, next_page

    @staticmethod
    def _encode(start: int, checksum: bytes) -> str:
        return "page_" + base64.urlsafe_b64encode(struct.pack(">q", start) + checksum).decode()

    @staticmethod
    def _decode(cursor: str, checksum: bytes) -> int:
        try:
            if not cursor.startswith("page_"):
                raise ValueError(cursor)
            raw = base64.urlsafe_b64decode(cursor[5:].encode("ascii"))
            if len(raw) != 16:
                raise ValueError(cursor)
        except ValueError:
            raise _invalid("Invalid 'page' cursor.", "page", "invalid_cursor") from None
        if raw[8:] != checksum:
            raise _invalid(
                "The 'page' cursor belongs to a different query: pass the same parameters as "
                "the request that returned it.",
                "page",
                "invalid_cursor",
            )
        start: int = struct.unpack(">q", raw[:8])[0]
        return start

    @staticmethod
    def _page(buckets: list[dict[str, object]], next_page: str | None) -> Response:
        body = {
            "object": "page",
            "data": buckets,
            "has_more": next_page is not None,
            "next_page": next_page,
        }
        return json_response(200, body)

    def _usage(self, spec: KindSpec, query: _Query, path: str) -> Response:
        width_name = query.single("bucket_width") or "1d"
        if width_name not in _WIDTHS:
            raise _invalid(
                f"Invalid 'bucket_width': '{width_name}'. Supported values are: '1m', '1h', '1d'.",
                "bucket_width",
            )
        group_by = query.array("group_by")
        for name in group_by:
            if name not in spec.group_by:
                supported = ", ".join(spec.group_by)
                raise _invalid(
                    f"Invalid 'group_by' field '{name}' for {spec.name}. Supported fields: "
                    f"{supported}.",
                    "group_by",
                )
        checks = self._filters(spec, query)
        buckets, width, next_page = self._window(query, path, width_name, _LIMITS[width_name])
        rows: list[UsageRow] = []
        if buckets:
            grain: Literal["hour", "minute"] = "minute" if width == MINUTE else "hour"
            rows = self.data.openai_rows(spec.name, buckets[0], buckets[-1] + width, grain=grain)
        rows = [r for r in rows if all(check(r.dims) for check in checks)]
        grouped: dict[int, dict[tuple[Dim, ...], dict[str, int]]] = {b: {} for b in buckets}
        levels: dict[int, dict[tuple[Dim, ...], dict[Dim, int]]] = {b: {} for b in buckets}
        for row in rows:
            bucket = floor_to(row.start, width)
            key = tuple(row.dims[d] if d in group_by else None for d in spec.dims)
            if spec.level:
                # A level: the bucket reports each project's last value, never a sum over time.
                last = levels[bucket].setdefault(key, {})
                last[row.dims["project_id"]] = row.metrics["usage_bytes"]
                continue
            totals = grouped[bucket].setdefault(key, dict.fromkeys(spec.metrics, 0))
            for name, value in row.metrics.items():
                totals[name] += value
        if spec.level:
            for bucket, by_key in levels.items():
                for key, last in by_key.items():
                    grouped[bucket][key] = {"usage_bytes": sum(last.values())}
        data = []
        for bucket in buckets:
            results = [
                {"object": spec.object, **metrics, **dict(zip(spec.dims, key, strict=True))}
                for key, metrics in sorted(grouped[bucket].items(), key=lambda kv: _sort_key(kv[0]))
            ]
            data.append(
                {
                    "object": "bucket",
                    "start_time": bucket,
                    "end_time": bucket + width,
                    "results": results,
                }
            )
        return self._page(data, next_page)

    def _filters(self, spec: KindSpec, query: _Query) -> list[Callable[[Mapping[str, Dim]], bool]]:
        checks: list[Callable[[Mapping[str, Dim]], bool]] = []
        for param, dim in spec.filters.items():
            if param == "batch":
                text = query.single("batch")
                if text is None:
                    continue
                if text.lower() not in ("true", "false"):
                    raise _invalid(f"Invalid 'batch': expected a boolean, got '{text}'.", "batch")
                wanted = text.lower() == "true"
                checks.append(_equals(dim, wanted))
                continue
            values = query.array(param, _ENUMS.get(param))
            if values:
                checks.append(_member(dim, frozenset(values)))
        return checks

    def _costs(self, query: _Query, path: str) -> Response:
        width_name = query.single("bucket_width") or "1d"
        if width_name != "1d":
            raise _invalid(
                f"Invalid 'bucket_width': '{width_name}'. Costs only support '1d'.", "bucket_width"
            )
        group_by = query.array("group_by")
        for name in group_by:
            if name not in _COST_GROUPS:
                raise _invalid(
                    f"Invalid 'group_by' field '{name}' for costs. Supported fields: "
                    "project_id, line_item, api_key_id.",
                    "group_by",
                )
        projects = set(query.array("project_ids"))
        keys = set(query.array("api_key_ids"))
        buckets, width, next_page = self._window(query, path, width_name, _COST_LIMITS)
        rows: list[CostRow] = []
        if buckets:
            rows = self.data.openai_cost_rows(buckets[0], buckets[-1] + width)
        totals: dict[int, dict[tuple[str | None, ...], tuple[Decimal, Decimal, str]]] = {
            b: {} for b in buckets
        }
        for row in rows:
            if (projects and row.project_id not in projects) or (
                keys and row.api_key_id not in keys
            ):
                continue
            key = tuple(getattr(row, f) if f in group_by else None for f in _COST_GROUPS)
            amount, quantity, _ = totals[floor_to(row.start, width)].get(
                key, (Decimal(0), Decimal(0), "")
            )
            totals[floor_to(row.start, width)][key] = (
                amount + row.amount,
                quantity + row.quantity,
                row.quantity_unit,
            )
        data = []
        by_line_item = "line_item" in group_by
        for bucket in buckets:
            results = []
            for key, (amount, quantity, unit) in sorted(
                totals[bucket].items(), key=lambda kv: _sort_key(kv[0])
            ):
                project_id, line_item, api_key_id = key
                results.append(
                    {
                        "object": "organization.costs.result",
                        "amount": {"value": _number(amount), "currency": "usd"},
                        "line_item": line_item,
                        "project_id": project_id,
                        "api_key_id": api_key_id,
                        "quantity": _number(quantity) if by_line_item else None,
                        "quantity_unit": unit if by_line_item else None,
                    }
                )
            data.append(
                {
                    "object": "bucket",
                    "start_time": bucket,
                    "end_time": bucket + width,
                    "results": results,
                }
            )
        return self._page(data, next_page)

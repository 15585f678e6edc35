"""OpenRouter ``GET /api/v1/activity``, ``/credits`` and ``/key``, with its error shapes."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..._http import HttpError, Provider, Request, Response, json_response, retry_after_seconds
from ._data import OpenRouterData, OpenRouterRow

if TYPE_CHECKING:
    from ..._data import SandboxData

__all__ = ["OpenRouterProvider"]

PREFIX = "/openrouter/api/v1/"
"""Where the emulator answers (OpenRouter's own base path, ``/api/v1``, behind ``/openrouter``)."""

_ENDPOINTS = {"activity", "credits", "key"}
_MANAGEMENT_ONLY = "Only management keys can perform this operation"
_OUTSIDE = "Date must be within the last 30 (completed) UTC days"


class OpenRouterProvider(Provider):
    """OpenRouter's management API (activity and credits), over its own data tables.

    Args:
        data: The sandbox data (only its seed, clock and first day of history are used).
    """

    name = "openrouter"
    prefix = PREFIX

    def __init__(self, data: SandboxData) -> None:
        super().__init__(data)
        self.tables = OpenRouterData(data)

    def endpoint(self, path: str) -> str | None:
        """``activity``, ``credits`` or ``key`` for ``/openrouter/api/v1/<name>``."""
        name = path.rstrip("/").removeprefix(PREFIX)
        return name if name in _ENDPOINTS else None

    def error(self, status: int, message: str | None = None) -> Response:
        """``{"error": {"code": status, "message": ..., "metadata": null}}``."""
        return self._error(status, message or self.reason(status))

    @staticmethod
    def _error(status: int, message: str, metadata: dict[str, Any] | None = None) -> Response:
        body = {"error": {"code": status, "message": message, "metadata": metadata}}
        return json_response(status, body)

    def not_found(self, method: str, path: str) -> Response:
        """The documented not-found shape."""
        return self.error(404, "Resource not found")

    def rate_limited(self, wait_ms: int) -> Response:
        """429 with ``Retry-After`` (seconds) and the ``X-RateLimit-*`` headers."""
        response = self._error(429, "Rate limit exceeded", {"error_type": "rate_limit_exceeded"})
        reset_ms = int(self.data.clock.now().timestamp() * 1000) + wait_ms
        response.headers.extend(
            [
                ("Retry-After", retry_after_seconds(wait_ms)),
                ("X-RateLimit-Limit", "60"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", str(reset_ms)),
            ]
        )
        return response

    def handle(self, endpoint: str, request: Request) -> Response:
        """Answer a request with a management key (``/key`` takes any valid key)."""
        keys = self.tables.keys
        if request.header("Authorization") is None:
            raise HttpError(self.error(401, "Missing Authentication header"))
        token = self.bearer(request)
        if token not in (keys.management_key, keys.api_key):
            raise HttpError(self.error(401, "User not found."))
        management = token == keys.management_key
        if endpoint == "key":
            return json_response(200, {"data": self._key(management)})
        if not management:
            raise HttpError(self.error(403, _MANAGEMENT_ONLY))
        if endpoint == "credits":
            body = {
                "data": {
                    "total_credits": self.tables.purchased,
                    "total_usage": self.tables.total_usage(),
                }
            }
            return json_response(200, body)
        return json_response(200, {"data": self._activity(request)})

    def _key(self, management: bool) -> dict[str, Any]:
        return {
            "label": "sandbox management key" if management else "sandbox inference key",
            "limit": None,
            "limit_reset": None,
            "limit_remaining": None,
            "include_byok_in_limit": False,
            "usage": 0,
            "is_free_tier": False,
            "is_management_key": management,
            "is_provisioning_key": management,
            "creator_user_id": None,
            "expires_at": None,
        }

    def _one(self, request: Request, name: str) -> str | None:
        values = request.query.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise HttpError(self.error(400, f"{name} must be given once"))
        return values[0]

    def _activity(self, request: Request) -> list[dict[str, Any]]:
        tables = self.tables
        first, last = tables.available()
        raw_date = self._one(request, "date")
        group_by = self._one(request, "group_by")
        workspace = self._one(request, "workspace_id")
        if group_by not in (None, "workspace"):
            raise HttpError(self.error(400, "group_by must be 'workspace'"))
        if workspace is not None and workspace not in tables.workspaces:
            raise HttpError(self.error(404, "Workspace not found"))
        if raw_date is None:
            days = (first, last)
        else:
            try:
                day = date.fromisoformat(raw_date)
            except ValueError:
                raise HttpError(self.error(400, "Invalid date: expected YYYY-MM-DD")) from None
            if not first <= day <= last:
                raise HttpError(self.error(400, _OUTSIDE))
            days = (day, day)
        rows = tables.rows(
            days[0],
            date.fromordinal(days[1].toordinal() + 1),
            api_key_hash=self._one(request, "api_key_hash"),
            user_id=self._one(request, "user_id"),
            workspace_id=workspace,
        )
        return _aggregate(rows, by_workspace=group_by == "workspace")


def _aggregate(rows: list[OpenRouterRow], *, by_workspace: bool) -> list[dict[str, Any]]:
    """Rows summed per (date, model, endpoint[, workspace]), as ``/activity`` sends them."""
    groups: dict[tuple[str, ...], list[OpenRouterRow]] = defaultdict(list)
    for row in rows:
        day, model, endpoint_id = row.day.isoformat(), row.endpoint.model, row.endpoint.endpoint_id
        group: tuple[str, ...] = (
            (day, model, endpoint_id, row.workspace_id)
            if by_workspace
            else (day, model, endpoint_id)
        )
        groups[group].append(row)
    items = []
    for group in sorted(groups):
        members = groups[group]
        endpoint = members[0].endpoint
        item: dict[str, Any] = {
            "date": group[0],
            "model": endpoint.model,
            "model_permaslug": endpoint.permaslug,
            "endpoint_id": endpoint.endpoint_id,
            "provider_name": endpoint.provider_name,
            "usage": sum((r.usage for r in members), Decimal(0)),
            "byok_usage_inference": sum((r.byok_usage_inference for r in members), Decimal(0)),
            "requests": sum(r.requests for r in members),
            "prompt_tokens": sum(r.prompt_tokens for r in members),
            "completion_tokens": sum(r.completion_tokens for r in members),
            "reasoning_tokens": sum(r.reasoning_tokens for r in members),
        }
        if by_workspace:
            item["workspace_id"] = group[3]
        items.append(item)
    return items

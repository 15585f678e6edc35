"""Unsiloed ``GET /api/v1/org/get_usage``."""

from __future__ import annotations

from ..._http import HttpError, Provider, Request, Response, json_response, retry_after_seconds

__all__ = ["UnsiloedProvider"]


class UnsiloedProvider(Provider):
    """Unsiloed's platform backend (organization credits)."""

    name = "unsiloed"
    prefix = "/api/v1/"

    def endpoint(self, path: str) -> str | None:
        """``get_usage`` for ``/api/v1/org/get_usage``."""
        return "get_usage" if path.rstrip("/") == "/api/v1/org/get_usage" else None

    def credential(self, request: Request) -> str | None:
        """The ``api-key`` header."""
        return request.header("api-key")

    def error(self, status: int, message: str | None = None) -> Response:
        """A FastAPI-style ``{"detail": ...}`` error."""
        return json_response(status, {"detail": message or self.reason(status)})

    def not_found(self, method: str, path: str) -> Response:
        """FastAPI's answer to an unknown route."""
        return self.error(404, "Not Found")

    def method_not_allowed(self, method: str, path: str) -> Response:
        """FastAPI's answer to a wrong method."""
        return self.error(405, "Method Not Allowed")

    def rate_limited(self, wait_ms: int) -> Response:
        """429 with a ``Retry-After`` header (seconds, fractional)."""
        response = self.error(429, "Rate limit exceeded. Please retry later.")
        response.headers.append(("Retry-After", retry_after_seconds(wait_ms)))
        return response

    def handle(self, endpoint: str, request: Request) -> Response:
        """Answer ``get_usage`` for the key's organization."""
        catalog = self.data.catalog
        key = request.header("api-key")
        if not key:
            raise HttpError(
                self.error(
                    401, "API key is required. Please provide 'api-key' in the request header."
                )
            )
        if key == catalog.unsiloed_orphan_key:
            raise HttpError(self.error(404, "Organization not found"))
        if key != catalog.unsiloed_api_key:
            raise HttpError(self.error(401, "Invalid API key"))
        cycle = self.data.unsiloed_cycle()
        body = {
            "org_id": catalog.unsiloed_org_id,
            "org_name": catalog.unsiloed_org_name,
            "current_usage": cycle.current_usage,
            "usage_limit": cycle.usage_limit,
            "remaining_quota": cycle.remaining_quota,
            "last_billed_date": cycle.last_billed_date.isoformat(),
        }
        return json_response(200, body)

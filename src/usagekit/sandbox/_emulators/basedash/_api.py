"""Basedash ``GET /api/public/organizations/{orgId}/ai-usage``."""

from __future__ import annotations

from ..._http import HttpError, Provider, Request, Response, json_response
from ..._util import iso_z, money

__all__ = ["BasedashProvider"]

_TITLES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


class BasedashProvider(Provider):
    """Basedash's public API (AI usage of the current billing period)."""

    name = "basedash"
    prefix = "/api/public/"

    def endpoint(self, path: str) -> str | None:
        """``ai-usage`` for ``/api/public/organizations/{orgId}/ai-usage``."""
        parts = path.strip("/").split("/")
        if (
            len(parts) == 5
            and parts[:3] == ["api", "public", "organizations"]
            and parts[4] == "ai-usage"
        ):
            return "ai-usage"
        return None

    def error(self, status: int, message: str | None = None) -> Response:
        """An ``ErrorResponse``."""
        title = _TITLES.get(status, self.reason(status).replace(" ", ""))
        return json_response(
            status, {"error": {"title": title, "detail": message or self.reason(status)}}
        )

    def rate_limited(self, wait_ms: int) -> Response:
        """A ``RateLimitErrorResponse`` (the hint is in the body only)."""
        body = {
            "error": {
                "title": "RateLimitExceeded",
                "detail": "Too many requests. Retry after the rate limit window resets.",
                "retryAfterMs": wait_ms,
            }
        }
        return json_response(429, body)

    def handle(self, endpoint: str, request: Request) -> Response:
        """Answer ``ai-usage`` for the current billing period."""
        catalog = self.data.catalog
        if self.bearer(request) != catalog.basedash_api_key:
            raise HttpError(self.error(401, "Missing or invalid API key"))
        org_id = request.path.strip("/").split("/")[3]
        if org_id != catalog.basedash_org_id:
            raise HttpError(
                self.error(404, f"Organization {org_id} not found, or you are not an admin of it")
            )
        period = self.data.basedash_period()
        members = {m.user_id: m for m in catalog.basedash_members}
        usage = sorted(period.members.items(), key=lambda item: (-item[1], item[0]))
        body = {
            "totalUsage": money(period.total),
            "billingPeriodStart": iso_z(period.start),
            "billingPeriodEnd": iso_z(period.end),
            "memberUsage": [
                {
                    "userId": user_id,
                    "memberId": members[user_id].member_id,
                    "email": members[user_id].email,
                    "usage": money(amount),
                }
                for user_id, amount in usage
            ],
        }
        return json_response(200, body)

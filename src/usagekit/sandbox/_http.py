"""Request and response types shared by the provider emulations."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from ._util import dumps

if TYPE_CHECKING:
    from ._data import SandboxData
    from ._faults import FaultSettings

__all__ = [
    "HttpError",
    "Provider",
    "Request",
    "Response",
    "json_response",
    "parse_query",
    "retry_after_seconds",
]


def retry_after_seconds(wait_ms: int) -> str:
    """A ``Retry-After`` value in seconds with millisecond precision (``0.05``, ``2``)."""
    return f"{wait_ms / 1000:.3f}".rstrip("0").rstrip(".") or "0"


def parse_query(raw: str) -> dict[str, list[str]]:
    """Parse a query string; ``name[]`` is the same parameter as ``name``.

    Args:
        raw: The query string without ``?``.

    Returns:
        Values by parameter name, in order of appearance.
    """
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        key = name[:-2] if name.endswith("[]") else name
        query.setdefault(key, []).append(value)
    return query


@dataclass(frozen=True)
class Request:
    """An incoming request.

    Attributes:
        method: HTTP method.
        path: URL path without the query.
        raw_query: Query string as received.
        query: Parsed query (see ``parse_query``).
        headers: Request headers (case-insensitive look-up).
        client: Peer address.
    """

    method: str
    path: str
    raw_query: str
    query: Mapping[str, Sequence[str]]
    headers: Message
    client: str

    def header(self, name: str) -> str | None:
        """Return a header's value, or None."""
        value = self.headers.get(name)
        return None if value is None else str(value)


@dataclass
class Response:
    """A response to send."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"


def json_response(status: int, body: object, headers: Sequence[tuple[str, str]] = ()) -> Response:
    """Build a JSON response.

    Args:
        status: HTTP status.
        body: JSON-serializable body.
        headers: Extra headers.

    Returns:
        The response.
    """
    return Response(status, dumps(body), list(headers))


class HttpError(Exception):
    """Raised by a handler to answer with an error response.

    Args:
        response: The error response.
    """

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class Provider(abc.ABC):
    """One emulated provider API: its routes, auth and error shapes.

    Args:
        data: The sandbox data.
    """

    name: str = ""
    prefix: str = ""

    def __init__(self, data: SandboxData) -> None:
        self.data = data

    def apply_settings(self, settings: FaultSettings) -> None:
        """Take up the misbehaviour settings this provider reads itself (none by default).

        Args:
            settings: The settings in force.
        """
        del settings  # none by default

    def owns(self, path: str) -> bool:
        """Whether the path is under this provider's prefix."""
        return path.startswith(self.prefix)

    @abc.abstractmethod
    def endpoint(self, path: str) -> str | None:
        """Name the endpoint a path addresses, or None if there is none."""

    @abc.abstractmethod
    def handle(self, endpoint: str, request: Request) -> Response:
        """Answer a GET request to a known endpoint.

        Raises:
            HttpError: For an error answer (auth, validation, not found).
        """

    @abc.abstractmethod
    def error(self, status: int, message: str | None = None) -> Response:
        """An error response in the provider's own shape (``message`` defaults by status)."""

    @abc.abstractmethod
    def rate_limited(self, wait_ms: int) -> Response:
        """A 429 response carrying the provider's own retry hint."""

    def not_found(self, method: str, path: str) -> Response:
        """The answer to a path under the prefix that names no endpoint."""
        return self.error(404, f"Invalid URL ({method} {path})")

    def method_not_allowed(self, method: str, path: str) -> Response:
        """The answer to a method other than GET on an endpoint."""
        return self.error(405, f"Method {method} is not allowed on {path}")

    def bad_gateway(self) -> Response:
        """A 502 as a gateway in front of the API would send it (HTML, not JSON)."""
        body = (
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
        )
        return Response(502, body.encode("ascii"), content_type="text/html")

    def credential(self, request: Request) -> str | None:
        """The credential a request presents (for rate limits and retry tracking)."""
        return request.header("Authorization")

    @staticmethod
    def reason(status: int) -> str:
        """The standard reason phrase of a status."""
        try:
            return HTTPStatus(status).phrase
        except ValueError:
            return "Error"

    @staticmethod
    def bearer(request: Request) -> str | None:
        """The token of an ``Authorization: Bearer`` header, or None."""
        value = request.header("Authorization")
        if value is None:
            return None
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

"""The usagekit error hierarchy.

Every error usagekit raises on purpose derives from :class:`UsagekitError`::

    UsagekitError
    ├── ConfigError                 missing key, bad base URL, bad arguments (before any request)
    ├── APIError                    the server answered with an error status
    │   ├── BadRequestError         400, 422
    │   ├── AuthenticationError     401
    │   ├── PermissionDeniedError   403
    │   ├── NotFoundError           404
    │   ├── RateLimitError          429 (``.retry_after`` in seconds, or None)
    │   └── ServerError             5xx
    ├── APIConnectionError          the request never got an answer (DNS, refused, reset, truncated)
    │   └── APITimeoutError         ... because a timeout expired
    ├── ResponseValidationError     the body is not JSON or not the documented shape
    │   └── ResponseTooLargeError   ... because it is larger than ``max_response_bytes``
    ├── PaginationError             a cursor that repeats, is missing, or never ends
    ├── StoreError                  the store's file cannot be used (damaged, foreign, read-only,
    │                               locked, disk full): ``.reason`` says which
    └── ExportError                 a file being read back is malformed, a value a format cannot
                                    hold exactly, a target that is not a regular file

Exception text carries the provider, method, path, status and request id; it never carries a
credential, a query string or a header value.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ExportError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "StoreError",
    "UsagekitError",
    "error_class_for_status",
]


class UsagekitError(Exception):
    """Base class of every error usagekit raises on purpose."""


class ConfigError(UsagekitError, ValueError):
    """A client or a call was configured wrongly; raised before any request is sent.

    Examples: a missing API key (the message names the environment variable to set), a base URL
    that is not http(s), a window whose start is not before its end, a filter value the endpoint
    does not allow.
    """


class APIError(UsagekitError):
    """The provider answered with an error status.

    Attributes:
        status_code: The HTTP status of the response.
        provider: Which provider answered (``"openai"``, ``"basedash"``, ...).
        method: The HTTP method of the request.
        path: The URL path of the request (never the query string).
        request_id: The provider's request id header, when it sent one.
        body: The parsed JSON error body, or the raw text when it was not JSON, or None.
        message: The most useful human-readable message found in the body.
        retry_after: Seconds the server asked us to wait before retrying, or None.
        should_retry: The server's ``x-should-retry`` header as a bool, or None when absent.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        provider: str,
        method: str = "GET",
        path: str = "",
        request_id: str | None = None,
        body: Any = None,
        hint: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        self.message = message
        self.retry_after = retry_after
        self.should_retry = should_retry
        self.status_code = status_code
        self.provider = provider
        self.method = method
        self.path = path
        self.request_id = request_id
        self.body = body
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.provider} {self.method} {self.path} -> {self.status_code}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        if self.message:
            text += f": {self.message}"
        if self.hint:
            text += f" {self.hint}" if text.endswith((".", "!", "?")) else f". {self.hint}"
        return text


class BadRequestError(APIError):
    """400 or 422: the provider rejected the request's parameters."""


class AuthenticationError(APIError):
    """401: the credential is missing, wrong or of the wrong kind."""


class PermissionDeniedError(APIError):
    """403: the credential is valid but may not read this resource."""


class NotFoundError(APIError):
    """404: the resource (organization, endpoint) does not exist or is not visible."""


class RateLimitError(APIError):
    """429: too many requests, after retries were exhausted or the wait exceeded the cap.

    ``.retry_after`` holds the seconds the server asked us to wait, or None when it gave no
    usable hint.
    """

    def _render(self) -> str:
        text = super()._render()
        if self.retry_after is not None:
            text += f" (retry after {self.retry_after:.3f}s)"
        return text


class ServerError(APIError):
    """5xx: the provider failed; retried automatically before this is raised."""


class APIConnectionError(UsagekitError):
    """The request got no complete answer: refused, reset, dropped or truncated.

    Attributes:
        provider: Which provider was being called.
        method: The HTTP method of the request.
        path: The URL path of the request.
    """

    def __init__(self, message: str, *, provider: str, method: str = "GET", path: str = "") -> None:
        self.provider = provider
        self.method = method
        self.path = path
        super().__init__(f"{provider} {method} {path}: {message}")


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""


class ResponseValidationError(UsagekitError):
    """The body is not JSON, or does not have the documented shape.

    Attributes:
        provider: Which provider answered.
        endpoint: The endpoint name (``"usage.completions"``, ``"ai_usage"``, ...).
        field: The dotted path of the first offending field, or None when the body is not JSON.
        request_id: The provider's request id header, when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        endpoint: str,
        field: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self.field = field
        self.request_id = request_id
        where = f"{provider} {endpoint}"
        if field:
            where += f", field {field!r}"
        if request_id:
            where += f" (request id {request_id})"
        super().__init__(f"{where}: {message}")


class ResponseTooLargeError(ResponseValidationError):
    """A response's body is larger than the client's ``max_response_bytes`` (64 MiB by
    default), counted after decompression; reading stopped at the limit. Not retried.

    Attributes:
        limit: The limit that was passed, in bytes.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        endpoint: str,
        limit: int,
        request_id: str | None = None,
    ) -> None:
        self.limit = limit
        super().__init__(message, provider=provider, endpoint=endpoint, request_id=request_id)


class PaginationError(UsagekitError):
    """The provider's cursors do not terminate: repeated, missing, or past the page cap.

    Attributes:
        provider: Which provider was being paginated.
        endpoint: The endpoint name.
        pages: How many pages had been fetched when the walk was stopped.
    """

    def __init__(self, message: str, *, provider: str, endpoint: str, pages: int) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self.pages = pages
        super().__init__(f"{provider} {endpoint}: {message} (after {pages} pages)")


class StoreError(UsagekitError):
    """The store's SQLite file cannot be used as asked; the message says what to do.

    Every SQLite failure of :class:`~usagekit.Store` (and of :func:`~usagekit.sync`'s writes)
    is one of these, never a bare ``sqlite3`` exception. Bad arguments are still
    :class:`ConfigError`.

    Attributes:
        path: The store's file.
        reason: What is wrong, one of ``"damaged"`` (a damaged file), ``"not_a_store"`` (not
            SQLite, or another application's database), ``"empty_file"`` (a zero-byte file),
            ``"newer_schema"`` (written by a newer usagekit), ``"missing"`` (no file where a
            read-only store was asked for), ``"read_only"`` (a write without write access),
            ``"locked"`` (another process held the lock past the timeout), ``"full"`` (the disk
            or a size limit is full), ``"cannot_open"`` (the file or its directory cannot be
            opened), ``"io"`` (an I/O error), ``"closed"`` (the store was closed) or ``"error"``
            (any other SQLite failure).
    """

    def __init__(self, message: str, *, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(message)


class ExportError(UsagekitError, ValueError):
    """An export cannot be written or read back exactly.

    Raised for a malformed file or row (a missing column, an unparseable time or decimal, a
    record whose id does not match its fields), for a value the format cannot hold exactly
    (a quantity that does not fit Parquet's ``decimal128(38, 18)``), and for a target that is
    not a regular file (a directory, a device, a FIFO), before anything is written.

    Attributes:
        source: The file (or stream) being read or written, when known.
        line: The 1-based line (CSV, JSON Lines) or row (Parquet) of the offending data.
        column: The offending column, when one is to blame.
        detail: The message without the location.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        where = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}")
        if column:
            where.append(f"column {column!r}")
        self.detail = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    def located(self, source: str | None, line: int | None) -> ExportError:
        """Return a copy of this error that names the file and line it came from.

        Args:
            source: The file (or stream), used when the error names none.
            line: The line or row, used when the error names none.

        Returns:
            The located error.
        """
        return ExportError(
            self.detail,
            source=self.source or source,
            line=self.line if self.line is not None else line,
            column=self.column,
        )


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[APIError]:
    """Return the error class for an HTTP error status.

    Args:
        status_code: An HTTP status >= 400.

    Returns:
        The most specific :class:`APIError` subclass; :class:`ServerError` for 5xx and
        :class:`APIError` itself for any other status.
    """
    if status_code >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status_code, APIError)

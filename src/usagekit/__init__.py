"""usagekit: AI usage and spend from the providers' own APIs, as one typed record stream."""

from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    UsagekitError,
)
from ._logging import SensitiveDataFilter
from ._pagination import AsyncPager, Pager
from ._records import FLOW, LEVEL, MetricKind, UsageRecord
from ._retry import RetryPolicy, parse_retry_after
from ._time import TimeLike, Window, as_utc, resolve_window
from ._version import __version__

__all__ = [
    "FLOW",
    "LEVEL",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncPager",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "MetricKind",
    "NotFoundError",
    "Pager",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "RetryPolicy",
    "SensitiveDataFilter",
    "ServerError",
    "TimeLike",
    "UsageRecord",
    "UsagekitError",
    "Window",
    "__version__",
    "as_utc",
    "parse_retry_after",
    "resolve_window",
]

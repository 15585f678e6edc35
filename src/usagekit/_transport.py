"""One transport for every provider: sans-I/O core, thin sync and async send loops.

Everything that does no I/O lives in :class:`_TransportCore` and is shared: building requests,
following redirects safely, mapping statuses to errors, reading retry hints, decoding and
validating bodies. :class:`Transport` and :class:`AsyncTransport` only differ in how they send a
request and how they sleep between attempts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar, overload

import httpx
from pydantic import SecretStr, TypeAdapter, ValidationError
from tenacity import AsyncRetrying, RetryCallState, Retrying

from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConfigError,
    RateLimitError,
    ResponseValidationError,
    UsagekitError,
    error_class_for_status,
)
from ._logging import (
    SENSITIVE_HEADERS,
    logger,
    redact,
    redact_value,
    register_secret,
    secret_forms,
)
from ._ratelimit import AdaptiveRateLimiter
from ._retry import RetryPolicy, parse_retry_after
from ._version import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncTransport",
    "RequestSpec",
    "Transport",
    "TransportConfig",
    "decode_body",
    "params_from",
    "validate_base_url",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""60 s to read, 10 s to connect."""

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")
_USER_AGENT = f"usagekit/{__version__} httpx/{httpx.__version__}"

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RequestSpec:
    """A request, described as data: what to send, not how.

    Attributes:
        path: Path relative to the client's base URL (``"/organization/costs"``).
        endpoint: Endpoint name used in errors and logs (``"costs"``).
        params: Query parameters as ordered pairs; a key may repeat (``models=a&models=b``).
        method: HTTP method.
    """

    path: str
    endpoint: str
    params: Params = ()
    method: str = "GET"

    def with_param(self, key: str, value: str) -> RequestSpec:
        """Return a copy with ``key`` set to ``value`` (replacing any previous values)."""
        kept = tuple((k, v) for k, v in self.params if k != key)
        return dataclasses.replace(self, params=(*kept, (key, value)))


def validate_base_url(base_url: str | httpx.URL, *, provider: str) -> httpx.URL:
    """Check that a base URL is absolute http(s) and return it without a trailing slash.

    Args:
        base_url: The URL to check.
        provider: The provider, for the error message.

    Returns:
        The parsed URL.

    Raises:
        ConfigError: The URL is malformed, relative, or not http(s).
    """
    try:
        url = httpx.URL(str(base_url))
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ConfigError(f"{provider}: base_url is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"{provider}: base_url must be an absolute http(s) URL, got {str(base_url)!r}"
        )
    if url.query or url.fragment:
        raise ConfigError(f"{provider}: base_url must not have a query or fragment")
    return url.copy_with(path=url.path.rstrip("/") or "")


@dataclass(frozen=True)
class TransportConfig:
    """Everything a transport needs to know about one provider's API.

    Attributes:
        provider: Provider name used in errors and logs.
        base_url: Absolute base URL (see :func:`validate_base_url`).
        credentials: Header name to secret value, sent only to the base URL's origin.
        timeout: httpx timeout for each attempt.
        retry: The retry policy.
        error_hints: Extra guidance appended to an error's text, by status code.
        max_pages: Page cap for one pagination walk.
        max_redirects: Redirect hops followed per attempt.
        adaptive_rate_limit: Learn the server's rate from its 429 hints and pace requests
            (see :class:`~usagekit.AdaptiveRateLimiter`), for long walks against a rate limit.
    """

    provider: str
    base_url: httpx.URL
    credentials: Mapping[str, SecretStr] = field(default_factory=dict)
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    error_hints: Mapping[int, str] = field(default_factory=dict)
    max_pages: int = 10_000
    max_redirects: int = 5
    adaptive_rate_limit: bool = False

    def __post_init__(self) -> None:
        for header, secret in self.credentials.items():
            if not all(" " <= char <= "~" for char in secret.get_secret_value()):
                raise ConfigError(  # never show the value: it is a credential
                    f"{self.provider}: the {header} credential holds a character that cannot be "
                    "sent in an HTTP header (a control or non-ASCII character); check the key "
                    "for a stray newline or a mis-pasted value"
                )
            register_secret(secret.get_secret_value())
        if (
            not isinstance(self.max_pages, int)
            or isinstance(self.max_pages, bool)
            or (self.max_pages < 1)
        ):
            raise ConfigError("max_pages must be >= 1")

    def __repr__(self) -> str:
        return f"TransportConfig(provider={self.provider!r}, base_url={str(self.base_url)!r})"


@functools.lru_cache(maxsize=256)
def _adapter(type_: Any) -> TypeAdapter[Any]:
    return TypeAdapter(type_)


def _first_error_field(error: ValidationError) -> tuple[str, str]:
    details = error.errors(include_url=False, include_input=False)
    if not details:  # pragma: no cover - pydantic always reports at least one
        return "", str(error)
    first = details[0]
    location = ".".join(str(part) for part in first["loc"])
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        tag = str(first.get("ctx", {}).get("discriminator", "")).strip("'\"")
        location = ".".join(part for part in (location, tag) if part)
    extra = f" and {len(details) - 1} more" if len(details) > 1 else ""
    return location, f"{first['msg']} ({first['type']}){extra}"


def decode_body(
    content: bytes, type_: Any, *, provider: str, endpoint: str, request_id: str | None = None
) -> Any:
    """Parse JSON (numbers with a fraction as exact ``Decimal``) and validate it into ``type_``.

    Args:
        content: The raw body.
        type_: A pydantic model or any type pydantic can validate.
        provider: Provider name for errors.
        endpoint: Endpoint name for errors.
        request_id: The response's request id, for errors.

    Returns:
        The validated value.

    Raises:
        ResponseValidationError: The body is not JSON, or not of the documented shape; the
            error names the first offending field.
    """
    try:
        data = json.loads(content, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        kind = "empty" if not content.strip() else "not valid JSON"
        raise ResponseValidationError(
            f"the body is {kind} ({type(exc).__name__})",
            provider=provider,
            endpoint=endpoint,
            request_id=request_id,
        ) from None
    try:
        return _adapter(type_).validate_python(data)
    except ValidationError as exc:
        location, message = _first_error_field(exc)
        raise ResponseValidationError(
            f"the body does not have the documented shape: {message}",
            provider=provider,
            endpoint=endpoint,
            field=location or None,
            request_id=request_id,
        ) from None


def _error_message(body: Any) -> str:
    """Find the most useful message in any provider's error body."""
    if isinstance(body, str):
        return body.strip()[:500]
    if not isinstance(body, Mapping):
        return ""
    candidates: list[Any] = []
    error = body.get("error")
    if isinstance(error, Mapping):
        candidates += [error.get("message"), error.get("detail"), error.get("title")]
    elif isinstance(error, str):
        candidates.append(error)
    candidates += [body.get("detail"), body.get("message"), body.get("title")]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:500]
        if isinstance(candidate, list) and candidate and all(isinstance(c, str) for c in candidate):
            return "; ".join(candidate)[:500]
        if isinstance(candidate, list) and candidate and isinstance(candidate[0], Mapping):
            msg = candidate[0].get("msg")
            if isinstance(msg, str):
                return msg[:500]
    return ""


def _request_id(headers: httpx.Headers) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)
    return None


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


class _TransportCore:
    """The part of a transport that does no I/O."""

    def __init__(self, config: TransportConfig, rate_limiter: AdaptiveRateLimiter | None) -> None:
        self.config = config
        self._secrets = tuple(
            form
            for secret in config.credentials.values()
            for form in secret_forms(secret.get_secret_value())
        )
        if rate_limiter is None and config.adaptive_rate_limit:
            rate_limiter = AdaptiveRateLimiter()
        self.rate_limiter = rate_limiter if config.adaptive_rate_limit else None
        self._urls: dict[str, httpx.URL] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.config.provider!r})"

    # -- requests -------------------------------------------------------------------------

    def url_for(self, spec: RequestSpec) -> httpx.URL:
        """Return the absolute URL of a request (without its query); cached per path."""
        url = self._urls.get(spec.path)
        if url is None:
            base = self.config.base_url
            url = self._urls[spec.path] = base.copy_with(path=base.path.rstrip("/") + spec.path)
        return url

    def build_request(
        self, client: httpx.Client | httpx.AsyncClient, spec: RequestSpec
    ) -> httpx.Request:
        """Build the first request of an attempt, with credentials."""
        headers = {"accept": "application/json", "user-agent": _USER_AGENT}
        headers.update({k: v.get_secret_value() for k, v in self.config.credentials.items()})
        return client.build_request(
            spec.method,
            self.url_for(spec),
            params=list(spec.params),
            headers=headers,
            timeout=self.config.timeout,
        )

    def next_redirect(
        self,
        client: httpx.Client | httpx.AsyncClient,
        request: httpx.Request,
        response: httpx.Response,
    ) -> httpx.Request | None:
        """Return the request that follows a redirect, or None when it is not a redirect.

        Credential headers are only sent to the base URL's origin: a redirect elsewhere is
        followed without ``Authorization``, ``api-key``, ``x-api-key``, ``x-org-id`` or cookies.
        """
        if response.status_code not in _REDIRECT_STATUSES or "location" not in response.headers:
            return None
        target = request.url.join(response.headers["location"])
        method = "GET" if response.status_code == 303 else request.method
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        if not _same_origin(target, self.config.base_url):
            headers = {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}
        return client.build_request(method, target, headers=headers, timeout=self.config.timeout)

    # -- responses ------------------------------------------------------------------------

    def raise_for_status(
        self, spec: RequestSpec, request: httpx.Request, response: httpx.Response
    ) -> None:
        """Map a non-2xx response to its :class:`APIError`; return quietly on 2xx.

        Raises:
            APIError: The matching subclass, carrying status, provider, request id, the parsed
                body, the server's retry hint and its ``x-should-retry`` header.
        """
        if 200 <= response.status_code < 300:
            return
        try:
            body: Any = json.loads(response.content, parse_float=Decimal)
        except (ValueError, RecursionError):
            body = response.text[:2000] if response.content else None
        message = _error_message(body) or response.reason_phrase or "error"
        should = response.headers.get("x-should-retry", "").strip().lower()
        status = response.status_code
        raise error_class_for_status(status)(
            redact(message, self._secrets),
            status_code=status,
            provider=self.config.provider,
            method=spec.method,
            path=request.url.path,
            request_id=_request_id(response.headers),
            body=redact_value(body, self._secrets),
            hint=self.config.error_hints.get(status),
            retry_after=parse_retry_after(response.headers, body),
            should_retry={"true": True, "false": False}.get(should),
        )

    def pace(self) -> float:
        """Seconds to wait before the next attempt, as the adaptive rate limiter says."""
        return self.rate_limiter.reserve() if self.rate_limiter is not None else 0.0

    def settle(self, spec: RequestSpec, request: httpx.Request, response: httpx.Response) -> None:
        """Raise for an error status (see :meth:`raise_for_status`), teaching the limiter."""
        try:
            self.raise_for_status(spec, request, response)
        except RateLimitError as exc:
            if self.rate_limiter is not None:
                self.rate_limiter.on_throttle(exc.retry_after)
            raise
        if self.rate_limiter is not None:
            self.rate_limiter.on_success()

    def decode(self, spec: RequestSpec, response: httpx.Response, type_: Any) -> Any:
        """Validate a 2xx response's body into ``type_`` (see :func:`decode_body`)."""
        return decode_body(
            response.content,
            type_,
            provider=self.config.provider,
            endpoint=spec.endpoint,
            request_id=_request_id(response.headers),
        )

    def connection_error(self, spec: RequestSpec, exc: httpx.HTTPError) -> APIConnectionError:
        """Translate an httpx transport failure into usagekit's error."""
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        detail = redact(str(exc) or type(exc).__name__, self._secrets)
        return cls(
            f"{type(exc).__name__}: {detail}",
            provider=self.config.provider,
            method=spec.method,
            path=self.url_for(spec).path,
        )

    def log_response(self, spec: RequestSpec, response: httpx.Response, started: float) -> None:
        """Log one answered attempt (metadata only)."""
        if logger.isEnabledFor(10):
            logger.debug(
                "%s %s %s -> %d (request id %s) in %.0f ms",
                self.config.provider,
                spec.method,
                self.url_for(spec).path,
                response.status_code,
                _request_id(response.headers),
                (time.monotonic() - started) * 1000,
            )

    def log_retry(self, spec: RequestSpec, state: RetryCallState) -> None:
        """Log a retry about to be slept (metadata only)."""
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        reason = f"{error.status_code}" if isinstance(error, APIError) else type(error).__name__
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.info(
            "%s %s %s: retrying in %.3f s after %s (attempt %d of %d)",
            self.config.provider,
            spec.method,
            self.url_for(spec).path,
            wait,
            reason,
            state.attempt_number,
            self.config.retry.max_retries + 1,
        )

    def retrying_arguments(self, spec: RequestSpec) -> dict[str, Any]:
        """tenacity arguments for one request's retry loop."""
        return {
            **self.config.retry.tenacity_arguments(),
            "before_sleep": lambda state: self.log_retry(spec, state),
        }

    def first_failure(self, error: UsagekitError) -> list[UsagekitError]:
        """Decide what a failed first attempt (sent outside tenacity, the common fast path)
        leads to: re-raised at once when not retryable, else handed to the retry loop, whose
        first attempt re-raises it so that attempts, waits and stops count exactly as if the
        loop had sent it."""
        if not self.config.retry.is_retryable(error):
            raise error
        return [error]


class Transport(_TransportCore):
    """Synchronous transport over ``httpx.Client``.

    Args:
        config: The provider's configuration.
        http_client: An ``httpx.Client`` to use; its lifecycle then stays with the caller.
        sleep: The function used to wait between attempts (inject one in tests).
    """

    def __init__(
        self,
        config: TransportConfig,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rate_limiter: AdaptiveRateLimiter | None = None,
    ) -> None:
        super().__init__(config, rate_limiter)
        self._owns_client = http_client is None
        self.http_client = http_client or httpx.Client(follow_redirects=False)
        self.sleep = sleep

    def derive(self, config: TransportConfig) -> Transport:
        """Return a transport with another config sharing this one's connection pool."""
        return Transport(
            config, http_client=self.http_client, sleep=self.sleep, rate_limiter=self.rate_limiter
        )

    def close(self) -> None:
        """Close the connection pool, if this transport created it."""
        if self._owns_client:
            self.http_client.close()

    def _attempt(self, spec: RequestSpec) -> httpx.Response:
        wait = self.pace()
        if wait > 0:
            self.sleep(wait)
        request = self.build_request(self.http_client, spec)
        started = time.monotonic()
        for _ in range(self.config.max_redirects + 1):
            try:
                response = self.http_client.send(request, follow_redirects=False)
            except httpx.HTTPError as exc:
                raise self.connection_error(spec, exc) from None
            follow = self.next_redirect(self.http_client, request, response)
            if follow is None:
                break
            response.close()
            request = follow
        self.log_response(spec, response, started)
        self.settle(spec, request, response)
        return response

    def send(self, spec: RequestSpec) -> httpx.Response:
        """Send a request, retrying as the policy says.

        Args:
            spec: The request.

        Returns:
            The successful (2xx) response, body read.

        Raises:
            APIError: The final error status, after retries.
            APIConnectionError: The final connection failure, after retries.
        """
        try:
            return self._attempt(spec)
        except UsagekitError as error:
            pending = self.first_failure(error)

        def attempt(spec: RequestSpec) -> httpx.Response:
            if pending:
                raise pending.pop()
            return self._attempt(spec)

        retrying = Retrying(sleep=self.sleep, **self.retrying_arguments(spec))
        response: httpx.Response = retrying(attempt, spec)
        return response

    @overload
    def request(self, spec: RequestSpec, type_: type[T]) -> T: ...
    @overload
    def request(self, spec: RequestSpec, type_: Any) -> Any: ...
    def request(self, spec: RequestSpec, type_: Any) -> Any:
        """Send a request and validate its body into ``type_`` (a model, or any type pydantic
        validates, such as ``list[Model]`` or an annotated union).

        Raises:
            ResponseValidationError: The body is not JSON or not of the documented shape.
        """
        return self.decode(spec, self.send(spec), type_)


async def _async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class AsyncTransport(_TransportCore):
    """Asynchronous transport over ``httpx.AsyncClient``; the twin of :class:`Transport`.

    Args:
        config: The provider's configuration.
        http_client: An ``httpx.AsyncClient`` to use; its lifecycle then stays with the caller.
        sleep: The coroutine function used to wait between attempts (inject one in tests).
    """

    def __init__(
        self,
        config: TransportConfig,
        *,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = _async_sleep,
        rate_limiter: AdaptiveRateLimiter | None = None,
    ) -> None:
        super().__init__(config, rate_limiter)
        self._owns_client = http_client is None
        self.http_client = http_client or httpx.AsyncClient(follow_redirects=False)
        self.sleep = sleep

    def derive(self, config: TransportConfig) -> AsyncTransport:
        """Return a transport with another config sharing this one's connection pool."""
        return AsyncTransport(
            config, http_client=self.http_client, sleep=self.sleep, rate_limiter=self.rate_limiter
        )

    async def aclose(self) -> None:
        """Close the connection pool, if this transport created it."""
        if self._owns_client:
            await self.http_client.aclose()

    async def _attempt(self, spec: RequestSpec) -> httpx.Response:
        wait = self.pace()
        if wait > 0:
            await self.sleep(wait)
        request = self.build_request(self.http_client, spec)
        started = time.monotonic()
        for _ in range(self.config.max_redirects + 1):
            try:
                response = await self.http_client.send(request, follow_redirects=False)
            except httpx.HTTPError as exc:
                raise self.connection_error(spec, exc) from None
            follow = self.next_redirect(self.http_client, request, response)
            if follow is None:
                break
            await response.aclose()
            request = follow
        self.log_response(spec, response, started)
        self.settle(spec, request, response)
        return response

    async def send(self, spec: RequestSpec) -> httpx.Response:
        """Send a request, retrying as the policy says (see :meth:`Transport.send`)."""
        try:
            return await self._attempt(spec)
        except UsagekitError as error:
            pending = self.first_failure(error)

        async def attempt(spec: RequestSpec) -> httpx.Response:
            if pending:
                raise pending.pop()
            return await self._attempt(spec)

        retrying = AsyncRetrying(sleep=self.sleep, **self.retrying_arguments(spec))
        response: httpx.Response = await retrying(attempt, spec)
        return response

    @overload
    async def request(self, spec: RequestSpec, type_: type[T]) -> T: ...
    @overload
    async def request(self, spec: RequestSpec, type_: Any) -> Any: ...
    async def request(self, spec: RequestSpec, type_: Any) -> Any:
        """Send a request and validate its body into ``type_`` (see :meth:`Transport.request`)."""
        return self.decode(spec, await self.send(spec), type_)


def params_from(**values: Any) -> Params:
    """Build query pairs from keyword values: lists repeat the key, None is left out.

    Booleans become ``true``/``false``; everything else ``str()``.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None:
            continue
        items: Sequence[Any] = value if isinstance(value, (list, tuple)) else (value,)
        for item in items:
            pairs.append(
                (key, ("true" if item else "false") if isinstance(item, bool) else str(item))
            )
    return tuple(pairs)

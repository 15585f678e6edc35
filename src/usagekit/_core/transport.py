"""One transport for every provider: sans-I/O core, thin sync and async send loops.

Everything that does no I/O lives in :class:`_TransportCore` and is shared: building requests,
following redirects safely, mapping statuses to errors, reading retry hints, decoding and
validating bodies. :class:`Transport` and :class:`AsyncTransport` only differ in how they send a
request, how they bound an attempt's time and how they sleep between attempts.

Every attempt is bounded (see :mod:`usagekit._core.bounded`): it ends by its deadline (the
configured timeout, for the whole attempt: connect, send, redirects, headers and body) and
keeps at most ``max_response_bytes`` of decoded body. Everything kept from a response (request
id, reason phrase, message, body) is redacted when the error is created, so no channel that
shows the error (exception text, logs, the store) can show a secret the server echoed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

import anyio
import httpx
from pydantic import SecretStr, TypeAdapter, ValidationError
from tenacity import AsyncRetrying, RetryCallState, Retrying

from .._version import __version__
from .bounded import (
    DEFAULT_MAX_RESPONSE_BYTES,
    ERROR_BODY_LIMIT,
    AttemptClock,
    BodyReader,
    BodyTooLarge,
    JSONRejected,
    UndecodableBody,
    install_deadline_hook,
    no_cookies,
    parse_json,
    reset_deadline,
    set_deadline,
)
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConfigError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    UsagekitError,
    error_class_for_status,
)
from .logs import SENSITIVE_HEADERS, logger, redact, redact_value, register_secret
from .provider import BodyRetryHint
from .ratelimit import AdaptiveRateLimiter
from .retry import RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "Answer",
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
"""60 s per attempt (each read too), 10 s to connect."""

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")
_USER_AGENT = f"usagekit/{__version__} httpx/{httpx.__version__}"
_ACCEPT_ENCODING = "gzip, deflate"
"""The encodings :class:`~usagekit._core.bounded.BodyReader` decodes with bounded memory."""
_MAX_REQUEST_ID = 200
"""A request id longer than this is cut (after redaction)."""
_MAX_REASON = 200
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)

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


@dataclass(frozen=True)
class Answer:
    """The complete answer to one attempt, body read: what :meth:`Transport.send` returns.

    Attributes:
        status_code: The HTTP status.
        headers: The response's headers as received (the transport redacts what it keeps).
        content: The body, decoded (gzip or deflate undone), at most ``max_response_bytes``
            (an error body at most 1 MiB).
        request: The request that got this answer (the last hop of any redirects).
        reason_phrase: The status line's reason phrase, redacted and cut to 200 characters.
    """

    status_code: int
    headers: httpx.Headers
    content: bytes
    request: httpx.Request
    reason_phrase: str = ""

    @property
    def text(self) -> str:
        """The body as text: its declared charset if Python knows it, else UTF-8; bytes that
        do not decode are replaced."""
        found = _CHARSET.search(self.headers.get("content-type", ""))
        if found:
            with contextlib.suppress(LookupError, ValueError):  # unknown, or not text
                return self.content.decode(found.group(1), errors="replace")
        return self.content.decode("utf-8", errors="replace")


def validate_base_url(base_url: str | httpx.URL, *, provider: str) -> httpx.URL:
    """Check that a base URL is absolute http(s) and return it without a trailing slash.

    Args:
        base_url: The URL to check.
        provider: The provider, for the error message.

    Returns:
        The parsed URL.

    Raises:
        ConfigError: The URL is malformed, relative, not http(s), or carries a user name or
            password (which httpx would send as Basic auth in place of the provider's
            credential); the message never repeats the URL's userinfo.
    """
    try:
        url = httpx.URL(str(base_url))
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ConfigError(f"{provider}: base_url is not a valid URL") from None
    if url.userinfo:
        raise ConfigError(
            f"{provider}: base_url must not carry a user name or password (user:password@host);"
            " usagekit sends the provider's credential itself: pass it as the API key"
        )
    if url.scheme not in ("http", "https") or not url.host:
        found = f"the scheme {url.scheme!r}" if url.scheme else "a URL without a scheme"
        raise ConfigError(
            f"{provider}: base_url must be an absolute http(s) URL such as "
            f"https://api.example.com/v1, got {found}"
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
        max_response_bytes: The most bytes of one response's body kept, counted after
            decompression; a larger body raises :class:`~usagekit.ResponseTooLargeError`.
        body_retry_hint: Reads a retry hint from the provider's error bodies, if it sends one
            (its :class:`~usagekit._core.provider.ProviderInfo` says).
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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    body_retry_hint: BodyRetryHint | None = None

    def __post_init__(self) -> None:
        for header, secret in self.credentials.items():
            if not all(" " <= char <= "~" for char in secret.get_secret_value()):
                raise ConfigError(  # never show the value: it is a credential
                    f"{self.provider}: the {header} credential holds a character that cannot be "
                    "sent in an HTTP header (a control or non-ASCII character); check the key "
                    "for a stray newline or a mis-pasted value"
                )
            register_secret(secret.get_secret_value(), owner=self)
        if (
            not isinstance(self.max_pages, int)
            or isinstance(self.max_pages, bool)
            or (self.max_pages < 1)
        ):
            raise ConfigError("max_pages must be >= 1")
        size = self.max_response_bytes
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ConfigError(f"max_response_bytes must be an integer >= 1, got {size!r}")

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
        ResponseValidationError: The body is empty, not JSON, nested deeper than
            :data:`~usagekit._core.bounded.MAX_JSON_DEPTH` levels, or not of the documented shape;
            the error names the first offending field.
    """
    try:
        data = parse_json(content)
    except JSONRejected as exc:
        raise ResponseValidationError(
            f"the body is {exc}", provider=provider, endpoint=endpoint, request_id=request_id
        ) from None
    try:
        return _adapter(type_).validate_python(data)
    except ValidationError as exc:
        location, message = _first_error_field(exc)
        raise ResponseValidationError(
            f"the body does not have the documented shape: {redact(message)}",
            provider=provider,
            endpoint=endpoint,
            field=redact(location) or None,
            request_id=request_id,
        ) from None
    except (TypeError, ArithmeticError, RecursionError) as exc:  # a validator that gave up
        raise ResponseValidationError(
            f"the body could not be validated ({type(exc).__name__})",
            provider=provider,
            endpoint=endpoint,
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
    """The response's request id, redacted (a server may echo a key in it) and cut short."""
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return redact(str(value))[:_MAX_REQUEST_ID]
    return None


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


class _TransportCore:
    """The part of a transport that does no I/O."""

    def __init__(self, config: TransportConfig, rate_limiter: AdaptiveRateLimiter | None) -> None:
        self.config = config
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

    def start_clock(self) -> AttemptClock:
        """Start the deadline of one attempt (the configured timeout, for the whole attempt)."""
        return AttemptClock.start(self.config.timeout)

    def _build(
        self,
        client: httpx.Client | httpx.AsyncClient,
        method: str,
        url: httpx.URL,
        *,
        headers: Mapping[str, str],
        clock: AttemptClock,
        params: Params | None = None,
    ) -> httpx.Request:
        request = client.build_request(
            method, url, params=params, headers=headers, timeout=clock.clamp(self.config.timeout)
        )
        request.headers.pop("cookie", None)  # never sent, even from a caller's client's jar
        return request

    def build_request(
        self,
        client: httpx.Client | httpx.AsyncClient,
        spec: RequestSpec,
        clock: AttemptClock | None = None,
    ) -> httpx.Request:
        """Build the first request of an attempt, with credentials.

        Args:
            client: The httpx client (for its defaults).
            spec: The request.
            clock: The attempt's deadline; no phase's timeout reaches past it.

        Returns:
            The request (never with a ``Cookie`` header).

        Raises:
            ConfigError: The URL cannot be built (a parameter or path too long or malformed).
        """
        headers = {
            "accept": "application/json",
            "accept-encoding": _ACCEPT_ENCODING,
            "user-agent": _USER_AGENT,
        }
        headers.update({k: v.get_secret_value() for k, v in self.config.credentials.items()})
        try:
            return self._build(
                client,
                spec.method,
                self.url_for(spec),
                params=spec.params,
                headers=headers,
                clock=clock or AttemptClock(None, None),
            )
        except httpx.InvalidURL:
            raise ConfigError(
                f"{self.config.provider} {spec.endpoint}: the request URL cannot be built "
                "(a parameter or the path is too long or malformed)"
            ) from None

    def next_redirect(
        self,
        client: httpx.Client | httpx.AsyncClient,
        request: httpx.Request,
        response: httpx.Response,
        clock: AttemptClock | None = None,
    ) -> httpx.Request | None:
        """Return the request that follows a redirect, or None when it is not a redirect.

        Credential headers are only sent to the base URL's origin: a redirect elsewhere is
        followed without ``Authorization``, ``api-key``, ``x-api-key`` or ``x-org-id``; no
        request carries cookies. A ``Location`` that is not an absolute-or-relative http(s) URL
        is not followed (the 3xx is then the answer); userinfo in it is dropped.
        """
        if response.status_code not in _REDIRECT_STATUSES or "location" not in response.headers:
            return None
        try:
            target = request.url.join(response.headers["location"])
            if target.userinfo:
                target = target.copy_with(userinfo=b"")
        except (httpx.InvalidURL, ValueError, TypeError):
            return None
        if target.scheme not in ("http", "https") or not target.host:
            return None
        method = "GET" if response.status_code == 303 else request.method
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        if not _same_origin(target, self.config.base_url):
            headers = {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}
        try:
            return self._build(
                client, method, target, headers=headers, clock=clock or AttemptClock(None, None)
            )
        except httpx.InvalidURL:
            return None

    def follow(
        self,
        client: httpx.Client | httpx.AsyncClient,
        hops: int,
        request: httpx.Request,
        response: httpx.Response,
        clock: AttemptClock,
    ) -> httpx.Request | None:
        """The next hop of an attempt, or None to read this response as the answer (also
        when ``max_redirects`` hops have been followed: the 3xx is then raised as an error)."""
        if hops >= self.config.max_redirects:
            return None
        return self.next_redirect(client, request, response, clock)

    # -- bodies ---------------------------------------------------------------------------

    def body_reader(self, spec: RequestSpec, response: httpx.Response) -> BodyReader:
        """A reader for the body of the answer of an attempt.

        A 2xx body may be up to ``max_response_bytes``; an error body is cut at 1 MiB (its
        status is the answer). A response a transport already read (``httpx.MockTransport``)
        is taken as decoded.

        Raises:
            ResponseTooLargeError: The declared ``Content-Length`` is above the limit.
            ResponseValidationError: An encoding usagekit did not ask for.
        """
        success = 200 <= response.status_code < 300
        limit = self.config.max_response_bytes
        if not success:
            limit = min(limit, ERROR_BODY_LIMIT)
        encoding = "" if response.is_stream_consumed else response.headers.get("content-encoding")
        try:
            reader = BodyReader(encoding or "", limit=limit, truncate=not success)
        except UndecodableBody as exc:
            raise self.undecodable(spec, response, exc) from None
        declared = response.headers.get("content-length", "")
        if success and declared.isdigit() and int(declared) > limit:
            raise self.too_large(spec, response)
        return reader

    def finished(self, response: httpx.Response, body: bytes) -> Answer:
        """The answer with its decoded body; the reason phrase is redacted."""
        reason = response.reason_phrase
        return Answer(
            response.status_code,
            response.headers,
            body,
            response.request,
            redact(reason)[:_MAX_REASON] if reason else "",
        )

    def too_large(self, spec: RequestSpec, response: httpx.Response) -> ResponseTooLargeError:
        """The error for a body above ``max_response_bytes``."""
        limit = self.config.max_response_bytes
        return ResponseTooLargeError(
            f"the body is larger than max_response_bytes={limit:,} bytes (counted decompressed);"
            " reading stopped there. Ask for less (a shorter window, fewer groups) or raise the"
            " limit with client.with_options(max_response_bytes=...)",
            provider=self.config.provider,
            endpoint=spec.endpoint,
            limit=limit,
            request_id=_request_id(response.headers),
        )

    def undecodable(
        self, spec: RequestSpec, response: httpx.Response, exc: Exception
    ) -> ResponseValidationError:
        """The error for a body that cannot be decoded (unknown encoding, corrupt data)."""
        return ResponseValidationError(
            f"the body cannot be decoded: {redact(str(exc))}",
            provider=self.config.provider,
            endpoint=spec.endpoint,
            request_id=_request_id(response.headers),
        )

    def body_error(
        self, spec: RequestSpec, response: httpx.Response, exc: Exception, clock: AttemptClock
    ) -> UsagekitError:
        """Translate a failure while reading a body into usagekit's error."""
        if isinstance(exc, BodyTooLarge):
            return self.too_large(spec, response)
        if isinstance(exc, UndecodableBody):
            return self.undecodable(spec, response, exc)
        if isinstance(exc, httpx.HTTPError):
            return self.connection_error(spec, exc, clock)
        raise exc  # pragma: no cover - callers pass only the three kinds above

    # -- responses ------------------------------------------------------------------------

    def raise_for_status(self, spec: RequestSpec, request: httpx.Request, response: Answer) -> None:
        """Map a non-2xx response to its :class:`APIError`; return quietly on 2xx.

        Everything taken from the response (message, reason phrase, request id, body) is
        redacted before it is kept.

        Raises:
            APIError: The matching subclass, carrying status, provider, request id, the parsed
                body, the server's retry hint and its ``x-should-retry`` header.
        """
        if 200 <= response.status_code < 300:
            return
        body: Any
        try:
            body = parse_json(response.content)
        except JSONRejected:
            body = response.text[:2000] if response.content else None
        message = _error_message(body) or response.reason_phrase or "error"
        should = response.headers.get("x-should-retry", "").strip().lower()
        status = response.status_code
        raise error_class_for_status(status)(
            redact(message),
            status_code=status,
            provider=self.config.provider,
            method=spec.method,
            path=request.url.path,
            request_id=_request_id(response.headers),
            body=redact_value(body),
            hint=self.config.error_hints.get(status),
            retry_after=parse_retry_after(
                response.headers, body, body_hint=self.config.body_retry_hint
            ),
            should_retry={"true": True, "false": False}.get(should),
        )

    def pace(self) -> float:
        """Seconds to wait before the next attempt, as the adaptive rate limiter says."""
        return self.rate_limiter.reserve() if self.rate_limiter is not None else 0.0

    def settle(self, spec: RequestSpec, request: httpx.Request, response: Answer) -> None:
        """Raise for an error status (see :meth:`raise_for_status`), teaching the limiter."""
        try:
            self.raise_for_status(spec, request, response)
        except RateLimitError as exc:
            if self.rate_limiter is not None:
                self.rate_limiter.on_throttle(exc.retry_after)
            raise
        if self.rate_limiter is not None:
            self.rate_limiter.on_success()

    def decode(self, spec: RequestSpec, response: Answer, type_: Any) -> Any:
        """Validate a 2xx response's body into ``type_`` (see :func:`decode_body`)."""
        return decode_body(
            response.content,
            type_,
            provider=self.config.provider,
            endpoint=spec.endpoint,
            request_id=_request_id(response.headers),
        )

    def deadline_error(self, spec: RequestSpec, clock: AttemptClock) -> APITimeoutError:
        """The error for an attempt that ran past its deadline."""
        return APITimeoutError(
            f"the attempt did not complete within its timeout of {clock.seconds:g} s (the "
            "server answered too slowly, or not at all)",
            provider=self.config.provider,
            method=spec.method,
            path=self.url_for(spec).path,
        )

    def connection_error(
        self,
        spec: RequestSpec,
        exc: httpx.HTTPError | httpx.InvalidURL,
        clock: AttemptClock | None = None,
    ) -> APIConnectionError:
        """Translate an httpx transport failure into usagekit's error.

        ``httpx.InvalidURL`` from sending comes from the answer (httpx prepares the next
        request of a redirect even when it does not follow it): a protocol error, as httpx's
        own ``RemoteProtocolError`` for other bad ``Location`` headers.
        """
        timeout = isinstance(exc, httpx.TimeoutException)
        if timeout and clock is not None and clock.expired(slack=0.05):
            return self.deadline_error(spec, clock)
        cls = APITimeoutError if timeout else APIConnectionError
        detail = redact(str(exc) or type(exc).__name__)[:500]
        if isinstance(exc, httpx.InvalidURL):
            detail = f"the server redirected to an invalid URL ({detail})"
        return cls(
            f"{type(exc).__name__}: {detail}",
            provider=self.config.provider,
            method=spec.method,
            path=self.url_for(spec).path,
        )

    def log_response(self, spec: RequestSpec, response: Answer, started: float) -> None:
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

    An attempt's deadline is enforced on every socket operation by a hook installed in the
    client's connection pools (:func:`~usagekit._core.bounded.install_deadline_hook`; inert
    outside usagekit's own requests), and checked between body chunks whatever the client's
    transport.

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
        self.http_client = http_client or httpx.Client(follow_redirects=False, cookies=no_cookies())
        install_deadline_hook(self.http_client)
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

    def _attempt(self, spec: RequestSpec) -> Answer:
        wait = self.pace()
        if wait > 0:
            self.sleep(wait)
        started = time.monotonic()
        clock = self.start_clock()
        token = set_deadline(clock.deadline)
        try:
            response = self._exchange(spec, clock)
        finally:
            reset_deadline(token)
        self.log_response(spec, response, started)
        self.settle(spec, response.request, response)
        return response

    def _exchange(self, spec: RequestSpec, clock: AttemptClock) -> Answer:
        request = self.build_request(self.http_client, spec, clock)
        hops = 0
        while True:
            try:
                response = self.http_client.send(request, stream=True, follow_redirects=False)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise self.connection_error(spec, exc, clock) from None
            try:
                follow = self.follow(self.http_client, hops, request, response, clock)
                if follow is None:
                    return self._read(spec, response, clock)
            finally:
                response.close()
            request, hops = follow, hops + 1

    def _read(self, spec: RequestSpec, response: httpx.Response, clock: AttemptClock) -> Answer:
        reader = self.body_reader(spec, response)
        chunks: Iterable[bytes] = (
            (response.content,) if response.is_stream_consumed else response.iter_raw()
        )
        try:
            for chunk in chunks:
                if not reader.feed(chunk):
                    break
                if clock.expired():
                    raise self.deadline_error(spec, clock)
            body = reader.finish()
        except (httpx.HTTPError, BodyTooLarge, UndecodableBody) as exc:
            raise self.body_error(spec, response, exc, clock) from None
        return self.finished(response, body)

    def send(self, spec: RequestSpec) -> Answer:
        """Send a request, retrying as the policy says.

        Args:
            spec: The request.

        Returns:
            The successful (2xx) response, body read and decoded.

        Raises:
            APIError: The final error status, after retries.
            APIConnectionError: The final connection failure, after retries.
            APITimeoutError: The final attempt ran past its timeout.
            ResponseTooLargeError: The body is larger than ``max_response_bytes``.
            ConfigError: The request URL cannot be built.
        """
        try:
            return self._attempt(spec)
        except UsagekitError as error:
            pending = self.first_failure(error)

        def attempt(spec: RequestSpec) -> Answer:
            if pending:
                raise pending.pop()
            return self._attempt(spec)

        retrying = Retrying(sleep=self.sleep, **self.retrying_arguments(spec))
        response: Answer = retrying(attempt, spec)
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

    An attempt runs in a cancel scope (``anyio.fail_after``) set to its deadline, so it ends
    on time whatever the server does, with any ``httpx.AsyncClient``.

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
        self.http_client = http_client or httpx.AsyncClient(
            follow_redirects=False, cookies=no_cookies()
        )
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

    async def _attempt(self, spec: RequestSpec) -> Answer:
        wait = self.pace()
        if wait > 0:
            await self.sleep(wait)
        started = time.monotonic()
        clock = self.start_clock()
        try:
            with anyio.fail_after(clock.seconds):
                response = await self._exchange(spec, clock)
        except TimeoutError:
            raise self.deadline_error(spec, clock) from None
        self.log_response(spec, response, started)
        self.settle(spec, response.request, response)
        return response

    async def _exchange(self, spec: RequestSpec, clock: AttemptClock) -> Answer:
        request = self.build_request(self.http_client, spec, clock)
        hops = 0
        while True:
            try:
                response = await self.http_client.send(request, stream=True, follow_redirects=False)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise self.connection_error(spec, exc, clock) from None
            try:
                follow = self.follow(self.http_client, hops, request, response, clock)
                if follow is None:
                    return await self._read(spec, response, clock)
            finally:
                await response.aclose()
            request, hops = follow, hops + 1

    async def _read(
        self, spec: RequestSpec, response: httpx.Response, clock: AttemptClock
    ) -> Answer:
        reader = self.body_reader(spec, response)
        try:
            if response.is_stream_consumed:
                reader.feed(response.content)
            else:
                async for chunk in response.aiter_raw():
                    if not reader.feed(chunk):
                        break
                    if clock.expired():
                        raise self.deadline_error(spec, clock)
            body = reader.finish()
        except (httpx.HTTPError, BodyTooLarge, UndecodableBody) as exc:
            raise self.body_error(spec, response, exc, clock) from None
        return self.finished(response, body)

    async def send(self, spec: RequestSpec) -> Answer:
        """Send a request, retrying as the policy says (see :meth:`Transport.send`)."""
        try:
            return await self._attempt(spec)
        except UsagekitError as error:
            pending = self.first_failure(error)

        async def attempt(spec: RequestSpec) -> Answer:
            if pending:
                raise pending.pop()
            return await self._attempt(spec)

        retrying = AsyncRetrying(sleep=self.sleep, **self.retrying_arguments(spec))
        response: Answer = await retrying(attempt, spec)
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

"""The part of a transport that does no I/O, shared by the sync and the async transport.

:class:`TransportCore` builds requests (credentials only for the base URL's origin, never a
cookie), follows redirects safely, maps statuses to errors, reads retry hints, paces requests
through the adaptive rate limiter, and decodes and validates bodies. The send loops
(:mod:`usagekit._core._async_transport` and its generated twin) only send, read and sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import anyio
import httpx
from tenacity import RetryCallState

from .._version import __version__
from ._http import Answer, Params, RequestSpec, TransportConfig, Undecoded, decode
from .bounded import (
    ERROR_BODY_LIMIT,
    AttemptClock,
    BodyReader,
    BodyTooLarge,
    JSONRejected,
    UndecodableBody,
    attempt_seconds,
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
from .logs import MIN_SECRET_LENGTH, SENSITIVE_HEADERS, logger, redact, redact_value
from .ratelimit import AdaptiveRateLimiter
from .retry import parse_retry_after

__all__ = ["AsyncSleep", "Sleep", "TransportCore", "async_sleep"]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")
_USER_AGENT = f"usagekit/{__version__} httpx/{httpx.__version__}"
_ACCEPT_ENCODING = "gzip, deflate"
"""The encodings :class:`~usagekit._core.bounded.BodyReader` decodes with bounded memory."""
_MAX_REQUEST_ID = 200
"""A request id longer than this is cut (after redaction)."""
_MAX_REASON = 200

Sleep = Callable[[float], None]
"""What a sync transport waits between attempts with (``time.sleep`` by default)."""

AsyncSleep = Callable[[float], Awaitable[None]]
"""What an async transport waits between attempts with (:func:`async_sleep` by default)."""


async def async_sleep(seconds: float) -> None:
    """Wait ``seconds`` on the running event loop: the async transport's default ``sleep``.

    Args:
        seconds: How long to wait.
    """
    await asyncio.sleep(seconds)


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


def _redacted(text: str) -> str:
    """``redact(text)``, skipped for a text too short to hold anything it replaces ("OK"):
    a secret shorter than ``MIN_SECRET_LENGTH`` is never registered, and the shortest
    credential header it replaces, ``cookie=x``, is that long too."""
    return text if len(text) < MIN_SECRET_LENGTH else redact(text)


def _request_id(headers: httpx.Headers) -> str | None:
    """The response's request id, redacted (a server may echo a key in it) and cut short."""
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return redact(str(value))[:_MAX_REQUEST_ID]
    return None


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


class _PublishedDeadline:
    """The block of a sync attempt: its deadline published for the block's duration."""

    __slots__ = ("_deadline", "_token")

    def __init__(self, deadline: float | None) -> None:
        self._deadline = deadline

    def __enter__(self) -> None:
        self._token = set_deadline(self._deadline)

    def __exit__(self, *exc_info: object) -> None:
        reset_deadline(self._token)


class TransportCore:
    """The part of a transport that does no I/O: everything but sending, reading and sleeping.

    Args:
        config: The provider's configuration.
        rate_limiter: The adaptive rate limiter to share (a derived transport shares its
            parent's); None for a new one when ``config.adaptive_rate_limit`` is set. Without
            ``adaptive_rate_limit`` no limiter is used at all.
    """

    def __init__(self, config: TransportConfig, rate_limiter: AdaptiveRateLimiter | None) -> None:
        self.config = config
        if rate_limiter is None and config.adaptive_rate_limit:
            rate_limiter = AdaptiveRateLimiter()
        self.rate_limiter = rate_limiter if config.adaptive_rate_limit else None
        self._urls: dict[str, httpx.URL] = {}
        self._seconds = attempt_seconds(config.timeout)
        self._headers = {
            "accept": "application/json",
            "accept-encoding": _ACCEPT_ENCODING,
            "user-agent": _USER_AGENT,
            **config.headers,
            **{k: v.get_secret_value() for k, v in config.credentials.items()},
        }

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
        seconds = self._seconds
        return AttemptClock(seconds, None if seconds is None else time.monotonic() + seconds)

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
        try:
            return self._build(
                client,
                spec.method,
                self.url_for(spec),
                params=spec.params,
                headers=self._headers,
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
        return Answer(
            response.status_code,
            response.headers,
            body,
            response.request,
            _redacted(response.reason_phrase)[:_MAX_REASON],
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
        """Validate a 2xx response's body into ``type_``.

        Raises:
            ResponseValidationError: As :func:`~usagekit._core._http.decode_body` (the
                response's request id is read only then).
        """
        try:
            return decode(response.content, type_)
        except Undecoded as exc:
            raise ResponseValidationError(
                exc.message,
                provider=self.config.provider,
                endpoint=spec.endpoint,
                field=exc.field,
                request_id=_request_id(response.headers),
            ) from None

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

    # -- deadlines ------------------------------------------------------------------------

    def attempt_scope(self, spec: RequestSpec, clock: AttemptClock) -> _PublishedDeadline:
        """Bound a sync attempt by its deadline, for the block's duration.

        The deadline is published (:func:`~usagekit._core.bounded.set_deadline`, this context
        only) to the hook installed in the client's connection pools
        (:func:`~usagekit._core.bounded.install_deadline_hook`; inert outside usagekit's own
        requests), which bounds every socket operation by it; the body's reader also checks it
        between chunks, whatever the client's transport.

        Args:
            spec: The request (unused here; the async scope names it in its error).
            clock: The attempt's deadline.

        Returns:
            A context manager; the deadline is withdrawn when its block ends.
        """
        return _PublishedDeadline(clock.deadline)

    @contextlib.contextmanager
    def async_attempt_scope(self, spec: RequestSpec, clock: AttemptClock) -> Iterator[None]:
        """Bound an async attempt by its deadline, for the block's duration.

        The block runs in a cancel scope (``anyio.fail_after``) set to the deadline, so the
        attempt ends on time whatever the server does, with any ``httpx.AsyncClient``.

        Args:
            spec: The request, for the error.
            clock: The attempt's deadline.

        Yields:
            Nothing.

        Raises:
            APITimeoutError: The block ran past the deadline.
        """
        try:
            with anyio.fail_after(clock.seconds):
                yield
        except TimeoutError:
            raise self.deadline_error(spec, clock) from None

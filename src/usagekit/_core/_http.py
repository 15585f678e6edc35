"""A request and its answer as data: request specs, configuration, body decoding.

Nothing here does I/O. :class:`RequestSpec` says what to send, :class:`TransportConfig` what a
transport knows of one provider's API, :class:`Answer` what came back; :func:`decode_body`
validates a body into a model. The transport (:mod:`usagekit._core.transport`) builds on them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError

from .bounded import (
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_JSON_DEPTH,
    JSONRejected,
    _nests_deeper,
    parse_json,
)
from .errors import ConfigError, ResponseValidationError
from .logs import redact, register_secret
from .provider import BodyRetryHint
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "Answer",
    "Params",
    "RequestSpec",
    "TransportConfig",
    "Undecoded",
    "decode",
    "decode_body",
    "params_from",
    "validate_base_url",
]

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""60 s per attempt (each read too), 10 s to connect."""

_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)

Params = tuple[tuple[str, str], ...]
"""Query parameters as ordered pairs; a key may repeat."""


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
        return RequestSpec(self.path, self.endpoint, (*kept, (key, value)), self.method)


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
        headers: Other headers sent on every request to the base URL's origin, not secret (an
            API version, a beta flag): shown as they are, never redacted.
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
    headers: Mapping[str, str] = field(default_factory=dict)
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


class Undecoded(Exception):
    """Internal: why a body was refused (the caller raises :class:`ResponseValidationError`).

    Attributes:
        message: The error's message.
        field: The first offending field, if any.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_RAW = re.compile(rb"\xed[\xa0-\xbf]")  # U+D800-DFFF as UTF-8 would encode them


def _may_hold_surrogate(content: bytes | str) -> bool:
    """Whether a body's strings may hold a lone surrogate (False only when they can not).

    Args:
        content: The raw body.

    Returns:
        False when the body is UTF-8 with neither a surrogate's escape nor its bytes (read
        with ``"surrogatepass"``); True otherwise (the walk of the value decides).
    """
    if not isinstance(content, bytes) or json.detect_encoding(content) not in _UTF8:
        return True  # a text not UTF-8 (rare): the walk decides
    if b"\xed" in content and _SURROGATE_RAW.search(content) is not None:
        return True
    return b"\\u" in content and _SURROGATE_ESCAPE.search(content) is not None


_UTF8 = frozenset(("utf-8", "utf-8-sig"))


def _surrogate_field(value: Any) -> str | None:
    """Where a validated value's declared fields first hold a string with a lone surrogate
    (in the order the models declare their fields, as pydantic reports its first error).

    Unknown fields (a model's extras) are not looked at.

    Args:
        value: The validated value.

    Returns:
        The first such field's dotted path, or None.
    """
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:  # iterative: the value nests at most MAX_JSON_DEPTH levels, but no recursion
        item, path = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return path
        elif isinstance(item, BaseModel):  # children pushed last first: popped in order
            stack += [
                (getattr(item, name), f"{path}.{name}" if path else name)
                for name in reversed(type(item).model_fields)
            ]
        elif isinstance(item, (list, tuple)):
            stack += [(item[index], f"{path}.{index}") for index in reversed(range(len(item)))]
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                stack.append((child, f"{path}.{key}"))
                if isinstance(key, str):
                    stack.append((key, path))
    return None


_PLAIN: dict[Any, Callable[[Any], bool]] = {}


def _ints_as_pydantic() -> bool:
    """Whether ``json`` refuses no integer pydantic-core reads (pydantic-core's limit is 4,300
    digits; a process may lower Python's, ``PYTHONINTMAXSTRDIGITS``: then the exact way)."""
    limit = sys.get_int_max_str_digits()
    return limit == 0 or limit >= _PYDANTIC_INT_DIGITS


_PYDANTIC_INT_DIGITS = 4300


def register_plain_json(type_: Any, plain: Callable[[Any], bool]) -> None:
    """Let :func:`decode` validate bodies of ``type_`` straight from their bytes.

    pydantic-core reads a JSON number with a fraction or an exponent as a float, so such a body
    is not what :func:`decode` promises (exact numbers). For a type whose every number is an
    integer field (validated strictly, so a float is refused) it is: :func:`decode` then tries
    ``validate_json(strict=True)`` first and keeps its value only when ``plain(value)`` says no
    float reached the value elsewhere (in its unknown fields), the body nests no deeper than
    :data:`~usagekit._core.bounded.MAX_JSON_DEPTH` levels and pydantic refused nothing; any
    other body goes the exact way (the same value, and the same errors, as without this).

    Args:
        type_: The type (a page model whose numbers are all counts or unix times).
        plain: Whether a value of ``type_`` so validated holds no float.
    """
    _PLAIN[type_] = plain


def floatless(value: Any) -> bool:
    """Whether a parsed JSON value (an unknown field's) holds no float at any depth.

    Args:
        value: The value.

    Returns:
        True when no float is in it.
    """
    stack = [value]
    while stack:  # iterative: unknown fields nest as the body does
        item = stack.pop()
        if type(item) is float:
            return False
        if isinstance(item, dict):
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return True


def _from_bytes(content: bytes, type_: Any, plain: Callable[[Any], bool]) -> Any:
    """A body of a :func:`register_plain_json` type validated from its bytes, or None when it
    must go the exact way."""
    try:
        value = _adapter(type_).validate_json(content, strict=True)
    except (ValidationError, ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if not plain(value) or _nests_deeper(content, MAX_JSON_DEPTH):
        return None
    return value


def decode(content: bytes, type_: Any) -> Any:
    """Parse JSON (numbers with a fraction as exact ``Decimal``) and validate it into ``type_``.

    Args:
        content: The raw body.
        type_: A pydantic model or any type pydantic can validate.

    Returns:
        The validated value.

    Raises:
        Undecoded: The body is refused (see :func:`decode_body`).
    """
    plain = _PLAIN.get(type_)
    if plain is not None and type(content) is bytes and _ints_as_pydantic():
        fast = _from_bytes(content, type_, plain)
        if fast is not None:
            return fast
    try:
        data = parse_json(content)
    except JSONRejected as exc:
        raise Undecoded(f"the body is {exc}") from None
    try:
        value = _adapter(type_).validate_python(data)
    except ValidationError as exc:
        location, message = _first_error_field(exc)
        raise Undecoded(
            f"the body does not have the documented shape: {redact(message)}",
            redact(location) or None,
        ) from None
    except (TypeError, ArithmeticError, RecursionError) as exc:  # a validator that gave up
        raise Undecoded(f"the body could not be validated ({type(exc).__name__})") from None
    if _may_hold_surrogate(content):
        where = _surrogate_field(value)
        if where is not None:  # no id, export or store could hold it
            raise Undecoded(
                "the body does not have the documented shape: a text holds a lone UTF-16 "
                "surrogate (an escape such as \\ud800 that is not half of a pair)",
                redact(where) or None,
            )
    return value


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
            :data:`~usagekit._core.bounded.MAX_JSON_DEPTH` levels, or not of the documented shape
            (a documented text field holding a lone UTF-16 surrogate included; an unknown
            field's text is kept as parsed); the error names the first offending field.
    """
    try:
        return decode(content, type_)
    except Undecoded as exc:
        raise ResponseValidationError(
            exc.message,
            provider=provider,
            endpoint=endpoint,
            field=exc.field,
            request_id=request_id,
        ) from None

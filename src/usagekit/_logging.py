"""Logging under the ``usagekit`` logger, metadata only, with secrets redacted.

usagekit itself logs only method, path, status, request id, attempt and timings. As a second
line of defence, :class:`SensitiveDataFilter` scrubs credential header values and every
credential a client was created with from any record it sees; it is attached to the
``usagekit`` logger, and users can attach it to their own handlers to cover ``httpx`` too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SensitiveDataFilter",
    "logger",
    "redact",
    "redact_value",
    "register_secret",
    "secret_forms",
]

REDACTED = "[redacted]"

SENSITIVE_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-org-id",
        "cookie",
        "set-cookie",
    }
)
"""Header names whose values are credentials (lower case). ``x-org-id`` is not a secret, but it
is never sent to a foreign origin either."""

_HEADER_PATTERN = re.compile(
    r"(?P<name>\b(?:" + "|".join(re.escape(h) for h in sorted(SENSITIVE_HEADERS)) + r"))"
    r"(?P<sep>['\"]?\s*[:=,]\s*['\"]?)(?P<value>(?:Bearer\s+|Basic\s+)?[^\s'\",}\]]+)",
    re.IGNORECASE,
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()

logger = logging.getLogger("usagekit")


def secret_forms(value: str) -> tuple[str, ...]:
    """The forms a credential header value may be echoed in: as sent, and without its scheme.

    ``"Bearer sk-..."`` is also echoed as the bare ``"sk-..."`` (OpenAI's 401 message does).
    """
    forms = [value]
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "token"):
        forms.append(rest.strip())
    return tuple(form for form in forms if len(form) >= 8)


def register_secret(value: str) -> None:
    """Remember a credential so that :func:`redact` scrubs it wherever it appears.

    Args:
        value: The secret (a header value; its bare form without ``Bearer`` is registered
            too); forms shorter than 8 characters are ignored (too likely to match ordinary
            text, and too short to be a real key).
    """
    with _secrets_lock:
        _secrets.update(secret_forms(value))


def redact_value(value: Any, extra: Iterable[str] = ()) -> Any:
    """Return a parsed JSON value with every string in it redacted (see :func:`redact`)."""
    if isinstance(value, str):
        return redact(value, extra)
    if isinstance(value, dict):
        return {key: redact_value(item, extra) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item, extra) for item in value]
    return value


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Return ``text`` with credential header values and known secrets replaced.

    Args:
        text: Any text that might hold a credential.
        extra: Further secret values to scrub.

    Returns:
        The text with each secret replaced by ``[redacted]``.
    """
    text = _HEADER_PATTERN.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    with _secrets_lock:
        known = list(_secrets)
    for secret in (*known, *extra):
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


class SensitiveDataFilter(logging.Filter):
    """A logging filter that redacts credentials from a record's message and arguments.

    Attach it to a handler to cover every library's records.

    Example:
        ```python
        handler.addFilter(usagekit.SensitiveDataFilter())
        ```
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it.

        Args:
            record: The log record.

        Returns:
            Always True.
        """
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


logger.addFilter(SensitiveDataFilter())

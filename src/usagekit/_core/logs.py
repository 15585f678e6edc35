"""Logging under the ``usagekit`` logger, metadata only, with secrets redacted.

usagekit itself logs only method, path, status, request id, attempt and timings. As a second
line of defence, :class:`SensitiveDataFilter` scrubs credential header values and every
credential a live client was created with from any record it sees. It is attached to the
``usagekit`` logger and to the loggers of ``httpx`` and ``httpcore`` (whose debug records show
response headers, where a server may echo a key); attach it to your own handlers to cover any
other library.

Redaction (:func:`redact`) replaces:

- the value after a credential header name (``Authorization: Bearer ...``, ``api-key=...``);
- every registered secret where it appears whole (secrets shorter than
  :data:`MIN_SECRET_LENGTH` are never registered);
- any run of :data:`PARTIAL_MATCH_LENGTH` or more consecutive characters of a registered
  secret, compared case-insensitively: a server that echoes a key without its last characters,
  or lower-cased, is caught too.

The registry keeps a secret only while a client (its configuration) that uses it is alive: a
finalizer releases it when the last one is collected, so creating and dropping clients does not
grow it.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import weakref
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MIN_SECRET_LENGTH",
    "PARTIAL_MATCH_LENGTH",
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

MIN_SECRET_LENGTH = 8
"""Forms of a secret shorter than this are not registered: too likely to match ordinary text,
and too short to be a real key."""

PARTIAL_MATCH_LENGTH = 12
"""A run of at least this many consecutive characters of a registered secret is redacted
wherever it appears (case-insensitively). Twelve characters of a random key cannot occur in
ordinary text by chance, and a server that echoes most of a key is caught."""

_MAX_VALUE_DEPTH = 100
""":func:`redact_value` replaces anything nested deeper than this (bodies are depth-checked
before, so this only guards direct callers)."""

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

_AUTH_SCHEMES = frozenset({"bearer", "basic", "token"})

_HEADER_PATTERN = re.compile(
    r"(?P<name>\b(?:" + "|".join(re.escape(h) for h in sorted(SENSITIVE_HEADERS)) + r"))"
    r"(?P<sep>['\"]?\s*[:=,]\s*['\"]?)(?P<value>(?:Bearer\s+|Basic\s+)?[^\s'\",}\]]+)",
    re.IGNORECASE,
)

_THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
"""Loggers whose records can hold response headers (httpcore logs them at DEBUG). A filter on a
logger only sees records created on that very logger, so each one gets its own."""

logger = logging.getLogger("usagekit")


def secret_forms(value: str) -> tuple[str, ...]:
    """The forms a credential header value may be echoed in: as sent, and without its scheme.

    ``"Bearer sk-..."`` is also echoed as the bare ``"sk-..."`` (OpenAI's 401 message does).

    Args:
        value: A credential header value.

    Returns:
        The forms at least :data:`MIN_SECRET_LENGTH` characters long.
    """
    forms = [value]
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in _AUTH_SCHEMES:
        forms.append(rest.strip())
    return tuple(form for form in forms if len(form) >= MIN_SECRET_LENGTH)


def _split(forms: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split forms into those matched whole and the pieces matched by runs.

    A form whose every word (auth schemes aside) is long enough is covered by its pieces'
    runs (``"Bearer sk-..."`` becomes ``"Bearer [redacted]"``); any other form is matched whole.
    """
    exact: list[str] = []
    pieces: list[str] = []
    for form in forms:
        words = [w for w in form.split() if w.lower() not in _AUTH_SCHEMES]
        long_words = [w for w in words if len(w) >= PARTIAL_MATCH_LENGTH]
        pieces.extend(long_words)
        if not words or len(long_words) < len(words):
            exact.append(form)
    return exact, pieces


def _grams(piece: str) -> Iterable[str]:
    low = piece.lower()
    return (low[i : i + PARTIAL_MATCH_LENGTH] for i in range(len(low) - PARTIAL_MATCH_LENGTH + 1))


@functools.lru_cache(maxsize=32)
def _run_pattern(alphabet: str) -> re.Pattern[str]:
    chars = "".join(re.escape(char) for char in alphabet)
    return re.compile(f"[{chars}]{{{PARTIAL_MATCH_LENGTH},}}")


@dataclass(frozen=True)
class _Snapshot:
    """An immutable view of a set of secrets, cheap to apply (no lock needed)."""

    exact: tuple[str, ...]
    grams: frozenset[str]
    pattern: re.Pattern[str] | None

    @classmethod
    def build(cls, exact: Iterable[str], pieces: Iterable[str]) -> _Snapshot:
        pieces = list(pieces)
        grams = frozenset(gram for piece in pieces for gram in _grams(piece))
        alphabet = {c for piece in pieces for char in piece for c in (char.lower(), char.upper())}
        pattern = _run_pattern("".join(sorted(alphabet))) if grams else None
        return cls(tuple(sorted(set(exact), key=len, reverse=True)), grams, pattern)

    def scrub(self, text: str) -> str:
        for secret in self.exact:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if self.pattern is not None:
            text = self.pattern.sub(self._scrub_run, text)
        return text

    def _scrub_run(self, match: re.Match[str]) -> str:
        run = match.group()
        low = run.lower()
        grams = self.grams
        size = PARTIAL_MATCH_LENGTH
        spans: list[list[int]] = []
        for i in range(len(low) - size + 1):
            if low[i : i + size] in grams:
                if spans and i <= spans[-1][1]:
                    spans[-1][1] = i + size
                else:
                    spans.append([i, i + size])
        if not spans:
            return run
        out: list[str] = []
        cursor = 0
        for start, end in spans:
            out += [run[cursor:start], REDACTED]
            cursor = end
        out.append(run[cursor:])
        return "".join(out)


_EMPTY = _Snapshot((), frozenset(), None)


class _Registry:
    """The secrets of live clients, reference-counted.

    Finalizers may run at any moment (in any thread, inside a garbage collection triggered
    while this registry is being read or written), so they only queue a release; releases are
    applied under the lock by the next reader or writer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exact: Counter[str] = Counter()
        self._pieces: Counter[str] = Counter()
        self._released: deque[tuple[tuple[str, ...], tuple[str, ...]]] = deque()
        self._snapshot: _Snapshot | None = _EMPTY

    def add(self, value: str, owner: object | None) -> None:
        exact, pieces = _split(secret_forms(value))
        if not exact and not pieces:
            return
        entry = (tuple(exact), tuple(pieces))
        with self._lock:
            self._apply_releases()
            self._exact.update(entry[0])
            self._pieces.update(entry[1])
            self._snapshot = None
        if owner is None:
            return
        try:
            finalizer = weakref.finalize(owner, self._released.append, entry)
        except TypeError:  # an owner that takes no weak reference: the secret stays
            return
        finalizer.atexit = False

    def _apply_releases(self) -> None:
        while self._released:
            exact, pieces = self._released.popleft()
            self._exact.subtract(exact)
            self._pieces.subtract(pieces)
            for counter, keys in ((self._exact, exact), (self._pieces, pieces)):
                for key in keys:
                    if counter[key] <= 0:
                        del counter[key]
            self._snapshot = None

    def snapshot(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and not self._released:
            return snapshot
        with self._lock:
            self._apply_releases()
            if self._snapshot is None:
                self._snapshot = _Snapshot.build(self._exact, self._pieces)
            return self._snapshot

    def __len__(self) -> int:
        """The number of distinct secret forms held (releases applied first)."""
        with self._lock:
            self._apply_releases()
            return len(self._exact) + len(self._pieces)


_registry = _Registry()


def register_secret(value: str, owner: object | None = None) -> None:
    """Remember a credential so that :func:`redact` scrubs it wherever it appears.

    Args:
        value: The secret (a header value; its bare form without ``Bearer`` is registered
            too); forms shorter than :data:`MIN_SECRET_LENGTH` characters are ignored.
        owner: The object using the secret (a client's configuration): the secret is released
            when the last of its owners is garbage-collected. None keeps it for the process's
            lifetime.
    """
    _registry.add(value, owner)


def redact_value(value: Any, extra: Iterable[str] = ()) -> Any:
    """Return a parsed JSON value with every string in it, keys included, redacted.

    Args:
        value: A parsed JSON value (dicts, lists, strings, numbers).
        extra: Further secret values to scrub (see :func:`redact`).

    Returns:
        A copy with each string passed through :func:`redact`; anything nested deeper than
        100 levels is replaced by ``[redacted]``.
    """
    extras = tuple(extra)
    return _redact_value(value, extras, 0)


def _redact_value(value: Any, extra: tuple[str, ...], depth: int) -> Any:
    if isinstance(value, str):
        return redact(value, extra)
    if isinstance(value, (dict, list)) and depth >= _MAX_VALUE_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {
            _redact_value(key, extra, depth + 1): _redact_value(item, extra, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_value(item, extra, depth + 1) for item in value]
    return value


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Return ``text`` with credential header values and known secrets replaced.

    Args:
        text: Any text that might hold a credential.
        extra: Further secret values to scrub, whole and by runs, as registered ones are.

    Returns:
        The text with each secret, or long enough part of one, replaced by ``[redacted]``.
    """
    text = _HEADER_PATTERN.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    text = _registry.snapshot().scrub(text)
    extras = [form for value in extra if value for form in secret_forms(value)]
    if extras:
        text = _Snapshot.build(*_split(extras)).scrub(text)
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
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: the handler reports it, as without the filter
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def _attach_filter(name: str) -> None:
    target = logging.getLogger(name)
    if not any(isinstance(f, SensitiveDataFilter) for f in target.filters):
        target.addFilter(SensitiveDataFilter())


for _name in ("usagekit", *_THIRD_PARTY_LOGGERS):
    _attach_filter(_name)

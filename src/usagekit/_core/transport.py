"""One transport for every provider: sans-I/O core, thin sync and async send loops.

Everything that does no I/O is written once: requests, configuration and body decoding as data
(:mod:`usagekit._core._http`), and building requests, following redirects safely, mapping
statuses to errors, reading retry hints and validating bodies
(:class:`~usagekit._core._sansio.TransportCore`). :class:`AsyncTransport`
(:mod:`usagekit._core._async_transport`) only sends, bounds an attempt's time and sleeps between
attempts; :class:`Transport` is generated from it by ``scripts/unasync.py``.

Every attempt is bounded (see :mod:`usagekit._core.bounded`): it ends by its deadline (the
configured timeout, for the whole attempt: connect, send, redirects, headers and body) and
keeps at most ``max_response_bytes`` of decoded body. Everything kept from a response (request
id, reason phrase, message, body) is redacted when the error is created, so no channel that
shows the error (exception text, logs, the store) can show a secret the server echoed.

This module is the import path the providers use; the names live in the modules above.
"""

from __future__ import annotations

from ._async_transport import AsyncTransport
from ._http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    Answer,
    Params,
    RequestSpec,
    TransportConfig,
    decode_body,
    params_from,
    validate_base_url,
)
from ._transport import Transport

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "Answer",
    "AsyncTransport",
    "Params",
    "RequestSpec",
    "Transport",
    "TransportConfig",
    "decode_body",
    "params_from",
    "validate_base_url",
]

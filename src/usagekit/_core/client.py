"""What every provider client shares: configuration, lifecycle, ``with_options``.

A provider client is a thin layer: its constructor resolves credentials and builds a
:class:`TransportConfig` (:func:`build_config`); its methods describe requests as data and
borrow the transport's verbs. :class:`AsyncClientBase` is written once
(:mod:`usagekit._core._async_client`); :class:`SyncClientBase` is generated from it by
``scripts/unasync.py``. This module is the import path the providers use.
"""

from __future__ import annotations

from ._async_client import AsyncClientBase
from ._client import SyncClientBase
from ._config import (
    DEFAULT_MAX_RETRIES,
    build_config,
    resolve_base_url,
    resolve_secret,
    resolve_setting,
)
from ._http import TransportConfig

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "AsyncClientBase",
    "SyncClientBase",
    "TransportConfig",
    "build_config",
    "resolve_base_url",
    "resolve_secret",
    "resolve_setting",
]

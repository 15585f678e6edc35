"""Unsiloed's requests: the one request.

Everything here reads the provider's facts from :data:`~._info.INFO`; nothing does I/O.
"""

from __future__ import annotations

from ..._core.transport import RequestSpec

__all__ = ["GET_USAGE", "SOURCE"]

SOURCE = "get_usage"
"""The ``source`` of every Unsiloed record: the one endpoint."""

GET_USAGE = RequestSpec("/org/get_usage", SOURCE)
"""The ``get_usage`` request (it takes no parameters)."""

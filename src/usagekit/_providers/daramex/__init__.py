"""Daramex: the org usage analytics endpoints of the AI Usage Dashboard.

Five read-only endpoints under ``/ai/org-usage``: ``time-series``, ``projection``,
``model-efficiency``, ``heatmap`` and ``cache-savings``, authenticated with a session JWT
(``Authorization: Bearer``) and the organization in ``x-org-id``. The folder holds the registry
entry (``_info``), the wire models (``_models``), request building and argument checks
(``_requests``), normalization into records (``_normalize``) and the clients
(``_async_client``, written by hand, and ``_client``, generated from it).
"""

from ._async_client import AsyncDaramexClient
from ._client import DaramexClient
from ._models import (
    DaramexAction,
    DaramexBucket,
    DaramexCacheSavings,
    DaramexGranularity,
    DaramexGroupBy,
    DaramexHeatmap,
    DaramexHeatmapCell,
    DaramexModelEfficiency,
    DaramexProjection,
    DaramexProjectionInsufficientData,
    DaramexProjectionOk,
    DaramexSeriesValue,
    DaramexSource,
    DaramexTimeSeries,
)

__all__ = [
    "AsyncDaramexClient",
    "DaramexAction",
    "DaramexBucket",
    "DaramexCacheSavings",
    "DaramexClient",
    "DaramexGranularity",
    "DaramexGroupBy",
    "DaramexHeatmap",
    "DaramexHeatmapCell",
    "DaramexModelEfficiency",
    "DaramexProjection",
    "DaramexProjectionInsufficientData",
    "DaramexProjectionOk",
    "DaramexSeriesValue",
    "DaramexSource",
    "DaramexTimeSeries",
]

"""An offline sandbox server for usagekit: the usage APIs of every provider usagekit reads.

One local HTTP server (standard library only) answers all six providers on distinct paths
with deterministic, seeded data, and can misbehave on request (429s with retry hints, 5xx,
dropped connections, truncated bodies, slow answers, rate limits, endless cursors).

Names are imported on first use, so importing this package (as pytest does for the
``usagekit_sandbox`` plugin) costs next to nothing.

Example:
    >>> from usagekit.sandbox import serve
    >>> with serve(seed=1) as sb:  # doctest: +SKIP
    ...     sb.base_urls["openai"], sb.keys.openai_admin_key
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._data import SandboxData
    from ._emulators.openai._kinds import OPENAI_KINDS
    from ._faults import (
        DEFAULT_FAULT_WEIGHTS,
        FAULT_KINDS,
        EarlyRetry,
        FaultSettings,
        SandboxStats,
    )
    from ._rows import (
        BasedashEvent,
        BasedashPeriod,
        CostRow,
        DaramexEvent,
        UnsiloedCycle,
        UnsiloedEvent,
        UsageRow,
    )
    from ._sandbox import AsyncSandboxClients, Sandbox, SandboxClients, SandboxKeys, serve

__all__ = [
    "DEFAULT_FAULT_WEIGHTS",
    "FAULT_KINDS",
    "OPENAI_KINDS",
    "AsyncSandboxClients",
    "BasedashEvent",
    "BasedashPeriod",
    "CostRow",
    "DaramexEvent",
    "EarlyRetry",
    "FaultSettings",
    "Sandbox",
    "SandboxClients",
    "SandboxData",
    "SandboxKeys",
    "SandboxStats",
    "UnsiloedCycle",
    "UnsiloedEvent",
    "UsageRow",
    "serve",
]

_HOMES = {
    "OPENAI_KINDS": "._emulators.openai._kinds",
    "BasedashEvent": "._rows",
    "BasedashPeriod": "._rows",
    "CostRow": "._rows",
    "DaramexEvent": "._rows",
    "SandboxData": "._data",
    "UnsiloedCycle": "._rows",
    "UnsiloedEvent": "._rows",
    "UsageRow": "._rows",
    "DEFAULT_FAULT_WEIGHTS": "._faults",
    "FAULT_KINDS": "._faults",
    "EarlyRetry": "._faults",
    "FaultSettings": "._faults",
    "SandboxStats": "._faults",
    "AsyncSandboxClients": "._sandbox",
    "Sandbox": "._sandbox",
    "SandboxClients": "._sandbox",
    "SandboxKeys": "._sandbox",
    "serve": "._sandbox",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

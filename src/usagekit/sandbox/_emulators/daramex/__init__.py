"""The sandbox's emulation of the Daramex's org usage analytics API."""

from __future__ import annotations

from ._api import DaramexProvider

__all__ = ["DaramexProvider"]

"""The sandbox's emulation of the Unsiloed's credits API."""

from __future__ import annotations

from ._api import UnsiloedProvider

__all__ = ["UnsiloedProvider"]

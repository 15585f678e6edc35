"""The sandbox's emulation of the Basedash's AI usage API."""

from __future__ import annotations

from ._api import BasedashProvider

__all__ = ["BasedashProvider"]

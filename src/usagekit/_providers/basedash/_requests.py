"""Basedash's requests: the organization id and the one request.

Everything here reads the provider's facts from :data:`~._info.INFO`; nothing does I/O.
"""

from __future__ import annotations

import os
import urllib.parse

from ..._core.errors import ConfigError
from ..._core.transport import RequestSpec
from ._info import INFO, ORG_ID

__all__ = ["SOURCE", "ai_usage_spec", "check_org_id", "default_org_id"]

SOURCE = "ai_usage"
"""The ``source`` of every Basedash record: the one endpoint."""


def check_org_id(value: str, *, origin: str) -> str:
    """Return an organization id stripped of surrounding blanks.

    Args:
        value: The id given.
        origin: Where it came from (``"org_id"`` or the environment variable), for messages.

    Returns:
        The id.

    Raises:
        ConfigError: It is empty, ``.`` or ``..``.
    """
    org_id = value.strip()
    if not org_id:
        raise ConfigError(f"{INFO.name}: {origin} must not be empty")
    if org_id in (".", ".."):
        raise ConfigError(f"{INFO.name}: {origin} is not an organization id: {org_id!r}")
    return org_id


def default_org_id(org_id: str | None) -> str | None:
    """The client's default organization: the argument, else ``BASEDASH_ORG_ID``, else None.

    Args:
        org_id: The ``org_id`` passed to the client, if any.

    Returns:
        The checked id, or None when neither gives one (a blank variable counts as unset).

    Raises:
        ConfigError: The argument or the variable is not an organization id.
    """
    if org_id is not None:
        return check_org_id(org_id, origin="org_id")
    from_env = os.environ.get(ORG_ID.variable)
    if from_env is None or not from_env.strip():
        return None
    return check_org_id(from_env, origin=ORG_ID.variable)


def ai_usage_spec(org_id: str) -> RequestSpec:
    """Describe the ``ai-usage`` request of one organization (the id is path-encoded).

    Args:
        org_id: The organization id, already checked.

    Returns:
        The request.
    """
    encoded = urllib.parse.quote(org_id, safe="")
    return RequestSpec(f"/api/public/organizations/{encoded}/ai-usage", SOURCE)

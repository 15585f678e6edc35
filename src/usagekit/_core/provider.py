"""What usagekit knows about a provider, as data: one :class:`ProviderInfo` per provider.

Each provider folder (``usagekit/_providers/<name>/_info.py``) declares one, and the registry
(``usagekit/_providers/__init__.py``) lists them. The command, FOCUS, sync, the sandbox's client
factories and the docs read provider facts from here, never from provider names written in code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["BodyRetryHint", "ProviderInfo", "Setting"]

BodyRetryHint = Callable[[Any], "float | None"]
"""Reads a retry hint, in seconds, from a parsed error body (None when there is none)."""


@dataclass(frozen=True)
class Setting:
    """One constructor argument that can come from the environment.

    Attributes:
        argument: The constructor's keyword (``api_key``, ``token``, ``org_id``).
        env: The environment variables read when it is not passed, in order of preference;
            the first is the one documented and named in messages.
        secret: Whether it is a credential (never shown, redacted everywhere).
    """

    argument: str
    env: tuple[str, ...]
    secret: bool = True

    @property
    def variable(self) -> str:
        """The documented environment variable (the first of :attr:`env`)."""
        return self.env[0]

    def from_environment(self) -> str | None:
        """The value of the first of :attr:`env` set to something other than blanks, else None.

        Returns:
            The value as set (unstripped), or None when no variable holds one.
        """
        for variable in self.env:
            raw = os.environ.get(variable, "")
            if raw.strip():
                return raw
        return None


@dataclass(frozen=True)
class ProviderInfo:
    """The facts about one provider that code outside its folder needs.

    Attributes:
        name: The ``provider`` of its records and its ``--provider`` choice (``"openai"``).
        display_name: The provider's name as people write it (FOCUS ``ProviderName``).
        service_name: The service its charges are for (FOCUS ``ServiceName``).
        client: The public name of its synchronous client class in ``usagekit``.
        async_client: The public name of its asynchronous client class.
        settings: The constructor arguments read from the environment, credential first.
        base_url: The public API's base URL.
        base_url_env: The environment variable that overrides :attr:`base_url`.
        error_hints: Extra guidance appended to an error's text, by HTTP status.
        current_period: The provider reports only its current billing period (nobody else keeps
            its history, so a sync also keeps every fetch as a snapshot).
        generative: Its charges are for generative AI (FOCUS ``ServiceSubcategory``).
        body_retry_hint: Reads a retry hint from the provider's error bodies, if it sends one.
        publisher_attribute: The record attribute naming who made what was used, when that is
            not the provider itself (a router's model vendor): FOCUS ``PublisherName``.
        model_vendor: The one vendor of every model the provider serves (``"openai"``), or None
            for a provider serving many vendors' models (the canonical model names then guess
            the vendor from the model's name).
        colour: Its colour in the HTML report's and the plots' charts (``#rrggbb``); empty for
            a colour from the palette.
        summary: One line on what usagekit reads from it, for the docs' provider tables.
        credential_help: What its credentials are and where they are made, in Markdown, for
            the docs' "Keys" table.
        docs_page: Its page under ``docs/``.
    """

    name: str
    display_name: str
    service_name: str
    client: str
    async_client: str
    settings: tuple[Setting, ...]
    base_url: str
    base_url_env: str
    error_hints: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    current_period: bool = False
    generative: bool = True
    body_retry_hint: BodyRetryHint | None = None
    publisher_attribute: str | None = None
    model_vendor: str | None = None
    colour: str = ""
    summary: str = ""
    credential_help: str = ""
    docs_page: str = ""

    @property
    def credential(self) -> Setting:
        """The setting holding the credential (the first secret one)."""
        return next(s for s in self.settings if s.secret)

    @property
    def env_vars(self) -> tuple[str, ...]:
        """The documented environment variable of each setting, in order."""
        return tuple(s.variable for s in self.settings)

    def client_class(self, *, asynchronous: bool = False) -> type[Any]:
        """The client class (imported from ``usagekit`` when asked).

        Args:
            asynchronous: The async client instead of the sync one.

        Returns:
            The class.
        """
        import usagekit

        cls: type[Any] = getattr(usagekit, self.async_client if asynchronous else self.client)
        return cls

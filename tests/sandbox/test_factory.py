"""The one client factory: the registry's arguments, the sandbox's own values."""

from __future__ import annotations

import asyncio

import pytest

import usagekit
from usagekit._providers import PROVIDERS
from usagekit.sandbox import Sandbox


@pytest.mark.parametrize("name", list(PROVIDERS))
@pytest.mark.parametrize("asynchronous", [False, True])
def test_the_factory_builds_every_provider_s_client(
    sb: Sandbox, name: str, asynchronous: bool
) -> None:
    info = PROVIDERS[name]
    client = sb.client(name, asynchronous=asynchronous, max_retries=0)
    expected = info.async_client if asynchronous else info.client
    assert type(client) is getattr(usagekit, expected)
    assert client.provider == name
    if asynchronous:
        asyncio.run(client.aclose())
    else:
        client.close()


def test_an_argument_overrides_the_sandbox_s_value(sb: Sandbox) -> None:
    orphan = sb.client("unsiloed", api_key=sb.keys.unsiloed_orphan_api_key, max_retries=0)
    with orphan, pytest.raises(usagekit.NotFoundError):
        orphan.get_usage()


def test_a_provider_the_sandbox_does_not_emulate_is_refused(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="not 'nobody'"):
        sb.client("nobody")


def test_the_environment_holds_every_registry_variable(sb: Sandbox) -> None:
    env = sb.env()
    for info in PROVIDERS.values():
        for variable in (*info.env_vars, info.base_url_env):
            assert env[variable], variable
    assert set(sb.keys.env()) == {v for info in PROVIDERS.values() for v in info.env_vars}

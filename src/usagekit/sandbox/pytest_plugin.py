"""pytest fixtures for the usagekit sandbox (registered as the ``usagekit_sandbox`` plugin).

Fixtures:
    usagekit_sandbox: A running sandbox for one test. By default it is the session's shared
        sandbox, reset (no faults, zeroed counters) before the test; a test marked
        ``@pytest.mark.usagekit_sandbox(**options)`` gets a fresh one started with those
        ``serve()`` options instead (``fault_rate=0.3``, ``now=...``, ``rate_limit=5``, ...).
    usagekit_sandbox_shared: The session's shared sandbox itself (for session or module
        scoped fixtures). Seed and clock come from the ``usagekit_sandbox_seed`` and
        ``usagekit_sandbox_now`` ini options (defaults: 1 and real time).
    usagekit_sandbox_factory: Starts sandboxes with any options; they stop after the test.

The module imports only pytest: the sandbox itself is imported when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from usagekit.sandbox import Sandbox

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "usagekit_sandbox",
    "usagekit_sandbox_factory",
    "usagekit_sandbox_shared",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ini options of the shared sandbox."""
    parser.addini("usagekit_sandbox_seed", "data seed of the shared usagekit sandbox", default="1")
    parser.addini(
        "usagekit_sandbox_now",
        "fixed ISO-8601 'now' of the shared usagekit sandbox (empty: real time)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``usagekit_sandbox`` marker."""
    config.addinivalue_line(
        "markers",
        "usagekit_sandbox(**options): start this test's usagekit_sandbox with these serve() "
        "options",
    )


@pytest.fixture(scope="session")
def usagekit_sandbox_shared(pytestconfig: pytest.Config) -> Iterator[Sandbox]:
    """The session's shared sandbox."""
    from usagekit.sandbox import Sandbox
    from usagekit.sandbox._util import parse_iso8601

    seed = int(str(pytestconfig.getini("usagekit_sandbox_seed")) or "1")
    now_text = str(pytestconfig.getini("usagekit_sandbox_now")).strip()
    sandbox = Sandbox(seed=seed, now=parse_iso8601(now_text) if now_text else None).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def usagekit_sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """A function that starts a sandbox with ``serve()`` options; all stop after the test."""
    from usagekit.sandbox import Sandbox

    started: list[Sandbox] = []

    def start(**options: Any) -> Sandbox:
        sandbox = Sandbox(**options).start()
        started.append(sandbox)
        return sandbox

    try:
        yield start
    finally:
        for sandbox in reversed(started):
            sandbox.stop()


@pytest.fixture
def usagekit_sandbox(
    request: pytest.FixtureRequest, usagekit_sandbox_factory: Callable[..., Sandbox]
) -> Sandbox:
    """A running sandbox for this test (see the module docstring)."""
    marker = request.node.get_closest_marker("usagekit_sandbox")
    if marker is not None:
        return usagekit_sandbox_factory(**marker.kwargs)
    shared: Sandbox = request.getfixturevalue("usagekit_sandbox_shared")
    shared.reset()
    return shared

"""Where the records come from: clients built from the environment (as the provider registry
says), the sandbox (``--demo``) or a store (``--db``), with a progress line on a terminal."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from .._core.provider import Setting
from .._providers import PROVIDERS
from .._report import UsageReport
from ._common import CommandError

__all__ = ["ProgressLine", "clients", "env_clients", "fetch", "from_store"]


def env_clients(providers: Sequence[str]) -> list[Any]:
    """Build the clients of ``providers`` (default: every configured one) from the environment.

    A provider is configured when each of its settings has a variable set to something other
    than blanks: the documented one or another name it is read from (``Setting.env``).

    Args:
        providers: The ``--provider`` choices (empty: every configured provider).

    Returns:
        One client per provider, in the registry's order when none was chosen.

    Raises:
        CommandError: A variable is set but blank, a provider is half configured, none is
            configured, or a chosen provider lacks a variable.
    """

    def given(setting: Setting) -> bool:  # the documented variable or one of its other names
        return setting.from_environment() is not None

    def names(settings: Iterable[Setting]) -> str:
        return " and ".join(s.variable for s in settings)

    for info in PROVIDERS.values():
        blank = [v for s in info.settings if not given(s) for v in s.env if v in os.environ]
        if blank:
            raise CommandError(f"{info.name}: {' and '.join(blank)} is set but empty")
    wanted = list(providers)
    if not wanted:
        for info in PROVIDERS.values():
            found = [s for s in info.settings if given(s)]
            if found and len(found) < len(info.settings):
                missing = [s for s in info.settings if not given(s)]
                raise CommandError(
                    f"{info.name}: {names(found)} is set but {names(missing)} "
                    "is not; set it, or choose other providers with --provider"
                )
        wanted = [p for p, info in PROVIDERS.items() if all(given(s) for s in info.settings)]
        if not wanted:
            variables = ", ".join(v for info in PROVIDERS.values() for v in info.env_vars)
            raise CommandError(
                f"no provider is configured: set the variables of at least one ({variables}), "
                "or try --demo to run against the built-in sandbox"
            )
    built = []
    for name in wanted:
        info = PROVIDERS[name]
        missing = [s for s in info.settings if not given(s)]
        if missing:
            raise CommandError(f"{name}: set {names(missing)} (or use --demo)")
        built.append(info.client_class()())
    return built


@contextlib.contextmanager
def clients(args: argparse.Namespace) -> Iterator[list[Any]]:
    """Yield the clients the arguments ask for, closing them afterwards.

    Args:
        args: The parsed arguments (``--demo``, ``--provider``).

    Yields:
        The clients.
    """
    if args.demo:
        from ..sandbox import serve

        with serve(seed=1) as sandbox:
            chosen = [
                c for c in sandbox.clients() if not args.provider or c.provider in args.provider
            ]
            try:
                yield chosen
            finally:
                for client in chosen:
                    client.close()
        return
    chosen = env_clients(args.provider or [])
    try:
        yield chosen
    finally:
        for client in chosen:
            client.close()


class ProgressLine:
    """One self-rewriting status line on a terminal's stderr."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.state: dict[str, str] = {}
        self.lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        text = {
            "started": "fetching",
            "records": f"{event.records:,} records",
            "done": f"done ({event.records:,})",
            "failed": "failed",
        }.get(event.event, event.event)
        with self.lock:
            self.state[event.provider] = text
            line = " | ".join(f"{p}: {s}" for p, s in self.state.items())
            width = shutil.get_terminal_size((80, 24)).columns - 1  # never wrap: one line only
            self.stream.write("\r\033[K" + line[: max(width, 10)])
            self.stream.flush()

    def finish(self) -> None:
        with self.lock:
            if self.state:
                self.stream.write("\r\033[K")
                self.stream.flush()


def fetch(args: argparse.Namespace) -> UsageReport:
    """Fetch the report the arguments ask for, from the providers, the sandbox or a store.

    Args:
        args: The parsed arguments.

    Returns:
        The report.
    """
    from .._collect import collect

    if args.db:
        return from_store(args)
    progress = ProgressLine(sys.stderr) if sys.stderr.isatty() else None
    with clients(args) as chosen:
        try:
            return collect(
                chosen,
                args.since,
                args.until,
                on_progress=progress,
                allocate=getattr(args, "allocate", False),
            )
        finally:
            if progress is not None:
                progress.finish()


def from_store(args: argparse.Namespace) -> UsageReport:
    """Read the report from the store of ``--db``.

    Args:
        args: The parsed arguments.

    Returns:
        The report.

    Raises:
        CommandError: There is no store at that path.
    """
    from .._store.store import Store

    if not Path(args.db).exists():
        raise CommandError(f"no store at {args.db}; create it with: usagekit sync --db {args.db}")
    with Store(args.db) as store:
        filters = {"provider": args.provider} if args.provider else {}
        return store.report(
            args.since, args.until, allocate=getattr(args, "allocate", False), **filters
        )

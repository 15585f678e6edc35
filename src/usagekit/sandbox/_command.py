"""The ``usagekit sandbox`` command: serve the sandbox until interrupted."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import threading
from typing import TextIO

from ._sandbox import Sandbox
from ._util import parse_iso8601

__all__ = ["add_arguments", "run"]


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _instant(text: str) -> str:
    try:
        parse_iso8601(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox options to a parser.

    Args:
        parser: The parser (the ``sandbox`` sub-command's, or a standalone one).
    """
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--seed", type=int, default=1, help="data seed")
    parser.add_argument(
        "--fault-rate", type=_fraction, default=0.0, help="chance (0..1) of a fault per request"
    )
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault stream")
    parser.add_argument(
        "--latency-ms", type=_non_negative, default=0.0, help="milliseconds added to responses"
    )
    parser.add_argument(
        "--rate-limit", type=_positive, default=None, help="requests per second per key"
    )
    parser.add_argument("--rate-limit-burst", type=int, default=2, help="token bucket size")
    cursors = parser.add_mutually_exclusive_group()
    cursors.add_argument(
        "--endless-cursor", action="store_true", help="OpenAI pages never end (has_more: true)"
    )
    cursors.add_argument(
        "--cursor-cycle", action="store_true", help="OpenAI's last page repeats an old cursor"
    )
    parser.add_argument(
        "--now", type=_instant, default=None, help="fixed 'now' (ISO-8601) for reproducible data"
    )
    parser.add_argument("--history-days", type=int, default=120, help="days of data before now")
    parser.add_argument("--verbose", action="store_true", help="log every request")


def _describe(sandbox: Sandbox, out: TextIO) -> None:
    keys = sandbox.keys
    urls = sandbox.base_urls
    lines = [
        f"usagekit sandbox (seed {sandbox.seed}) listening on {sandbox.url}",
        "",
        f"  OpenAI    base URL {urls['openai']}",
        f"            admin key {keys.openai_admin_key}",
        f"            project key (403) {keys.openai_project_key}",
        f"  Basedash  base URL {urls['basedash']}",
        f"            API key {keys.basedash_api_key}   org id {keys.basedash_org_id}",
        f"  Unsiloed  base URL {urls['unsiloed']}",
        f"            API key {keys.unsiloed_api_key}",
        f"            key of a deleted org (404) {keys.unsiloed_orphan_api_key}",
        f"  Daramex   base URL {urls['daramex']}",
        f"            org id {keys.daramex_org_id}",
        f"            token {keys.daramex_token}",
        "",
        "# for a shell:",
        *(f"export {name}={shlex.quote(value)}" for name, value in sandbox.env().items()),
        "",
        "Press Ctrl-C to stop.",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def run(args: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or until ``stop`` is set).

    Args:
        args: Parsed options (see ``add_arguments``).
        stop: Set it to stop serving (for embedding and tests).

    Returns:
        The exit status: 0 after a clean stop, 2 when the sandbox cannot start.
    """
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        sandbox = Sandbox(
            seed=args.seed,
            port=args.port,
            host=args.host,
            fault_rate=args.fault_rate,
            fault_seed=args.fault_seed,
            latency=args.latency_ms / 1000.0,
            rate_limit=args.rate_limit,
            rate_limit_burst=args.rate_limit_burst,
            endless_cursor=args.endless_cursor,
            cursor_cycle=args.cursor_cycle,
            now=parse_iso8601(args.now) if args.now else None,
            history_days=args.history_days,
            log_requests=args.verbose,
        ).start()
    except (OSError, ValueError) as error:
        sys.stderr.write(f"usagekit sandbox: cannot start: {error}\n")
        return 2
    event = stop if stop is not None else threading.Event()
    try:
        _describe(sandbox, sys.stdout)
        while not event.wait(0.5):
            pass
    except KeyboardInterrupt:
        sys.stdout.write("\nstopping\n")
    finally:
        sandbox.stop()
    return 0

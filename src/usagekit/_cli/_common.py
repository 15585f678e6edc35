"""What every part of the command shares: exit codes, the one-line error, stderr, stdout."""

from __future__ import annotations

import contextlib
import sys

__all__ = ["EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "CommandError", "say", "to_stdout"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A problem to report in one line, with exit code 2."""


def to_stdout(path: str | None) -> bool:
    """Whether ``-o path`` means standard output (no path, or ``-``).

    Args:
        path: The ``-o`` given.

    Returns:
        True for standard output.
    """
    return not path or path == "-"


def say(line: str) -> None:
    """Write one line to stderr, redacted; a closed stderr is not an error worth a traceback.

    Args:
        line: The line, without its newline.
    """
    from .._core.logs import redact

    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(redact(line) + "\n")
        sys.stderr.flush()

"""Running the command: logging with ``-v``, one line per failure, exit codes, Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from .._core.errors import ConfigError, UsagekitError
from ._common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, CommandError, say
from ._parser import build_parser

__all__ = ["console_main", "main"]


class _StderrHandler(logging.Handler):
    """A handler that writes to whatever ``sys.stderr`` is when a record is emitted."""

    def emit(self, record: logging.LogRecord) -> None:
        """Write one formatted record to the current standard error.

        Args:
            record: The log record.
        """
        try:
            line = self.format(record)
        except Exception:  # a malformed log call: the standard report, once
            self.handleError(record)
            return
        with contextlib.suppress(OSError, ValueError):  # stderr closed or gone: drop it
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


@contextlib.contextmanager
def _logging_to_stderr(verbosity: int) -> Iterator[None]:
    """With ``-v``, log the ``usagekit`` logger to stderr for this run only.

    The handler is removed and the logger's level restored at the end, so calling
    :func:`main` again (tests, a service) never stacks handlers or writes to an old stderr.
    """
    if verbosity <= 0:
        yield
        return
    from .._core.logs import SensitiveDataFilter

    logger = logging.getLogger("usagekit")
    handler = _StderrHandler()
    handler.addFilter(SensitiveDataFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


def _discard_stdout() -> None:
    """After the reader of standard output went away, send what is left to ``/dev/null``.

    Python flushes ``sys.stdout`` at exit; without this, that flush would fail again and print
    "Exception ignored ... BrokenPipeError" (the recipe of the ``signal`` module's docs).
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        descriptor = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(descriptor, sys.stdout.fileno())
        finally:
            os.close(descriptor)


def _run(args: argparse.Namespace) -> int:
    """Run a parsed command; every failure becomes one line on stderr and an exit code."""
    try:
        code: int = args.handler(args)
        sys.stdout.flush()  # a reader that went away shows here, not at exit
    except BrokenPipeError:  # `usagekit export ... | head`: end quietly, as Unix tools do
        _discard_stdout()
        return EXIT_OK
    except (CommandError, ConfigError) as exc:
        say(f"usagekit: {exc}")
        return EXIT_USAGE
    except UsagekitError as exc:
        say(f"usagekit: {type(exc).__name__}: {exc}")
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        say("usagekit: interrupted")
        return 130
    except OSError as exc:  # a port in use, a store's folder that went away
        detail = exc.strerror or str(exc)
        say(f"usagekit: {exc.filename}: {detail}" if exc.filename else f"usagekit: {detail}")
        return EXIT_USAGE
    except Exception as exc:  # a bug: one line, never a traceback (-vv logs it)
        logging.getLogger("usagekit").debug("unexpected error", exc_info=True)
        say(
            f"usagekit: unexpected error {type(exc).__name__}: {exc} "
            "(a bug in usagekit; please report it, with the output of -vv)"
        )
        return EXIT_PARTIAL
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command.

    Every argument is checked before anything is fetched or any file created; every failure
    is one line on stderr, never a traceback.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0, 1 or 2 (see the module docstring), 130 after Ctrl-C; argparse's
        code for ``--help``, ``--version`` and malformed arguments (0 or 2).
    """
    try:
        parser = build_parser()  # imports the sandbox and the providers: Ctrl-C may come here
    except KeyboardInterrupt:
        say("usagekit: interrupted")
        return 130
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument (argparse said why)
        return exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else 2
    if getattr(args, "provider", None):
        args.provider = list(dict.fromkeys(args.provider))  # --provider x --provider x: once
    with _logging_to_stderr(args.verbose + getattr(args, "command_verbose", 0)):
        return _run(args)


def console_main() -> None:
    """The ``usagekit`` and ``python -m usagekit`` entry point: :func:`main`, then exit.

    After Ctrl-C the process ends at once (exit 130) instead of waiting for requests still in
    flight in worker threads; what was being written is atomic, so nothing half-written stays.
    """
    code = main()
    if code == 130:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)

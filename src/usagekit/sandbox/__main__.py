"""``python -m usagekit.sandbox``: run the sandbox server until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from ._command import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m usagekit.sandbox",
        description="Serve fake usage APIs of every provider usagekit reads, locally.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

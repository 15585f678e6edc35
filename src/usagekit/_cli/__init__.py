"""The ``usagekit`` command: reports, exports, sync and the sandbox, without writing Python.

Exit codes: 0 everything fetched (or the reader of standard output went away, as with
``| head``); 1 at least one provider failed (the partial result is still written), or an error
after the arguments were accepted; 2 bad arguments or configuration, found before anything is
fetched or any file created, or an output file that cannot be written (a previous file there is
left as it was).

The parts: ``_parser`` (the arguments, from the provider registry), ``_commands`` (one handler
per command), ``_fetch`` (clients from the environment, the sandbox or a store), ``_checks``
(what is refused before fetching), ``_output`` (the table, CSV and JSON), ``_main`` (running it).
"""

from __future__ import annotations

from ._main import console_main, main
from ._parser import build_parser

__all__ = ["build_parser", "console_main", "main"]

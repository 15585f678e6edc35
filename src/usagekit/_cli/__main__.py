"""``python -m usagekit._cli``: the command."""

from __future__ import annotations

from ._main import console_main

console_main()

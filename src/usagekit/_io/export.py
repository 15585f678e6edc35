"""The names ``usagekit._cli`` imports from here, until it imports them from their modules.

The record exports moved to one module per format (:mod:`usagekit._io.csv`,
:mod:`~usagekit._io.jsonl`, :mod:`~usagekit._io.parquet`, :mod:`~usagekit._io.pandas`) with the
registry in :mod:`usagekit._io.formats`; this module only forwards the command's imports and is
deleted once ``_cli.py`` takes them from :mod:`usagekit._io.formats`.
"""

from __future__ import annotations

from .._core.errors import ExportError
from ._optional import import_optional
from ._targets import export_target, text_sink

__all__ = ["ExportError", "export_target", "import_optional", "text_sink"]

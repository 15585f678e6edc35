"""Optional dependencies (pyarrow, pandas), imported when an export needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from .._core.errors import ConfigError

__all__ = ["import_optional", "require_pyarrow"]


def import_optional(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or explain which extra installs it.

    Args:
        module: The module to import (``"pyarrow.parquet"``).
        extra: The usagekit extra that provides it (``"parquet"``).

    Returns:
        The module.

    Raises:
        ConfigError: The module is not installed; the message says
            ``pip install 'usagekit[<extra>]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"{module.split('.')[0]} is required for this export but is not installed "
            f"({exc}); install it with: pip install 'usagekit[{extra}]'"
        ) from exc


def require_pyarrow() -> ModuleType:
    """Import pyarrow and its Parquet module, or explain which extra installs them.

    Returns:
        The ``pyarrow.parquet`` module.

    Raises:
        ConfigError: pyarrow is not installed; the message says
            ``pip install 'usagekit[parquet]'``.
    """
    import_optional("pyarrow", "parquet")
    return import_optional("pyarrow.parquet", "parquet")

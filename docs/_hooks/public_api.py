"""MkDocs hook: every public name must have a docstring, or the ``--strict`` build fails.

mkdocstrings renders an undocumented object silently; this hook loads the documented packages
with griffe (as mkdocstrings does) and logs a warning, which ``mkdocs build --strict`` turns
into a failure, for each name in a public ``__all__`` that has no docstring.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import griffe

log = logging.getLogger("mkdocs.plugins.usagekit")

PACKAGES = ("usagekit", "usagekit.analytics", "usagekit.sandbox")


def _documented(obj: griffe.Object | griffe.Alias) -> bool:
    return obj.docstring is not None and bool(obj.docstring.value.strip())


def _undocumented(module: griffe.Module) -> list[str]:
    """Public names of ``module.__all__``, and public methods of its classes, without docs."""
    missing = []
    for export in module.exports or ():
        name = str(export)
        if name.startswith("__"):
            continue
        member = module.get_member(name)
        try:
            target = member.final_target if member.is_alias else member
        except griffe.AliasResolutionError:
            missing.append(f"{module.path}.{name} (cannot be resolved)")
            continue
        if not _documented(target):
            missing.append(f"{module.path}.{name}")
        if not target.is_class:
            continue
        for attr, value in target.members.items():
            if attr.startswith("_") or value.is_alias:
                continue
            method = value.is_function or "property" in value.labels
            if method and not _documented(value):
                missing.append(f"{module.path}.{name}.{attr}")
    return missing


def on_pre_build(config: Any) -> None:
    src = Path(config.config_file_path).parent / "src"
    loader = griffe.GriffeLoader(search_paths=[str(src)])
    root = loader.load("usagekit")
    loader.resolve_aliases(external=False)
    for path in PACKAGES:
        module = root if path == "usagekit" else root.get_member(path.split(".", 1)[1])
        assert isinstance(module, griffe.Module), path
        for name in _undocumented(module):
            log.warning("public name without a docstring: %s", name)

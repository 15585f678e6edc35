"""Griffe extension: render the Sphinx roles of usagekit's docstrings as cross-references.

The docstrings are Google style with Sphinx roles for references (``:class:`UsageRecord```,
``:func:`~usagekit.as_utc```). Markdown has no such roles, so mkdocstrings would print them
literally. This extension resolves each role's target in the scope of the object it appears in
and turns it into an optional autorefs cross-reference: a link when the target is rendered in
the reference, plain code when it is private.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|data|attr|mod|exc|obj|const):`(~?)([^`]+)`")


def _identifier(obj: griffe.Object, target: str) -> str:
    if target.startswith("usagekit."):
        return target
    head, _, rest = target.lstrip(".").partition(".")
    try:
        resolved = obj.resolve(head)
    except (griffe.NameResolutionError, ValueError):
        return target
    return f"{resolved}.{rest}" if rest else resolved


def _rewrite(obj: griffe.Object) -> None:
    docstring = obj.docstring
    if docstring is None or ":`" not in docstring.value:
        return

    def replace(match: re.Match[str]) -> str:
        tilde, target = match.groups()
        shown = target.rsplit(".", 1)[-1] if tilde else target.lstrip(".")
        identifier = html.escape(_identifier(obj, target), quote=True)
        code = f"<code>{html.escape(shown)}</code>"
        return f'<autoref identifier="{identifier}" optional>{code}</autoref>'

    docstring.value = _ROLE.sub(replace, docstring.value)


def _walk(obj: griffe.Object, seen: set[str]) -> None:
    if obj.path in seen:
        return
    seen.add(obj.path)
    _rewrite(obj)
    for member in obj.members.values():
        if not member.is_alias:
            _walk(member, seen)  # type: ignore[arg-type]  # not an alias


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles once the whole package is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _walk(pkg, set())

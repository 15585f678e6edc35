"""MkDocs hook: the docs' provider tables are built from the provider registry.

A page holds generated sections between ``<!-- providers:NAME -->`` and ``<!-- /providers:NAME -->``
(see :data:`SECTIONS`). At build time this hook rebuilds each from
``usagekit._providers.PROVIDERS``, so the site always lists exactly the registry's providers,
their variables and their pages. The text between the markers is also committed, for readers of
the Markdown; ``tests/docs/test_provider_tables.py`` fails when it and the registry disagree, and
``python docs/_hooks/providers.py`` rewrites it.

What each credential is, in words, is the registry's too (``ProviderInfo.credential_help``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

try:
    from usagekit._providers import PROVIDERS
except ImportError:  # mkdocs run without the package installed: use the checkout's
    sys.path.insert(0, str(ROOT / "src"))
    from usagekit._providers import PROVIDERS

__all__ = ["PAGES", "SECTIONS", "keys_table", "providers_table", "render"]


def _code(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def keys_table() -> str:
    """The "Keys" table: each provider's variables, what they hold, and its base URL variable.

    Returns:
        The Markdown table.

    Raises:
        ValueError: A provider of the registry says nothing about its credentials.
    """
    lines = [
        "| provider | variables | what it is | base URL variable |",
        "| --- | --- | --- | --- |",
    ]
    for name, info in PROVIDERS.items():
        what = info.credential_help
        if not what:
            raise ValueError(f"{name}: ProviderInfo.credential_help is empty")
        lines.append(
            f"| {info.display_name} | {_code(info.env_vars)} | {what} | `{info.base_url_env}` |"
        )
    return "\n".join(lines)


def providers_table() -> str:
    """The providers at a glance: each one's page, its clients and what usagekit reads from it.

    Returns:
        The Markdown table (the pages are linked relative to ``docs/``).
    """
    lines = ["| provider | clients | what usagekit reads |", "| --- | --- | --- |"]
    for info in PROVIDERS.values():
        clients = (
            f"[`{info.client}`][usagekit.{info.client}], "
            f"[`{info.async_client}`][usagekit.{info.async_client}]"
        )
        page = f"[{info.display_name}]({info.docs_page})"
        lines.append(f"| {page} | {clients} | {info.summary} |")
    return "\n".join(lines)


SECTIONS: Mapping[str, Callable[[], str]] = {
    "keys": keys_table,
    "overview": providers_table,
}
"""Every generated section, by the name its markers carry."""

PAGES = ("index.md",)
"""The pages (under ``docs/``) that hold generated sections."""

_SECTION = re.compile(
    r"(?P<open><!-- providers:(?P<name>[a-z-]+) -->)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- /providers:(?P=name) -->)",
    re.S,
)


def render(markdown: str) -> str:
    """Rebuild every generated section of a page from the registry.

    Args:
        markdown: The page's Markdown.

    Returns:
        The page with each section's text between its markers rebuilt.

    Raises:
        KeyError: A marker names no section of :data:`SECTIONS`.
    """

    def rebuild(match: re.Match[str]) -> str:
        body = SECTIONS[match["name"]]()
        # blank lines around the body: a table right after an HTML comment may be read as HTML
        return f"{match['open']}\n\n{body}\n\n{match['close']}"

    return _SECTION.sub(rebuild, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Build the page's provider tables from the registry (the MkDocs event).

    Args:
        markdown: The page's Markdown.
        page: The page.
        config: The MkDocs configuration.
        files: The site's files.

    Returns:
        The Markdown with its generated sections rebuilt.
    """
    return render(markdown)


def main() -> int:
    """Rewrite the generated sections of :data:`PAGES` in place.

    Returns:
        0.
    """
    for name in PAGES:
        path = ROOT / "docs" / name
        text = path.read_text(encoding="utf-8")
        fresh = render(text)
        if fresh != text:
            path.write_text(fresh, encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

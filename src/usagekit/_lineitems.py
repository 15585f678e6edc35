"""Billing line items understood: a provider's charge text as a model and a charge kind.

OpenAI's costs endpoint names each charge only by a line item such as
``"gpt-4o-2024-08-06, input"``, ``"gpt-4o-mini-2024-07-18, batch cached input"``,
``"dall-e-3, images 1024x1024"`` or ``"web-search, medium context"``. :func:`parse_line_item`
turns that text into a :class:`LineItem`: the model (when the item is for a model), the kind of
charge (:data:`ChargeKind`), the service tier the price prefix names, and any detail (image
size, search context level). Anthropic's cost report already gives the same two facts as
``model`` and ``token_type``; :func:`anthropic_charge` maps its ``token_type``/``cost_type`` to
the same :data:`ChargeKind`, so both fit the same two fields.

The rules are strict: a line item is understood only when it matches one of the forms below in
full; anything else gives ``charge=None`` and ``model=None`` (unparsed stays unparsed, nothing
is guessed from a part of it). Parsing never raises, whatever the text.

Forms understood (case-insensitive, surrounding spaces ignored):

* ``<model>, [<tier> ]<charge>`` where ``<model>`` is one token of letters, digits and
  ``. _ : / @ + -`` (fine-tuned ids such as ``ft:gpt-4o-mini-2024-07-18:org::abc`` included),
  ``<tier>`` is ``batch``, ``flex``, ``priority`` or ``scale`` (``default``/``standard`` mean no
  tier), and ``<charge>`` one of ``input``, ``cached input``, ``cache write``, ``output``,
  ``audio input``, ``cached audio input``, ``audio output`` (each optionally followed by
  ``tokens``), ``characters`` (speech), ``audio`` (transcription), or
  ``[<quality> ]images[ <W>x<H>]`` (``image``, the size as ``detail``);
* tool and storage items: ``file-search, tool calls``, ``web-search, <level> context``,
  ``web-search, tool calls``, ``code-interpreter, sessions``, ``vector-stores, storage`` (spaces
  or hyphens inside the tool name, e.g. ``file search``), and the same without the comma
  (``code interpreter sessions``, ``vector store storage``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "CHARGE_KINDS",
    "ChargeKind",
    "LineItem",
    "anthropic_charge",
    "charge_attributes",
    "parse_line_item",
]

ChargeKind = Literal[
    "input",
    "cached_input",
    "cache_write",
    "output",
    "audio_input",
    "cached_audio_input",
    "audio_output",
    "audio",
    "image",
    "tool_call",
    "storage",
    "other",
]
"""What a charge is for: uncached ``input`` tokens, ``cached_input`` (cache reads),
``cache_write``, ``output``; ``audio_input``, ``cached_audio_input``, ``audio_output`` tokens;
``audio`` (speech characters or transcribed seconds); ``image`` (generated images); ``tool_call``
(file or web search calls, code interpreter sessions, code execution); ``storage`` (vector
stores); ``other`` (a charge the provider itself labels without a usage counterpart)."""

CHARGE_KINDS: tuple[ChargeKind, ...] = get_args(ChargeKind)
"""Every :data:`ChargeKind`, in a stable order."""


@dataclass(frozen=True)
class LineItem:
    """A billing line item, understood (or explicitly not).

    Attributes:
        raw: The provider's text, unchanged.
        model: The model the charge is for, as the provider spells it; None for tools,
            storage, or an item not understood.
        charge: The kind of charge; None when the item was not understood.
        tier: The price tier the item names (``"batch"``, ``"flex"``, ``"priority"``,
            ``"scale"``); None for the standard price.
        detail: What else the item says: the image size (``"1024x1024"``), the search context
            level (``"medium"``), ``"characters"``/``"audio"`` for speech and transcription,
            ``"sessions"`` for code interpreter.
        tool: The tool for tool and storage items (``"file-search"``, ``"web-search"``,
            ``"code-interpreter"``, ``"vector-stores"``); None otherwise.
    """

    raw: str
    model: str | None = None
    charge: ChargeKind | None = None
    tier: str | None = None
    detail: str | None = None
    tool: str | None = None

    @property
    def parsed(self) -> bool:
        """Whether the item matched a known form."""
        return self.charge is not None


_TIERS = frozenset({"batch", "flex", "priority", "scale"})
_STANDARD = frozenset({"default", "standard"})
_TOKEN_CHARGES: dict[str, ChargeKind] = {
    "input": "input",
    "uncached input": "input",
    "cached input": "cached_input",
    "cache read": "cached_input",
    "cache write": "cache_write",
    "output": "output",
    "audio input": "audio_input",
    "cached audio input": "cached_audio_input",
    "audio output": "audio_output",
}
_MODEL = re.compile(r"[a-z0-9][a-z0-9._:/@+\-]*")
_IMAGES = re.compile(r"(?:(standard|hd|low|medium|high)\s+)?images?(?:\s+(\d{2,5}x\d{2,5}))?")
_CONTEXT = re.compile(r"(low|medium|high)\s+context")
_SPACES = re.compile(r"\s+")
_TOOLS = {
    "file-search": "file-search",
    "file-searches": "file-search",
    "web-search": "web-search",
    "web-searches": "web-search",
    "code-interpreter": "code-interpreter",
    "vector-stores": "vector-stores",
    "vector-store": "vector-stores",
}
_BARE = {  # tool items written without a comma
    "file search tool calls": ("file-search", "tool calls"),
    "web search tool calls": ("web-search", "tool calls"),
    "code interpreter sessions": ("code-interpreter", "sessions"),
    "vector store storage": ("vector-stores", "storage"),
    "vector stores storage": ("vector-stores", "storage"),
}


def _tool_item(raw: str, tool: str, phrase: str) -> LineItem:
    if tool == "vector-stores" and phrase == "storage":
        return LineItem(raw, charge="storage", tool=tool)
    if tool == "code-interpreter" and phrase == "sessions":
        return LineItem(raw, charge="tool_call", detail="sessions", tool=tool)
    if tool in ("file-search", "web-search") and phrase in ("tool calls", "calls"):
        return LineItem(raw, charge="tool_call", tool=tool)
    context = _CONTEXT.fullmatch(phrase)
    if tool == "web-search" and context is not None:
        return LineItem(raw, charge="tool_call", detail=context.group(1), tool=tool)
    return LineItem(raw)


def _model_item(raw: str, model: str, phrase: str) -> LineItem:
    words = phrase.split(" ")
    tier: str | None = None
    if len(words) > 1 and (words[0] in _TIERS or words[0] in _STANDARD):
        tier = words[0] if words[0] in _TIERS else None
        phrase = " ".join(words[1:])
    base = phrase[: -len(" tokens")] if phrase.endswith(" tokens") else phrase
    charge = _TOKEN_CHARGES.get(base)
    if charge is not None:
        return LineItem(raw, model=model, charge=charge, tier=tier)
    if phrase in ("characters", "audio"):
        return LineItem(raw, model=model, charge="audio", tier=tier, detail=phrase)
    images = _IMAGES.fullmatch(phrase)
    if images is not None:
        return LineItem(raw, model=model, charge="image", tier=tier, detail=images.group(2))
    return LineItem(raw)


@functools.lru_cache(maxsize=4096)
def parse_line_item(text: str | None) -> LineItem | None:
    """Understand one billing line item.

    Args:
        text: The provider's line item (OpenAI's ``line_item``), or None.

    Returns:
        None for None; else a :class:`LineItem` keeping ``text`` as ``raw``, with ``charge`` and
        ``model`` None when the text matches no known form (see the module docstring). Never
        raises.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        return LineItem(str(text))
    raw = text
    normal = _SPACES.sub(" ", text.strip().lower())
    if not normal:
        return LineItem(raw)
    bare = _BARE.get(normal)
    if bare is not None:
        return _tool_item(raw, *bare)
    subject, comma, phrase = normal.partition(",")
    if not comma:
        return LineItem(raw)
    subject, phrase = subject.strip(), phrase.strip()
    if "," in phrase:
        return LineItem(raw)
    tool = _TOOLS.get(subject.replace(" ", "-"))
    if tool is not None:
        return _tool_item(raw, tool, phrase)
    if not _MODEL.fullmatch(subject):
        return LineItem(raw)
    # the provider's own spelling of the model, not the lower-cased one
    model = text.strip().partition(",")[0].strip()
    return _model_item(raw, model, phrase)


_ANTHROPIC_TOKEN_TYPES: dict[str, ChargeKind] = {
    "uncached_input_tokens": "input",
    "cache_read_input_tokens": "cached_input",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write",
    "output_tokens": "output",
}
_ANTHROPIC_COST_TYPES: dict[str, ChargeKind] = {
    "web_search": "tool_call",
    "code_execution": "tool_call",
    "session_usage": "other",
}


def anthropic_charge(token_type: str | None, cost_type: str | None = None) -> ChargeKind | None:
    """The :data:`ChargeKind` of an Anthropic cost report row.

    Args:
        token_type: The row's ``token_type`` (``"uncached_input_tokens"``,
            ``"cache_read_input_tokens"``, ``"cache_creation.ephemeral_5m_input_tokens"``, ...).
        cost_type: The row's ``cost_type`` (``"tokens"``, ``"web_search"``,
            ``"code_execution"``, ``"session_usage"``).

    Returns:
        The charge kind, or None when neither field is one this knows (never guessed).
    """
    if token_type is not None:
        return _ANTHROPIC_TOKEN_TYPES.get(token_type)
    if cost_type is not None:
        return _ANTHROPIC_COST_TYPES.get(cost_type)
    return None


def charge_attributes(item: LineItem | None) -> dict[str, str]:
    """The attributes usagekit adds to a cost record for its understood line item.

    Args:
        item: The parsed line item, or None.

    Returns:
        ``charge_kind``, and ``charge_model``, ``charge_tier``, ``charge_detail`` and
        ``charge_tool`` when known; empty for None or an item not understood.
    """
    if item is None or item.charge is None:
        return {}
    out: dict[str, str] = {"charge_kind": item.charge}
    for key, value in (
        ("charge_model", item.model),
        ("charge_tier", item.tier),
        ("charge_detail", item.detail),
        ("charge_tool", item.tool),
    ):
        if value is not None:
            out[key] = value
    return out

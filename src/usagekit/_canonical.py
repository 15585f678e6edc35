"""One model name across providers: vendor and family, with the dated snapshot kept apart.

The same model is spelled ``gpt-4o-mini-2024-07-18`` by OpenAI and ``openai/gpt-4o-mini`` by a
gateway (Daramex, OpenRouter); ``claude-sonnet-4-20250514`` by Anthropic and
``anthropic/claude-sonnet-4`` by a gateway; ``claude-3-5-sonnet-20241022`` and
``anthropic/claude-3.5-sonnet``. :func:`canonical_model` maps each to one
:class:`CanonicalModel` (``openai/gpt-4o-mini``, ``anthropic/claude-sonnet-4``,
``anthropic/claude-3.5-sonnet``) by these rules, in order:

1. The text is stripped and lower-cased. Empty text has no canonical name.
2. A fine-tuned OpenAI id ``ft:<base>:<org>:<name>:<id>`` is its base model, with
   ``variant="fine-tuned"``.
3. A gateway's ``<vendor>/<model>`` prefix gives the vendor (``meta-llama`` is ``meta``,
   ``google-vertex`` is ``google``, ...: see :data:`VENDOR_ALIASES`); a ``:<variant>`` suffix
   (OpenRouter's ``:free``, ``:beta``, ``:thinking``) is kept as ``variant``.
4. A trailing snapshot date is cut off into ``snapshot``: ``-YYYY-MM-DD`` (OpenAI),
   ``-YYYYMMDD`` (Anthropic, Google), ``@YYYYMMDD`` (Vertex), or ``-latest``.
5. In Claude names, version numbers written with a hyphen are written with a dot, as gateways
   do: ``claude-3-5-sonnet`` is ``claude-3.5-sonnet``, ``claude-sonnet-4-5`` is
   ``claude-sonnet-4.5`` (only single digits either side, so dates are never touched).
6. Without a prefix, the vendor comes from the family's name (:data:`FAMILY_VENDORS`:
   ``gpt-``, ``o1``/``o3``/``o4``, ``dall-e``, ``whisper``, ... are ``openai``; ``claude`` is
   ``anthropic``; ``gemini``/``gemma`` ``google``; ``llama`` ``meta``; ...), else from the
   provider when it only serves its own models (``openai``, ``anthropic``), else it is
   unknown and the canonical name is the family alone.

The provider's own model string is never changed: the canonical name is an extra dimension
(``by="canonical_model"``, and ``model_vendor``, ``model_family``, ``model_snapshot``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ._core.records import UsageRecord

__all__ = [
    "CANONICAL_DIMENSIONS",
    "FAMILY_VENDORS",
    "VENDOR_ALIASES",
    "CanonicalModel",
    "canonical_model",
    "record_canonical_model",
]


@dataclass(frozen=True)
class CanonicalModel:
    """A model named the same way whichever provider reported it.

    Attributes:
        vendor: Who makes the model (``"openai"``, ``"anthropic"``, ``"google"``, ...), or
            None when no rule says.
        family: The model without vendor and snapshot (``"gpt-4o-mini"``,
            ``"claude-sonnet-4"``).
        snapshot: The dated snapshot cut off the name (``"2024-07-18"``, ``"20250514"``,
            ``"latest"``), or None.
        variant: A gateway variant (``"free"``) or ``"fine-tuned"``, or None.
    """

    vendor: str | None
    family: str
    snapshot: str | None = None
    variant: str | None = None

    @property
    def name(self) -> str:
        """``vendor/family`` (the family alone when the vendor is unknown)."""
        return self.family if self.vendor is None else f"{self.vendor}/{self.family}"

    def __str__(self) -> str:
        return self.name


VENDOR_ALIASES: dict[str, str] = {
    "meta-llama": "meta",
    "google-vertex": "google",
    "vertex": "google",
    "gemini": "google",
    "mistralai": "mistral",
    "x-ai": "xai",
    "azure": "openai",
    "azure-openai": "openai",
    "bedrock-anthropic": "anthropic",
}
"""Gateway prefixes that name a vendor differently, to the vendor's usual name."""

FAMILY_VENDORS: tuple[tuple[str, str], ...] = (
    ("gpt-", "openai"),
    ("chatgpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("text-embedding-", "openai"),
    ("text-moderation-", "openai"),
    ("omni-moderation-", "openai"),
    ("dall-e-", "openai"),
    ("tts-", "openai"),
    ("whisper-", "openai"),
    ("davinci-", "openai"),
    ("babbage-", "openai"),
    ("codex-", "openai"),
    ("claude-", "anthropic"),
    ("gemini-", "google"),
    ("gemma-", "google"),
    ("llama-", "meta"),
    ("mistral-", "mistral"),
    ("mixtral-", "mistral"),
    ("codestral-", "mistral"),
    ("command-", "cohere"),
    ("deepseek-", "deepseek"),
    ("grok-", "xai"),
    ("voyage-", "voyage"),
)
"""Family name prefixes and their vendor (rule 6). ``o1``/``o3``/``o4`` match only the whole
word or a hyphenated name (``o3``, ``o3-mini``)."""

_SNAPSHOT = re.compile(
    r"^(?P<family>.+?)(?:-(?P<dash>\d{4}-\d{2}-\d{2}|\d{8}|latest)|@(?P<at>\d{8}))$"
)
_CLAUDE_VERSION = re.compile(r"(?<=-)(\d)-(\d)(?=-|$)")


def _single_vendor(provider: str) -> str | None:
    """The one vendor of every model ``provider`` serves (its registry entry says), or None."""
    from ._providers import PROVIDERS  # on use: the registry imports the providers

    info = PROVIDERS.get(provider)
    return info.model_vendor if info is not None else None


def _vendor_of(family: str) -> str | None:
    for prefix, vendor in FAMILY_VENDORS:
        if prefix in ("o1", "o3", "o4"):
            if family == prefix or family.startswith(prefix + "-"):
                return vendor
        elif family.startswith(prefix):
            return vendor
    return None


@functools.lru_cache(maxsize=4096)
def canonical_model(model: str | None, provider: str | None = None) -> CanonicalModel | None:
    """The canonical name of a provider's model string (see the module docstring's rules).

    Args:
        model: The provider's model string (``record.model``), or None.
        provider: The provider that reported it; used only when no rule names the vendor.

    Returns:
        The canonical model, or None for None or blank text. Never raises.
    """
    if not isinstance(model, str):
        return None
    text = model.strip().lower()
    if not text:
        return None
    variant: str | None = None
    if text.startswith("ft:"):
        parts = text.split(":")
        if len(parts) > 1 and parts[1]:
            text, variant = parts[1], "fine-tuned"
    vendor: str | None = None
    if "/" in text:
        prefix, _, rest = text.rpartition("/")
        prefix = prefix.rsplit("/", 1)[-1]
        if rest and prefix:
            vendor = VENDOR_ALIASES.get(prefix, prefix)
            text = rest
    if ":" in text and variant is None:
        head, _, tail = text.partition(":")
        if head and tail:
            text, variant = head, tail
    snapshot: str | None = None
    match = _SNAPSHOT.match(text)
    if match is not None:
        text = match.group("family")
        snapshot = match.group("dash") or match.group("at")
    if text.startswith("claude-"):
        text = _CLAUDE_VERSION.sub(r"\1.\2", text)
    if vendor is None:
        vendor = _vendor_of(text)
    if vendor is None and provider is not None:
        vendor = _single_vendor(provider)
    return CanonicalModel(vendor, text, snapshot, variant)


def record_canonical_model(record: UsageRecord) -> CanonicalModel | None:
    """The canonical model of a record: of its ``model``, else of its line item's model.

    A cost record that is not allocated still names its model in its line item
    (``attributes["charge_model"]``); that is used when ``model`` is None.

    Args:
        record: Any record.

    Returns:
        The canonical model, or None when the record names no model.
    """
    model = record.model
    if model is None:
        model = record.attributes.get("charge_model")
    return canonical_model(model, record.provider)


def _canonical_name(record: UsageRecord) -> str | None:
    found = record_canonical_model(record)
    return None if found is None else found.name


def _vendor(record: UsageRecord) -> str | None:
    found = record_canonical_model(record)
    return None if found is None else found.vendor


def _family(record: UsageRecord) -> str | None:
    found = record_canonical_model(record)
    return None if found is None else found.family


def _snapshot(record: UsageRecord) -> str | None:
    found = record_canonical_model(record)
    return None if found is None else found.snapshot


CANONICAL_DIMENSIONS = {
    "canonical_model": _canonical_name,
    "model_vendor": _vendor,
    "model_family": _family,
    "model_snapshot": _snapshot,
}
"""The computed dimensions ``by=`` accepts for canonical models, to their getter."""

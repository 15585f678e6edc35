"""The sandbox's fixed world: organizations, projects, users, keys, models and prices.

Everything here is derived from the seed alone (identifiers, credentials), so two sandboxes
with the same seed agree on every id and key.
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ._util import digest

__all__ = [
    "BASEDASH_ACTIVITY_OFFSET",
    "DARAMEX_ACTIONS",
    "DARAMEX_ACTIVITY_OFFSET",
    "DARAMEX_MODELS",
    "MILLION",
    "OPENAI_ACTIVITY_OFFSET",
    "UNSILOED_ACTIVITY_OFFSET",
    "BasedashMember",
    "Catalog",
    "CompletionPrice",
    "DaramexModel",
    "DaramexOrg",
    "OpenAIApiKey",
    "OpenAIProject",
    "Profile",
    "Stream",
    "build_catalog",
]

MILLION = Decimal(1_000_000)
"""Prices are per million tokens (or characters)."""

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

OPENAI_ACTIVITY_OFFSET = -5
"""UTC offset (hours) of the working day that shapes OpenAI traffic."""
BASEDASH_ACTIVITY_OFFSET = -8
UNSILOED_ACTIVITY_OFFSET = 1
DARAMEX_ACTIVITY_OFFSET = -6


def _token(seed: int, label: str, length: int, alphabet: str = _ALPHABET) -> str:
    """Return a deterministic random-looking string for ``(seed, label)``."""
    number = int.from_bytes(digest("catalog", seed, label, size=64), "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def _hex(seed: int, label: str, length: int) -> str:
    return _token(seed, label, length, "0123456789abcdef")


def _uuid(seed: int, label: str, version: int = 4) -> str:
    raw = _hex(seed, label, 32)
    variant = "89ab"[int(raw[16], 16) % 4]
    text = raw[:12] + str(version) + raw[13:16] + variant + raw[17:]
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"


# --------------------------------------------------------------------------------------------
# OpenAI


@dataclass(frozen=True)
class OpenAIProject:
    """An OpenAI project."""

    id: str
    name: str


@dataclass(frozen=True)
class OpenAIApiKey:
    """An OpenAI API key: the project it belongs to and the user who owns it."""

    id: str
    name: str
    project_id: str
    user_id: str


@dataclass(frozen=True)
class Profile:
    """The traffic profile of a usage stream.

    Attributes:
        probability: Chance of activity in an hour at the busiest time of day.
        volume: Mean number of requests (or sessions) in an active hour at peak.
        night: Batch-like traffic that runs at night instead of office hours.
        intermittent: Switched off for whole weeks at a time (a rotated or paused key).
        size: Mean size of one request (tokens, characters, seconds, images per request).
        cache_share: For completions, the typical share of input tokens served from cache.
    """

    probability: float
    volume: float
    night: bool = False
    intermittent: bool = False
    size: float = 1.0
    cache_share: float = 0.0


@dataclass(frozen=True)
class Stream:
    """One source of OpenAI usage: a fixed combination of dimensions and a traffic profile.

    Attributes:
        kind: Usage endpoint name (``completions``, ``images``, ...).
        dims: Every dimension field of the kind's results, in result order.
        profile: How often and how much it is used.
    """

    kind: str
    dims: tuple[tuple[str, str | bool | None], ...]
    profile: Profile


@dataclass(frozen=True)
class CompletionPrice:
    """USD per 1M tokens for a chat/completions model (audio prices None if not supported)."""

    input: Decimal
    cached_input: Decimal
    output: Decimal
    vision: bool = False
    audio_input: Decimal | None = None
    cached_audio_input: Decimal | None = None
    audio_output: Decimal | None = None
    mean_output: float = 350.0


COMPLETION_PRICES: dict[str, CompletionPrice] = {
    "gpt-4o-2024-08-06": CompletionPrice(
        Decimal("2.50"), Decimal("1.25"), Decimal("10.00"), vision=True
    ),
    "gpt-4o-mini-2024-07-18": CompletionPrice(
        Decimal("0.15"), Decimal("0.075"), Decimal("0.60"), vision=True
    ),
    "gpt-4.1-2025-04-14": CompletionPrice(
        Decimal("2.00"), Decimal("0.50"), Decimal("8.00"), vision=True
    ),
    "gpt-4.1-nano-2025-04-14": CompletionPrice(
        Decimal("0.10"), Decimal("0.025"), Decimal("0.40"), mean_output=120.0
    ),
    "o3-mini-2025-01-31": CompletionPrice(
        Decimal("1.10"), Decimal("0.55"), Decimal("4.40"), mean_output=900.0
    ),
    "gpt-4o-mini-audio-preview-2024-12-17": CompletionPrice(
        Decimal("0.15"),
        Decimal("0.075"),
        Decimal("0.60"),
        audio_input=Decimal("10.00"),
        cached_audio_input=Decimal("2.50"),
        audio_output=Decimal("20.00"),
    ),
}
"""Chat model prices, USD per 1M tokens."""

TIER_MULTIPLIER: dict[str, Decimal] = {
    "default": Decimal(1),
    "flex": Decimal("0.5"),
    "priority": Decimal("1.75"),
    "batch": Decimal("0.5"),
}
"""Price multiplier by service tier (``batch`` applies to batch jobs)."""

EMBEDDING_PRICES: dict[str, Decimal] = {
    "text-embedding-3-small": Decimal("0.02"),
    "text-embedding-3-large": Decimal("0.13"),
}
"""USD per 1M input tokens."""

MODERATION_MODELS = ("omni-moderation-2024-09-26",)
"""Moderation models (free: they produce usage but no cost)."""

IMAGE_PRICES: dict[tuple[str, str], Decimal] = {
    ("dall-e-3", "1024x1024"): Decimal("0.040"),
    ("dall-e-3", "1024x1792"): Decimal("0.080"),
    ("dall-e-2", "256x256"): Decimal("0.016"),
    ("dall-e-2", "512x512"): Decimal("0.018"),
    ("dall-e-2", "1024x1024"): Decimal("0.020"),
    ("gpt-image-1", "1024x1024"): Decimal("0.042"),
    ("gpt-image-1", "1792x1792"): Decimal("0.167"),
}
"""USD per image by (model, size)."""

SPEECH_PRICES: dict[str, Decimal] = {"tts-1": Decimal("15.00"), "tts-1-hd": Decimal("30.00")}
"""USD per 1M characters."""

TRANSCRIPTION_PRICES: dict[str, Decimal] = {
    "whisper-1": Decimal("0.0001"),
    "gpt-4o-mini-transcribe": Decimal("0.00005"),
}
"""USD per second of audio."""

VECTOR_STORE_GIB_HOUR = Decimal("0.0041667")
"""USD per GiB stored for one hour (about 0.10 per GiB-day)."""
CODE_INTERPRETER_SESSION = Decimal("0.03")
FILE_SEARCH_CALL = Decimal("0.0025")
WEB_SEARCH_CALL: dict[str, Decimal] = {
    "low": Decimal("0.025"),
    "medium": Decimal("0.0275"),
    "high": Decimal("0.030"),
}


# --------------------------------------------------------------------------------------------
# Basedash, Unsiloed, Daramex


@dataclass(frozen=True)
class BasedashMember:
    """A Basedash organization member (``current`` False for a removed member)."""

    user_id: str
    member_id: str
    email: str
    current: bool
    weight: float


@dataclass(frozen=True)
class DaramexModel:
    """A Daramex gateway model.

    Attributes:
        id: Gateway model id, e.g. ``anthropic/claude-sonnet-4``.
        input: USD per 1M regular input tokens (what the org is charged).
        cache_read: USD per 1M cache-read tokens.
        output: USD per 1M output tokens.
        priced: Whether ``gateway_models`` has a pricing row (False: skipped by cache savings).
        latency_ms: Typical latency, or None when the model reports no latency data.
    """

    id: str
    input: Decimal
    cache_read: Decimal
    output: Decimal
    priced: bool = True
    latency_ms: float | None = None


DARAMEX_MODELS: dict[str, DaramexModel] = {
    m.id: m
    for m in (
        DaramexModel(
            "anthropic/claude-sonnet-4",
            Decimal("3.00"),
            Decimal("0.30"),
            Decimal("15.00"),
            latency_ms=1250.0,
        ),
        DaramexModel(
            "openai/gpt-4o-mini",
            Decimal("0.15"),
            Decimal("0.075"),
            Decimal("0.60"),
            latency_ms=520.0,
        ),
        DaramexModel(
            "google/gemini-2.5-flash",
            Decimal("0.30"),
            Decimal("0.075"),
            Decimal("2.50"),
            latency_ms=430.0,
        ),
        DaramexModel(
            "meta/llama-3.3-70b",
            Decimal("0.59"),
            Decimal("0.59"),
            Decimal("0.79"),
            priced=False,
            latency_ms=880.0,
        ),
        DaramexModel("openai/text-embedding-3-small", Decimal("0.02"), Decimal(0), Decimal(0)),
        DaramexModel("voyage/voyage-3-lite", Decimal("0.02"), Decimal(0), Decimal(0)),
    )
}
"""Gateway models. Embedding models report no latency; llama has no pricing row."""

DARAMEX_ACTIONS: dict[str, tuple[float, tuple[tuple[str, float], ...], float, float]] = {
    "user_interaction": (
        0.45,
        (
            ("anthropic/claude-sonnet-4", 0.45),
            ("openai/gpt-4o-mini", 0.25),
            ("google/gemini-2.5-flash", 0.2),
            ("meta/llama-3.3-70b", 0.1),
        ),
        2600.0,
        420.0,
    ),
    "guardrail_check": (
        0.25,
        (("openai/gpt-4o-mini", 0.7), ("google/gemini-2.5-flash", 0.3)),
        650.0,
        18.0,
    ),
    "title_generation": (0.1, (("openai/gpt-4o-mini", 1.0),), 320.0, 14.0),
    "rag_query_embedding": (0.12, (("openai/text-embedding-3-small", 1.0),), 45.0, 0.0),
    "document_indexing": (
        0.08,
        (("openai/text-embedding-3-small", 0.6), ("voyage/voyage-3-lite", 0.4)),
        3200.0,
        0.0,
    ),
}
"""Action -> (share of events, models with weights, mean input tokens, mean output tokens)."""


@dataclass(frozen=True)
class DaramexOrg:
    """A Daramex organization and a session token for it."""

    id: str
    token: str
    volume: float


def _jwt(secret: bytes, claims: dict[str, object]) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), "sha256").digest()
    return f"{header}.{payload}.{b64(signature)}"


# --------------------------------------------------------------------------------------------
# The catalog


@dataclass(frozen=True)
class Catalog:
    """Every entity of the sandbox for one seed."""

    seed: int
    openai_admin_key: str
    openai_project_key: str
    openai_projects: tuple[OpenAIProject, ...]
    openai_users: tuple[str, ...]
    openai_api_keys: tuple[OpenAIApiKey, ...]
    openai_vector_stores: tuple[tuple[str, str], ...]
    """(vector_store_id, project_id) pairs."""
    openai_streams: dict[str, tuple[Stream, ...]]
    vector_store_projects: tuple[tuple[str, float, float], ...]
    """(project_id, base bytes, growth bytes per day) for projects that store files."""
    basedash_org_id: str
    basedash_api_key: str
    basedash_members: tuple[BasedashMember, ...]
    unsiloed_org_id: str
    unsiloed_org_name: str
    unsiloed_api_key: str
    unsiloed_orphan_key: str
    unsiloed_usage_limit: int
    unsiloed_anchor_ordinal: int
    """Proleptic Gregorian ordinal of the date billing cycles are counted from."""
    daramex_orgs: tuple[DaramexOrg, ...] = field(default=())


def _stream(
    kind: str,
    key: OpenAIApiKey | None,
    project_id: str,
    user_id: str | None,
    extra: dict[str, str | bool | None],
    order: tuple[str, ...],
    profile: Profile,
) -> Stream:
    values: dict[str, str | bool | None] = {
        "project_id": project_id,
        "user_id": user_id,
        "api_key_id": key.id if key else None,
        **extra,
    }
    return Stream(kind, tuple((name, values.get(name)) for name in order), profile)


def build_catalog(seed: int) -> Catalog:
    """Build the sandbox world for a seed.

    Args:
        seed: The data seed.

    Returns:
        The catalog.
    """
    P = Profile  # a short alias for the stream tables below
    projects = tuple(
        OpenAIProject("proj_" + _token(seed, f"project{i}", 24), name)
        for i, name in enumerate(("Default project", "Support Assistant", "Data Pipeline"))
    )
    users = tuple("user-" + _token(seed, f"user{i}", 24) for i in range(5))
    key_specs = (
        ("default-dev", 0, 0),
        ("support-prod", 1, 1),
        ("support-staging", 1, 2),
        ("pipeline-batch", 2, 3),
        ("pipeline-etl", 2, 4),
        ("eval-harness", 0, 1),
    )
    keys = tuple(
        OpenAIApiKey("key_" + _token(seed, f"key{i}", 16), name, projects[p].id, users[u])
        for i, (name, p, u) in enumerate(key_specs)
    )
    vector_stores = (
        ("vs_" + _token(seed, "vs0", 24), projects[1].id),
        ("vs_" + _token(seed, "vs1", 24), projects[2].id),
    )
    k0, k1, k2, k3, k4, k5 = keys
    p0, _p1, p2 = projects

    def chat(
        key: OpenAIApiKey | None,
        model: str,
        profile: Profile,
        tier: str = "default",
        *,
        batch: bool = False,
        user: str | None = None,
    ) -> Stream:
        return _stream(
            "completions",
            key,
            key.project_id if key else p0.id,
            user or (key.user_id if key else None),
            {"model": model, "batch": batch, "service_tier": tier},
            ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier"),
            profile,
        )

    def basic(kind: str, key: OpenAIApiKey, model: str, profile: Profile) -> Stream:
        order = ("project_id", "user_id", "api_key_id", "model")
        return _stream(kind, key, key.project_id, key.user_id, {"model": model}, order, profile)

    def image(key: OpenAIApiKey, model: str, size: str, source: str, profile: Profile) -> Stream:
        extra: dict[str, str | bool | None] = {"model": model, "size": size, "source": source}
        order = ("source", "size", "project_id", "user_id", "api_key_id", "model")
        return _stream("images", key, key.project_id, key.user_id, extra, order, profile)

    def file_search(key: OpenAIApiKey, store: str, profile: Profile) -> Stream:
        extra: dict[str, str | bool | None] = {"vector_store_id": store}
        order = ("project_id", "user_id", "api_key_id", "vector_store_id")
        return _stream("file_search_calls", key, key.project_id, key.user_id, extra, order, profile)

    def web(key: OpenAIApiKey, model: str, level: str, profile: Profile) -> Stream:
        extra: dict[str, str | bool | None] = {"model": model, "context_level": level}
        order = ("project_id", "user_id", "api_key_id", "model", "context_level")
        return _stream("web_search_calls", key, key.project_id, key.user_id, extra, order, profile)

    def sessions(project: OpenAIProject, profile: Profile) -> Stream:
        return _stream(
            "code_interpreter_sessions", None, project.id, None, {}, ("project_id",), profile
        )

    streams: dict[str, tuple[Stream, ...]] = {
        "completions": (
            chat(k0, "gpt-4o-2024-08-06", P(0.55, 40, size=2200, cache_share=0.35)),
            chat(k0, "gpt-4o-mini-2024-07-18", P(0.6, 90, size=1400, cache_share=0.2)),
            chat(k1, "gpt-4o-mini-2024-07-18", P(0.9, 260, size=1800, cache_share=0.5)),
            chat(k1, "gpt-4.1-2025-04-14", P(0.7, 60, size=3000), "priority"),
            chat(
                k1,
                "gpt-4o-mini-audio-preview-2024-12-17",
                P(0.35, 15, size=900, cache_share=0.1),
            ),
            chat(k2, "gpt-4.1-nano-2025-04-14", P(0.4, 30, size=700)),
            chat(
                k3,
                "gpt-4o-mini-2024-07-18",
                P(0.5, 400, night=True, size=1200),
                "batch",
                batch=True,
            ),
            chat(k3, "gpt-4.1-2025-04-14", P(0.3, 80, night=True, size=1500), "batch", batch=True),
            chat(k4, "o3-mini-2025-01-31", P(0.45, 25, size=2600), "flex"),
            chat(k4, "gpt-4.1-nano-2025-04-14", P(0.5, 120, size=500)),
            chat(
                k5,
                "gpt-4o-2024-08-06",
                P(0.5, 35, intermittent=True, size=2500, cache_share=0.6),
            ),
            chat(None, "gpt-4o-2024-08-06", P(0.15, 4, size=1500), user=users[0]),
            chat(None, "o3-mini-2025-01-31", P(0.08, 3, size=1800), user=users[2]),
        ),
        "embeddings": (
            basic("embeddings", k1, "text-embedding-3-small", P(0.8, 150, size=60)),
            basic("embeddings", k3, "text-embedding-3-large", P(0.4, 300, night=True, size=800)),
            basic("embeddings", k4, "text-embedding-3-small", P(0.5, 200, size=400)),
        ),
        "moderations": (
            basic("moderations", k1, "omni-moderation-2024-09-26", P(0.85, 240, size=300)),
            basic("moderations", k2, "omni-moderation-2024-09-26", P(0.3, 20, size=250)),
        ),
        "images": (
            image(k0, "dall-e-3", "1024x1024", "image.generation", P(0.3, 6)),
            image(k0, "gpt-image-1", "1024x1024", "image.edit", P(0.2, 4, size=2)),
            image(k5, "dall-e-2", "512x512", "image.variation", P(0.15, 5, size=3)),
            image(k1, "dall-e-3", "1024x1792", "image.generation", P(0.2, 3)),
            image(
                k0, "gpt-image-1", "1792x1792", "image.generation", P(0.05, 2, intermittent=True)
            ),
        ),
        "audio_speeches": (
            basic("audio_speeches", k1, "tts-1", P(0.5, 30, size=650)),
            basic("audio_speeches", k1, "tts-1-hd", P(0.2, 8, size=900)),
        ),
        "audio_transcriptions": (
            basic("audio_transcriptions", k1, "whisper-1", P(0.5, 20, size=95)),
            basic("audio_transcriptions", k4, "gpt-4o-mini-transcribe", P(0.3, 12, size=240)),
        ),
        "code_interpreter_sessions": (
            sessions(p0, P(0.35, 3)),
            sessions(p2, P(0.25, 2, night=True)),
        ),
        "file_search_calls": (
            file_search(k1, vector_stores[0][0], P(0.8, 70)),
            file_search(k2, vector_stores[0][0], P(0.3, 8)),
            file_search(k4, vector_stores[1][0], P(0.4, 25)),
        ),
        "web_search_calls": (
            web(k0, "gpt-4o-2024-08-06", "medium", P(0.4, 12, size=1.6)),
            web(k1, "gpt-4o-mini-2024-07-18", "low", P(0.6, 30, size=1.2)),
            web(k5, "gpt-4.1-2025-04-14", "high", P(0.3, 6, size=2.4)),
        ),
    }

    members = tuple(
        BasedashMember(
            "usr_" + _token(seed, f"bd-user{i}", 20),
            "mem_" + _token(seed, f"bd-member{i}", 20),
            f"{name}@example.com",
            current,
            weight,
        )
        for i, (name, current, weight) in enumerate(
            (
                ("ava.chen", True, 1.0),
                ("ben.okafor", True, 0.7),
                ("chloe.martin", True, 0.45),
                ("dev.patel", True, 0.25),
                ("eli.novak", True, 0.1),
                ("former.member", False, 0.5),
            )
        )
    )

    anchor = date(2024, 1, 1).toordinal() + int.from_bytes(digest("anchor", seed), "big") % 30
    secret = digest("daramex-secret", seed, size=32)
    orgs = []
    for i, volume in enumerate((14.0, 5.0)):
        org_id = _uuid(seed, f"daramex-org{i}", version=7)
        claims: dict[str, object] = {
            "sub": _uuid(seed, f"daramex-user{i}"),
            "agencyId": org_id,
            "orgId": org_id,
            "iat": 1_735_689_600,
            "exp": 4_102_444_800,
        }
        orgs.append(DaramexOrg(org_id, _jwt(secret, claims), volume))

    return Catalog(
        seed=seed,
        openai_admin_key="sk-admin-" + _token(seed, "admin-key", 48),
        openai_project_key="sk-proj-" + _token(seed, "project-key", 48),
        openai_projects=projects,
        openai_users=users,
        openai_api_keys=keys,
        openai_vector_stores=vector_stores,
        openai_streams=streams,
        vector_store_projects=((projects[1].id, 180e6, 0.8e6), (p2.id, 1.4e9, 2.5e6)),
        basedash_org_id="cm" + _token(seed, "bd-org", 23, _ALPHABET[:36].lower()),
        basedash_api_key="bd_" + _token(seed, "bd-key", 40),
        basedash_members=members,
        unsiloed_org_id=_uuid(seed, "unsiloed-org"),
        unsiloed_org_name="Sandbox Docs Co",
        unsiloed_api_key="unsiloed_" + _hex(seed, "unsiloed-key", 48),
        unsiloed_orphan_key="unsiloed_" + _hex(seed, "unsiloed-orphan", 48),
        unsiloed_usage_limit=15_000,
        unsiloed_anchor_ordinal=anchor,
        daramex_orgs=tuple(orgs),
    )

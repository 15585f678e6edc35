"""Misbehaviour on request, as a plain httpx client sees it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from usagekit.sandbox import FAULT_KINDS, Sandbox, serve

from .conftest import NOW, YESTERDAY, new_client

USAGE = "/v1/organization/usage/embeddings"


def _request(sb: Sandbox, provider: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(path, headers, params) of a valid request to a provider."""
    keys = sb.keys
    if provider == "openai":
        return (
            USAGE,
            {"Authorization": f"Bearer {keys.openai_admin_key}"},
            {"start_time": YESTERDAY},
        )
    if provider == "basedash":
        path = f"/api/public/organizations/{keys.basedash_org_id}/ai-usage"
        return path, {"Authorization": f"Bearer {keys.basedash_api_key}"}, {}
    if provider == "unsiloed":
        return "/api/v1/org/get_usage", {"api-key": keys.unsiloed_api_key}, {}
    headers = {"Authorization": f"Bearer {keys.daramex_token}", "x-org-id": keys.daramex_org_id}
    params = {"from": "2026-04-14T00:00:00Z", "to": "2026-04-15T00:00:00Z"}
    return "/ai/org-usage/cache-savings", headers, params


def get(client: httpx.Client, sb: Sandbox, provider: str = "openai") -> httpx.Response:
    path, headers, params = _request(sb, provider)
    return client.get(path, headers=headers, params=params)


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    """A fresh keep-alive client per test (faults close connections)."""
    with new_client(base_url=sb.url, timeout=5) as c:
        yield c


# ------------------------------------------------------------------------------ fault kinds


PROVIDERS = ["openai", "basedash", "unsiloed", "daramex"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_injected_429_carries_the_providers_own_hint(
    sb: Sandbox, client: httpx.Client, provider: str
) -> None:
    sb.inject_faults("rate_limit", provider=provider)
    response = get(client, sb, provider)
    assert response.status_code == 429
    assert response.headers["x-request-id"]
    if provider == "openai":
        hint_ms = int(response.headers["retry-after-ms"])
        assert int(response.headers["retry-after"]) == 1  # whole seconds, rounded up
        assert response.json()["error"]["code"] == "rate_limit_exceeded"
    elif provider == "basedash":
        error = response.json()["error"]
        assert error["title"] == "RateLimitExceeded"
        hint_ms = error["retryAfterMs"]
        assert "retry-after" not in response.headers
    else:
        hint_ms = round(float(response.headers["Retry-After"]) * 1000)
    assert 10 <= hint_ms <= 100
    time.sleep(hint_ms / 1000 + 0.005)
    assert get(client, sb, provider).status_code == 200, "a retried request can succeed"
    assert sb.stats.faults == {"rate_limit": 1}
    assert sb.stats.early_retries == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_server_errors_in_the_providers_shape(
    sb: Sandbox, client: httpx.Client, provider: str
) -> None:
    sb.inject_faults("server_error", provider=provider)
    sb.inject_faults("unavailable", provider=provider)
    sb.inject_faults("bad_gateway", provider=provider)
    error = get(client, sb, provider)
    assert error.status_code == 500
    body = error.json()
    shapes = {
        "openai": lambda b: b["error"]["type"] == "server_error",
        "basedash": lambda b: b["error"]["title"] == "InternalServerError",
        "unsiloed": lambda b: isinstance(b["detail"], str),
        "daramex": lambda b: b["statusCode"] == 500,
    }
    assert shapes[provider](body)
    assert get(client, sb, provider).status_code == 503
    gateway = get(client, sb, provider)
    assert gateway.status_code == 502
    assert gateway.headers["content-type"].startswith("text/html")
    assert get(client, sb, provider).status_code == 200
    assert sb.stats.faults == {"server_error": 1, "unavailable": 1, "bad_gateway": 1}


def test_dropped_connection_is_a_transport_error(sb: Sandbox, client: httpx.Client) -> None:
    assert get(client, sb).status_code == 200  # a pooled keep-alive connection now exists
    sb.inject_faults("drop")
    with pytest.raises(httpx.TransportError) as caught:
        get(client, sb)
    assert isinstance(caught.value, httpx.RemoteProtocolError)
    assert get(client, sb).status_code == 200
    assert sb.stats.count(status=0) == 1


def test_truncated_body_is_an_incomplete_read(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject_faults("truncate", provider="openai")
    with pytest.raises(httpx.TransportError) as caught:
        get(client, sb)
    assert "incomplete" in str(caught.value).lower() or "peer closed" in str(caught.value)
    assert get(client, sb).status_code == 200


def _drain(response: httpx.Response, into: bytearray) -> None:
    for chunk in response.iter_raw():
        into.extend(chunk)


def test_truncated_body_streamed_reads_fewer_bytes_than_announced(sb: Sandbox) -> None:
    path, headers, params = _request(sb, "unsiloed")
    sb.inject_faults("truncate")
    received = bytearray()
    with (
        new_client(base_url=sb.url) as c,
        c.stream("GET", path, headers=headers, params=params) as response,
    ):
        announced = int(response.headers["content-length"])
        with pytest.raises(httpx.RemoteProtocolError):
            _drain(response, received)
    assert 0 < len(received) < announced


def test_slow_response_answers_normally_after_a_delay(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(slow_seconds=0.5)
    path, headers, params = _request(sb, "openai")
    sb.inject_faults("slow")
    with pytest.raises(httpx.ReadTimeout):
        client.get(path, headers=headers, params=params, timeout=0.1)
    sb.inject_faults("slow")
    assert client.get(path, headers=headers, params=params, timeout=5).status_code == 200
    assert sb.stats.faults == {"slow": 2}


def test_latency_is_added_to_every_response(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(latency=0.4)
    path, headers, _ = _request(sb, "unsiloed")
    with pytest.raises(httpx.ReadTimeout):
        client.get(path, headers=headers, timeout=0.1)
    sb.configure(latency=0.0)
    assert client.get(path, headers=headers, timeout=0.1).status_code == 200


def test_random_faults_follow_rate_weights_and_seed() -> None:
    # a sandbox of its own: no other test's straggling request may draw from its fault stream
    with serve(seed=1, now=NOW) as sb:
        _check_fault_sequences(sb)


def _check_fault_sequences(sb: Sandbox) -> None:
    def run(seed: int) -> list[str]:
        sb.reset()
        sb.configure(
            fault_rate=0.5,
            fault_seed=seed,
            fault_weights={"rate_limit": 1, "unavailable": 1, "drop": 1},
        )
        outcomes = []
        # a fresh connection per request: reusing one the server has just dropped would race
        # its close (the request then fails client-side, unseen, and shifts the sequence)
        fresh = httpx.Limits(max_keepalive_connections=0)
        with new_client(base_url=sb.url, timeout=5, limits=fresh) as c:
            for _ in range(40):
                try:
                    outcomes.append(str(get(c, sb).status_code))
                except httpx.TransportError:
                    outcomes.append("dropped")
        return outcomes

    first = run(7)
    assert first == run(7), "same fault seed, same sequence"
    assert first != run(8)
    counts = {kind: first.count(kind) for kind in set(first)}
    assert set(counts) == {"200", "429", "503", "dropped"}
    assert 8 <= 40 - counts["200"] <= 32
    faults = sb.stats.faults  # of the last run (seed 8): every failure is counted by kind
    assert sum(faults.values()) == sb.stats.total_requests - sb.stats.count(status=200)


def test_every_request_faults_at_rate_one_and_none_at_zero(
    sb: Sandbox, client: httpx.Client
) -> None:
    sb.configure(fault_rate=1.0, fault_weights={"server_error": 1.0})
    assert [get(client, sb, p).status_code for p in PROVIDERS] == [500] * 4
    sb.configure(fault_rate=0.0)
    assert [get(client, sb, p).status_code for p in PROVIDERS] == [200] * 4


def test_faults_apply_only_to_known_endpoints(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(fault_rate=1.0, fault_weights={"drop": 1.0})
    assert client.get("/v1/organization/nothing").status_code == 404
    assert client.get("/elsewhere").status_code == 404


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"fault_rate": 1.5}, "fault_rate"),
        ({"fault_weights": {"meteor": 1.0}}, "unknown fault kinds"),
        ({"retry_after_ms": (50, 10)}, "retry_after_ms"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"endless_cursor": True, "cursor_cycle": True}, "exclude each other"),
        ({"colour": "red"}, "unknown settings"),
    ],
)
def test_invalid_settings_are_rejected(sb: Sandbox, bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sb.configure(**bad)
    assert sb.settings.fault_rate == 0.0


def test_fault_kinds(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        sb.inject_faults("meteor")
    assert set(FAULT_KINDS) == {
        "rate_limit",
        "server_error",
        "bad_gateway",
        "unavailable",
        "drop",
        "truncate",
        "slow",
    }


# ------------------------------------------------------------------------------ rate limits


def test_rate_limit_gives_the_exact_wait(client: httpx.Client) -> None:
    with serve(seed=1, now=NOW, rate_limit=4.0, rate_limit_burst=1) as sb:
        path, headers, params = _request(sb, "openai")
        url = sb.base_urls["openai"] + path.removeprefix("/v1")
        assert client.get(url, headers=headers, params=params).status_code == 200
        limited = client.get(url, headers=headers, params=params)
        assert limited.status_code == 429
        wait_ms = int(limited.headers["retry-after-ms"])
        assert 150 < wait_ms <= 250  # one token per 250 ms, minus the time already passed
        assert limited.headers["retry-after"] == "1"
        time.sleep(wait_ms / 2000)
        again = client.get(url, headers=headers, params=params)
        assert again.status_code == 429, "still limited half-way through the wait"
        assert int(again.headers["retry-after-ms"]) <= wait_ms // 2 + 5
        time.sleep(int(again.headers["retry-after-ms"]) / 1000)
        assert client.get(url, headers=headers, params=params).status_code == 200
        assert len(sb.stats.early_retries) == 1, "the half-way retry was early"


def test_rate_limit_is_per_credential_and_in_each_providers_format(client: httpx.Client) -> None:
    with serve(seed=1, now=NOW, rate_limit=2.0, rate_limit_burst=1) as sb:
        codes = {}
        for provider in PROVIDERS:
            path, headers, params = _request(sb, provider)
            began = time.monotonic()
            first = client.get(sb.url + path, headers=headers, params=params)
            second = client.get(sb.url + path, headers=headers, params=params)
            # one token per 500 ms, minus what passed between the two (however loaded the host)
            least = 500 - (time.monotonic() - began) * 1000 - 5
            codes[provider] = (first.status_code, second.status_code)
            if provider == "basedash":
                assert least < second.json()["error"]["retryAfterMs"] <= 500
            elif provider in ("unsiloed", "daramex"):
                assert least / 1000 < float(second.headers["Retry-After"]) <= 0.5
        assert codes == dict.fromkeys(PROVIDERS, (200, 429))
        other = {"Authorization": f"Bearer {sb.keys.openai_project_key}"}
        url = sb.base_urls["openai"] + "/organization/costs"
        assert client.get(url, headers=other, params={"start_time": 0}).status_code == 403


def test_rate_limit_can_be_switched_at_run_time(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(rate_limit=1.0, rate_limit_burst=1)
    assert [get(client, sb).status_code for _ in range(3)] == [200, 429, 429]
    sb.configure(rate_limit=None)
    assert get(client, sb).status_code == 200


# ------------------------------------------------------------------------------ early retries


def test_early_retries_are_flagged(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(retry_after_ms=(80, 80))
    sb.inject_faults("rate_limit", provider="unsiloed")
    assert get(client, sb, "unsiloed").status_code == 429
    assert get(client, sb, "unsiloed").status_code == 200  # at once: too early
    (early,) = sb.stats.early_retries
    assert early.provider == "unsiloed"
    assert early.path == "/api/v1/org/get_usage"
    assert early.hint_ms == 80
    assert early.waited_ms < 80
    assert early.early_by_ms > 0

    sb.inject_faults("rate_limit", provider="unsiloed")
    assert get(client, sb, "unsiloed").status_code == 429
    time.sleep(0.085)
    assert get(client, sb, "unsiloed").status_code == 200
    assert len(sb.stats.early_retries) == 1, "a patient retry is not flagged"


def test_a_different_request_is_not_a_retry(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(retry_after_ms=(100, 100))
    sb.inject_faults("rate_limit", provider="openai")
    assert get(client, sb).status_code == 429
    path, headers, _ = _request(sb, "openai")
    other = client.get(path, headers=headers, params={"start_time": YESTERDAY, "limit": 2})
    assert other.status_code == 200
    assert sb.stats.early_retries == []


# ------------------------------------------------------------------------------ cursors


def _pages(client: httpx.Client, sb: Sandbox, most: int) -> list[dict[str, Any]]:
    path, headers, _ = _request(sb, "openai")
    params: dict[str, Any] = {"start_time": YESTERDAY - 4 * 86400, "limit": 2}
    pages = [client.get(path, headers=headers, params=params).json()]
    while pages[-1]["has_more"] and len(pages) < most:
        query = {**params, "page": pages[-1]["next_page"]}
        response = client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
    return pages


def test_normal_paging_ends(sb: Sandbox, client: httpx.Client) -> None:
    pages = _pages(client, sb, 10)
    assert len(pages) == 3  # 6 daily buckets up to today, 2 per page
    assert pages[-1]["has_more"] is False


def test_endless_cursor_never_ends(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(endless_cursor=True)
    pages = _pages(client, sb, 8)
    assert len(pages) == 8
    assert all(p["has_more"] for p in pages)
    cursors = [p["next_page"] for p in pages]
    assert len(set(cursors)) == len(cursors), "every cursor is fresh"
    assert pages[-1]["data"] == []


def test_cursor_cycle_returns_a_cursor_seen_before(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(cursor_cycle=True)
    pages = _pages(client, sb, 4)
    cursors = [p["next_page"] for p in pages]
    assert pages[2]["has_more"] is True
    assert cursors[2] == cursors[0]
    assert pages[3]["data"] == pages[1]["data"]


# ------------------------------------------------------------------------------ counters


def test_stats_count_requests_and_reset(sb: Sandbox, client: httpx.Client) -> None:
    for provider in PROVIDERS:
        get(client, sb, provider)
    client.get("/v1/organization/usage/embeddings")  # no key: 401
    stats = sb.stats
    assert stats.total_requests == 5
    assert stats.count(provider="openai") == 2
    assert stats.count(provider="openai", status=401) == 1
    assert stats.count(endpoint="cache-savings", status=200) == 1
    assert stats.requests[("basedash", "ai-usage", 200)] == 1
    snapshot = stats.snapshot()
    assert snapshot["total_requests"] == 5
    assert snapshot["early_retries"] == []
    sb.reset_stats()
    assert sb.stats.total_requests == 0
    assert sb.stats.faults == {}

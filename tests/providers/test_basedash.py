"""Basedash: the ai-usage request, its errors, the 429 body hint, and records that sum exactly."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

import usagekit
from tests.conftest import SleepRecorder, install_sleep, resolve
from usagekit import AsyncBasedashClient, BasedashAIUsage, BasedashClient, UsageRecord
from usagekit._core.clock import Window
from usagekit._providers.basedash._normalize import usage_records

from ._support import close, json_response, make, no_requests, total

KEY = "bd_test_key_4e1f9a"
ORG = "org_7Hq2"
BASE = "https://charts.basedash.com"
URL = f"{BASE}/api/public/organizations/{ORG}/ai-usage"
UTC = timezone.utc
PERIOD_START = datetime(2026, 4, 1, tzinfo=UTC)
PERIOD_END = datetime(2026, 5, 1, tzinfo=UTC)


def body(total_usage: Any = Decimal("12.34"), members: list[Any] | None = None) -> dict[str, Any]:
    if members is None:
        members = [
            member("u1", "m1", "ada@example.com", Decimal("10.00")),
            member("u2", "m2", "bob@example.com", Decimal("2.34")),
        ]
    return {
        "totalUsage": total_usage,
        "billingPeriodStart": "2026-04-01T00:00:00.000Z",
        "billingPeriodEnd": "2026-05-01T00:00:00.000Z",
        "memberUsage": members,
    }


def member(user: str, member_id: str, email: str, usage: Any) -> dict[str, Any]:
    return {"userId": user, "memberId": member_id, "email": email, "usage": usage}


def client_for(mode: str, **kwargs: Any) -> Any:
    kwargs.setdefault("org_id", ORG)
    kwargs.setdefault("max_retries", 0)
    return make(mode, BasedashClient, AsyncBasedashClient, KEY, **kwargs)


async def test_ai_usage_sends_the_exact_request_and_types_the_answer(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(URL).mock(return_value=json_response(body()))
        usage = await resolve(client.ai_usage())
    await close(client)
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == "GET"
    assert str(request.url) == URL
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "application/json"
    assert "x-org-id" not in request.headers and "api-key" not in request.headers
    assert isinstance(usage, BasedashAIUsage)
    assert usage.total_usage == Decimal("12.34")
    assert usage.billing_period_start == PERIOD_START
    assert usage.billing_period_start.tzinfo is not None
    assert usage.billing_period_end == PERIOD_END
    assert [(m.user_id, m.member_id, m.email, m.usage) for m in usage.member_usage] == [
        ("u1", "m1", "ada@example.com", Decimal("10.00")),
        ("u2", "m2", "bob@example.com", Decimal("2.34")),
    ]
    assert usage.members_total == Decimal("12.34") and usage.unattributed_usage == 0


async def test_org_id_from_env_per_call_and_path_encoded(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASEDASH_API_KEY", KEY)
    monkeypatch.setenv("BASEDASH_ORG_ID", "org_from_env")
    client = make(mode, BasedashClient, AsyncBasedashClient, max_retries=0)
    assert client.org_id == "org_from_env"
    with respx.mock(assert_all_mocked=True) as router:
        env_route = router.get(f"{BASE}/api/public/organizations/org_from_env/ai-usage").mock(
            return_value=json_response(body())
        )
        odd_route = router.get(
            url__regex=r".*/api/public/organizations/team%2F1%20x/ai-usage$"
        ).mock(return_value=json_response(body()))
        await resolve(client.ai_usage())
        await resolve(client.ai_usage(org_id="team/1 x"))
    await close(client)
    assert env_route.call_count == 1 and odd_route.call_count == 1
    raw_path = odd_route.calls.last.request.url.raw_path
    assert raw_path == b"/api/public/organizations/team%2F1%20x/ai-usage"


async def test_missing_key_and_org_are_config_errors_naming_the_variable(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASEDASH_API_KEY", raising=False)
    monkeypatch.delenv("BASEDASH_ORG_ID", raising=False)
    with pytest.raises(usagekit.ConfigError, match="BASEDASH_API_KEY"):
        make(mode, BasedashClient, AsyncBasedashClient)
    client = make(mode, BasedashClient, AsyncBasedashClient, KEY)
    assert client.org_id is None
    with no_requests():
        with pytest.raises(usagekit.ConfigError, match="BASEDASH_ORG_ID"):
            await resolve(client.ai_usage())
        with pytest.raises(usagekit.ConfigError, match="BASEDASH_ORG_ID"):
            await resolve(client.records())
        for bad in ("", "  ", "..", "."):
            with pytest.raises(usagekit.ConfigError, match="org_id"):
                await resolve(client.ai_usage(org_id=bad))
    await close(client)
    with pytest.raises(usagekit.ConfigError, match="org_id"):
        make(mode, BasedashClient, AsyncBasedashClient, KEY, org_id=" ")


@pytest.mark.parametrize(
    ("status", "error", "payload", "message", "hint"),
    [
        (
            401,
            usagekit.AuthenticationError,
            {"error": {"title": "Unauthorized", "detail": "Invalid API key"}},
            "Invalid API key",
            "BASEDASH_API_KEY",
        ),
        (
            404,
            usagekit.NotFoundError,
            {"error": {"title": "NotFound", "detail": "Organization not found"}},
            "Organization not found",
            "organization not found, no admin access, or billing period unavailable",
        ),
        (
            429,
            usagekit.RateLimitError,
            {"error": {"title": "RateLimitExceeded", "detail": "Slow down", "retryAfterMs": 750}},
            "Slow down",
            None,
        ),
        (
            500,
            usagekit.ServerError,
            {"error": {"title": "InternalServerError", "detail": "Something broke"}},
            "Something broke",
            None,
        ),
    ],
)
async def test_every_documented_status_maps_to_its_error(
    mode: str,
    status: int,
    error: type[usagekit.APIError],
    payload: dict[str, Any],
    message: str,
    hint: str | None,
) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(
            return_value=json_response(payload, status, **{"x-request-id": "req_b1"})
        )
        with pytest.raises(error) as caught:
            await resolve(client.ai_usage())
    await close(client)
    exc = caught.value
    assert type(exc) is error
    assert (exc.status_code, exc.provider, exc.request_id) == (status, "basedash", "req_b1")
    assert exc.message == message
    if hint is None:
        assert exc.hint is None
    else:
        assert exc.hint is not None and hint in exc.hint and hint in str(exc)
    if status == 429:
        assert exc.retry_after == 0.75
    assert KEY not in str(exc)


async def test_429_retry_after_ms_in_the_body_is_honoured(mode: str, sleeps: SleepRecorder) -> None:
    client = client_for(mode, max_retries=3)
    install_sleep(client, sleeps)
    limited = [
        json_response(
            {"error": {"title": "RateLimitExceeded", "detail": "x", "retryAfterMs": ms}}, 429
        )
        for ms in (1500, 250)
    ]
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(URL).mock(side_effect=[*limited, json_response(body())])
        records = await resolve(client.records())
    await close(client)
    assert route.call_count == 3
    assert sleeps.calls == [1.5, 0.25]
    assert total(records, "cost") == Decimal("12.34")


async def test_429_retries_exhausted_raise_with_the_hint(mode: str, sleeps: SleepRecorder) -> None:
    client = client_for(mode, max_retries=1)
    install_sleep(client, sleeps)
    limited = {"error": {"title": "RateLimitExceeded", "detail": "x", "retryAfterMs": 2000}}
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(URL).mock(return_value=json_response(limited, 429))
        with pytest.raises(usagekit.RateLimitError) as caught:
            await resolve(client.ai_usage())
    await close(client)
    assert route.call_count == 2
    assert sleeps.calls == [2.0]
    assert caught.value.retry_after == 2.0


RECORD_CASES = [
    pytest.param(
        "12.34",
        [("u1", "m1", "a@x.io", "10.00"), ("u2", "m2", "b@x.io", "2.34")],
        None,
        id="members-add-up",
    ),
    pytest.param(
        "20.00",
        [("u1", "m1", "a@x.io", "10.00"), ("u2", "m2", "b@x.io", "2.34")],
        "7.66",
        id="members-short-of-total",
    ),
    pytest.param(
        "5.00",
        [("u1", "m1", "a@x.io", "10.00"), ("u2", "m2", "b@x.io", "2.34")],
        "-7.34",
        id="members-over-total",
    ),
    pytest.param("3.21", [], "3.21", id="no-members"),
    pytest.param("0", [], None, id="nothing-at-all"),
    pytest.param(
        "0.1",
        [("u1", "m1", "a@x.io", "0.1"), ("u1", "m1", "a@x.io", "0.10")],
        None,
        id="member-repeated-exactly-is-one-member",
    ),
    pytest.param(
        "123456789012345678901234567890.123456789",
        [("u1", "m1", "a@x.io", "0.000000001"), ("u2", "m2", "b@x.io", "1.1")],
        "123456789012345678901234567889.023456788",
        id="rest-exact-beyond-28-digits",
    ),
]


@pytest.mark.parametrize(("total_usage", "members", "rest"), RECORD_CASES)
async def test_records_always_sum_to_total_usage(
    mode: str, total_usage: str, members: list[tuple[str, str, str, str]], rest: str | None
) -> None:
    client = client_for(mode)
    payload = body(Decimal(total_usage), [member(u, m, e, Decimal(q)) for u, m, e, q in members])
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response(payload))
        records: list[UsageRecord] = await resolve(client.records())
    await close(client)
    assert total(records, "cost") == Decimal(total_usage)
    assert len({r.id for r in records}) == len(records)
    for record in records:
        assert (record.provider, record.source, record.metric, record.unit, record.kind) == (
            "basedash",
            "ai_usage",
            "cost",
            "USD",
            "flow",
        )
        assert (record.start, record.end) == (PERIOD_START, PERIOD_END)
        assert record.organization_id == ORG
        assert record == UsageRecord.model_validate(record.model_dump())
    attributed = [r for r in records if r.user_id is not None]
    distinct = {(u, m, e) for u, m, e, _ in members}
    assert len(attributed) == len(distinct)
    for r in attributed:
        assert r.attributes == {"member_id": next(m for u, m, _, _ in members if u == r.user_id)}
        assert r.user_email == next(e for u, _, e, _ in members if u == r.user_id)
    unattributed = [r for r in records if r.attributes.get("unattributed") == "true"]
    if rest is None:
        assert unattributed == []
    else:
        assert len(unattributed) == 1
        assert unattributed[0].quantity == Decimal(rest)
        assert unattributed[0].user_id is None and unattributed[0].user_email is None


@pytest.mark.parametrize(
    ("start", "end", "kept"),
    [
        (None, None, True),
        ("2026-04-15", "2026-04-16", True),
        ("2026-03-01", "2026-04-01T00:00:01Z", True),
        ("2026-03-01", "2026-04-01", False),
        ("2026-05-01", None, False),
        (None, "2026-04-01", False),
        ("2026-04-30T23:59:59Z", None, True),
    ],
)
async def test_window_only_filters(mode: str, start: Any, end: Any, kept: bool) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response(body(Decimal("20"))))
        records = await resolve(client.records(start, end))
    await close(client)
    assert len(records) == (3 if kept else 0)
    if kept:
        assert total(records, "cost") == Decimal("20")


async def test_records_arguments_are_checked_before_any_request(mode: str) -> None:
    client = client_for(mode)
    with no_requests():
        with pytest.raises(usagekit.ConfigError, match="start must be before end"):
            client.records("2026-04-02", "2026-04-01")
        with pytest.raises(usagekit.ConfigError, match="start"):
            client.records("not a date")
    await close(client)


async def test_unknown_fields_pass_and_stay_readable(mode: str) -> None:
    payload = body()
    payload["currency"] = "USD"
    payload["memberUsage"][0]["role"] = "admin"
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response(payload))
        usage = await resolve(client.ai_usage())
    await close(client)
    assert usage.model_extra == {"currency": "USD"}
    assert usage.member_usage[0].model_extra == {"role": "admin"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(totalUsage="lots"), "totalUsage"),
        (lambda b: b.update(totalUsage=True), "totalUsage"),
        (lambda b: b.pop("billingPeriodEnd"), "billingPeriodEnd"),
        (lambda b: b.update(billingPeriodStart="yesterday"), "billingPeriodStart"),
        (lambda b: b.update(billingPeriodEnd="2026-03-01T00:00:00Z"), "billingPeriodEnd"),
        (lambda b: b.update(memberUsage={"u1": 1}), "memberUsage"),
        (lambda b: b["memberUsage"][1].update(usage=[1]), "memberUsage.1.usage"),
        (lambda b: b["memberUsage"][0].pop("email"), "memberUsage.0.email"),
        (lambda b: b["memberUsage"][0].update(userId=7), "memberUsage.0.userId"),
    ],
)
async def test_wrong_shapes_name_the_field(mode: str, change: Any, field: str) -> None:
    payload = body()
    change(payload)
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=json_response(payload))
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            await resolve(client.ai_usage())
    await close(client)
    assert caught.value.field == field
    assert caught.value.provider == "basedash" and caught.value.endpoint == "ai_usage"


async def test_a_body_that_is_not_json_is_a_validation_error(mode: str) -> None:
    client = client_for(mode)
    with respx.mock(assert_all_mocked=True) as router:
        router.get(URL).mock(return_value=httpx.Response(200, text="<html>oops</html>"))
        with pytest.raises(usagekit.ResponseValidationError, match="not valid JSON"):
            await resolve(client.ai_usage())
    await close(client)


def test_repr_hides_the_key_and_with_options_keeps_the_org() -> None:
    client = BasedashClient(KEY, org_id=ORG)
    assert KEY not in repr(client) and KEY not in repr(client.config)
    clone = client.with_options(max_retries=5)
    assert clone.org_id == ORG and clone.config.retry.max_retries == 5
    assert clone.config.credentials["Authorization"].get_secret_value() == f"Bearer {KEY}"
    client.close()


amounts = st.builds(
    lambda digits, places: Decimal(f"{digits}E-{places}"),
    st.integers(0, 10**45),
    st.integers(0, 40),
)
"""Non-negative amounts of any precision, up to 45 digits: past the default 28-digit context."""


@given(
    total_usage=amounts,
    usages=st.lists(st.tuples(st.integers(0, 5), amounts), max_size=12, unique_by=lambda u: u[0]),
    repeat=st.booleans(),
)
def test_any_usage_maps_to_records_summing_to_the_total(
    total_usage: Decimal, usages: list[tuple[int, Decimal]], repeat: bool
) -> None:
    members = [member(f"u{i}", f"m{i}", f"{i}@x.io", q) for i, q in usages]
    if repeat and members:
        members.append(dict(members[0]))  # the server repeats a member: one member
    usage = BasedashAIUsage.model_validate(body(total_usage, members))
    records = usage_records(usage, org_id=ORG, window=Window(PERIOD_START, None))
    assert total(records, "cost") == total_usage
    assert len({r.id for r in records}) == len(records)
    rest = [r for r in records if r.attributes.get("unattributed")]
    assert len(rest) == (0 if total_usage == total([*records[: len(usages)]], "cost") else 1)
    assert len(records) - len(rest) == len(usages)
    for record, (_, quantity) in zip(records, usages, strict=False):
        assert str(record.quantity) == str(quantity)  # every digit, as sent


def test_a_member_listed_twice_with_other_usage_is_refused() -> None:
    usage = BasedashAIUsage.model_validate(
        body(
            Decimal("0.3"),
            [member("u1", "m1", "a@x.io", Decimal("0.1")), member("u1", "m1", "a@x.io", "0.2")],
        )
    )
    with pytest.raises(usagekit.ResponseValidationError, match="listed twice") as caught:
        usage_records(usage, org_id=ORG, window=Window(PERIOD_START, None))
    assert (caught.value.field, caught.value.endpoint) == ("memberUsage.1.usage", "ai_usage")

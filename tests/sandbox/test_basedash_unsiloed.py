"""Basedash ai-usage and Unsiloed get_usage of the sandbox, over real HTTP."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx

from usagekit.sandbox import Sandbox

from .conftest import NOW


def basedash_path(org_id: str) -> str:
    return f"/api/public/organizations/{org_id}/ai-usage"


def decimal_json(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


# ------------------------------------------------------------------------------ Basedash


def test_basedash_usage_for_the_current_month(sb: Sandbox, http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {sb.keys.basedash_api_key}"}
    body = decimal_json(http.get(basedash_path(sb.keys.basedash_org_id), headers=headers))
    assert set(body) == {"totalUsage", "billingPeriodStart", "billingPeriodEnd", "memberUsage"}
    assert body["billingPeriodStart"] == "2026-04-01T00:00:00.000Z"
    assert body["billingPeriodEnd"] == "2026-05-01T00:00:00.000Z"
    members = body["memberUsage"]
    assert len(members) >= 3
    for member in members:
        assert set(member) == {"userId", "memberId", "email", "usage"}
        assert member["email"].endswith("@example.com")
        assert member["usage"] > 0
    member_sum = sum(Decimal(m["usage"]) for m in members)
    total = Decimal(body["totalUsage"])
    assert total > member_sum, "usage of removed members and no member is in the total only"
    period = sb.data.basedash_period()
    assert total == period.total
    assert total - member_sum == period.unattributed
    assert {m["userId"]: Decimal(m["usage"]) for m in members} == period.members
    events = sb.data.basedash_events("2026-04-01T00:00:00Z", NOW)
    assert total == sum((e.usage for e in events), Decimal(0))


def test_basedash_errors(sb: Sandbox, http: httpx.Client) -> None:
    good = {"Authorization": f"Bearer {sb.keys.basedash_api_key}"}
    for headers in ({}, {"Authorization": "Bearer bd_wrong"}, {"Authorization": "Basic abc"}):
        response = http.get(basedash_path(sb.keys.basedash_org_id), headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["title"] == "Unauthorized"
        assert response.json()["error"]["detail"]
    missing = http.get(basedash_path("cm_no_such_org"), headers=good)
    assert missing.status_code == 404
    assert missing.json()["error"]["title"] == "NotFound"
    assert http.get("/api/public/organizations", headers=good).status_code == 404
    assert http.post(basedash_path(sb.keys.basedash_org_id), headers=good).status_code == 405


def test_basedash_period_follows_the_clock(sb: Sandbox, http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {sb.keys.basedash_api_key}"}
    try:
        sb.set_now(datetime(2026, 3, 31, 23, 0, tzinfo=timezone.utc))
        march = decimal_json(http.get(basedash_path(sb.keys.basedash_org_id), headers=headers))
        sb.set_now(datetime(2026, 4, 1, 0, 30, tzinfo=timezone.utc))
        april = decimal_json(http.get(basedash_path(sb.keys.basedash_org_id), headers=headers))
    finally:
        sb.set_now(NOW)
    assert march["billingPeriodStart"] == "2026-03-01T00:00:00.000Z"
    assert april["billingPeriodStart"] == "2026-04-01T00:00:00.000Z"
    assert april["totalUsage"] < march["totalUsage"]


# ------------------------------------------------------------------------------ Unsiloed


def test_unsiloed_usage(sb: Sandbox, http: httpx.Client) -> None:
    body = decimal_json(
        http.get("/api/v1/org/get_usage", headers={"api-key": sb.keys.unsiloed_api_key})
    )
    assert set(body) == {
        "org_id",
        "org_name",
        "current_usage",
        "usage_limit",
        "remaining_quota",
        "last_billed_date",
    }
    assert body["remaining_quota"] == body["usage_limit"] - body["current_usage"]
    billed = date.fromisoformat(body["last_billed_date"])
    assert 0 <= (NOW.date() - billed).days < 30
    since = datetime(billed.year, billed.month, billed.day, tzinfo=timezone.utc)
    credits = sum(e.credits for e in sb.data.unsiloed_events(since, NOW))
    assert body["current_usage"] == credits > 0


def test_unsiloed_cycles_are_thirty_days(sb: Sandbox, http: httpx.Client) -> None:
    headers = {"api-key": sb.keys.unsiloed_api_key}
    billed = date.fromisoformat(
        http.get("/api/v1/org/get_usage", headers=headers).json()["last_billed_date"]
    )
    try:
        sb.set_now(
            datetime(billed.year, billed.month, billed.day, tzinfo=timezone.utc)
            - timedelta(minutes=1)
        )
        before = http.get("/api/v1/org/get_usage", headers=headers).json()
        sb.set_now(datetime(billed.year, billed.month, billed.day, 0, 1, tzinfo=timezone.utc))
        after = http.get("/api/v1/org/get_usage", headers=headers).json()
    finally:
        sb.set_now(NOW)
    assert date.fromisoformat(before["last_billed_date"]) == billed - timedelta(days=30)
    assert after["last_billed_date"] == billed.isoformat()
    assert after["current_usage"] < before["current_usage"], "usage resets with a new cycle"


def test_unsiloed_errors(sb: Sandbox, http: httpx.Client) -> None:
    missing = http.get("/api/v1/org/get_usage")
    assert missing.status_code == 401
    assert missing.json() == {
        "detail": "API key is required. Please provide 'api-key' in the request header."
    }
    wrong = http.get("/api/v1/org/get_usage", headers={"api-key": "unsiloed_nope"})
    assert wrong.status_code == 401
    assert "invalid" in wrong.json()["detail"].lower()
    orphan = http.get("/api/v1/org/get_usage", headers={"api-key": sb.keys.unsiloed_orphan_api_key})
    assert orphan.status_code == 404
    assert orphan.json() == {"detail": "Organization not found"}
    assert http.get("/api/v1/org/nothing").json() == {"detail": "Not Found"}

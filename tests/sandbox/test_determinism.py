"""Same seed, same data: across servers, request order and the moment of asking."""

from __future__ import annotations

from datetime import timedelta

from usagekit.sandbox import SandboxData, serve
from usagekit.sandbox._util import Clock

from .conftest import NOW, YESTERDAY, new_client


def _responses(seed: int) -> tuple[list[bytes], dict[str, str]]:
    with serve(seed=seed, now=NOW) as sb, new_client(base_url=sb.url) as client:
        keys = sb.keys
        admin = {"Authorization": f"Bearer {keys.openai_admin_key}"}
        daramex = {"Authorization": f"Bearer {keys.daramex_token}"}
        window = {"from": "2026-04-08T00:00:00Z", "to": "2026-04-15T00:00:00Z"}
        requests = [
            (
                "/v1/organization/usage/completions",
                admin,
                {"start_time": YESTERDAY - 86400, "group_by": ["model", "project_id"]},
            ),
            (
                "/v1/organization/usage/images",
                admin,
                {"start_time": YESTERDAY, "bucket_width": "1m", "limit": 1440},
            ),
            (
                "/v1/organization/costs",
                admin,
                {"start_time": YESTERDAY - 6 * 86400, "group_by": "line_item"},
            ),
            (
                f"/api/public/organizations/{keys.basedash_org_id}/ai-usage",
                {"Authorization": f"Bearer {keys.basedash_api_key}"},
                {},
            ),
            ("/api/v1/org/get_usage", {"api-key": keys.unsiloed_api_key}, {}),
            ("/ai/org-usage/time-series", daramex, {**window, "groupBy": "model"}),
            ("/ai/org-usage/model-efficiency", daramex, window),
        ]
        bodies = []
        for path, headers, params in requests:
            response = client.get(path, headers=headers, params=params)
            assert response.status_code == 200, response.text
            bodies.append(response.content)
        return bodies, keys.env()


def test_two_servers_with_the_same_seed_serve_the_same_bytes() -> None:
    first, first_keys = _responses(1)
    second, second_keys = _responses(1)
    assert first == second
    assert first_keys == second_keys
    other, other_keys = _responses(2)
    assert all(a != b for a, b in zip(first, other, strict=True))
    assert set(first_keys.values()).isdisjoint(other_keys.values())


def test_an_hour_does_not_depend_on_request_order_or_on_now() -> None:
    start, end = YESTERDAY - 3 * 86400, YESTERDAY
    forward = SandboxData(1, clock=Clock(NOW))
    backward = SandboxData(1, clock=Clock(NOW))
    later = SandboxData(1, clock=Clock(NOW + timedelta(days=20)))
    expected = forward.openai_rows("completions", start, end, grain="minute")
    pieces = [
        backward.openai_rows("completions", hour, hour + 3600, grain="minute")
        for hour in reversed(range(start, end, 3600))
    ]
    assert [row for piece in reversed(pieces) for row in piece] == expected
    assert later.openai_rows("completions", start, end, grain="minute") == expected
    assert later.daramex_events(start, end) == forward.daramex_events(start, end)
    assert later.openai_cost_rows(start, end) == forward.openai_cost_rows(start, end)


def test_data_is_sparse_and_shaped_by_time_of_day() -> None:
    data = SandboxData(1, clock=Clock(NOW))
    rows = data.openai_rows("completions", YESTERDAY - 13 * 86400, YESTERDAY + 86400)
    per_hour: dict[int, int] = {}
    for row in rows:
        if not row.dims["batch"]:  # batch jobs run at night
            per_hour[row.start] = per_hour.get(row.start, 0) + row.metrics["num_model_requests"]
    streams = len(data.catalog.openai_streams["completions"])
    combos_per_hour = [sum(1 for r in rows if r.start == h) for h in set(per_hour)]
    assert max(combos_per_hour) < streams, "not every combination is active every hour"

    def mean_at(utc_hours: range) -> float:
        values = [n for h, n in per_hour.items() if (h // 3600) % 24 in utc_hours]
        return sum(values) / max(1, len(values))

    assert mean_at(range(16, 21)) > 3 * mean_at(range(6, 10)), "busy afternoons, quiet nights"

"""Error statuses: a non-admin key is told that these endpoints need an admin key."""

from __future__ import annotations

import pytest
import respx

from tests.conftest import SleepRecorder, install_sleep, resolve
from tests.openai._support import KEY, Client, close, endpoint_method, make_client, path_of
from usagekit import (
    AuthenticationError,
    BadRequestError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
)

START = 1730419200
OPENAI_ERROR = {
    "error": {
        "message": "You have insufficient permissions for this operation. Missing scopes: "
        "api.usage.read.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}


@pytest.mark.parametrize(
    ("status", "error_class"), [(401, AuthenticationError), (403, PermissionDeniedError)]
)
@pytest.mark.parametrize("name", ["completions", "costs"])
async def test_non_admin_key_gets_a_plain_hint(
    client: Client,
    router: respx.MockRouter,
    status: int,
    error_class: type[Exception],
    name: str,
) -> None:
    route = router.get(path_of(name)).respond(
        status_code=status, json=OPENAI_ERROR, headers={"x-request-id": "req_abc"}
    )
    with pytest.raises(error_class) as caught:
        await resolve(endpoint_method(client, name)(START))
    text = str(caught.value)
    assert "organization admin key" in text
    assert "OPENAI_ADMIN_KEY" in text
    assert "insufficient permissions" in text
    assert "req_abc" in text
    assert KEY not in text
    assert route.call_count == 1  # not retried


async def test_records_surface_the_hint_too(client: Client, router: respx.MockRouter) -> None:
    router.get(path_of("completions")).respond(status_code=401, json=OPENAI_ERROR)
    with pytest.raises(AuthenticationError, match="admin key"):
        await resolve(client.records(START, sources=["completions"]))


async def test_bad_request_has_no_admin_hint(client: Client, router: respx.MockRouter) -> None:
    body = {"error": {"message": "Invalid value for 'group_by'.", "type": "invalid_request_error"}}
    router.get(path_of("images")).respond(status_code=400, json=body)
    with pytest.raises(BadRequestError) as caught:
        await resolve(client.usage.images(START))
    assert "Invalid value for 'group_by'" in str(caught.value)
    assert "admin key" not in str(caught.value)


async def test_rate_limits_are_retried_with_the_server_hint(
    mode: str, router: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    made = make_client(mode, max_retries=2)
    install_sleep(made, sleeps)
    limited = respx.MockResponse(429, json=OPENAI_ERROR, headers={"retry-after": "3"})
    page = {"object": "page", "data": [], "has_more": False, "next_page": None}
    route = router.get(path_of("costs")).mock(
        side_effect=[limited, respx.MockResponse(200, json=page)]
    )
    try:
        assert await resolve(made.costs(START)) == []
    finally:
        await close(made)
    assert route.call_count == 2
    assert sleeps.calls[0] == pytest.approx(3.0)


async def test_rate_limit_error_after_retries(
    mode: str, router: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    made = make_client(mode, max_retries=1)
    install_sleep(made, sleeps)
    router.get(path_of("costs")).respond(429, json=OPENAI_ERROR, headers={"retry-after": "1"})
    try:
        with pytest.raises(RateLimitError) as caught:
            await resolve(made.costs(START))
    finally:
        await close(made)
    assert caught.value.retry_after == pytest.approx(1.0)


async def test_cursor_cycles_are_pagination_errors(
    client: Client, router: respx.MockRouter
) -> None:
    page = {"object": "page", "data": [], "has_more": True, "next_page": "page_same"}
    router.get(path_of("embeddings")).respond(json=page)
    with pytest.raises(PaginationError, match="cursor"):
        await resolve(client.usage.embeddings(START))

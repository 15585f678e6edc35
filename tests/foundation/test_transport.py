"""The transport: statuses to errors, retries that honour hints, bounded attempts and time."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

import usagekit
from tests.conftest import SleepRecorder, install_sleep, resolve
from usagekit import RetryPolicy

from ._fake import BASE_URL, make_client

OK = httpx.Response(200, json={"id": 1})


def _router() -> respx.MockRouter:
    return respx.mock(base_url=BASE_URL, assert_all_called=False)


@pytest.mark.parametrize(
    ("status", "error", "body"),
    [
        (400, usagekit.BadRequestError, {"error": {"message": "bad limit", "type": "invalid"}}),
        (422, usagekit.BadRequestError, {"detail": [{"msg": "field required"}]}),
        (401, usagekit.AuthenticationError, {"detail": "API key is required."}),
        (403, usagekit.PermissionDeniedError, {"message": "Forbidden", "statusCode": 403}),
        (404, usagekit.NotFoundError, {"error": {"title": "NotFound", "detail": "no org"}}),
        (409, usagekit.APIError, {"message": ["a", "b"]}),
        (429, usagekit.RateLimitError, {"error": {"title": "RateLimitExceeded", "detail": "slow"}}),
        (500, usagekit.ServerError, "Internal Server Error"),
        (502, usagekit.ServerError, None),
        (503, usagekit.ServerError, {"error": "down"}),
    ],
)
async def test_every_status_maps_to_its_error(
    mode: str, status: int, error: type[usagekit.APIError], body: Any
) -> None:
    client = make_client(mode, max_retries=0)
    kwargs: dict[str, Any] = {"headers": {"x-request-id": "req_42"}}
    if isinstance(body, str):
        kwargs["text"] = body
    elif body is not None:
        kwargs["json"] = body
    with _router() as router:
        router.get("/thing").mock(return_value=httpx.Response(status, **kwargs))
        with pytest.raises(error) as caught:
            await resolve(client.get())
    exc = caught.value
    assert type(exc) is error
    assert (exc.status_code, exc.provider, exc.request_id) == (status, "fake", "req_42")
    assert f"GET /v1/thing -> {status} (request id req_42)" in str(exc)
    assert exc.body == body
    expected_message = {
        400: "bad limit",
        422: "field required",
        401: "API key is required.",
        403: "Forbidden",
        404: "no org",
        409: "a; b",
        429: "slow",
        500: "Internal Server Error",
        503: "down",
    }.get(status)
    if expected_message:
        assert exc.message == expected_message
    if status == 403:
        assert "These endpoints need an admin key" in str(exc)


async def test_query_string_never_appears_in_error_text(mode: str) -> None:
    client = make_client(mode, max_retries=0)
    with _router() as router:
        router.get("/things").mock(
            return_value=httpx.Response(400, json={"error": {"message": "no"}})
        )
        with pytest.raises(usagekit.BadRequestError) as caught:
            await resolve(client.list(user_ids=["secret-user"]))
    assert "secret-user" not in str(caught.value) and "/v1/things" in str(caught.value)


async def test_retry_sequence_honours_each_hint_exactly(mode: str, sleeps: SleepRecorder) -> None:
    client = make_client(mode, max_retries=4)
    install_sleep(client, sleeps)
    responses = [
        httpx.Response(429, headers={"retry-after-ms": "250", "retry-after": "1"}),
        httpx.Response(503, headers={"retry-after": "2"}),
        httpx.Response(429, json={"error": {"title": "RateLimitExceeded", "retryAfterMs": 1200}}),
        OK,
    ]
    with _router() as router:
        route = router.get("/thing").mock(side_effect=responses)
        item = await resolve(client.get())
    assert item.id == 1
    assert route.call_count == 4
    assert sleeps.calls == [0.25, 2.0, 1.2]


async def test_429_storm_is_bounded_and_raises_rate_limit_error(
    mode: str, sleeps: SleepRecorder
) -> None:
    client = make_client(mode, max_retries=3)
    install_sleep(client, sleeps)
    with _router() as router:
        route = router.get("/thing").mock(
            return_value=httpx.Response(429, headers={"retry-after": "0.5"})
        )
        with pytest.raises(usagekit.RateLimitError) as caught:
            await resolve(client.get())
    assert route.call_count == 4
    assert sleeps.calls == [0.5, 0.5, 0.5]
    assert caught.value.retry_after == 0.5


async def test_hint_above_the_cap_is_raised_not_slept(mode: str, sleeps: SleepRecorder) -> None:
    client = make_client(mode, retry=RetryPolicy(max_retries=5, max_retry_after=60))
    install_sleep(client, sleeps)
    with _router() as router:
        route = router.get("/thing").mock(
            return_value=httpx.Response(429, headers={"retry-after": "600"})
        )
        with pytest.raises(usagekit.RateLimitError) as caught:
            await resolve(client.get())
    assert route.call_count == 1 and sleeps.calls == []
    assert caught.value.retry_after == 600.0
    assert "retry after 600.000s" in str(caught.value)


async def test_malformed_hints_fall_back_to_backoff(mode: str, sleeps: SleepRecorder) -> None:
    policy = RetryPolicy(max_retries=4, initial_backoff=0.5, max_backoff=8, jitter=0.25)
    client = make_client(mode, retry=policy)
    install_sleep(client, sleeps)
    bad_hints = [
        httpx.Response(429, headers={"retry-after": "nan"}),
        httpx.Response(429, headers={"retry-after": "-5"}),
        httpx.Response(429, headers={"retry-after-ms": "1e309"}),
        httpx.Response(429, json={"error": {"retryAfterMs": "soon"}}),
        OK,
    ]
    with _router() as router:
        router.get("/thing").mock(side_effect=bad_hints)
        await resolve(client.get())
    assert len(sleeps.calls) == 4
    for attempt, waited in enumerate(sleeps.calls, start=1):
        ceiling = 0.5 * 2 ** (attempt - 1)
        assert ceiling * 0.75 <= waited <= ceiling


async def test_total_wait_is_bounded(mode: str, sleeps: SleepRecorder) -> None:
    client = make_client(mode, retry=RetryPolicy(max_retries=50, max_total=1.0))
    install_sleep(client, sleeps)
    with _router() as router:
        route = router.get("/thing").mock(
            return_value=httpx.Response(503, headers={"retry-after-ms": "400"})
        )
        with pytest.raises(usagekit.ServerError):
            await resolve(client.get())
    assert sleeps.calls == [0.4, 0.4]  # a third wait would cross 1.0 s
    assert route.call_count == 3


@pytest.mark.parametrize(("status", "header", "calls"), [(503, "false", 1), (409, "true", 2)])
async def test_x_should_retry_overrides_the_status(
    mode: str, sleeps: SleepRecorder, status: int, header: str, calls: int
) -> None:
    client = make_client(mode, max_retries=1)
    install_sleep(client, sleeps)
    with _router() as router:
        route = router.get("/thing").mock(
            return_value=httpx.Response(status, headers={"x-should-retry": header})
        )
        with pytest.raises(usagekit.APIError):
            await resolve(client.get())
    assert route.call_count == calls


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ConnectError("refused"), usagekit.APIConnectionError),
        (httpx.RemoteProtocolError("peer closed connection"), usagekit.APIConnectionError),
        (httpx.ReadTimeout("timed out"), usagekit.APITimeoutError),
    ],
)
async def test_connection_failures_are_retried_then_raised(
    mode: str, sleeps: SleepRecorder, failure: Exception, error: type[Exception]
) -> None:
    client = make_client(mode, max_retries=2)
    install_sleep(client, sleeps)
    with _router() as router:
        route = router.get("/thing").mock(side_effect=[failure, OK])
        assert (await resolve(client.get())).id == 1
        assert route.call_count == 2
        route.mock(side_effect=failure)
        with pytest.raises(error) as caught:
            await resolve(client.get())
    assert route.call_count == 5
    assert "fake GET /v1/thing" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "field", "text"),
    [
        (b"<html>oops</html>", None, "not valid JSON"),
        (b"", None, "empty"),
        (b'{"id": "one"}', "id", "documented shape"),
        (b'{"nope": 1}', "id", "documented shape"),
        (b"[" * 100000, None, "not valid JSON"),
    ],
)
async def test_malformed_bodies_are_response_validation_errors(
    mode: str, content: bytes, field: str | None, text: str
) -> None:
    client = make_client(mode)
    with _router() as router:
        router.get("/thing").mock(
            return_value=httpx.Response(200, content=content, headers={"x-request-id": "req_9"})
        )
        with pytest.raises(usagekit.ResponseValidationError) as caught:
            await resolve(client.get())
    exc = caught.value
    assert (exc.provider, exc.endpoint, exc.field, exc.request_id) == (
        "fake",
        "thing",
        field,
        "req_9",
    )
    assert text in str(exc)


async def test_unknown_fields_are_kept(mode: str) -> None:
    client = make_client(mode)
    with _router() as router:
        router.get("/thing").mock(return_value=httpx.Response(200, json={"id": 3, "new": [1]}))
        item = await resolve(client.get())
    assert item.id == 3 and item.model_extra == {"new": [1]}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Go to settings.", "Go to settings. Use an admin key"),
        ("Forbidden", "Forbidden. Use an admin key"),
        ("", "-> 403. Use an admin key"),
    ],
)
def test_hint_is_appended_as_one_sentence(message: str, expected: str) -> None:
    error = usagekit.PermissionDeniedError(
        message, status_code=403, provider="p", hint="Use an admin key"
    )
    assert str(error).endswith(expected)


@pytest.mark.parametrize("adaptive", [False, True])
async def test_the_adaptive_rate_limiter_is_opt_in(
    mode: str, sleeps: SleepRecorder, adaptive: bool
) -> None:
    client = make_client(mode, max_retries=2).with_options(adaptive_rate_limit=adaptive)
    install_sleep(client, sleeps)
    responses = [OK, httpx.Response(429, headers={"retry-after-ms": "500"}), OK, OK]
    with _router() as router:
        router.get("/thing").mock(side_effect=responses)
        await resolve(client.get())
        await resolve(client.get())  # 429, waits the hint, then OK
        await resolve(client.get())
    assert sleeps.calls[0] == 0.5  # the retry honours the hint either way
    if adaptive:
        assert len(sleeps.calls) > 1  # and the opted-in client paces the next request
    else:
        assert sleeps.calls == [0.5]

"""Decoding a body: the same values and the same errors as ``json.loads`` + validation, cheaper.

The transport parses with one prebuilt decoder (``parse_float=Decimal``) and reads the depth of a
UTF-8 body from its bytes (no walk of the parsed value). These tests hold it to the reference
(``json.loads(body, parse_float=Decimal)`` and a recursive depth), to the exact errors hostile
bodies got before, and check that a client usagekit created skips the cookie work its refusing
jar makes pointless, while a caller's client keeps its own.
"""

from __future__ import annotations

import http.cookiejar
import json
import sys
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import resolve
from usagekit import ResponseValidationError
from usagekit._core import _http, logs
from usagekit._core._http import _may_hold_surrogate
from usagekit._core.bounded import MAX_JSON_DEPTH, JSONRejected, parse_json
from usagekit._core.transport import decode_body
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

from ._fake import BASE_URL, make_client

COMPLETIONS = ENDPOINTS_BY_NAME["completions"].page_type
COSTS = ENDPOINTS_BY_NAME["costs"].page_type
DEEP = "the body is not valid JSON (nested deeper than 64 levels)"
RESULT = "data.0.results.0"
LONE = (
    "the body does not have the documented shape: a text holds a lone UTF-16 surrogate (an "
    "escape such as \\ud800 that is not half of a pair)"
)


def _page(extra: str = "", count: str = "5", amount: str | None = None) -> bytes:
    """A one-result page with raw JSON text in it (``count``, ``amount``, ``extra`` fields)."""
    if amount is None:
        result = (
            '{"object": "organization.usage.completions.result", "input_tokens": '
            + count
            + ', "output_tokens": 1, "num_model_requests": 1'
            + extra
            + "}"
        )
    else:
        result = (
            '{"object": "organization.costs.result", "amount": {"value": '
            + amount
            + ', "currency": "usd"}'
            + extra
            + "}"
        )
    return (
        '{"object": "page", "data": [{"object": "bucket", "start_time": 1730419200, '
        '"end_time": 1730422800, "results": [' + result + ']}], "has_more": false, '
        '"next_page": null}'
    ).encode()


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# (body, page type, the error's text after "openai usage.completions", its field), as every
# one of these bodies was refused before the decoder changed.
HOSTILE: dict[str, tuple[bytes, Any, str, str | None]] = {
    "deep object": (_nested(65).encode(), COMPLETIONS, DEEP, None),
    "deep list": (b"[" * 65 + b"]" * 65, COMPLETIONS, DEEP, None),
    "very deep": (_nested(100_000).encode(), COMPLETIONS, DEEP, None),
    "deep in an unknown field": (_page(', "x": ' + _nested(61)), COMPLETIONS, DEEP, None),
    "deep behind escaped quotes": (
        _page(', "x": "\\"' + "[" * 100 + '\\\\", "y": ' + _nested(61)),
        COMPLETIONS,
        DEEP,
        None,
    ),
    "deep in UTF-16": (_nested(70).encode("utf-16-le"), COMPLETIONS, DEEP, None),
    "a count past 10**1000": (
        _page(count="1" + "0" * 1000),
        COMPLETIONS,
        "the body does not have the documented shape: Value error, more than 1000 digits "
        "(value_error)",
        "data.0.results.0.input_tokens",
    ),
    "an integer past 4300 digits": (
        _page(count="1" * 5000),
        COMPLETIONS,
        "the body is not valid JSON (ValueError)",
        None,
    ),
    "an unknown integer past 4300 digits": (
        _page(', "x": ' + "9" * 5000),
        COMPLETIONS,
        "the body is not valid JSON (ValueError)",
        None,
    ),
    "a count of 1e5000": (
        _page(count="1e5000"),
        COMPLETIONS,
        "the body does not have the documented shape: Value error, more than 1000 digits "
        "(value_error)",
        f"{RESULT}.input_tokens",
    ),
    "a count of 1e-100000000 (refused before its fraction is worked out)": (
        _page(count="1e-100000000"),
        COMPLETIONS,
        "the body does not have the documented shape: Value error, the exponent is beyond "
        "+/-1000 (value_error)",
        f"{RESULT}.input_tokens",
    ),
    "a count of 1e100000000 (refused before it is built as an int)": (
        _page(count="1e100000000"),
        COMPLETIONS,
        "the body does not have the documented shape: Value error, more than 1000 digits "
        "(value_error)",
        f"{RESULT}.input_tokens",
    ),
    "a NaN count": (
        _page(count="NaN"),
        COMPLETIONS,
        "the body does not have the documented shape: Input should be a finite number "
        "(finite_number)",
        f"{RESULT}.input_tokens",
    ),
    "an infinite amount": (
        _page(amount="-Infinity"),
        COSTS,
        "the body does not have the documented shape: Input should be a finite number "
        "(finite_number)",
        f"{RESULT}.amount.value",
    ),
    "an amount of 1e5000": (
        _page(amount="1e5000"),
        COSTS,
        "the body does not have the documented shape: Value error, the exponent is beyond "
        "+/-1000 (value_error)",
        f"{RESULT}.amount.value",
    ),
    "invalid UTF-8": (
        _page()[:-1] + b', "x": "\xff\xfe"}',
        COMPLETIONS,
        "the body is not valid JSON (UnicodeDecodeError)",
        None,
    ),
    "a raw control character": (
        _page(', "x": "a\tb"'),
        COMPLETIONS,
        "the body is not valid JSON (JSONDecodeError)",
        None,
    ),
    "trailing garbage": (
        _page() + b" x",
        COMPLETIONS,
        "the body is not valid JSON (JSONDecodeError)",
        None,
    ),
    "empty": (b" \n ", COMPLETIONS, "the body is empty", None),
    "a lone surrogate in a model name": (
        _page(', "model": "gpt-\\ud800"'),
        COMPLETIONS,
        LONE,
        f"{RESULT}.model",
    ),
    "a lone low surrogate in a project id": (
        _page(', "project_id": "proj_\\uDC00x"'),
        COMPLETIONS,
        LONE,
        f"{RESULT}.project_id",
    ),
    "a pair's first half alone before a second pair": (
        _page(', "user_id": "\\ud83d\\ud83d\\ude00"'),
        COMPLETIONS,
        LONE,
        f"{RESULT}.user_id",
    ),
    "a surrogate's raw UTF-8 bytes in a currency": (
        _page(amount="1", extra="").replace(b'"usd"', b'"\xed\xa0\x80"'),
        COSTS,
        LONE,
        f"{RESULT}.amount.currency",
    ),
    "two lone surrogates: the first in the document is named": (
        _page(', "project_id": "\\udc00"')[:-1] + b', "next_page": "\\ud800"}',
        COMPLETIONS,
        LONE,
        f"{RESULT}.project_id",
    ),
    "a lone surrogate in UTF-16": (
        _page(', "api_key_id": "key_\\ud800"').decode().encode("utf-16"),
        COMPLETIONS,
        LONE,
        f"{RESULT}.api_key_id",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_body_gets_the_same_clear_error(name: str) -> None:
    body, type_, message, field = HOSTILE[name]
    with pytest.raises(ResponseValidationError) as caught:
        decode_body(body, type_, provider="openai", endpoint="usage.completions", request_id="r1")
    error = caught.value
    where = f", field {field!r}" if field else ""
    assert str(error) == f"openai usage.completions{where} (request id r1): {message}"
    assert (error.field, error.request_id, error.endpoint) == (field, "r1", "usage.completions")


@pytest.mark.parametrize(
    ("body", "type_", "path", "value"),
    [
        (_page(amount="0.1"), COSTS, "amount", Decimal("0.1")),
        (_page(amount="1e400"), COSTS, "amount", Decimal("1E+400")),
        (_page(amount="0." + "1" * 60), COSTS, "amount", Decimal("0." + "1" * 60)),
        (_page(count="5.0"), COMPLETIONS, "input_tokens", 5),
        (_page(count="1e400"), COMPLETIONS, "input_tokens", 10**400),
        (_page(', "x": "' + "[" * 100 + '"'), COMPLETIONS, "x", "[" * 100),  # not nesting
        (_page(', "x": ' + _nested(59)), COMPLETIONS, "x", json.loads(_nested(59))),
        (_page(', "x": NaN'), COMPLETIONS, "x", None),
        (_page(', "x": "\\ud800"'), COMPLETIONS, "x", "\ud800"),  # an unknown field: kept
        (_page(', "model": "\\ud83d\\ude00"'), COMPLETIONS, "model", "\U0001f600"),  # a pair
        (_page(', "model": "\\\\ud800"'), COMPLETIONS, "model", "\\ud800"),  # not an escape
        (_page(', "model": "한국어"'), COMPLETIONS, "model", "한국어"),  # \xed, not a surrogate
    ],
)
def test_an_unusual_body_keeps_its_values(body: bytes, type_: Any, path: str, value: Any) -> None:
    for text in (body, b"\xef\xbb\xbf" + body, body.decode("utf-8", "surrogatepass")):
        page = decode_body(text, type_, provider="openai", endpoint="costs")
        result = page.data[0].results[0]
        kept = result.amount.value if path == "amount" else getattr(result, path)
        if value is None:  # NaN: kept as the float it was parsed as
            assert kept != kept
            continue
        assert kept == value and type(kept) is type(value)
        if isinstance(value, Decimal):
            assert kept.as_tuple() == value.as_tuple()


# -- against the reference ------------------------------------------------------------------

_TRICKY = st.sampled_from(
    ["", "[", "]]", "{", '"', "\\", '\\"[', "a[b", "é{", "\u2028", "\\u005b", "x" * 30]
)
_ATOMS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=6),
    _TRICKY,
    st.text(max_size=8),
)
_VALUES = st.recursive(
    _ATOMS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(_TRICKY, st.text(max_size=4)), inner, max_size=3),
    ),
    max_leaves=40,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def _wrap(value: Any, levels: int) -> Any:
    for index in range(levels):
        value = [value] if index % 2 else {"k[": value, "s": '"{'}
    return value


@settings(max_examples=300, deadline=None)
@given(
    value=_VALUES,
    levels=st.integers(0, 70),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32", "utf-8-sig"]),
    ascii_only=st.booleans(),
    indent=st.sampled_from([None, 1]),
)
def test_parse_json_is_json_loads_with_the_depth_limit(
    value: Any, levels: int, encoding: str, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(_wrap(value, levels), ensure_ascii=ascii_only, indent=indent, default=float)
    body = text.encode(encoding)
    expected = json.loads(body, parse_float=Decimal)
    if _depth(expected) > MAX_JSON_DEPTH:
        with pytest.raises(JSONRejected, match="nested deeper than 64 levels"):
            parse_json(body)
        return
    parsed = parse_json(body)
    assert parsed == expected
    assert json.dumps(parsed, default=repr) == json.dumps(expected, default=repr)  # same types


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1])
@pytest.mark.parametrize("decoy", ["", '"[[[["', '"\\"{{{"', '"\\\\"'])
def test_the_depth_limit_is_exact_whatever_the_strings_hold(depth: int, decoy: str) -> None:
    inner = "[" * (depth - 1) + (decoy or "1") + "]" * (depth - 1)
    body = f'{{"s": "]]]]}}}}", "v": {inner}, "t": {decoy or 0}}}'.encode()
    assert _depth(json.loads(body)) == depth
    if depth > MAX_JSON_DEPTH:
        with pytest.raises(JSONRejected):
            parse_json(body)
    else:
        assert parse_json(body) == json.loads(body, parse_float=Decimal)


# -- cookies --------------------------------------------------------------------------------


@pytest.mark.parametrize("supplied", [False, True])
async def test_only_a_callers_client_offers_responses_to_its_jar(
    mode: str, supplied: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered: list[str] = []
    real = http.cookiejar.CookieJar.extract_cookies

    def spy(jar: http.cookiejar.CookieJar, response: Any, request: Any) -> None:
        offered.append(request.get_full_url())
        real(jar, response, request)

    monkeypatch.setattr(http.cookiejar.CookieJar, "extract_cookies", spy)
    http_client: Any = None
    if supplied:
        http_client = httpx.Client() if mode == "sync" else httpx.AsyncClient()
    client = make_client(mode, max_retries=0, http_client=http_client)
    reply = httpx.Response(200, json={"id": 1}, headers={"set-cookie": "sid=abcdef; Path=/"})
    with respx.mock(base_url=BASE_URL) as router:
        router.get("/thing").mock(return_value=reply)
        assert (await resolve(client.get())).id == 1
    if supplied:
        assert offered == [f"{BASE_URL}/thing"]  # the caller's jar works as the caller set it
        assert [c.name for c in http_client.cookies.jar] == ["sid"]
        await resolve(http_client.aclose() if mode == "async" else http_client.close())
    else:
        assert offered == []
        assert len(client._transport.http_client.cookies.jar) == 0


def test_a_text_too_short_for_a_secret_is_never_redacted() -> None:
    # The transport skips redacting a reason phrase shorter than MIN_SECRET_LENGTH ("OK"):
    # no registered form is shorter, no run is, and no credential header match is.
    assert logs.PARTIAL_MATCH_LENGTH >= logs.MIN_SECRET_LENGTH
    assert min(len(name) for name in logs.SENSITIVE_HEADERS) + 2 >= logs.MIN_SECRET_LENGTH
    assert logs.redact("cookie=x") != "cookie=x"  # the shortest a header match can be


def test_only_a_body_that_may_hold_a_surrogate_is_walked() -> None:
    assert not _may_hold_surrogate(_page(', "model": "한국어 \\u00e9"'))  # \xed 0x95, an escape
    assert _may_hold_surrogate(_page(', "model": "\\ud800"'))
    assert _may_hold_surrogate(_page().replace(b'"object": "page"', b'"object": "\xed\xa0\x80"'))
    assert _may_hold_surrogate(_page().decode().encode("utf-16"))


# -- straight from the bytes (register_plain_json) -------------------------------------------

_EXTRA = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**25), 10**25),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
_COUNT_TEXT = st.one_of(
    st.integers(0, 10**30).map(str),
    st.sampled_from(
        ["5.0", "1e3", "1E400", "-1", "0.5", "9007199254740993.0", "12345678901234567890.0", "true"]
    ),
)
_NAME = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["\\ud800", "\\ud83d\\ude00"]))


@settings(max_examples=300, deadline=None)
@given(
    count=_COUNT_TEXT,
    model=_NAME,
    extras=st.lists(st.tuples(st.sampled_from(["page", "bucket", "result"]), _EXTRA), max_size=3),
    start=st.sampled_from(["1730419200", "1730419200.5", "1.7304192e9"]),
)
def test_a_plain_page_from_its_bytes_is_the_exact_decode(
    count: str, model: str | None, extras: list[tuple[str, Any]], start: str
) -> None:
    """Whether it takes the bytes' way or the exact one, ``decode`` gives what parsing with
    exact numbers and validating gives: the same value (same types, extras included) or the
    same error."""
    where = {"page": "", "bucket": "", "result": ""}
    for number, (level, value) in enumerate(extras):
        where[level] += f', "x{number}": {json.dumps(value)}'
    name = "null" if model is None else ('"' + model.replace('"', "") + '"')
    result = (
        '{"object": "organization.usage.completions.result", "input_tokens": '
        + count
        + ', "output_tokens": 1, "num_model_requests": 1, "model": '
        + name
        + where["result"]
        + "}"
    )
    body = (
        '{"object": "page", "data": [{"object": "bucket", "start_time": '
        + start
        + ', "end_time": 1730422800, "results": ['
        + result
        + "]"
        + where["bucket"]
        + '}], "has_more": false, "next_page": null'
        + where["page"]
        + "}"
    ).encode()
    refused: str | None = None
    try:
        exact = _exact_decode(body)
    except ResponseValidationError as error:
        refused = str(error)
    if refused is not None:
        with pytest.raises(ResponseValidationError) as caught:
            decode_body(body, COMPLETIONS, provider="openai", endpoint="completions")
        assert str(caught.value) == refused
        return
    value = decode_body(body, COMPLETIONS, provider="openai", endpoint="completions")
    assert value == exact
    assert repr(value) == repr(exact)  # the same types: a Decimal stays a Decimal


def _exact_decode(body: bytes) -> Any:
    """``decode_body`` as it is for a type not registered: parsed with exact numbers."""
    saved = _http._PLAIN.pop(COMPLETIONS)
    try:
        return decode_body(body, COMPLETIONS, provider="openai", endpoint="completions")
    finally:
        _http._PLAIN[COMPLETIONS] = saved


def test_a_lower_int_digit_limit_keeps_the_exact_way() -> None:
    """pydantic-core reads integers of up to 4,300 digits whatever Python's limit; a process
    that lowers it (``PYTHONINTMAXSTRDIGITS``) gets the exact way's refusal, not an int it can
    not print."""
    body = _page(', "x": ' + "1" * 700)
    assert decode_body(body, COMPLETIONS, provider="openai", endpoint="completions")
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        with pytest.raises(ResponseValidationError, match="not valid JSON"):
            decode_body(body, COMPLETIONS, provider="openai", endpoint="completions")
    finally:
        sys.set_int_max_str_digits(limit)

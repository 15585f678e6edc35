"""A usage bucket's results become records the same way whether they are added a group at a
time or in bulk (every count sent): checked against ids and quantities worked out here from
the JSON alone, for buckets that mix complete results, missing counts, no counts at all and a
count beyond int64, read both plainly and through the wire models."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from usagekit._core.records import DIMENSIONS, record_id
from usagekit._core.wire import _from_unix
from usagekit._providers.openai._normalize import page_table
from usagekit._providers.openai._plain import plain_page
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

T0 = 1730419200


def _result(name: str, project: str, **fields: Any) -> dict[str, Any]:
    return {"object": f"organization.usage.{name}.result", "project_id": project, **fields}


def _page(name: str, *buckets: list[dict[str, Any]]) -> dict[str, Any]:
    data = [
        {"object": "bucket", "start_time": T0 + 3600 * i, "end_time": T0 + 3600 * (i + 1)}
        | {"results": results}
        for i, results in enumerate(buckets)
    ]
    return {"object": "page", "data": data, "has_more": False, "next_page": None}


def _full(tokens: int, **more: Any) -> dict[str, Any]:
    """Every count of a completions result, sent."""
    metrics = ENDPOINTS_BY_NAME["completions"].metrics
    return {metric.field: tokens + offset for offset, metric in enumerate(metrics)} | more


CASES: dict[str, dict[str, Any]] = {
    "complete results": _page(
        "completions",
        [_result("completions", p, **_full(10 * n)) for n, p in enumerate("abc")],
    ),
    "results missing counts between complete ones": _page(
        "completions",
        [
            _result("completions", "a", **_full(1)),
            _result("completions", "b", input_tokens=5, output_tokens=0, num_model_requests=2),
            _result("completions", "c", **_full(3)),
            _result("completions", "d", **_full(4)),
            _result("completions", "e", **_full(5, input_audio_tokens=None)),
            _result("completions", "f", **_full(6)),
        ],
        [_result("completions", "a", input_tokens=1, output_tokens=1, num_model_requests=1)],
    ),
    "a count beyond int64 in a complete result": _page(
        "completions",
        [
            _result("completions", "a", **_full(1)),
            _result("completions", "b", **_full(2**63 + 5)),
            _result("completions", "c", **_full(3)),
        ],
        [_result("completions", "a", **_full(7))],
    ),
    "attributes and dimensions": _page(
        "completions",
        [
            _result("completions", "a", **_full(1), batch=True, service_tier="flex", model="m"),
            _result("completions", "a", **_full(2), batch=False, user_id="u", api_key_id="k"),
        ],
    ),
    "one metric an endpoint": _page(
        "code_interpreter_sessions",
        [_result("code_interpreter_sessions", p, num_sessions=n) for n, p in enumerate("abcd")],
        [],
        [_result("code_interpreter_sessions", "a", num_sessions=2**64)],
    ),
}


def _expected(name: str, body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The records of ``body`` worked out from the JSON: each result's metrics sent, in order."""
    endpoint = ENDPOINTS_BY_NAME[name]
    out = []
    for bucket in body["data"]:
        start, end = _from_unix(bucket["start_time"]), _from_unix(bucket["end_time"])
        for result in bucket["results"]:
            attributes = {
                field: ("true" if value else "false") if isinstance(value, bool) else str(value)
                for field in endpoint.attributes
                if (value := result.get(field)) is not None
            }
            dimensions = tuple(
                result.get(field)
                if field in ("project_id", "user_id", "api_key_id", "model")
                else None
                for field in DIMENSIONS
            )
            for metric in endpoint.metrics:
                value = result.get(metric.field)
                if value is None:
                    continue
                unit, kind = metric.unit, metric.kind
                identifier = record_id(
                    "openai", name, start, end, metric.field, unit, kind, dimensions, attributes
                )
                out.append(
                    (
                        identifier,
                        metric.field,
                        Decimal(value),
                        unit,
                        kind,
                        start,
                        end,
                        *dimensions,
                        attributes,
                    )
                )
    return out


def _got(table: Any) -> list[tuple[Any, ...]]:
    return [
        (
            r.id,
            r.metric,
            r.quantity,
            r.unit,
            r.kind,
            r.start,
            r.end,
            *(getattr(r, field) for field in DIMENSIONS),
            r.attributes,
        )
        for r in table
    ]


NOT_PLAIN = {"one metric an endpoint"}
"""Cases with a count beyond 64 bits, which orjson does not read: the exact way only (2**63 + 5
is read plainly, and is kept as a Decimal either way)."""


@pytest.mark.parametrize("case", list(CASES))
def test_a_bucket_gives_the_records_its_json_says(case: str) -> None:
    body = CASES[case]
    name = body["data"][0]["results"][0]["object"].split(".")[2]
    endpoint = ENDPOINTS_BY_NAME[name]
    expected = _expected(name, body)
    assert expected  # every case has records
    model_page = endpoint.page_type.model_validate(body)
    assert _got(page_table(endpoint, model_page)) == expected
    plain = plain_page(endpoint, json.dumps(body).encode())
    if case in NOT_PLAIN:
        assert plain is None
    else:
        assert plain is not None
        assert _got(page_table(endpoint, plain)) == expected

"""Costs pages read without wire models (``_plain.plain_page`` of the costs endpoint) are the
exact path's pages.

A costs page is parsed as the exact path parses it (numbers with a fraction as exact
``Decimal``), then every field ``OpenAICostsResult`` and ``OpenAICostAmount`` declare is checked
by hand; anything else goes the exact way. The promise is the usage pages' one: a page read
plainly gives the very records (to the last digit of every amount), cursor and ``has_more`` of
the exact path, or the very error normalization raises; a body the exact path refuses is never
read plainly. Fixed cases pin that pages as OpenAI sends them are read plainly; the property
mutates them (amounts, currencies, quantities, texts, tags, numbers beyond the exact bounds).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.openai._support import load
from usagekit import ResponseValidationError
from usagekit._core._http import Undecoded, decode
from usagekit._core.records import FLOW
from usagekit._core.table import RecordTable
from usagekit._lineitems import charge_attributes, parse_line_item
from usagekit._providers.openai import _plain
from usagekit._providers.openai._models import OpenAICostAmount, OpenAICostsResult
from usagekit._providers.openai._normalize import page_table
from usagekit._providers.openai._plain import PlainPage, plain_page
from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

COSTS = ENDPOINTS_BY_NAME["costs"]


def _outcome(page: Any) -> Any:
    """The records of a page, each with its quantity's exact digits; or the error's message."""
    try:
        records = list(page_table(COSTS, page))
    except ResponseValidationError as exc:
        return ("error", str(exc), exc.field)
    return [
        (r.id, str(r.quantity), r.unit, r.line_item, r.project_id, r.attributes) for r in records
    ]


def _same(body: bytes) -> PlainPage | None:
    """Read ``body`` plainly; when it is, assert the exact path reads the same page."""
    plain = _plain._costs_page(body)  # unguarded: a reader that raises fails the test
    if plain is None:
        return None
    try:
        exact = decode(body, COSTS.page_type)
    except Undecoded as exc:
        raise AssertionError(f"read plainly, refused exactly: {exc.message}") from None
    assert (plain.has_more, plain.next_page) == (exact.has_more, exact.next_page)
    assert _outcome(plain) == _outcome(exact)
    return plain


def _costs(kind: str = "pages", **changes: Any) -> bytes:
    body = load(kind, "costs")
    body["data"][-1]["results"][-1].update(changes)
    return json.dumps(body).encode()


def _amount(**changes: Any) -> bytes:
    body = load("pages", "costs")
    body["data"][-1]["results"][-1]["amount"].update(changes)
    return json.dumps(body).encode()


def _number(sent: bytes) -> bytes:
    """A costs page whose last amount's value is ``sent``, as the bytes of a JSON number."""
    return _amount(value=987654321).replace(b"987654321", sent)


# ------------------------------------------------------------------ the fixed cases


@pytest.mark.parametrize("kind", ["pages", "published"])
def test_costs_as_openai_sends_them_are_read_plainly_to_the_last_digit(kind: str) -> None:
    page = _same(_costs(kind))
    assert page is not None
    assert plain_page(COSTS, _costs(kind)) is not None  # the walk's reader takes it too
    assert _outcome(page)  # records, not none


def test_plain_pages_compare_by_value_costs_included() -> None:
    assert _costs_page_of(_costs()) == _costs_page_of(_costs())
    assert _costs_page_of(_costs()) != _costs_page_of(_costs(quantity=41))
    assert _costs_page_of(_costs()) != _costs_page_of(_amount(currency="eur"))


def _costs_page_of(body: bytes) -> PlainPage:
    page = _plain._costs_page(body)
    assert page is not None
    return page


def test_cost_ids_are_those_of_the_general_table_path() -> None:
    """Each cost record is what ``RecordTable.add`` makes of its result (the path every
    provider's odd records take, ids from ``_id_prefix``), whatever the page shares."""
    body = load("pages", "costs")
    first = body["data"][1]["results"][0]
    body["data"][0]["results"] += [  # a group of the next bucket too, one of other dimensions
        dict(first, quantity=7),
        dict(first, project_id="proj_b", api_key_id="key_1", quantity_unit=None),
    ]
    exact = decode(json.dumps(body).encode(), COSTS.page_type)
    general = RecordTable()
    for bucket in exact.data:
        for result in bucket.results:
            attributes = {"quantity": str(result.quantity)} if result.quantity is not None else {}
            if result.quantity_unit is not None:
                attributes["quantity_unit"] = result.quantity_unit
            attributes.update(charge_attributes(parse_line_item(result.line_item)))
            general.add(
                (("cost", result.amount.value, result.amount.currency.upper(), FLOW),),
                provider="openai",
                source="costs",
                start=bucket.start_time,
                end=bucket.end_time,
                project_id=result.project_id,
                api_key_id=result.api_key_id,
                line_item=result.line_item,
                attributes=attributes,
            )
    expected = list(general)
    assert len(expected) == 5 and len({r.id for r in expected}) == 5
    for page in (exact, _costs_page_of(json.dumps(body).encode())):
        assert list(page_table(COSTS, page)) == expected


def test_every_field_the_models_declare_is_checked() -> None:
    """A field added to a costs model must be taught to the plain reader too."""
    assert set(OpenAICostsResult.model_fields) == set(_plain.COST_FIELDS["result"])
    assert set(OpenAICostAmount.model_fields) == set(_plain.COST_FIELDS["amount"])


@pytest.mark.parametrize(
    "sent",
    ["1.10", "-0.000000000000000000000000000000123456789012345678901", "0." + "7" * 200, "5"],
)
def test_amounts_keep_every_digit_sent(sent: str) -> None:
    page = _same(_number(sent.encode()))
    assert page is not None
    value = page.data[-1].results[-1].amount.value
    assert type(value) is Decimal and value.as_tuple() == Decimal(sent).as_tuple()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (_amount(value="0.06"), "a text, which pydantic would read as a number"),
        (_amount(value=True), "a boolean"),
        (_amount(value=[1]), "a list"),
        (_amount(currency=5), "a number for a currency"),
        (_number(b"NaN"), "NaN"),
        (_number(b"1e2000"), "beyond the exponent"),
        (_number(b"1" * 1001), "too many digits"),
        (_costs(amount=[]), "an amount that is not an object"),
        (_costs(quantity="3"), "a text quantity"),
        (_costs(quantity=False), "a boolean quantity"),
        (_costs(project_id=5), "a number for a text"),
        (_costs(line_item=["a"]), "a list for a text"),
        (_costs(object="organization.usage.completions.result"), "another endpoint's tag"),
        (_costs(line_item="\ud800"), "a lone surrogate"),
        (b'{"object": "page", "data": [], "has_more": 0}', "has_more not a boolean"),
        (b"[]", "not a page"),
        (b"", "empty"),
    ],
)
def test_anything_unplain_goes_the_exact_way(body: bytes, why: str) -> None:
    assert plain_page(COSTS, body) is None, why


def test_a_result_without_a_tag_goes_the_exact_way() -> None:
    body = load("pages", "costs")
    del body["data"][0]["results"][0]["object"]
    assert plain_page(COSTS, json.dumps(body).encode()) is None


@pytest.mark.parametrize(
    "body",
    [_costs(amount=None), _amount(value=None), _amount(currency=None), _amount(currency="eu")],
)
def test_a_cost_normalization_refuses_is_refused_the_same_way(body: bytes) -> None:
    """Sent plainly but not usable (no amount, no value, no currency code): read plainly, and
    normalization raises the very error it raises for the exact page."""
    page = _same(body)
    assert page is not None
    assert _outcome(page)[0] == "error"


# ------------------------------------------------------------------ the property

_VALUES = st.sampled_from(
    [
        *(None, True, False, 0, 1, -1, 7, 2**63, 10**30, 0.5, 1.5, -0.25, 1e300, 1e-300),
        *("", "x", "usd", "USD", "5", "0.06", "\u00e9", "gpt-4o, input"),
        *([], {}, [1], {"value": 1.5, "currency": "usd"}, {"value": "x"}, {"currency": 3}),
    ]
)
_RESULT_FIELDS = [*_plain.COST_FIELDS["result"], "unknown"]
_AMOUNT_FIELDS = [*_plain.COST_FIELDS["amount"], "unknown"]


@st.composite
def _mutations(draw: st.DrawFn) -> list[tuple[str, str, Any]]:
    step = st.one_of(
        st.tuples(st.just("result"), st.sampled_from(_RESULT_FIELDS), _VALUES),
        st.tuples(st.just("amount"), st.sampled_from(_AMOUNT_FIELDS), _VALUES),
        st.tuples(st.just("drop"), st.sampled_from(_RESULT_FIELDS), st.none()),
    )
    return draw(st.lists(step, max_size=4))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_mutations(), pick=st.integers(0, 10), kind=st.sampled_from(["pages", "published"]))
def test_a_costs_page_read_plainly_is_the_exact_paths_page(
    steps: list[tuple[str, str, Any]], pick: int, kind: str
) -> None:
    body = copy.deepcopy(load(kind, "costs"))
    results = [result for bucket in body["data"] for result in bucket["results"]]
    for where, field, sampled in steps:
        value = copy.deepcopy(sampled)  # the sampled lists and dicts are shared between cases
        result = results[pick % len(results)]
        if where == "result":
            result[field] = value
        elif where == "drop":
            result.pop(field, None)
        elif isinstance(result.get("amount"), dict):
            result["amount"][field] = value
    plain = _same(json.dumps(body).encode())
    if not steps:
        assert plain is not None  # an unchanged page is read plainly

"""Pages read for ``records()`` without wire models, when they are plainly valid.

``records()`` and its columnar twin read every page of a walk once, into a table, and never
hand the page to the caller; most of what a page costs them is pydantic building a model per
result (and the garbage collector walking those models). :func:`plain_page` reads a usage
page's JSON with ``orjson`` into dicts and checks every field its wire model declares, with the
model's own rules, read from the model (so the two can not drift apart):

* a count (:data:`~usagekit._core.wire.Count`): an ``int`` >= 0, never a boolean; required
  unless the model gives it a default of None;
* a text or a flag (``str | None``, ``bool | None``): that type or null;
* the result's ``object`` tag: the model's literal; the bucket's (``"bucket"``) and the page's
  (``"page"``) when sent;
* the bucket's ``start_time`` and ``end_time``: unix seconds as ints, the end after the start
  (read with the model's own :func:`~usagekit._core.wire.UnixDateTime` conversion);
  ``results`` (or the older ``result``) a list; the page's ``data`` a list, ``has_more`` a
  boolean, ``next_page`` a string or null.

Unknown fields are allowed, as the models allow them, and not read (the records never hold
them); the body nests no deeper than :data:`~usagekit._core.bounded.MAX_JSON_DEPTH` levels.

A costs page holds money, so it is parsed as the exact way parses it
(:func:`~usagekit._core.bounded.parse_json`: a number with a fraction as an exact ``Decimal``,
nesting bounded), with the same page and bucket checks; its results are checked field by field
as ``OpenAICostsResult`` and ``OpenAICostAmount`` read them (:data:`COST_FIELDS`: the ``object``
tag; ``amount`` null or an object of ``value``, an int or a finite ``Decimal`` within
:data:`~usagekit._core.wire.EXACT_DIGITS` digits and exponent, or null, and ``currency``, a
text or null; the other texts texts or null; ``quantity`` a number as ``value`` is, or null)
and handed on as :class:`PlainCost` objects. ``orjson`` is not needed for it.

Anything else (a number beyond 64 bits in a usage page, a fraction or a float where a count is
declared, a number sent as a text, a lone surrogate, a text that is not UTF-8, a field of a
kind not listed above, a model with validators of its own, ``orjson`` not installed for a usage
page) makes :func:`plain_page` return None and the page goes the exact way
(:func:`~usagekit._core._http.decode`), which gives the same records or the same
:class:`~usagekit.ResponseValidationError` as before: this path only ever takes pages the
exact one accepts, and reads the same values from them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import chain, repeat
from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo

from ..._core._http import _may_hold_surrogate
from ..._core.bounded import MAX_JSON_DEPTH, JSONRejected, _nests_deeper, parse_json
from ..._core.wire import EXACT_DIGITS, Count, _from_unix
from ._models import OpenAIBucket, OpenAIPage
from ._requests import Endpoint

try:  # an optional accelerator: without it every page goes the exact way
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency where it has wheels
    _orjson = None  # type: ignore[assignment]

__all__ = [
    "COST_FIELDS",
    "AnyBucket",
    "AnyPage",
    "PlainAmount",
    "PlainBucket",
    "PlainCost",
    "PlainPage",
    "Shape",
    "plain_page",
    "shape_of",
]


class PlainBucket:
    """A bucket of a plain page: what normalization reads of an ``OpenAIBucket``.

    Attributes:
        start_time: Bucket start, aware UTC.
        end_time: Bucket end, aware UTC.
        results: The results as parsed (dicts), every declared field checked.
    """

    __slots__ = ("end_time", "results", "start_time")

    def __init__(self, start_time: datetime, end_time: datetime, results: list[Any]) -> None:
        self.start_time = start_time
        self.end_time = end_time
        self.results = results

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PlainBucket):
            return NotImplemented
        return (self.start_time, self.end_time, self.results) == (
            other.start_time,
            other.end_time,
            other.results,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"PlainBucket({self.start_time.isoformat()}, {len(self.results)} results)"


class PlainPage:
    """A plain page: what the walk and normalization read of an ``OpenAIPage``.

    Attributes:
        data: The buckets.
        has_more: Whether another page follows.
        next_page: The cursor of the next page.
    """

    __slots__ = ("data", "has_more", "next_page")

    def __init__(self, data: list[PlainBucket], has_more: bool, next_page: str | None) -> None:
        self.data = data
        self.has_more = has_more
        self.next_page = next_page

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PlainPage):
            return NotImplemented
        mine = (self.data, self.has_more, self.next_page)
        return mine == (other.data, other.has_more, other.next_page)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:  # never the cursor: it may carry what the server put in it
        return f"PlainPage({len(self.data)} buckets, has_more={self.has_more})"


AnyPage = OpenAIPage[Any] | PlainPage
"""A page of the walk: plain (a usage or costs page plainly valid) or the endpoint's model."""

AnyBucket = OpenAIBucket[Any] | PlainBucket
"""A bucket of either kind of page."""


@dataclass(frozen=True)
class Shape:
    """What a result model declares, by kind of field (see :func:`shape_of`).

    Attributes:
        tag: The ``object`` literal.
        required: The counts without a default.
        optional: The counts that default to None.
        texts: The ``str | None`` fields (default None).
        flags: The ``bool | None`` fields (default None).
    """

    tag: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    texts: tuple[str, ...]
    flags: tuple[str, ...]

    @functools.cached_property
    def declared(self) -> frozenset[str]:
        """Every field the model declares."""
        return frozenset(("object", *self.required, *self.optional, *self.texts, *self.flags))


_COUNT_METADATA = FieldInfo.from_annotation(Count).metadata


def _kind(info: FieldInfo) -> str | None:
    """A declared field's kind (``tag``, ``required``, ``optional``, ``text``, ``flag``), or
    None when it is of none of them."""
    annotation = info.annotation
    aliased = info.alias is not None or info.validation_alias is not None
    if aliased or info.default_factory is not None:
        return None
    if get_origin(annotation) is Literal and info.is_required():
        return "tag" if len(get_args(annotation)) == 1 else None
    if annotation is int and info.metadata == _COUNT_METADATA and info.is_required():
        return "required"
    if info.is_required() or info.default is not None or info.metadata:
        return None
    if annotation == Count | None:
        return "optional"
    if annotation == str | None:
        return "text"
    if annotation == bool | None:
        return "flag"
    return None


def shape_of(result_type: type[Any]) -> Shape | None:
    """The :class:`Shape` of a result model, or None when a page of it must go the exact way.

    Args:
        result_type: The wire model of one result.

    Returns:
        Its shape, when every field it declares is a count, a text, a flag or the ``object``
        tag, and it has no validator of its own; else None.
    """
    if result_type not in _SHAPES:
        _SHAPES[result_type] = _shape(result_type)
    return _SHAPES[result_type]


_SHAPES: dict[type[Any], Shape | None] = {}


def _shape(result_type: type[Any]) -> Shape | None:
    """:func:`shape_of`, uncached."""
    fields = getattr(result_type, "model_fields", None)
    decorators = getattr(result_type, "__pydantic_decorators__", None)
    if not fields or decorators is None:
        return None
    if any(
        getattr(decorators, name)
        for name in ("validators", "field_validators", "root_validators", "model_validators")
    ):
        return None
    kinds: dict[str, list[str]] = {"required": [], "optional": [], "text": [], "flag": []}
    tag: str | None = None
    for name, info in fields.items():
        kind = _kind(info)
        if kind is None:
            return None
        if kind == "tag":
            if name != "object" or tag is not None:
                return None
            tag = get_args(info.annotation)[0]
            continue
        kinds[kind].append(name)
    if not isinstance(tag, str):
        return None
    return Shape(
        tag,
        tuple(kinds["required"]),
        tuple(kinds["optional"]),
        tuple(kinds["text"]),
        tuple(kinds["flag"]),
    )


_NONE = type(None)
_COUNT_TYPES = frozenset((int, _NONE))
_TEXT_TYPES = frozenset((str, _NONE))
_FLAG_TYPES = frozenset((bool, _NONE))


def _moment(value: Any) -> datetime | None:
    """Unix seconds sent as an int, as the wire model reads them; None otherwise."""
    if type(value) is not int:
        return None
    try:
        moment: datetime = _from_unix(value)
    except ValueError:
        return None
    return moment


def _column(results: list[Any], names: tuple[str, ...]) -> list[Any]:
    """Every result's value of each of ``names`` (None where left out), name after name."""
    count = len(results)
    return list(
        map(dict.get, results * len(names), chain.from_iterable(repeat(n, count) for n in names))
    )


def _plain_results(results: list[Any], shape: Shape) -> bool:
    """Whether every result (of a whole page) holds its declared fields as the model requires.

    Field by field over all the results at once, so that each check runs in C over a column
    of values rather than in Python a result at a time.
    """
    if not results:
        return True
    if set(map(type, results)) != _DICT:
        return False
    if list(map(dict.get, results, repeat("object"))).count(shape.tag) != len(results):
        return False
    required = _column(results, shape.required)
    counts = required + _column(results, shape.optional)
    if None in required or not set(map(type, counts)) <= _COUNT_TYPES:
        return False
    if min(filter(None, counts), default=0) < 0:  # zeros and nulls are not negative
        return False
    texts = _column(results, shape.texts)
    if not set(map(type, texts)) <= _TEXT_TYPES:
        return False
    return set(map(type, _column(results, shape.flags))) <= _FLAG_TYPES


_DICT = {dict}


def plain_page(endpoint: Endpoint[Any], content: bytes) -> PlainPage | None:
    """A page (usage or costs) read without wire models, or None when it must go the exact way.

    Args:
        endpoint: The endpoint the page came from.
        content: The raw body.

    Returns:
        The page, every declared field checked as its wire model would (see the module); None
        when the body is anything else, or (a usage page) ``orjson`` is not installed: then
        :func:`~usagekit._core._http.decode` decides.
    """
    if type(content) is not bytes:
        return None
    if endpoint.is_costs:
        return _costs_page(content)
    if _orjson is None:
        return None
    shape = shape_of(endpoint.result_type)
    if shape is None:
        return None
    try:
        return _read(content, shape)
    except (TypeError, ValueError, ArithmeticError):  # never expected: the exact way decides
        return None


def _read(content: bytes, shape: Shape) -> PlainPage | None:
    """:func:`plain_page` of a body of results of ``shape`` (``orjson`` installed)."""
    try:
        data = _orjson.loads(content)
    except _orjson.JSONDecodeError:
        return None
    read = _page_of(data)
    if read is None:
        return None
    page, every, unknown = read
    if not _plain_results(every, shape):
        return None
    # Declared fields nest 5 levels (page, data, bucket, results, result): only unknown ones
    # could nest deeper.
    unknown = unknown or not all(map(shape.declared.issuperset, every))
    if unknown and _nests_deeper(content, MAX_JSON_DEPTH):
        return None
    return page


def _costs_page(content: bytes) -> PlainPage | None:
    """:func:`plain_page` of a costs body: parsed as the exact way parses it (a number with a
    fraction as an exact ``Decimal``, nesting bounded), every result checked as
    ``OpenAICostsResult`` would check it (:func:`_cost`)."""
    if _may_hold_surrogate(content):
        return None
    try:
        data = parse_json(content)
    except JSONRejected:
        return None
    read = _page_of(data)
    if read is None:
        return None
    page = read[0]
    for bucket in page.data:
        costs = [_cost(result) for result in bucket.results]
        if None in costs:
            return None
        bucket.results = costs
    return page


class PlainAmount:
    """What normalization reads of an ``OpenAICostAmount``."""

    __slots__ = ("currency", "value")

    def __init__(self, value: Decimal | None, currency: str | None) -> None:
        self.value = value
        self.currency = currency

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PlainAmount):
            return NotImplemented
        return (self.value, self.currency) == (other.value, other.currency)

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the pages

    def __repr__(self) -> str:
        return f"PlainAmount({self.value}, {self.currency!r})"


class PlainCost:
    """What normalization reads of an ``OpenAICostsResult`` (see :data:`COST_FIELDS`)."""

    __slots__ = ("amount", "api_key_id", "line_item", "project_id", "quantity", "quantity_unit")

    def __init__(
        self, result: dict[str, Any], amount: PlainAmount | None, quantity: Decimal | None
    ) -> None:
        self.amount = amount
        self.quantity = quantity
        self.line_item: str | None = result.get("line_item")
        self.project_id: str | None = result.get("project_id")
        self.api_key_id: str | None = result.get("api_key_id")
        self.quantity_unit: str | None = result.get("quantity_unit")

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PlainCost):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the pages

    def __repr__(self) -> str:
        return f"PlainCost({self.line_item!r}, {self.amount!r})"


_COST_RESULT = ("object", "amount", "line_item", "project_id", "api_key_id", "quantity")
COST_FIELDS = {"result": (*_COST_RESULT, "quantity_unit"), "amount": ("value", "currency")}
"""The fields of ``OpenAICostsResult`` and ``OpenAICostAmount`` :func:`_cost` checks (a test
holds them to the models', so that a field the models gain is not missed here)."""
_COST_TAG = "organization.costs.result"
_COST_TEXTS = ("line_item", "project_id", "api_key_id", "quantity_unit")


def _cost(result: Any) -> PlainCost | None:
    """A costs result as its model would read it: the ``object`` tag; ``amount`` null or an
    object of ``value`` (an exact number or null) and ``currency`` (a text or null); the texts
    texts or null; ``quantity`` an exact number or null. None when anything else is sent."""
    if type(result) is not dict or result.get("object") != _COST_TAG:
        return None
    for name in _COST_TEXTS:
        text = result.get(name)
        if text is not None and type(text) is not str:
            return None
    quantity = result.get("quantity")
    if quantity is not None:
        quantity = _exact(quantity)
        if quantity is None:
            return None
    amount = result.get("amount")
    if amount is None:
        return PlainCost(result, None, quantity)
    if type(amount) is not dict:
        return None
    value, currency = amount.get("value"), amount.get("currency")
    if currency is not None and type(currency) is not str:
        return None
    if value is not None:
        value = _exact(value)
        if value is None:
            return None
    return PlainCost(result, PlainAmount(value, currency), quantity)


def _exact(value: Any) -> Decimal | None:
    """A number as ``ExactDecimal`` reads it (an int as its ``Decimal``; a finite ``Decimal``
    within :data:`~usagekit._core.wire.EXACT_DIGITS` digits and exponent); None otherwise."""
    number: Decimal
    if type(value) is int:
        number = Decimal(value)
    elif type(value) is Decimal and value.is_finite():
        number = value
    else:
        return None
    _, digits, exponent = number.as_tuple()
    if len(digits) > EXACT_DIGITS or not isinstance(exponent, int) or abs(exponent) > EXACT_DIGITS:
        return None
    return number


def _page_of(data: Any) -> tuple[PlainPage, list[Any], bool] | None:
    """A parsed body as a page of buckets, every field of the page and its buckets checked
    (not the results); None when it is not plainly one.

    Returns:
        The page, every result of it (in order), and whether the page or a bucket holds an
        unknown field.
    """
    if type(data) is not dict or data.get("object", "page") != "page":
        return None
    buckets, has_more, cursor = data.get("data"), data.get("has_more"), data.get("next_page")
    if type(buckets) is not list or type(has_more) is not bool:
        return None
    if cursor is not None and type(cursor) is not str:
        return None
    page: list[PlainBucket] = []
    every: list[Any] = []  # every result of the page
    unknown = not data.keys() <= _PAGE_FIELDS
    for bucket in buckets:
        if type(bucket) is not dict or bucket.get("object", "bucket") != "bucket":
            return None
        start, end = _moment(bucket.get("start_time")), _moment(bucket.get("end_time"))
        if start is None or end is None or not end > start:
            return None
        results = bucket["results"] if "results" in bucket else bucket.get("result")
        if type(results) is not list:
            return None
        unknown = unknown or not bucket.keys() <= _BUCKET_FIELDS
        every += results
        page.append(PlainBucket(start, end, results))
    return PlainPage(page, has_more, cursor), every, unknown


_PAGE_FIELDS = frozenset(("object", "data", "has_more", "next_page"))
_BUCKET_FIELDS = frozenset(("object", "start_time", "end_time", "results", "result"))

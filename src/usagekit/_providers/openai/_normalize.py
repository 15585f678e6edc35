"""OpenAI buckets to :class:`~usagekit.UsageRecord`: one mapping, driven by the endpoint table.

Rules (the same for all 11 endpoints):

* one record per numeric field of a result that the API sent, ``metric`` being the API's field
  name; fields the API left out (or sent as null) are not invented as zeros;
* ``input_tokens`` already includes the cached and cache-write tokens; ``input_cached_tokens``
  and friends are kept as the separate metrics the API names them, never subtracted, so never
  add them to ``input_tokens``;
* ``usage_bytes`` (vector stores) is a level, every other metric a flow;
* costs become metric ``"cost"`` with the exact ``Decimal`` as sent (negative for a credit
  or a refund) and the upper-case currency as unit; ``quantity`` and ``quantity_unit`` are kept
  in ``attributes``; a cost result without an amount, a value or a currency is a
  :class:`~usagekit.ResponseValidationError` naming the field, never skipped;
* within one stream each record id is emitted once (see
  :class:`~usagekit._core._unique.UniqueRecords`): a bucket the server repeats is dropped when
  it says the same, and refused when it says something else;
* a cost's ``line_item`` is kept as sent; what it says (see :func:`usagekit.parse_line_item`)
  is added as ``charge_kind``, ``charge_model``, ``charge_tier``, ``charge_detail`` and
  ``charge_tool`` attributes when it is understood (derived, so not part of the record id);
* ``project_id``, ``user_id``, ``api_key_id``, ``model`` and ``line_item`` map to the record's
  fields; the other dimensions (``batch``, ``service_tier``, ``source``, ``size``,
  ``vector_store_id``, ``context_level``) go in ``attributes``, as strings, when not null.

Nothing here does I/O; both clients use it as is.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from ..._core._table_merge import add_count_groups
from ..._core._unique import UniqueRecords
from ..._core.errors import ResponseValidationError
from ..._core.records import (
    FLOW,
    UsageRecord,
    _id_hasher,
    _id_head,
    _id_tail,
)
from ..._core.table import RecordTable
from ..._lineitems import charge_attributes, parse_line_item
from ._models import OpenAIBucket, OpenAICostsResult, OpenAIPage
from ._plain import AnyBucket, AnyPage, PlainBucket
from ._requests import Endpoint

__all__ = ["PROVIDER", "UniqueRecords", "bucket_records", "page_records", "page_table"]

_T = TypeVar("_T")

PROVIDER = "openai"


def _attribute(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


_Fields = Callable[[dict[str, Any]], tuple[Any, ...]]


def _fields(names: Sequence[str], declared: Container[str]) -> _Fields:
    """Read ``names`` from a result's ``__dict__`` as a tuple, at C speed when it can.

    A validated model's ``__dict__`` holds every field its class declares (None when not
    sent), so declared fields are read with one ``itemgetter``; a name the class does not
    declare (a dimension another endpoint has) reads as None.

    Args:
        names: The fields to read, in order.
        declared: The fields the result class declares.

    Returns:
        A function from a result's ``__dict__`` to the values of ``names``.
    """
    if names and all(name in declared for name in names):
        if len(names) > 1:
            getter: _Fields = itemgetter(*names)
            return getter
        only = names[0]
        return lambda values: (values[only],)
    return lambda values: tuple(values.get(name) for name in names)


def _plain_fields(names: Sequence[str], declared: Container[str]) -> _Fields:
    """:func:`_fields` for a result of a plain page (a dict, as parsed): a field left out
    reads as None, and so does a name the model does not declare, even if the server sent it
    (a model keeps such a field among its extras, never in its ``__dict__``)."""
    if not all(name in declared for name in names):
        return lambda values: tuple(
            values.get(name) if name in declared else None for name in names
        )
    if len(names) < 2:
        return lambda values: tuple(map(values.get, names))
    getter = itemgetter(*names)

    def read(values: dict[str, Any]) -> tuple[Any, ...]:
        try:  # every field sent (as OpenAI does, nulls included): at C speed
            found: tuple[Any, ...] = getter(values)
        except KeyError:
            return tuple(map(values.get, names))
        return found

    return read


_DIMENSIONS = ("project_id", "user_id", "api_key_id", "model")
_Readers = tuple[_Fields, _Fields, _Fields]
_READERS: dict[tuple[int, type[Any]], tuple[Endpoint[Any], _Readers]] = {}
"""(id(endpoint), result class) -> (the endpoint, kept so that its id stays its own; readers)."""


def _readers(endpoint: Endpoint[Any], result_type: type[Any]) -> _Readers:
    """An endpoint's counts, dimensions and attributes readers for its result class (cached).

    Args:
        endpoint: The endpoint.
        result_type: The class of its results on this page.

    Returns:
        Readers (see :func:`_fields`) of its metrics' fields, of :data:`_DIMENSIONS` and of
        its attributes.
    """
    key = (id(endpoint), result_type)
    cached = _READERS.get(key)
    if cached is not None and cached[0] is endpoint:
        return cached[1]
    if result_type is dict:  # a plain page's (see ._plain): the endpoint's model declares
        declared, reader = endpoint.result_type.model_fields, _plain_fields
    else:
        declared, reader = getattr(result_type, "model_fields", {}), _fields
    readers = (
        reader([metric.field for metric in endpoint.metrics], declared),
        reader(_DIMENSIONS, declared),
        reader(endpoint.attributes, declared),
    )
    _READERS[key] = (endpoint, readers)
    return readers


_Part = tuple[tuple[str | None, ...], dict[str, str], bytes, int]
"""A group's dimensions (interned), attributes (shared), :func:`_id_tail` and the number of its
attributes in the table."""


def _group_part(
    table: RecordTable,
    endpoint: Endpoint[Any],
    dimensions: Sequence[Any],
    attributes: Sequence[Any],
) -> _Part:
    """What the records of a result whose group reads ``dimensions`` and ``attributes`` share
    whatever their bucket (computed once a page for each distinct group).

    Args:
        table: The table the records go to (its interned strings and shared attributes).
        endpoint: The endpoint.
        dimensions: The result's project, user, API key and model, as sent.
        attributes: Its values of the endpoint's attributes, as sent.

    Returns:
        The dimensions (interned), the attributes (shared), their :func:`_id_tail` and the
        attributes' number in the table.
    """
    intern = table.intern
    project_id, user_id, api_key_id, model = dimensions
    number, shared = 0, _NO_ATTRIBUTES
    if endpoint.attributes:
        number = table.attribute_number(
            {
                name: _attribute(value)
                for name, value in zip(endpoint.attributes, attributes, strict=True)
                if value is not None
            }
        )
        shared = table.attribute_sets()[number]  # the table's one dict of this set
    interned = (
        None,
        intern(project_id),
        intern(user_id),
        None,
        intern(api_key_id),
        intern(model),
        None,
    )
    return interned, shared, _id_tail(interned, shared), number


def _usage_rows(
    table: RecordTable,
    endpoint: Endpoint[Any],
    bucket: AnyBucket,
    codes: list[int] | None = None,
    parts: dict[tuple[Any, Any], _Part] | None = None,
) -> None:
    results = bucket.results
    if not results:
        return
    start = bucket.start_time
    end = bucket.end_time
    source = endpoint.name
    if codes is None:  # the table's codes of the endpoint's metrics (a page passes them)
        codes = [table.measure_code(m.field, m.unit, m.kind) for m in endpoint.metrics]
    if parts is None:  # the table's groups' parts (a page passes its own, for every bucket)
        parts = {}
    copy_head = _id_hasher(_id_head(PROVIDER, source, start, end)).copy
    add_group, add_counts = table.add_hashed_group, table.add_counts
    result_type: type[Any] | None = None
    plain = False
    # the groups whose results sent every count, added at once at the end (or before a result
    # that did not, so that the groups stay in result order)
    whole: list[tuple[Any, ...]] = []
    flat: list[Any] = []
    for result in results:
        if type(result) is not result_type:  # the same class for every result of a page
            result_type = type(result)
            counts_of, dimensions_of, attributes_of = _readers(endpoint, result_type)
            plain = result_type is dict
        values: dict[str, Any] = result if plain else result.__dict__
        counts: Sequence[Any] = counts_of(values)
        present: list[int] | None = None
        if None in counts:
            present = [code for code, count in zip(codes, counts, strict=True) if count is not None]
            if not present:
                continue
        key = (dimensions_of(values), attributes_of(values))
        part = parts.get(key)
        if part is None:
            part = parts[key] = _group_part(table, endpoint, *key)
        hasher = copy_head()
        hasher.update(part[2])
        if present is None:
            whole.append((hasher.hexdigest(), PROVIDER, source, start, end, *part[0], part[3]))
            flat += counts
            continue
        if whole:
            add_count_groups(table, whole, codes, flat)
            whole, flat = [], []
        group = add_group(hasher.hexdigest(), PROVIDER, source, start, end, part[0], part[1])
        add_counts(group, present, [count for count in counts if count is not None])
    if whole:
        add_count_groups(table, whole, codes, flat)


_NO_ATTRIBUTES: dict[str, str] = {}


def _invalid(message: str, field: str) -> ResponseValidationError:
    return ResponseValidationError(message, provider=PROVIDER, endpoint="costs", field=field)


_CostPart = tuple[tuple[str | None, ...], bytes, dict[str, str]]
"""What the cost records of one group share: the interned dimensions, the id's tail, and the
attributes its line item gives (see :func:`_cost_part`)."""


def _cost_rows(
    table: RecordTable,
    bucket: OpenAIBucket[OpenAICostsResult] | PlainBucket,
    *,
    index: int = 0,
    parts: dict[tuple[str | None, ...], _CostPart] | None = None,
) -> None:
    results = bucket.results
    if not results:
        return
    start, end = bucket.start_time, bucket.end_time
    copy_head = _id_hasher(_id_head(PROVIDER, "costs", start, end)).copy
    if parts is None:  # a page passes its own, shared by its buckets
        parts = {}
    for position, result in enumerate(results):
        where = f"data.{index}.results.{position}.amount"
        amount = result.amount
        if amount is None:
            raise _invalid("a cost result has no amount", where)
        if amount.value is None:
            raise _invalid("a cost amount has no value", f"{where}.value")
        currency = amount.currency
        if currency is None or not (
            len(currency) == 3 and currency.isascii() and currency.isalpha()
        ):
            raise _invalid(
                f"the currency is not an ISO 4217 code: {currency!r}",
                f"data.{index}.results.{position}.amount",
            )
        key = (result.project_id, result.api_key_id, result.line_item)
        part = parts.get(key)
        if part is None:
            part = parts[key] = _cost_part(table, *key)
        dimensions, tail, charge = part
        attributes: dict[str, str] = {}
        if result.quantity is not None:
            attributes["quantity"] = str(result.quantity)
        if result.quantity_unit is not None:
            attributes["quantity_unit"] = result.quantity_unit
        attributes.update(charge)
        hasher = copy_head()
        hasher.update(tail)
        group = table.add_hashed_group(
            hasher.hexdigest(),
            PROVIDER,
            "costs",
            start,
            end,
            dimensions,
            table.shared_attributes(attributes),
        )
        table.add_row(group, table.measure_code("cost", currency.upper(), FLOW), amount.value)


def _cost_part(
    table: RecordTable, project_id: str | None, api_key_id: str | None, line_item: str | None
) -> _CostPart:
    """What the cost records of one project, key and line item share in every bucket: its
    dimensions (interned), the part of its id after the bucket's (costs' own attributes,
    ``quantity`` and what the line item says, are left out of ids), and the attributes its
    line item gives."""
    charge = charge_attributes(parse_line_item(line_item))
    intern = table.intern
    dimensions = (None, intern(project_id), None, None, intern(api_key_id), None, intern(line_item))
    return dimensions, _id_tail(dimensions, charge), charge


def _bucket_rows(
    table: RecordTable,
    endpoint: Endpoint[Any],
    bucket: AnyBucket,
    index: int,
    codes: list[int] | None = None,
    parts: dict[Any, Any] | None = None,
) -> None:
    if endpoint.is_costs:
        _cost_rows(table, bucket, index=index, parts=parts)
    else:
        _usage_rows(table, endpoint, bucket, codes, parts)


def bucket_records(
    endpoint: Endpoint[Any], bucket: OpenAIBucket[Any], *, index: int = 0
) -> list[UsageRecord]:
    """Normalize one bucket of ``endpoint`` into records.

    Args:
        endpoint: The endpoint the bucket came from.
        bucket: The validated bucket.
        index: The bucket's position in its page, used to name a bad field in errors.

    Returns:
        The bucket's records, in result order then metric order.

    Raises:
        ResponseValidationError: A cost without an amount or a value, or whose currency is
            not a 3-letter code (the error names the field).
    """
    table = RecordTable()
    _bucket_rows(table, endpoint, bucket, index)
    return list(table)


def page_table(
    endpoint: Endpoint[Any],
    page: AnyPage,
    *,
    seen: UniqueRecords | None = None,
    consume: bool = False,
) -> RecordTable:
    """Normalize every bucket of one page into a :class:`~usagekit._core.table.RecordTable`.

    The columnar form of :func:`page_records`: the same records, in the same order, built as
    objects only when the table is iterated.

    Args:
        endpoint: The endpoint the page came from.
        page: The validated page.
        seen: The stream's record ids so far; records already emitted are dropped (and a
            different value under one of their ids is refused). None: no such check.
        consume: Take each bucket out of ``page.data`` as it is normalized (the page is left
            without buckets), so that its wire models are freed as soon as its records are
            in the table rather than with the whole page: for a page nothing else reads (a
            stream's own). Fewer models then live through the garbage collector's younger
            collections into the oldest generation, and a year's stream triggers half as
            many full collections.

    Returns:
        The page's records, bucket by bucket.

    Raises:
        ResponseValidationError: A malformed cost, or (with ``seen``) a record id repeated
            with a different value.
    """
    table = RecordTable(unique=seen is not None)
    buckets: list[int] = []  # the first group of each bucket, to name a bucket in errors
    codes: list[int] | None = None  # the endpoint's measures, coded at its first bucket
    parts: dict[Any, Any] = {}  # the groups' parts (usage or costs), shared by the buckets
    groups = table.groups()
    for index, bucket in enumerate(_taken(page.data) if consume else page.data):
        buckets.append(len(groups))
        if codes is None:
            codes = [table.measure_code(m.field, m.unit, m.kind) for m in endpoint.metrics]
        _bucket_rows(table, endpoint, bucket, index, codes, parts)
    if seen is None:
        return table
    return seen.unique_table(table, endpoint=endpoint.qualified_name, buckets=buckets)


def _taken(items: list[_T]) -> Iterator[_T]:
    """The items of ``items`` in order, each removed from the list as it is handed over."""
    items.reverse()
    while items:
        yield items.pop()


def page_records(
    endpoint: Endpoint[Any], page: OpenAIPage[Any], *, seen: UniqueRecords | None = None
) -> list[UsageRecord]:
    """Normalize every bucket of one page (see :func:`bucket_records`).

    Args:
        endpoint: The endpoint the page came from.
        page: The validated page.
        seen: The stream's record ids so far; records already emitted are dropped (and a
            different value under one of their ids is refused). None: no such check.

    Returns:
        The page's records, bucket by bucket.

    Raises:
        ResponseValidationError: A malformed cost, or (with ``seen``) a record id repeated
            with a different value.
    """
    return list(page_table(endpoint, page, seen=seen))

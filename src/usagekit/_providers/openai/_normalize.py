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
* within one stream each record id is emitted once (see :class:`UniqueRecords`): a bucket the
  server repeats is dropped when it says the same, and refused when it says something else;
* a cost's ``line_item`` is kept as sent; what it says (see :func:`usagekit.parse_line_item`)
  is added as ``charge_kind``, ``charge_model``, ``charge_tier``, ``charge_detail`` and
  ``charge_tool`` attributes when it is understood (derived, so not part of the record id);
* ``project_id``, ``user_id``, ``api_key_id``, ``model`` and ``line_item`` map to the record's
  fields; the other dimensions (``batch``, ``service_tier``, ``source``, ``size``,
  ``vector_store_id``, ``context_level``) go in ``attributes``, as strings, when not null.

Nothing here does I/O; both clients use it as is.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Container, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from ..._core.errors import ResponseValidationError
from ..._core.records import FLOW, MEASURE_ATTRIBUTES, UsageRecord, _id_head
from ..._core.table import G_ATTRIBUTES, G_END, G_PREFIX, G_SOURCE, G_START, RecordTable
from ..._lineitems import charge_attributes, parse_line_item
from ._models import OpenAIBucket, OpenAICostsResult, OpenAIPage
from ._requests import Endpoint

__all__ = ["PROVIDER", "UniqueRecords", "bucket_records", "page_records", "page_table"]

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
    declared = getattr(result_type, "model_fields", {})
    readers = (
        _fields([metric.field for metric in endpoint.metrics], declared),
        _fields(_DIMENSIONS, declared),
        _fields(endpoint.attributes, declared),
    )
    _READERS[key] = (endpoint, readers)
    return readers


def _usage_rows(
    table: RecordTable,
    endpoint: Endpoint[Any],
    bucket: OpenAIBucket[Any],
    codes: list[int] | None = None,
) -> None:
    results = bucket.results
    if not results:
        return
    start = bucket.start_time
    end = bucket.end_time
    source = endpoint.name
    if codes is None:  # the table's codes of the endpoint's metrics (a page passes them)
        codes = [table.measure_code(m.field, m.unit, m.kind) for m in endpoint.metrics]
    attribute_fields = endpoint.attributes
    head = _id_head(PROVIDER, source, start, end)
    intern, shared = table.intern, table.shared_attributes
    add_group, add_counts = table.add_group, table.add_counts
    result_type: type[Any] | None = None
    for result in results:
        if type(result) is not result_type:  # the same class for every result of a page
            result_type = type(result)
            counts_of, dimensions_of, attributes_of = _readers(endpoint, result_type)
        values: dict[str, Any] = result.__dict__
        counts: Sequence[Any] = counts_of(values)
        present: Sequence[int] = codes
        if None in counts:
            present = [code for code, count in zip(codes, counts, strict=True) if count is not None]
            if not present:
                continue
            counts = [count for count in counts if count is not None]
        attributes = (
            shared(
                {
                    name: _attribute(value)
                    for name, value in zip(attribute_fields, attributes_of(values), strict=True)
                    if value is not None
                }
            )
            if attribute_fields
            else _NO_ATTRIBUTES
        )
        project_id, user_id, api_key_id, model = dimensions_of(values)
        group = add_group(
            PROVIDER,
            source,
            start,
            end,
            (
                None,
                intern(project_id),
                intern(user_id),
                None,
                intern(api_key_id),
                intern(model),
                None,
            ),
            attributes,
            head,
        )
        add_counts(group, present, counts)


_NO_ATTRIBUTES: dict[str, str] = {}


def _invalid(message: str, field: str) -> ResponseValidationError:
    return ResponseValidationError(message, provider=PROVIDER, endpoint="costs", field=field)


def _cost_rows(
    table: RecordTable, bucket: OpenAIBucket[OpenAICostsResult], *, index: int = 0
) -> None:
    for position, result in enumerate(bucket.results):
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
        attributes: dict[str, str] = {}
        if result.quantity is not None:
            attributes["quantity"] = str(result.quantity)
        if result.quantity_unit is not None:
            attributes["quantity_unit"] = result.quantity_unit
        attributes.update(charge_attributes(parse_line_item(result.line_item)))
        table.add(
            (("cost", amount.value, currency.upper(), FLOW),),
            provider=PROVIDER,
            source="costs",
            start=bucket.start_time,
            end=bucket.end_time,
            project_id=result.project_id,
            api_key_id=result.api_key_id,
            line_item=result.line_item,
            attributes=attributes,
        )


def _bucket_rows(
    table: RecordTable,
    endpoint: Endpoint[Any],
    bucket: OpenAIBucket[Any],
    index: int,
    codes: list[int] | None = None,
) -> None:
    if endpoint.is_costs:
        _cost_rows(table, bucket, index=index)
    else:
        _usage_rows(table, endpoint, bucket, codes)


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
    endpoint: Endpoint[Any], page: OpenAIPage[Any], *, seen: UniqueRecords | None = None
) -> RecordTable:
    """Normalize every bucket of one page into a :class:`~usagekit._core.table.RecordTable`.

    The columnar form of :func:`page_records`: the same records, in the same order, built as
    objects only when the table is iterated.

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
    table = RecordTable(unique=seen is not None)
    buckets: list[int] = []  # the first group of each bucket, to name a bucket in errors
    codes: list[int] | None = None  # the endpoint's measures, coded at its first bucket
    groups = table.groups()
    for index, bucket in enumerate(page.data):
        buckets.append(len(groups))
        if codes is None:
            codes = [table.measure_code(m.field, m.unit, m.kind) for m in endpoint.metrics]
        _bucket_rows(table, endpoint, bucket, index, codes)
    if seen is None:
        return table
    return seen.unique_table(table, endpoint=endpoint.qualified_name, buckets=buckets)


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


_Bucket = tuple[str, datetime, datetime]


class UniqueRecords:
    """The record ids of one stream, so that each is emitted once.

    A server may repeat a bucket, in one page or on a later one. A record whose id was
    already emitted with the same quantity (and the same measure attributes) is an exact
    duplicate: it is dropped. The same id with another value is a
    :class:`~usagekit.ResponseValidationError`: one of the two figures is wrong and neither
    summing them nor keeping either would be safe.

    Memory grows with the stream's buckets, never with its records: the most recent buckets,
    up to ``held`` records' worth (by default 2**19, about 8 MB, each bucket counted with its
    overhead: several pages of every endpoint, where a repeated bucket comes from), are kept
    record by record (64-bit hashes of each id and of its value); an older bucket is kept as
    one 64-bit digest of all of them (about 100 bytes a bucket: 10 MB for a year of hourly
    buckets of all 11 endpoints). An old bucket that comes again exactly as the stream had it
    is dropped whole; any other old bucket is refused (even one more record, or only part of
    what the stream had of it), since what changed can no longer be told record by record.

    Args:
        provider: The provider, for errors.
        held: The most records kept record by record (a bucket's overhead counts as
            :data:`_BUCKET_COST` records).
    """

    def __init__(self, provider: str = PROVIDER, *, held: int = 1 << 19) -> None:
        self.provider = provider
        self._held = held
        self._count = 0
        self._buckets: dict[_Bucket, tuple[array[int], array[int]]] = {}
        self._digests: dict[int, int] = {}  # hash of an old bucket's key -> its digest

    def unique(
        self, records: Sequence[UsageRecord], *, endpoint: str, field: str | None = None
    ) -> list[UsageRecord]:
        """Return the records this stream has not emitted yet, and remember them.

        Args:
            records: Records of one response, in order.
            endpoint: The endpoint they came from, for errors.
            field: Where in the body they are (``"data.3"``), for errors.

        Returns:
            The records not seen before, in order.

        Raises:
            ResponseValidationError: A group seen before with different figures.
        """
        by_bucket: dict[_Bucket, tuple[list[int], list[int], list[int]]] = {}
        for position, record in enumerate(records):
            key = (record.source, record.start, record.end)
            rows, names, figures = by_bucket.setdefault(key, ([], [], []))
            record_id = record.id
            rows.append(position)
            names.append(hash(record_id[:32]) ^ hash(record_id[32:]))
            figures.append(_figure(record.quantity, _measure_attributes(record.attributes)))

        def conflict(key: _Bucket, row: int) -> ResponseValidationError:
            return self._conflict(key, records[row].metric, endpoint, field)

        dropped: set[int] = set()
        for key, (rows, names, figures) in by_bucket.items():
            dropped.update(self._check(key, rows, names, figures, conflict))
        return [record for position, record in enumerate(records) if position not in dropped]

    def unique_table(
        self,
        table: RecordTable,
        *,
        endpoint: str,
        buckets: Sequence[int] = (),
        field: str | None = None,
    ) -> RecordTable:
        """Return the table without the records this stream has emitted, and remember them.

        Args:
            table: The records of one response (each group's rows in one run).
            endpoint: The endpoint they came from, for errors.
            buckets: The first group of each bucket of the page, to name one in errors
                (``"data.3"``); empty to use ``field``.
            field: Where in the body the records are, when ``buckets`` is empty.

        Returns:
            ``table`` itself when nothing was seen before, else a table of the rest.

        Raises:
            ResponseValidationError: A group seen before with different figures.
        """
        groups = table.groups()
        codes, ints = table.measure_index(), table.int_quantities()
        decimals, row_attrs = table.decimal_quantities(), table.row_attributes()
        tails = [hash(measure[3]) for measure in table.measures()]
        spans = list(table.group_spans())
        measured: dict[int, int] = {}  # id(attributes) -> hash of their figure part
        by_bucket: dict[_Bucket, list[int]] = {}
        for number, group in enumerate(groups):
            key = (group[G_SOURCE], group[G_START], group[G_END])
            numbers = by_bucket.get(key)
            if numbers is None:
                by_bucket[key] = [number]
            else:
                numbers.append(number)

        def conflict(key: _Bucket, row: int) -> ResponseValidationError:
            where = field
            if buckets:
                where = f"data.{bisect_right(buckets, table.group_index()[row]) - 1}"
            return self._conflict(key, table.measures()[codes[row]][0], endpoint, where)

        tails_of: dict[bytes, tuple[int, ...]] = {}  # a group's measure codes -> their tails
        dropped: list[int] = []
        for key, numbers in by_bucket.items():
            names: list[int] = []
            figures: list[int] = []
            for number in numbers:
                first, end = spans[number]
                group = groups[number]
                measured_codes = codes[first:end].tobytes()  # most groups share a few such runs
                group_tails = tails_of.get(measured_codes)
                if group_tails is None:
                    group_tails = tails_of[measured_codes] = tuple(
                        tails[code] for code in codes[first:end]
                    )
                names.extend(map(hash(group[G_PREFIX]).__xor__, group_tails))
                attributes = group[G_ATTRIBUTES]
                if decimals or row_attrs:
                    extra = _measure_attributes(attributes)
                    figures += [
                        _figure(
                            decimals.get(row, ints[row]),
                            _measure_attributes(row_attrs[row]) if row in row_attrs else extra,
                        )
                        for row in range(first, end)
                    ]
                    continue
                tail = measured.get(id(attributes))
                if tail is None:
                    tail = measured[id(attributes)] = hash(_measure_attributes(attributes))
                figures.extend(map(tail.__xor__, map(hash, ints[first:end])))
            new = key not in self._buckets and hash(key) not in self._digests
            if new and len(set(names)) == len(names):  # a new bucket: the usual case
                self._keep(key, names, figures)
                continue
            rows = [row for number in numbers for row in range(*spans[number])]
            dropped += self._check(key, rows, names, figures, conflict)
        if not dropped:
            return table
        gone = set(dropped)
        return table.subset(r for r in range(len(table)) if r not in gone)

    def _check(
        self,
        key: _Bucket,
        rows: list[int],
        names: list[int],
        figures: list[int],
        conflict: Callable[[_Bucket, int], ResponseValidationError],
    ) -> list[int]:
        """Check one bucket's records against what the stream kept of it; the rows to drop."""
        digest = self._digests.get(hash(key))
        packed = self._buckets.get(key)
        hashes: dict[int, int] = {} if packed is None else dict(zip(*packed, strict=True))
        dropped: list[int] = []
        for row, name, value in zip(rows, names, figures, strict=True):
            previous = hashes.get(name)
            if previous is None:
                hashes[name] = value
            elif previous == value:
                dropped.append(row)
            else:
                raise conflict(key, row)
        if digest is not None:  # an old bucket again: exactly as it was, or refused
            if _digest(hashes.keys(), hashes.values()) != digest:
                raise self._stale(key, conflict(key, rows[0]))
            return rows
        self._keep(key, hashes.keys(), hashes.values())
        return dropped

    def _keep(self, key: _Bucket, names: Iterable[int], figures: Iterable[int]) -> None:
        """Keep a bucket's records (its newest state); older buckets become digests."""
        old = self._buckets.pop(key, None)
        if old is not None:
            self._count -= len(old[0]) + _BUCKET_COST
        packed = self._buckets[key] = (array("q", names), array("q", figures))
        self._count += len(packed[0]) + _BUCKET_COST
        while self._count > self._held and len(self._buckets) > 1:
            oldest = next(iter(self._buckets))
            old_names, old_figures = self._buckets.pop(oldest)
            self._count -= len(old_names) + _BUCKET_COST
            self._digests[hash(oldest)] = _digest(old_names, old_figures)

    def _stale(self, key: _Bucket, error: ResponseValidationError) -> ResponseValidationError:
        return ResponseValidationError(
            f"the bucket {key[1].isoformat()} to {key[2].isoformat()} came again, long after, "
            "not exactly as the stream had it; refusing to sum or to pick one",
            provider=self.provider,
            endpoint=error.endpoint,
            field=error.field,
        )

    def _conflict(
        self, key: _Bucket, metric: str, endpoint: str, field: str | None
    ) -> ResponseValidationError:
        return ResponseValidationError(
            f"the bucket {key[1].isoformat()} to {key[2].isoformat()} came twice with different "
            f"values of {metric} for one group; refusing to sum or to pick one",
            provider=self.provider,
            endpoint=endpoint,
            field=field,
        )


_BUCKET_COST = 28
"""What one held bucket costs beside its records, in records (16 bytes each): its key (a tuple
of a name and two datetimes), two arrays and their dict slot, about 450 bytes."""


def _digest(names: Iterable[int], figures: Iterable[int]) -> int:
    """One 64-bit digest of a bucket's records, whatever their order."""
    return sum(map(hash, zip(names, figures, strict=True))) & 0xFFFFFFFFFFFFFFFF


def _figure(quantity: Decimal | int, extra: tuple[tuple[str, str], ...]) -> int:
    """A 64-bit hash of what may differ between two records of one id: the figure itself.

    ``hash(Decimal(5)) == hash(5)``: a count and the equal ``Decimal`` are the same figure.
    """
    return hash(quantity) ^ hash(extra)  # both in the signed 64-bit range, so is their XOR


def _measure_attributes(attributes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """What of a record's attributes is part of its figure rather than of its id."""
    if not attributes:
        return ()
    return tuple(sorted((k, v) for k, v in attributes.items() if k in MEASURE_ATTRIBUTES))

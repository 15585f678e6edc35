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
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..._core.errors import ResponseValidationError
from ..._core.records import FLOW, MEASURE_ATTRIBUTES, UsageRecord
from ..._lineitems import charge_attributes, parse_line_item
from ._models import OpenAIBucket, OpenAICostsResult, OpenAIPage
from ._requests import Endpoint

__all__ = ["PROVIDER", "UniqueRecords", "bucket_records", "page_records"]

PROVIDER = "openai"


def _attribute(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _usage_records(endpoint: Endpoint[Any], bucket: OpenAIBucket[Any]) -> list[UsageRecord]:
    trusted_many = UsageRecord.trusted_many
    start = bucket.start_time
    end = bucket.end_time
    source = endpoint.name
    metrics = [(m.field, m.unit, m.kind) for m in endpoint.metrics]
    attribute_fields = endpoint.attributes
    out: list[UsageRecord] = []
    for result in bucket.results:
        values: dict[str, Any] = result.__dict__
        measures = [
            (field, Decimal(value), unit, kind)
            for field, unit, kind in metrics
            if (value := values.get(field)) is not None
        ]
        if not measures:
            continue
        attributes = {
            name: _attribute(values[name])
            for name in attribute_fields
            if values.get(name) is not None
        }
        out.extend(
            trusted_many(
                measures,
                provider=PROVIDER,
                source=source,
                start=start,
                end=end,
                project_id=values.get("project_id"),
                user_id=values.get("user_id"),
                api_key_id=values.get("api_key_id"),
                model=values.get("model"),
                attributes=attributes,
            )
        )
    return out


def _invalid(message: str, field: str) -> ResponseValidationError:
    return ResponseValidationError(message, provider=PROVIDER, endpoint="costs", field=field)


def _cost_records(bucket: OpenAIBucket[OpenAICostsResult], *, index: int = 0) -> list[UsageRecord]:
    out: list[UsageRecord] = []
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
        out.append(
            UsageRecord.trusted(
                provider=PROVIDER,
                source="costs",
                start=bucket.start_time,
                end=bucket.end_time,
                metric="cost",
                quantity=amount.value,
                unit=currency.upper(),
                kind=FLOW,
                project_id=result.project_id,
                api_key_id=result.api_key_id,
                line_item=result.line_item,
                attributes=attributes,
            )
        )
    return out


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
    if endpoint.is_costs:
        return _cost_records(bucket, index=index)
    return _usage_records(endpoint, bucket)


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
    out: list[UsageRecord] = []
    for index, bucket in enumerate(page.data):
        records = bucket_records(endpoint, bucket, index=index)
        if seen is not None:
            records = seen.unique(records, endpoint=endpoint.qualified_name, field=f"data.{index}")
        out.extend(records)
    return out


_Bucket = tuple[str, datetime, datetime]


class UniqueRecords:
    """The record ids of one stream, so that each is emitted once.

    A server may repeat a bucket, in one page or on a later one. A record whose id was
    already emitted with the same quantity (and the same measure attributes) is an exact
    duplicate: it is dropped. The same id with another value is a
    :class:`~usagekit.ResponseValidationError`: one of the two figures is wrong and neither
    summing them nor keeping either would be safe. Memory stays small: 16 bytes per record
    (64-bit hashes of its id and of its value), packed per bucket.

    Args:
        provider: The provider, for errors.
    """

    def __init__(self, provider: str = PROVIDER) -> None:
        self.provider = provider
        self._buckets: dict[_Bucket, array[int]] = {}

    def unique(
        self, records: Sequence[UsageRecord], *, endpoint: str, field: str | None = None
    ) -> list[UsageRecord]:
        """Return the records whose ids this stream has not emitted yet, and remember them.

        Args:
            records: Records of one response, in order.
            endpoint: The endpoint they came from, for errors.
            field: Where in the body they are (``"data.3"``), for errors.

        Returns:
            The records not seen before, in order.

        Raises:
            ResponseValidationError: A record id seen before with a different value.
        """
        out: list[UsageRecord] = []
        known: dict[_Bucket, dict[int, int]] = {}
        for record in records:
            key = (record.source, record.start, record.end)
            hashes = known.get(key)
            if hashes is None:
                packed = self._buckets.get(key)
                hashes = {} if packed is None else dict(zip(packed[::2], packed[1::2], strict=True))
                known[key] = hashes
            name, value = hash(record.id), _fingerprint(record)
            previous = hashes.get(name)
            if previous is None:
                hashes[name] = value
                out.append(record)
            elif previous != value:
                raise ResponseValidationError(
                    f"the bucket {record.start.isoformat()} to {record.end.isoformat()} came "
                    f"twice with different values of {record.metric} for one group; refusing "
                    "to sum or to pick one",
                    provider=self.provider,
                    endpoint=endpoint,
                    field=field,
                )
        for key, hashes in known.items():
            packed = array("q")
            for name, value in hashes.items():
                packed.append(name)
                packed.append(value)
            self._buckets[key] = packed
        return out


def _fingerprint(record: UsageRecord) -> int:
    """A hash of what may differ between two records of one id: the figure itself."""
    measures = tuple(
        sorted((k, v) for k, v in record.attributes.items() if k in MEASURE_ATTRIBUTES)
    )
    return hash((record.quantity, measures))

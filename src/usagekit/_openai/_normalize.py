"""OpenAI buckets to :class:`~usagekit.UsageRecord`: one mapping, driven by the endpoint table.

Rules (the same for all 11 endpoints):

* one record per numeric field of a result that the API sent, ``metric`` being the API's field
  name; fields the API left out (or sent as null) are not invented as zeros;
* ``input_tokens`` already includes the cached and cache-write tokens; ``input_cached_tokens``
  and friends are kept as the separate metrics the API names them, never subtracted, so never
  add them to ``input_tokens``;
* ``usage_bytes`` (vector stores) is a level, every other metric a flow;
* costs become metric ``"cost"`` with the exact ``Decimal`` as sent and the upper-case
  currency as unit; ``quantity`` and ``quantity_unit`` are kept in ``attributes``;
* ``project_id``, ``user_id``, ``api_key_id``, ``model`` and ``line_item`` map to the record's
  fields; the other dimensions (``batch``, ``service_tier``, ``source``, ``size``,
  ``vector_store_id``, ``context_level``) go in ``attributes``, as strings, when not null.

Nothing here does I/O; both clients use it as is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import ResponseValidationError
from .._records import FLOW, UsageRecord
from ._endpoints import Endpoint
from ._models import OpenAIBucket, OpenAICostsResult, OpenAIPage

__all__ = ["PROVIDER", "bucket_records", "page_records"]

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
        amount = result.amount
        if amount is None or amount.value is None:
            continue
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
        ResponseValidationError: A cost whose currency is not a 3-letter code.
    """
    if endpoint.is_costs:
        return _cost_records(bucket, index=index)
    return _usage_records(endpoint, bucket)


def page_records(endpoint: Endpoint[Any], page: OpenAIPage[Any]) -> list[UsageRecord]:
    """Normalize every bucket of one page (see :func:`bucket_records`)."""
    out: list[UsageRecord] = []
    for index, bucket in enumerate(page.data):
        out.extend(bucket_records(endpoint, bucket, index=index))
    return out

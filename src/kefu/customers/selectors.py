"""Reading the archive: every list, count, search, export and API call goes through
`customer_list`, which applies role and scope first."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from kefu.core import access
from kefu.core.params import ids_or_none
from kefu.customers.models import Contact, Customer, TimelineEntry
from kefu.customers.search import search_filter

VIEW = "customers.view_customer"

# Sort options offered by lists and the API: (key, order fields ending with a unique one).
SORTS: dict[str, tuple[str, ...]] = {
    "-id": ("-id",),
    "id": ("id",),
    "name": ("name", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "archive_no": ("archive_no",),
}


# The list filters that accept `none` (the field is not set): the statistics' empty
# groups (未分类, 未指定片区, 未知来源) click through to exactly those archives.
NONE_KEYS = ("customer_class", "region", "source")


@dataclass
class CustomerFilters:
    q: str = ""
    kind: str = ""
    customer_class: list[int] = field(default_factory=list)
    region: list[int] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    credit_grade: list[int] = field(default_factory=list)
    lifecycle: list[str] = field(default_factory=list)
    source: list[int] = field(default_factory=list)
    category: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    key_account: bool | None = None
    created_from: datetime.date | None = None
    created_to: datetime.date | None = None
    updated_from: datetime.date | None = None
    updated_to: datetime.date | None = None
    # Custom fields: {"foreman": "李工", "contract_date__gte": "2026-01-01"}
    extra: dict[str, Any] = field(default_factory=dict)
    # Keys of NONE_KEYS whose "not set" group is wanted (besides the ids, if any).
    none_of: list[str] = field(default_factory=list)


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# "icontains" is a substring match of the value on both databases (JSON "contains" is not).
_EXTRA_OPS = {"", "gte", "lte", "icontains"}


def _filter_extra(qs: QuerySet[Customer], extra: dict[str, Any]) -> QuerySet[Customer]:
    """Custom-field filters, each value converted to its field's type first: JSON keeps
    numbers and booleans typed, and "120" must find 120 on SQLite and PostgreSQL alike."""
    from kefu.customers.fields import active_fields, clean_field_value

    fields = {field.key: field for field in active_fields()}
    for key, raw in extra.items():
        name, _sep, op = key.partition("__")
        field = fields.get(name)
        if op not in _EXTRA_OPS or field is None or raw in (None, ""):
            continue
        value = str(raw).strip() if op == "icontains" else clean_field_value(field, raw)
        qs = qs.filter(**{f"extra__{name}{'__' + op if op else ''}": value})
    return qs


def customer_base(user) -> QuerySet[Customer]:
    """Every live archive the user may see (merged-away archives excluded)."""
    return access.restrict(Customer.objects.filter(merged_into__isnull=True), user, VIEW)


def customer_list(*, user, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    f = filters or CustomerFilters()
    qs = customer_base(user)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    qs = _ids_or_none(qs, f, "customer_class")
    qs = _ids_or_none(qs, f, "region")
    if f.owner:
        qs = qs.filter(owner__in=f.owner)
    if f.credit_grade:
        qs = qs.filter(credit_grade__in=f.credit_grade)
    if f.lifecycle:
        qs = qs.filter(lifecycle__in=f.lifecycle)
    qs = _ids_or_none(qs, f, "source")
    if f.category:
        qs = qs.filter(
            pk__in=Customer.categories.through.objects.filter(productcategory__in=f.category).values("customer")
        )
    if f.tags:
        qs = qs.filter(pk__in=Customer.tags.through.objects.filter(tag__name__in=f.tags).values("customer"))
    if f.key_account is not None:
        qs = qs.filter(is_key_account=f.key_account)
    if f.created_from:
        qs = qs.filter(created_at__gte=_day_start(f.created_from))
    if f.created_to:
        qs = qs.filter(created_at__lt=_day_start(f.created_to + datetime.timedelta(days=1)))
    if f.updated_from:
        qs = qs.filter(updated_at__gte=_day_start(f.updated_from))
    if f.updated_to:
        qs = qs.filter(updated_at__lt=_day_start(f.updated_to + datetime.timedelta(days=1)))
    if f.extra:
        qs = _filter_extra(qs, f.extra)
    if f.q:
        qs = search_filter(qs, f.q)
    return qs


def _ids_or_none(qs: QuerySet[Customer], f: CustomerFilters, key: str) -> QuerySet[Customer]:
    return ids_or_none(qs, key, getattr(f, key), with_none=key in f.none_of)


def with_list_related(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """What a list row shows, loaded in a constant number of queries."""
    return qs.select_related("region", "owner", "customer_class", "credit_grade", "source").prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.filter(is_primary=True), to_attr="primary_contacts"), "tags"
    )


def customer_get(*, user, pk: int) -> Customer | None:
    """One archive the user may see (a merged one too, to show where it went)."""
    qs = access.restrict(Customer.objects.all(), user, VIEW)
    return (
        qs.select_related("region", "owner", "customer_class", "credit_grade", "source", "merged_into")
        .prefetch_related("contacts", "tags", "categories")
        .filter(pk=pk)
        .first()
    )


def customer_ref_get(*, user, pk: int) -> Customer | None:
    """One archive the user may see (a merged one too), as another record refers to it —
    a ticket registered on it: its region and merge target joined, none of what the
    archive's page shows (contacts, tags, categories: three queries a ticket needs not)."""
    qs = access.restrict(Customer.objects.all(), user, VIEW)
    return qs.select_related("region", "merged_into").filter(pk=pk).first()


def timeline_for(*, user, customer: Customer) -> QuerySet[TimelineEntry]:
    access.require(user, VIEW, customer)
    return TimelineEntry.objects.filter(customer=customer).select_related("actor").order_by("-at", "-id")

"""Keyset pagination: the next page starts after the last row seen, so page 1,000 is as
fast as page 1 and rows inserted meanwhile do not shift what the reader sees."""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet

from kefu.core.errors import ValidationFailed


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    has_more: bool


def _encode(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime.datetime | datetime.date) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, count: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("分页游标无效。", details={"cursor": cursor}) from exc
    if not isinstance(values, list) or len(values) != count:
        raise ValidationFailed("分页游标无效。", details={"cursor": cursor})
    if not all(v is None or isinstance(v, str | int | float) for v in values):
        raise ValidationFailed("分页游标无效。", details={"cursor": cursor})
    return values


def keyset_page(
    queryset: QuerySet, *, order: tuple[str, ...], cursor: str | None, size: int = 50, ids_first: bool = False
) -> Page:
    """One page of `queryset` ordered by `order` (fields, `-` for descending; the last
    must be unique and never null, e.g. `-id`), starting after `cursor`.

    A leading field that may be null (a ticket's due time) lists its rows with a value
    first, in either direction, then those without one — the same on both databases,
    which place nulls differently — each part read as its own index range.

    `ids_first=True` picks the page's keys without the joins `select_related` adds, then
    reads the rows of those keys (one statement more). For a list whose filter the
    planner misjudges: PostgreSQL, expecting one candidate row, joins every related
    table to all the candidates before its top-N sort (the department login's queue at
    1M tickets: 77 ms, most of it probing customers for rows that are not on the page)."""
    size = max(1, min(size, 500))
    fields = [f.lstrip("-") for f in order]
    values = _decode(cursor, len(fields)) if cursor else None
    try:
        if len(fields) > 1 and _nullable(queryset.model, fields[0]):
            keyed = _nulls_last(queryset, order, values, size + 1, ids_first)
        else:
            keyed = _read(_after(queryset.order_by(*order), order, values), order, size + 1, ids_first)
        has_more = len(keyed) > size
        keyed = keyed[:size]
        items = _rows_of(queryset, [row for row, _ in keyed]) if ids_first else [row for row, _ in keyed]
    except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
        # A well-formed cursor holding values of the wrong type (text or null for an id,
        # a number too large for the column).
        raise ValidationFailed("分页游标无效。", details={"cursor": cursor}) from exc
    # The cursor holds the sort values of the page's last row as it was read.
    next_cursor = _encode(keyed[-1][1]) if has_more and keyed else None
    return Page(items=items, next_cursor=next_cursor, has_more=has_more)


def _after(qs: QuerySet, order: tuple[str, ...] | list[str], values: list[Any] | None) -> QuerySet:
    """`qs` narrowed to the rows after the sort values `values` (all of them if None)."""
    if not values:
        return qs
    fields = [f.lstrip("-") for f in order]
    after = Q(pk__in=[])
    for i, name in enumerate(fields):
        op = "lt" if order[i].startswith("-") else "gt"
        step = Q(**{f"{name}__{op}": values[i]})
        for prev in range(i):
            step &= Q(**{fields[prev]: values[prev]})
        after |= step
    # The same rows, but a bound on the leading column lets both databases start the
    # index scan at the cursor instead of filtering from the first row.
    lead = "lte" if order[0].startswith("-") else "gte"
    return qs.filter(Q(**{f"{fields[0]}__{lead}": values[0]}) & after)


def _nulls_last(
    queryset: QuerySet, order: tuple[str, ...], values: list[Any] | None, limit: int, ids_first: bool
) -> list[tuple[Any, list[Any]]]:
    """Up to `limit` rows after `values`: those with a leading value in `order`, then
    those without, in the order of the other fields."""
    lead, rest = order[0].lstrip("-"), list(order[1:])
    keyed: list[tuple[Any, list[Any]]] = []
    if values is None or values[0] is not None:
        valued = queryset.filter(**{f"{lead}__isnull": False}).order_by(*order)
        keyed = _read(_after(valued, order, values), order, limit, ids_first)
        values = None  # the rows without a value all come after
    if len(keyed) < limit:
        unvalued = queryset.filter(**{f"{lead}__isnull": True}).order_by(*rest)
        unvalued = _after(unvalued, rest, values[1:] if values else None)
        keyed += [(row, [None, *sort]) for row, sort in _read(unvalued, rest, limit - len(keyed), ids_first)]
    return keyed


def _read(qs: QuerySet, order, limit: int, ids_first: bool) -> list[tuple[Any, list[Any]]]:
    """The first `limit` rows of `qs` (their keys when `ids_first`), each with its sort
    values."""
    fields = [f.lstrip("-") for f in order]
    if ids_first:
        keys = qs.select_related(None).prefetch_related(None).values_list("pk", *fields)[:limit]
        return [(key[0], list(key[1:])) for key in keys]
    return [(row, [_attr(row, name) for name in fields]) for row in qs[:limit]]


def _nullable(model, path: str) -> bool:
    """Whether the field at `path` (`due_at`, `customer__name`) may be null."""
    from django.core.exceptions import FieldDoesNotExist

    try:
        for part in path.split("__"):
            field = model._meta.get_field(part)
            if field.null:
                return True  # the field, or a relation on the way to it
            model = field.related_model
        return False
    except (FieldDoesNotExist, AttributeError):
        return False  # an annotation: taken as never null


def _rows_of(qs: QuerySet, keys: list[Any]) -> list[Any]:
    """The rows of `keys`, in their order, with what `qs` fetches along (related rows,
    prefetches). A row gone between the two statements is simply not on the page."""
    found = {row.pk: row for row in qs.filter(pk__in=keys).order_by()} if keys else {}
    return [found[pk] for pk in keys if pk in found]


def _attr(obj: Any, name: str) -> Any:
    value = obj
    for part in name.split("__"):
        value = getattr(value, part)
    if hasattr(value, "pk"):
        value = value.pk
    return value

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


def keyset_page(queryset: QuerySet, *, order: tuple[str, ...], cursor: str | None, size: int = 50) -> Page:
    """One page of `queryset` ordered by `order` (fields, `-` for descending; the last
    must be unique, e.g. `-id`), starting after `cursor`."""
    size = max(1, min(size, 500))
    fields = [f.lstrip("-") for f in order]
    qs = queryset.order_by(*order)
    try:
        if cursor:
            values = _decode(cursor, len(fields))
            after = Q(pk__in=[])
            for i, name in enumerate(fields):
                op = "lt" if order[i].startswith("-") else "gt"
                step = Q(**{f"{name}__{op}": values[i]})
                for prev in range(i):
                    step &= Q(**{fields[prev]: values[prev]})
                after |= step
            # The same rows, but a bound on the leading column lets both databases start
            # the index scan at the cursor instead of filtering from the first row.
            lead = "lte" if order[0].startswith("-") else "gte"
            qs = qs.filter(Q(**{f"{fields[0]}__{lead}": values[0]}) & after)
        rows = list(qs[: size + 1])
    except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
        # A well-formed cursor holding values of the wrong type (text or null for an id,
        # a number too large for the column).
        raise ValidationFailed("分页游标无效。", details={"cursor": cursor}) from exc
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = _encode([_attr(last, name) for name in fields])
    return Page(items=rows, next_cursor=next_cursor, has_more=has_more)


def _attr(obj: Any, name: str) -> Any:
    value = obj
    for part in name.split("__"):
        value = getattr(value, part)
    if hasattr(value, "pk"):
        value = value.pk
    return value

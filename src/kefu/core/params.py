"""Pieces of list-filter parsing that every list shares (tickets, customers, visits: the
HTML lists, the APIs, the exports and the chips of active filters), so that a value
means the same wherever it is typed: repeated or comma-separated (the full-width comma
of Chinese input methods too), `none` for "not set", ids that fit a 64-bit integer, and
no control character ever reaching a query (PostgreSQL refuses NUL with an error)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import Q, QuerySet

#: The list value standing for "not set" (未分类 / 未指定部门 / 未指定片区 / 未分配 …): the
#: statistics' empty groups click through to exactly their rows with it.
NONE = "none"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control(text: str) -> bool:
    """Whether `text` holds a control character — never part of a code or a name; for
    the parsers that refuse such a value (a 422) rather than drop the characters."""
    return bool(_CONTROL.search(text))


def tokens(params, key: str) -> list[str]:
    """The values of `key` in `params` (a QueryDict or a plain mapping), repeated or
    comma-separated, stripped, without control characters; empty ones dropped."""
    values = params.getlist(key) if hasattr(params, "getlist") else params.get(key, [])
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values or []:
        text = _CONTROL.sub("", str(value)).replace("，", ",")
        out.extend(v.strip() for v in text.split(",") if v.strip())
    return out


def is_id(token: str) -> bool:
    """ASCII digits that fit a 64-bit integer (`"²".isdigit()` is true, `int("²")` fails)."""
    return token.isascii() and token.isdigit() and len(token) <= 18


def take_none(values: Iterable[str]) -> tuple[list[str], bool]:
    """`values` without `none` (in any case), and whether it was among them."""
    values = list(values)
    rest = [v for v in values if v.lower() != NONE]
    return rest, len(rest) != len(values)


def ids_or_none(qs: QuerySet, field: str, ids: list[int], *, with_none: bool) -> QuerySet:
    """`field IN ids`, `field IS NULL` for `none`, either when both are asked for, or the
    queryset unchanged when neither is."""
    if with_none and ids:
        return qs.filter(Q(**{f"{field}__in": ids}) | Q(**{f"{field}__isnull": True}))
    if with_none:
        return qs.filter(**{f"{field}__isnull": True})
    if ids:
        return qs.filter(**{f"{field}__in": ids})
    return qs

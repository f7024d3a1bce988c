"""The list addresses a dashboard figure clicks through to, in the very parameters the
lists parse (tickets/params.py, the visit team filters, customers/params.py), so the
list selects the same rows through the same scoped selector.

A group whose value is None (未分配, 未指定部门, 未分类 …) is the list filter's `none`
value (`ident(None)`); a parameter passed as None means the figure has no list that
selects exactly its rows: `None` is returned and the segment is shown without a link
rather than linking to a wider list than the number it stands for."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

# The lists' value for "not set" (tickets/params.py, customers/params.py, the visit
# list's assignee filter).
NONE = "none"


def ident(pk: int | None) -> int | str:
    """A group's id as a list filter value: the id, or `none` for the empty group."""
    return NONE if pk is None else pk


def _value(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(_value(v) for v in value)
    return str(value)


def _url(name: str, params: Mapping[str, Any]) -> str:
    pairs = [(key, _value(value)) for key, value in params.items() if value not in (None, "", (), [])]
    query = urlencode(pairs)
    return reverse(name) + (f"?{query}" if query else "")


def _has_none(values: Iterable[Any]) -> bool:
    return any(v is None for v in values)


def tickets(**params: Any) -> str | None:
    """/tickets/?… — `None` when a filter that must narrow is None (use `...=""` to leave
    a filter out on purpose)."""
    if _has_none(params.values()):
        return None
    return _url("tickets:list", params)


def visits(**params: Any) -> str | None:
    """The team view of the visit list (/visits/?tab=team&…): only holders of
    `visits.view_region_visits` have it, so visit segments link only for them."""
    if _has_none(params.values()):
        return None
    return _url("visits:list", {"tab": "team", **params})


def own_visits(tab: str) -> str:
    """The agent's own call list: `due` (today and overdue) or `upcoming`."""
    return _url("visits:list", {"tab": tab})


def customers(**params: Any) -> str | None:
    if _has_none(params.values()):
        return None
    return _url("customers:list", params)


def customer(pk: int) -> str:
    return reverse("customers:detail", args=[pk])


def ticket(pk: int) -> str:
    return reverse("tickets:detail", args=[pk])


def period_dates(start: datetime.date, end: datetime.date) -> dict[str, datetime.date]:
    """[start, end) as the inclusive created_from / created_to of the ticket list."""
    return {"created_from": start, "created_to": end - datetime.timedelta(days=1)}


def due_dates(start: datetime.date, end: datetime.date) -> dict[str, datetime.date]:
    """[start, end) as the inclusive due_from / due_to of the visit list."""
    return {"due_from": start, "due_to": end - datetime.timedelta(days=1)}

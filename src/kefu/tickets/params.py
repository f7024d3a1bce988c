"""Turning request parameters into `TicketFilters`, one way for the HTML queues, the
Excel export and the API, so the three always select the same tickets.

Anything malformed is a `ValidationFailed` with a Chinese message (shown above an
empty list), never an exception the database would raise later: ids must fit a 64-bit
integer, dates must lie in a range the time-zone arithmetic survives, choice values must
be known, and control characters (PostgreSQL refuses NUL) never reach a query."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping

from django.utils.translation import gettext as _

from kefu.core import params as list_params
from kefu.core.errors import ValidationFailed
from kefu.tickets.choices import Channel, Severity, SlaState, TicketStatus
from kefu.tickets.selectors import DEFAULT_SORT, NONE_KEYS, QUEUES, SORTS, TicketFilters

_INT_LISTS = ("kind", "category", "department", "responsible_department", "region", "assignee")
# `none` (kefu.core.params.NONE) in these lists stands for "not set" (未分类 / 未指定部门 /
# 未指定片区 / 未分配): the empty groups of the statistics click through to their tickets.
_NONE_ALLOWED = frozenset(NONE_KEYS)
_CHOICE_LISTS = {
    "status": TicketStatus,
    "severity": Severity,
    "channel": Channel,
    "sla_state": SlaState,
}
_DATES = ("created_from", "created_to", "due_from", "due_to")
_YES, _NO = {"1", "true", "yes"}, {"0", "false", "no"}
# Years outside this range are typing mistakes, and 9999-12-31 + 1 day overflows.
_MIN_YEAR, _MAX_YEAR = 1900, 2999
_MAX_Q = 100
_MAX_VALUES = 50
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _getlist(params, key: str) -> list[str]:
    out = list_params.tokens(params, key)
    if len(out) > _MAX_VALUES:
        raise ValidationFailed(_("筛选条件过多：%(key)s") % {"key": key}, details={"field": key})
    return out


def _int(value: str, key: str) -> int:
    if not list_params.is_id(value):
        raise ValidationFailed(_("筛选条件无效：%(key)s") % {"key": key}, details={"field": key})
    return int(value)


def _date(params, key: str) -> datetime.date | None:
    raw = str(params.get(key) or "").strip()
    if not raw:
        return None
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(_("日期格式不正确：%(value)s") % {"value": raw[:40]}, details={"field": key})
    if not _MIN_YEAR <= day.year <= _MAX_YEAR:
        raise ValidationFailed(_("日期超出范围：%(value)s") % {"value": raw}, details={"field": key})
    return day


def clean_query(raw) -> str:
    """The search text without control characters, at most 100 characters."""
    return _CONTROL.sub("", str(raw or "")).strip()[:_MAX_Q]


def params_for_audit(params) -> dict:
    """The query string as the audit log keeps it: control characters dropped (the
    PostgreSQL JSON column refuses NUL), values cut to 200 characters."""
    out: dict = {}
    for key in params:
        values = params.getlist(key) if hasattr(params, "getlist") else [params.get(key)]
        clean = [_CONTROL.sub("", str(v))[:200] for v in values]
        out[_CONTROL.sub("", str(key))[:60]] = clean if len(clean) > 1 else clean[0]
    return out


def _flag(params, key: str) -> bool | None:
    """1/true/yes → True, 0/false/no → False, absent or empty → None; anything else is
    refused (a typo must not silently widen the list)."""
    raw = str(params.get(key) or "").strip().lower()
    if not raw:
        return None
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise ValidationFailed(
        _("筛选条件无效：%(key)s=%(value)s（应为 1 或 0）") % {"key": key, "value": raw[:40]}, details={"field": key}
    )


def _date_range(f: TicketFilters, first: str, last: str) -> None:
    if getattr(f, first) and getattr(f, last) and getattr(f, first) > getattr(f, last):
        raise ValidationFailed(_("开始日期不能晚于结束日期。"), details={"field": first})


def filters_from_params(params: Mapping, *, queue: str | None = None) -> TicketFilters:
    """Parse `queue`, `q`, list filters (repeated or comma-separated ids / choice values;
    `none` for an unset category, responsible department, region or assignee, alone or
    with ids), `customer`, `created_from`/`created_to` and `due_from`/`due_to`
    (YYYY-MM-DD, the latter on the resolution deadline), `important` and `resolved`
    (1/0). `queue` given by the caller (a page that is one queue) wins over the parameter."""
    f = TicketFilters(q=clean_query(params.get("q")))
    chosen = queue if queue is not None else str(params.get("queue") or "").strip() or "all"
    if chosen not in QUEUES:
        raise ValidationFailed(_("没有这个工单队列：%(queue)s") % {"queue": chosen[:40]}, details={"field": "queue"})
    f.queue = chosen
    for key in _INT_LISTS:
        values = _getlist(params, key)
        if key in _NONE_ALLOWED:
            values, with_none = list_params.take_none(values)
            if with_none:
                f.none_of.append(key)
        setattr(f, key, sorted({_int(v, key) for v in values}))
    for key, choices in _CHOICE_LISTS.items():
        values = _getlist(params, key)
        unknown = [v for v in values if v not in choices.values]
        if unknown:
            raise ValidationFailed(
                _("筛选条件无效：%(key)s=%(value)s") % {"key": key, "value": unknown[0][:40]}, details={"field": key}
            )
        setattr(f, key, sorted(set(values)))
    customer = str(params.get("customer") or "").strip()
    if customer:
        f.customer = _int(customer, "customer")
    for key in _DATES:
        setattr(f, key, _date(params, key))
    _date_range(f, "created_from", "created_to")
    _date_range(f, "due_from", "due_to")
    # `important` kept its old leniency (an unknown value is no filter); `resolved` is new
    # and strict.
    important = str(params.get("important") or "").strip().lower()
    if important in _YES:
        f.important = True
    elif important in _NO:
        f.important = False
    f.resolved = _flag(params, "resolved")
    return f


def sort_from_params(params: Mapping) -> tuple[str, tuple[str, ...]]:
    """An unknown sort falls back to the default (a harmless choice, not an error)."""
    key = str(params.get("sort") or DEFAULT_SORT).strip()
    if key not in SORTS:
        key = DEFAULT_SORT
    return key, SORTS[key]

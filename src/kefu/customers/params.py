"""Turning request parameters into `CustomerFilters`, one way for the HTML list, the
Excel export and the API, so the three always select the same customers."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.utils.translation import gettext as _

from kefu.core import params as list_params
from kefu.core.errors import ValidationFailed
from kefu.customers.selectors import NONE_KEYS, SORTS, CustomerFilters

_INT_LISTS = ("customer_class", "region", "owner", "credit_grade", "source", "category")
_STR_LISTS = ("lifecycle", "tags")
_DATES = ("created_from", "created_to", "updated_from", "updated_to")


def filters_from_params(params: Mapping) -> CustomerFilters:
    """Parse `q`, list filters (repeated or comma-separated; `none` for an unset class,
    region or source), dates (YYYY-MM-DD),
    `key_account` (1/0) and custom fields as `extra.<key>` / `extra.<key>__gte`."""
    f = CustomerFilters(q=(params.get("q") or "").strip(), kind=(params.get("kind") or "").strip())
    for key in _INT_LISTS:
        raw = list_params.tokens(params, key)
        if key in NONE_KEYS:
            # `none` stands for "not set" (未分类 / 未指定片区 / 未知来源), alone or with ids.
            raw, with_none = list_params.take_none(raw)
            if with_none:
                f.none_of.append(key)
        if not all(list_params.is_id(v) for v in raw):
            raise ValidationFailed(_("筛选条件无效：%(key)s") % {"key": key}, details={"field": key})
        setattr(f, key, [int(v) for v in raw])
    for key in _STR_LISTS:
        setattr(f, key, list_params.tokens(params, key))
    for key in _DATES:
        raw = (params.get(key) or "").strip()
        if raw:
            try:
                setattr(f, key, datetime.date.fromisoformat(raw))
            except ValueError:
                raise ValidationFailed(_("日期格式不正确：%(value)s") % {"value": raw}, details={"field": key})
    key_account = (params.get("key_account") or "").strip()
    if key_account in {"1", "true", "yes"}:
        f.key_account = True
    elif key_account in {"0", "false", "no"}:
        f.key_account = False
    for key in params:
        if key.startswith("extra.") and params.get(key) not in (None, ""):
            f.extra[key.removeprefix("extra.")] = params.get(key)
    return f


def sort_from_params(params: Mapping) -> tuple[str, tuple[str, ...]]:
    key = (params.get("sort") or "-id").strip()
    if key not in SORTS:
        key = "-id"
    return key, SORTS[key]

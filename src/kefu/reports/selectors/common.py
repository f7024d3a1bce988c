"""Shared by the figure selectors: rounding to JSON-ready numbers, validating the
dimensions asked for, naming the groups and ordering the rows."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db.models import Case, CharField, ExpressionWrapper, F, IntegerField, Model, Value, When
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed


def one_decimal(value) -> float | None:
    return None if value is None else round(float(value), 1)


def hours(minutes) -> float | None:
    """Working minutes → hours, one decimal."""
    return None if minutes is None else round(float(minutes) / 60, 1)


def percent(part, whole) -> float | None:
    """part / whole in %, one decimal; None when there is nothing to divide by."""
    if not whole:
        return None
    return round(100 * float(part or 0) / float(whole), 1)


def clean_dimensions(group_by: Sequence[str] | str | None, allowed: Sequence[str]) -> list[str]:
    """The dimensions asked for, in order, without repeats; an unknown one is a 422."""
    if isinstance(group_by, str):
        group_by = [part for part in group_by.split(",") if part.strip()]
    result: list[str] = []
    for dim in group_by or ():
        dim = str(dim).strip()
        if dim not in allowed:
            raise ValidationFailed(
                _("统计维度无效：%(d)s（可选：%(all)s）") % {"d": dim, "all": "、".join(allowed)},
                details={"field": "group_by"},
            )
        if dim not in result:
            result.append(dim)
    return result


def as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        return [v for v in value if v is not None and v != ""]
    return [value]


def int_list(value: Any, *, field: str) -> list[int]:
    try:
        return [int(v) for v in as_list(value)]
    except (TypeError, ValueError):
        raise ValidationFailed(_("筛选条件“%(f)s”必须是编号。") % {"f": field}, details={"field": field}) from None


def names_of(model: type[Model], ids: Iterable[Any], attr: str = "name") -> dict[Any, str]:
    """{id: display text} of the few rows the groups name — one small query, instead of
    joining the dimension table into the scan of every ticket or visit."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {pk: str(text) for pk, text in model._default_manager.filter(pk__in=wanted).values_list("pk", attr)}


def user_names(ids: Iterable[Any]) -> dict[Any, str]:
    from kefu.core.models import User

    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = User.objects.filter(pk__in=wanted).values_list("pk", "display_name", "username")
    return {pk: display or username for pk, display, username in rows}


def month_key(value) -> str | None:
    """A month → "2026-11" (already a key, a date or a local datetime)."""
    if value is None or isinstance(value, str):
        return value
    return f"{value:%Y-%m}"


def month_case(field: str, period_or_months, *, dates: bool = False) -> Case:
    """The "YYYY-MM" of `field` inside `period`, as a CASE over the month boundaries
    (computed here in the site's time zone): plain comparisons on the column, instead
    of truncating every row in the database's time-zone arithmetic — which SQLite runs
    as a Python function per row (seconds at a million rows). Rows before the first
    month must be filtered out by the caller. `dates`: a DateField."""
    months = period_or_months.months() if hasattr(period_or_months, "months") else period_or_months
    whens = []
    for first in months:
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        bound = following if dates else datetime.datetime.combine(following, datetime.time.min, tzinfo=_tz())
        whens.append(When(**{f"{field}__lt": bound}, then=Value(f"{first:%Y-%m}")))
    return Case(*whens, default=Value(None), output_field=CharField())


def _tz():
    from django.utils import timezone

    return timezone.get_current_timezone()


def group_column(name: str):
    """A foreign-key column to GROUP BY, written `column + 0`: SQLite otherwise walks the
    (column, created_at) index to get groups in order, reading the whole period through
    it instead of the far narrower (kind, created_at) range; the value is unchanged and
    PostgreSQL hash-aggregates either way."""
    return ExpressionWrapper(F(name) + 0, output_field=IntegerField())


def sort_rows(rows: list[dict], dims: Sequence[str], count_key: str) -> list[dict]:
    """Biggest first, then by the groups' labels. With a "month" dimension the months
    come in calendar order first (a trend is read left to right), biggest first within."""
    others = [d for d in dims if d != "month"]

    def key(row: dict) -> tuple:
        month = (row.get("month") or "",) if "month" in dims else ()
        return (*month, -(row.get(count_key) or 0), *[str(row.get(f"{d}_label") or "") for d in others])

    return sorted(rows, key=key)


def compare(current: Mapping[str, Any], previous: Mapping[str, Any] | None, *, keys: Sequence[str]) -> dict:
    """{key: {"value", "previous", "delta", "delta_pct"}} — the change of each figure
    against another period. delta_pct is None when the previous value is 0 or missing
    (a change from nothing has no percentage)."""
    result = {}
    for key in keys:
        value = current.get(key)
        before = previous.get(key) if previous is not None else None
        delta = delta_pct = None
        if value is not None and before is not None:
            delta = round(float(value) - float(before), 1)
            if isinstance(value, int) and isinstance(before, int):
                delta = value - before
            delta_pct = round(100 * (float(value) - float(before)) / abs(float(before)), 1) if before else None
        result[key] = {"value": value, "previous": before, "delta": delta, "delta_pct": delta_pct}
    return result

"""Visit figures from the counters (`reports_visitrollup`), for the questions they can
answer exactly — otherwise None, and the caller scans the visits:

- whole months (the counters are by due month);
- a viewer who sees every visit (a scope is a question about single visits);
- grouped and filtered by region, rule, team, channel, visit type and month — not by
  agent (two hundred of them would make as many counter rows as visits) nor by the
  customer's class (the customer's, changing without the visit).

"Overdue" (still planned, due before today) is the one figure that moves with the
clock: the counters hold the visits still planned per month, which are all overdue in
the months before today's; today's month is counted from the visits themselves (the
few still planned and due between its first day and yesterday)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from kefu.core import access
from kefu.reports.periods import Period, make_range
from kefu.reports.rollup import maintain, schema

DIMENSIONS = ("region", "rule", "team", "channel", "visit_type", "month")
FILTERS = ("region", "rule", "team", "channel", "visit_type")
VIEW = "visits.view_visit"
_ID_KEYS = ("region", "rule", "team")


def answers(*, user, period: Period, dims: Sequence[str], filters: Mapping[str, Sequence[Any]]) -> bool:
    return (
        period.start.day == 1
        and period.end.day == 1
        and all(d in DIMENSIONS for d in dims)
        and all(key in FILTERS for key in filters)
        and access.has_perm(user, VIEW)
        and access.sees_everything(user)
        and maintain.ready(schema.VISITS)
    )


def _alias(dim: str) -> str:
    return f"dim_{dim}"


def rollup_raw_rows(
    *,
    user,
    period: Period,
    dims: Sequence[str],
    filters: Mapping[str, Sequence[Any]],
    today: datetime.date,
) -> list[dict[str, Any]] | None:
    """Raw aggregates per group as `selectors.visits` reads them (`dim_<name>` keys,
    planned, finished, reached, avg_satisfaction, promoters, detractors, nps_answers,
    arrived, deals, amount, overdue) — or None when the counters cannot answer."""
    from kefu.reports.models import VisitRollup

    if not answers(user=user, period=period, dims=dims, filters=filters):
        return None
    qs = VisitRollup.objects.filter(month__gte=period.start, month__lt=period.end)
    for key, values in filters.items():
        qs = qs.filter(**{f"{key}__in": list(values)})
    # Still planned in a month before today's: overdue, all of them.
    sums = {f"s_{m}": Sum(m) for m in schema.VISITS.measure_names}
    sums["s_overdue"] = Sum("waiting", filter=Q(month__lt=today.replace(day=1)))
    if not dims:
        keyed = {(): qs.aggregate(**sums)}
    else:
        grouped = qs.order_by().values(*dims).annotate(**sums).filter(s_planned__gt=0)
        keyed = {tuple(_value(d, row[d]) for d in dims): row for row in grouped}
    for key, n in _overdue_this_month(user=user, period=period, dims=dims, filters=filters, today=today).items():
        if key in keyed:
            keyed[key]["s_overdue"] = (keyed[key].get("s_overdue") or 0) + n
    result = []
    for key, sums_row in keyed.items():
        raw = _raw(sums_row)
        raw.update({_alias(d): value for d, value in zip(dims, key, strict=True)})
        result.append(raw)
    return result


def _overdue_this_month(
    *, user, period: Period, dims: Sequence[str], filters: Mapping[str, Sequence[Any]], today: datetime.date
) -> dict[tuple, int]:
    """{group key: visits still planned, due in today's month before today} — read from
    the visits (their status and due-date index), only when today's month is in the
    period and has begun."""
    from kefu.reports.selectors.visits import _group_expression, period_visits
    from kefu.visits.choices import VisitStatus

    first = max(today.replace(day=1), period.start)
    if not (period.start <= today < period.end) or first >= today:
        return {}
    days = make_range(first, today - datetime.timedelta(days=1))
    qs = period_visits(user=user, period=days, filters=filters).filter(status=VisitStatus.PLANNED)
    if not dims:
        return {(): qs.count()}
    annotated = qs.annotate(**{_alias(d): _group_expression(d, days) for d in dims}).order_by()
    rows = annotated.values(*[_alias(d) for d in dims]).annotate(n=Count("pk"))
    return {tuple(_scanned(d, row[_alias(d)]) for d in dims): row["n"] for row in rows}


def _value(dim: str, value: Any) -> Any:
    if dim == "month":
        return f"{value:%Y-%m}"
    if dim in _ID_KEYS:
        return value or None  # 0 stands for "none" in the counters
    return value


def _scanned(dim: str, value: Any) -> Any:
    if dim == "month":
        return value if isinstance(value, str) or value is None else f"{value:%Y-%m}"
    return value


def _average(total, n) -> float | None:
    return float(total) / float(n) if n else None


def _raw(sums: Mapping[str, Any]) -> dict[str, Any]:
    def get(name: str) -> int:
        return int(sums.get(f"s_{name}") or 0)

    return {
        "planned": get("planned"),
        "finished": get("finished"),
        "reached": get("reached"),
        "avg_satisfaction": _average(get("sum_satisfaction"), get("n_satisfaction")),
        "promoters": get("promoters"),
        "detractors": get("detractors"),
        "nps_answers": get("nps_answers"),
        "arrived": get("arrived"),
        "deals": get("deals"),
        "amount": Decimal(get("amount_cents")) / 100,
        "overdue": get("overdue"),
    }

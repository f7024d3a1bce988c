"""Visit figures from the counters (`reports_visitrollup`), for the questions they can
answer exactly — otherwise None, and the caller scans the visits:

- whole months (the counters are by due month);
- a viewer who sees every visit, or a region scope (the counters of the regions plus
  what the viewer sees elsewhere, read from the visits) — not an agent's own list;
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
from typing import Any

from django.db.models import Count, Q, Sum

from kefu.core import access
from kefu.reports.periods import Period, make_range
from kefu.reports.rollup import common, maintain, schema
from kefu.visits.choices import VisitStatus

DIMENSIONS = ("region", "rule", "team", "channel", "visit_type", "month")
FILTERS = ("region", "rule", "team", "channel", "visit_type")
VIEW = "visits.view_visit"
_ID_KEYS = ("region", "rule", "team")


VIEW_REGION = "visits.view_region_visits"


def counted_regions(user) -> set[int] | None | bool:
    """None for one who sees everything; the regions of a region scope (supervisors,
    account managers); False for an agent's own list."""
    return common.counted_regions(user, view=VIEW, view_region=VIEW_REGION)


def answers(*, user, period: Period, dims: Sequence[str], filters: Mapping[str, Sequence[Any]]) -> bool:
    return (
        period.start.day == 1
        and period.end.day == 1
        and all(d in DIMENSIONS for d in dims)
        and all(key in FILTERS for key in filters)
        and counted_regions(user) is not False
        and maintain.ready(schema.VISITS)
    )


def _alias(dim: str) -> str:
    return f"dim_{dim}"


def rollup_raw_groupings(
    *,
    user,
    period: Period,
    groups: Sequence[Sequence[str]],
    filters: Mapping[str, Sequence[Any]],
    today: datetime.date,
) -> list[list[dict[str, Any]] | None]:
    """Raw aggregates per group of each grouping, as `selectors.visits` reads them
    (`dim_<name>` keys, planned, finished, reached, avg_satisfaction, promoters,
    detractors, nps_answers, arrived, deals, amount, overdue) — None for a grouping the
    counters cannot answer. A viewer scoped to regions gets the counters of those regions
    plus, read from the visits, the ones they see elsewhere (their own, their team's
    unassigned ones); those, and this month's overdue visits, are read ONCE for all the
    groupings, grouped by every dimension asked, and added into each grouping here."""
    from kefu.reports.models import VisitRollup
    from kefu.reports.selectors.visits import raw_from_sums

    # `answers` for every grouping at once: its readiness check is one query when the
    # configuration cache is off (inside a transaction that changed configuration).
    answerable = answers(user=user, period=period, dims=(), filters=filters)
    countable = [dims for dims in groups if answerable and all(d in DIMENSIONS for d in dims)]
    if not countable:
        return [None for _ in groups]
    regions = counted_regions(user)
    qs = VisitRollup.objects.filter(month__gte=period.start, month__lt=period.end)
    for key, values in filters.items():
        qs = qs.filter(**{f"{key}__in": list(values)})
    if regions is not None:
        qs = qs.filter(region__in=sorted(regions))
    measures = schema.VISITS.measure_names
    this_month = today.replace(day=1)
    sums = {f"s_{m}": Sum(m) for m in measures}
    # Still planned in a month before today's: overdue, all of them.
    sums["s_overdue"] = Sum("waiting", filter=Q(month__lt=this_month))

    def named(row: Mapping[str, Any]) -> dict[str, int]:
        return {name: int(row[f"s_{name}"] or 0) for name in (*measures, "overdue")}

    every = list(dict.fromkeys(d for dims in countable for d in dims))
    elsewhere = _seen_elsewhere(user, period, every, filters, regions, this_month) if regions is not None else {}
    overdue_now = _overdue_this_month(user=user, period=period, dims=every, filters=filters, today=today)
    result: list[list[dict[str, Any]] | None] = []
    for dims in groups:
        if dims not in countable:
            result.append(None)
            continue
        if not dims:
            keyed = {(): named(qs.aggregate(**sums))}
        else:
            grouped = qs.order_by().values(*dims).annotate(**sums)
            keyed = {tuple(_value(d, row[d]) for d in dims): named(row) for row in grouped}
        places = [every.index(d) for d in dims]
        for fine_key, extra in elsewhere.items():
            into = keyed.setdefault(tuple(fine_key[i] for i in places), dict.fromkeys((*measures, "overdue"), 0))
            for name, value in extra.items():
                into[name] += value
        for fine_key, n in overdue_now.items():
            key = tuple(fine_key[i] for i in places)
            if key in keyed:
                keyed[key]["overdue"] += n
        rows = []
        for key, sums_row in keyed.items():
            if dims and sums_row["planned"] <= 0:
                continue  # deltas of visits that moved net to nothing until the fold
            raw = raw_from_sums(sums_row)
            raw.update({_alias(d): value for d, value in zip(dims, key, strict=True)})
            rows.append(raw)
        result.append(rows)
    return result


def _seen_elsewhere(user, period, dims, filters, regions, this_month) -> dict[tuple, dict[str, int]]:
    """{group key: sums} of the visits the viewer sees outside `regions`: assigned to
    them, or unassigned in their team's pool — each found through the assignee index."""
    from kefu.reports.selectors.visits import _FILTER_LOOKUPS, _group_expression, additive_with_overdue, cents
    from kefu.visits.models import Visit

    # Each part read through the (assignee, status, due_date) index: one assignee (or
    # none), each status not cancelled, the period's range of due dates. (As `id IN
    # (the viewer's visits)` PostgreSQL hashed every visit of the viewer and scanned
    # the whole table for the period, once per figure of the report.)
    live = (VisitStatus.PLANNED, VisitStatus.DONE, VisitStatus.FAILED)
    base = Visit.objects.filter(status__in=live, due_date__gte=period.start, due_date__lt=period.end).exclude(
        region_id__in=sorted(regions)
    )
    for key, values in filters.items():
        base = base.filter(**{_FILTER_LOOKUPS[key]: list(values)})
    parts = [base.filter(assignee=user)]
    teams = access.user_department_ids(user)
    if teams:
        # The team's pool: its visits nobody has taken yet.
        parts.append(base.filter(assignee__isnull=True, team_id__in=sorted(teams)))
    expressions = additive_with_overdue(this_month)
    result: dict[tuple, dict[str, int]] = {}
    for part in parts:
        if dims:
            annotated = part.annotate(**{_alias(d): _group_expression(d, period) for d in dims}).order_by()
            rows = annotated.values(*[_alias(d) for d in dims]).annotate(**expressions)
            found = {tuple(_scanned(d, row[_alias(d)]) for d in dims): row for row in rows}
        else:
            found = {(): part.aggregate(**expressions)}
        for key, row in found.items():
            into = result.setdefault(key, {})
            for name in expressions:
                value = row[name] or 0
                if name == "amount":
                    name, value = "amount_cents", cents(value)
                into[name] = into.get(name, 0) + value
    return result


def _overdue_this_month(
    *, user, period: Period, dims: Sequence[str], filters: Mapping[str, Sequence[Any]], today: datetime.date
) -> dict[tuple, int]:
    """{group key: visits still planned, due in today's month before today} — read from
    the visits (their status and due-date index), only when today's month is in the
    period and has begun."""
    from kefu.reports.selectors.visits import _group_expression, period_visits

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
    return common.key_value(dim, value, ids=dim in _ID_KEYS)


def _scanned(dim: str, value: Any) -> Any:
    if dim == "month":
        return value if isinstance(value, str) or value is None else f"{value:%Y-%m}"
    return value

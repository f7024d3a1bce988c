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
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from kefu.core import access
from kefu.reports.periods import Period, make_range
from kefu.reports.rollup import common, maintain, schema
from kefu.visits.choices import Outcome, VisitStatus

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
    arrived, deals, amount, overdue) — or None when the counters cannot answer. A
    viewer scoped to regions gets the counters of those regions plus, read from the
    visits, the ones they see elsewhere (their own, their team's unassigned ones)."""
    from kefu.reports.models import VisitRollup

    if not answers(user=user, period=period, dims=dims, filters=filters):
        return None
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

    if not dims:
        keyed = {(): named(qs.aggregate(**sums))}
    else:
        grouped = qs.order_by().values(*dims).annotate(**sums)
        keyed = {tuple(_value(d, row[d]) for d in dims): named(row) for row in grouped}
    if regions is not None:
        for key, extra in _seen_elsewhere(user, period, dims, filters, regions, this_month).items():
            into = keyed.setdefault(key, dict.fromkeys((*measures, "overdue"), 0))
            for name, value in extra.items():
                into[name] += value
    for key, n in _overdue_this_month(user=user, period=period, dims=dims, filters=filters, today=today).items():
        if key in keyed:
            keyed[key]["overdue"] += n
    result = []
    for key, sums_row in keyed.items():
        if dims and sums_row["planned"] <= 0:
            continue  # deltas of visits that moved net to nothing until the fold
        raw = _raw(sums_row)
        raw.update({_alias(d): value for d, value in zip(dims, key, strict=True)})
        result.append(raw)
    return result


# The counters' measures over the visits themselves (cancelled ones already left out).
_ADDITIVE = {
    "planned": Count("pk"),
    "finished": Count("pk", filter=Q(status__in=(VisitStatus.DONE, VisitStatus.FAILED))),
    "waiting": Count("pk", filter=Q(status=VisitStatus.PLANNED)),
    "reached": Count("pk", filter=Q(outcome=Outcome.REACHED)),
    "sum_satisfaction": Sum("satisfaction"),
    "n_satisfaction": Count("satisfaction"),
    "promoters": Count("pk", filter=Q(nps__gte=9)),
    "detractors": Count("pk", filter=Q(nps__lte=6)),
    "nps_answers": Count("nps"),
    "arrived": Count("pk", filter=Q(arrived=True)),
    "deals": Count("pk", filter=Q(deal=True)),
    "amount": Sum("deal_amount", filter=Q(deal=True)),
}


def _seen_elsewhere(user, period, dims, filters, regions, this_month) -> dict[tuple, dict[str, int]]:
    """{group key: sums} of the visits the viewer sees outside `regions`: assigned to
    them, or unassigned in their team's pool — each found through the assignee index."""
    from kefu.reports.selectors.visits import _FILTER_LOOKUPS, _group_expression
    from kefu.visits.models import Visit

    # COALESCE(due_date, due_date): the period checked per row of the few visits found
    # by id below, not walked as a range of every visit due in it.
    due = Coalesce(F("due_date"), F("due_date"))
    base = (
        Visit.objects.alias(due=due)
        .filter(due__gte=period.start, due__lt=period.end)
        .exclude(status=VisitStatus.CANCELLED)
        .exclude(region_id__in=sorted(regions))
    )
    for key, values in filters.items():
        base = base.filter(**{_FILTER_LOOKUPS[key]: list(values)})
    parts = [base.filter(pk__in=Visit.objects.filter(assignee=user).values("pk"))]
    teams = access.user_department_ids(user)
    if teams:
        # The pool's visits due in the period, through the (assignee, status, due_date)
        # index: a team's pool holds every unassigned visit it ever had.
        pool = Visit.objects.filter(
            assignee__isnull=True,
            status__in=(VisitStatus.PLANNED, VisitStatus.DONE, VisitStatus.FAILED),
            due_date__gte=period.start,
            due_date__lt=period.end,
            team_id__in=sorted(teams),
        ).values("pk")
        parts.append(base.filter(pk__in=pool))
    expressions = {**_ADDITIVE, "overdue": Count("pk", filter=Q(status=VisitStatus.PLANNED, due_date__lt=this_month))}
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
                    name, value = "amount_cents", int(round(Decimal(value) * 100))
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


def _raw(sums: Mapping[str, int]) -> dict[str, Any]:
    return {
        "planned": sums["planned"],
        "finished": sums["finished"],
        "reached": sums["reached"],
        "avg_satisfaction": common.average(sums["sum_satisfaction"], sums["n_satisfaction"]),
        "promoters": sums["promoters"],
        "detractors": sums["detractors"],
        "nps_answers": sums["nps_answers"],
        "arrived": sums["arrived"],
        "deals": sums["deals"],
        "amount": Decimal(sums["amount_cents"]) / 100,
        "overdue": sums["overdue"],
    }

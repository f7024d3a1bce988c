"""Ticket figures from the counters (`reports_ticketrollup`), for the questions they can
answer exactly — otherwise None, and the caller scans the tickets:

- whole months (the counters are by registration month), so a month, quarter, year or
  a dashboard's trend — not a week or a range that cuts a month;
- a viewer who sees every ticket, or the service desk's region scope (the counters of
  the regions, plus what the viewer sees outside them read from the tickets); not
  department staff, who see single tickets (their slips);
- grouped and filtered by kind, category, responsible department, region, channel,
  severity and month;
- no percentile (a p90 needs every value).

A few thousand rows summed per key, where the scan reads every ticket of the period."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import F, Sum
from django.db.models.functions import Coalesce

from kefu.core import access
from kefu.reports.periods import Period
from kefu.reports.rollup import common, maintain, schema

DIMENSIONS = ("kind", "category", "department", "region", "channel", "severity", "month")
FILTERS = ("kind", "category", "department", "region", "channel", "severity")
VIEW = "tickets.view_ticket"
VIEW_REGION = "tickets.view_region_tickets"
EVERY_REGION = common.EVERY_REGION


def counted_regions(user) -> set[int] | None | bool:
    """EVERY_REGION for one who sees everything; the service desk's regions; False for
    department staff, whose scope is their slips."""
    return common.counted_regions(user, view=VIEW, view_region=VIEW_REGION)


def answers(*, user, period: Period, dims: Sequence[str], filters: Mapping[str, Sequence[Any]]) -> bool:
    return (
        period.start.day == 1
        and period.end.day == 1
        and all(d in DIMENSIONS for d in dims)
        and all(key in FILTERS for key in filters)
        and counted_regions(user) is not False
        and maintain.ready(schema.TICKETS)
    )


def rollup_raw_rows(
    *,
    user,
    period: Period,
    kind_ids: Sequence[int] | None,
    dims: Sequence[str],
    filters: Mapping[str, Sequence[Any]],
) -> list[tuple[list[Any], dict[str, Any]]] | None:
    """[(dimension values, raw aggregates as `selectors.tickets._figures` reads them)]
    — one per group with tickets, or the single totals row when `dims` is empty; None
    when the counters cannot answer (see the module).

    A viewer scoped to regions gets the counters of those regions plus, read from the
    tickets, the ones they see otherwise: assigned to them, or routed to their
    department, in another region (or none) — each found through its own index."""
    counted = rollup_raw_groupings(user=user, period=period, kind_ids=kind_ids, groups=[dims], filters=filters)
    return None if counted is None else counted[0]


def rollup_raw_groupings(
    *,
    user,
    period: Period,
    kind_ids: Sequence[int] | None,
    groups: Sequence[Sequence[str]],
    filters: Mapping[str, Sequence[Any]],
) -> list[list[tuple[list[Any], dict[str, Any]]]] | None:
    """`rollup_raw_rows` of each grouping — a report's breakdowns — with what a region
    scope sees outside its regions read from the tickets ONCE, grouped by every
    dimension asked, and added into each grouping here (not twice per grouping). None
    when the counters cannot answer one of them."""
    from kefu.reports.models import TicketRollup
    from kefu.reports.selectors.tickets import raw_from_sums

    if not all(answers(user=user, period=period, dims=dims, filters=filters) for dims in groups):
        return None
    regions = counted_regions(user)
    qs = TicketRollup.objects.filter(month__gte=period.start, month__lt=period.end)
    if kind_ids is not None:
        qs = qs.filter(kind__in=list(kind_ids))
    for key, values in filters.items():
        qs = qs.filter(**{f"{key}__in": list(values)})
    if regions is not EVERY_REGION:
        qs = qs.filter(region__in=sorted(regions))
    measures = schema.TICKETS.measure_names
    sums = {f"s_{m}": Sum(m) for m in measures}  # an annotation may not take a field's name

    def named(row: Mapping[str, Any]) -> dict[str, Any]:
        return {m: row[f"s_{m}"] for m in measures}

    every = list(dict.fromkeys(d for dims in groups for d in dims))
    outside: dict[tuple, dict[str, Any]] = {}
    if regions is not EVERY_REGION:
        outside = _outside_regions(user, period, kind_ids, every, filters, regions)
    result = []
    for dims in groups:
        if not dims:
            keyed = {(): named(qs.aggregate(**sums))}
        else:
            grouped = qs.order_by().values(*dims).annotate(**sums)
            keyed = {tuple(_value(d, row[d]) for d in dims): named(row) for row in grouped}
        places = [every.index(d) for d in dims]
        for fine_key, extra in outside.items():
            into = keyed.setdefault(tuple(fine_key[i] for i in places), {})
            for name, value in extra.items():
                into[name] = (into.get(name) or 0) + (value or 0)
        rows = [(list(key), raw_from_sums(sums_row)) for key, sums_row in keyed.items()]
        # Delta rows of a ticket that moved (another category, a deletion) net to 0 until
        # the fold: a group with no ticket left is no group.
        result.append([row for row in rows if row[1]["n_count"] > 0 or not dims])
    return result


def _outside_regions(user, period, kind_ids, dims, filters, regions) -> dict[tuple, dict[str, Any]]:
    """{group key: sums} of the tickets the viewer sees outside `regions` — their own
    (assignee), and those routed to their departments — one aggregate each."""
    from kefu.reports.selectors.tickets import _FILTER_LOOKUPS, ADDITIVE, _alias, _group_expression
    from kefu.tickets.choices import RoutingStatus
    from kefu.tickets.models import Ticket, TicketRouting

    start, end = period.bounds()
    # COALESCE(created_at, created_at): the period checked per row of the few tickets
    # found below — SQLite otherwise walks the created_at range, every ticket of the
    # period, to find a handful.
    created = Coalesce(F("created_at"), F("created_at"))
    base = (
        Ticket.objects.alias(created=created)
        .filter(created__gte=start, created__lt=end)
        .exclude(region_id__in=sorted(regions))
    )
    if kind_ids is not None:
        base = base.filter(kind_id__in=list(kind_ids))
    for key, values in filters.items():
        base = base.filter(**{_FILTER_LOOKUPS[key]: list(values)})
    # Each part as `id IN (…)` of its own index (the assignee's, the routings'): an id
    # list is what SQLite prefers to a range of the period or of a kind.
    parts = [base.filter(pk__in=Ticket.objects.filter(assignee=user).values("pk"))]
    departments = access.user_department_ids(user)
    if departments:
        routed = TicketRouting.objects.filter(department_id__in=sorted(departments)).exclude(
            status=RoutingStatus.CANCELLED
        )
        parts.append(base.filter(pk__in=routed.values("ticket_id")).exclude(assignee=user))
    result: dict[tuple, dict[str, Any]] = {}
    for part in parts:
        if dims:
            annotated = part.annotate(**{_alias(d): _group_expression(d, period) for d in dims}).order_by()
            rows = annotated.values(*[_alias(d) for d in dims]).annotate(**ADDITIVE)
            found = {tuple(row[_alias(d)] for d in dims): row for row in rows}
        else:
            found = {(): part.aggregate(**ADDITIVE)}
        for key, row in found.items():
            into = result.setdefault(key, {})
            for name in ADDITIVE:
                into[name] = (into.get(name) or 0) + (row[name] or 0)
    return result


def _value(dim: str, value: Any) -> Any:
    return common.key_value(dim, value, ids=True)
